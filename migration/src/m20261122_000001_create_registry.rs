//! Creates the whole registry schema. Written with portable column types (TEXT
//! enums, DATE, DOUBLE) so the same migration runs on SQLite and PostgreSQL.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_tables(manager).await?;
        create_indexes(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("student_placements").if_exists().to_owned()).await?;
        manager.drop_table(Table::drop().table("students").if_exists().to_owned()).await?;
        manager.drop_table(Table::drop().table("indicator_values").if_exists().to_owned()).await?;
        manager.drop_table(Table::drop().table("goals").if_exists().to_owned()).await?;
        manager.drop_table(Table::drop().table("collaborations").if_exists().to_owned()).await?;
        manager.drop_table(Table::drop().table("project_partners").if_exists().to_owned()).await?;
        manager.drop_table(Table::drop().table("project_budget_lines").if_exists().to_owned()).await?;
        manager.drop_table(Table::drop().table("projects").if_exists().to_owned()).await?;
        manager.drop_table(Table::drop().table("programmes").if_exists().to_owned()).await?;
        manager.drop_table(Table::drop().table("organisations").if_exists().to_owned()).await?;
        manager.drop_table(Table::drop().table("region_memberships").if_exists().to_owned()).await?;
        manager.drop_table(Table::drop().table("municipality_codes").if_exists().to_owned()).await?;
        manager.drop_table(Table::drop().table("municipalities").if_exists().to_owned()).await?;
        manager.drop_table(Table::drop().table("region_parents").if_exists().to_owned()).await?;
        manager.drop_table(Table::drop().table("region_codes").if_exists().to_owned()).await?;
        manager.drop_table(Table::drop().table("regions").if_exists().to_owned()).await?;
        manager.drop_table(Table::drop().table("countries").if_exists().to_owned()).await?;
        manager.drop_table(Table::drop().table("sources").if_exists().to_owned()).await?;
        Ok(())
    }
}

async fn create_tables(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table("sources")
                .col(pk_auto("id"))
                .col(text_uniq("key"))
                .col(text("kind"))
                .col(text_null("title"))
                .col(text_null("url"))
                .col(text_null("locator"))
                .col(text_null("description"))
                .to_owned(),
        )
        .await?;
    manager
        .create_table(
            Table::create()
                .table("countries")
                .col(pk_auto("id"))
                .col(text_uniq("code"))
                .col(text("name"))
                .col(text_null("name_en"))
                .col(boolean("eu_member").default(false))
                .col(integer_null("source_id"))
                .col(boolean("verified").default(false))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_countries_source_id")
                        .from("countries", "source_id")
                        .to("sources", "id"),
                )
                .to_owned(),
        )
        .await?;
    manager
        .create_table(
            Table::create()
                .table("regions")
                .col(pk_auto("id"))
                .col(text_uniq("slug"))
                .col(text("name"))
                .col(text("search_name"))
                .col(text_null("short_name"))
                .col(text("kind"))
                .col(integer_null("country_id"))
                .col(text("status"))
                .col(date_null("valid_from"))
                .col(date_null("valid_to"))
                .col(text_null("note"))
                .col(integer_null("source_id"))
                .col(boolean("verified").default(false))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_regions_country_id")
                        .from("regions", "country_id")
                        .to("countries", "id"),
                )
                .foreign_key(
                    ForeignKey::create().name("fk_regions_source_id").from("regions", "source_id").to("sources", "id"),
                )
                .to_owned(),
        )
        .await?;
    manager
        .create_table(
            Table::create()
                .table("region_codes")
                .col(pk_auto("id"))
                .col(integer("region_id"))
                .col(text("scheme"))
                .col(text("value"))
                .col(date_null("valid_from"))
                .col(date_null("valid_to"))
                .col(text_null("nuts_version"))
                .col(integer_null("source_id"))
                .col(boolean("verified").default(false))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_region_codes_region_id")
                        .from("region_codes", "region_id")
                        .to("regions", "id"),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_region_codes_source_id")
                        .from("region_codes", "source_id")
                        .to("sources", "id"),
                )
                .to_owned(),
        )
        .await?;
    manager
        .create_table(
            Table::create()
                .table("region_parents")
                .col(pk_auto("id"))
                .col(integer("region_id"))
                .col(integer("parent_id"))
                .col(text_null("nuts_version"))
                .col(date_null("valid_from"))
                .col(date_null("valid_to"))
                .col(integer_null("source_id"))
                .col(boolean("verified").default(false))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_region_parents_region_id")
                        .from("region_parents", "region_id")
                        .to("regions", "id"),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_region_parents_parent_id")
                        .from("region_parents", "parent_id")
                        .to("regions", "id"),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_region_parents_source_id")
                        .from("region_parents", "source_id")
                        .to("sources", "id"),
                )
                .to_owned(),
        )
        .await?;
    manager
        .create_table(
            Table::create()
                .table("municipalities")
                .col(pk_auto("id"))
                .col(text_uniq("slug"))
                .col(text("name"))
                .col(text("search_name"))
                .col(integer("country_id"))
                .col(text("status"))
                .col(integer_null("successor_id"))
                .col(date_null("dissolved_on"))
                .col(date_null("established_on"))
                .col(text_null("admin_centre"))
                .col(text_null("note"))
                .col(integer_null("source_id"))
                .col(boolean("verified").default(false))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_municipalities_country_id")
                        .from("municipalities", "country_id")
                        .to("countries", "id"),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_municipalities_successor_id")
                        .from("municipalities", "successor_id")
                        .to("municipalities", "id"),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_municipalities_source_id")
                        .from("municipalities", "source_id")
                        .to("sources", "id"),
                )
                .to_owned(),
        )
        .await?;
    manager
        .create_table(
            Table::create()
                .table("municipality_codes")
                .col(pk_auto("id"))
                .col(integer("municipality_id"))
                .col(text("scheme"))
                .col(text("value"))
                .col(date_null("valid_from"))
                .col(date_null("valid_to"))
                .col(integer_null("source_id"))
                .col(boolean("verified").default(false))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_municipality_codes_municipality_id")
                        .from("municipality_codes", "municipality_id")
                        .to("municipalities", "id"),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_municipality_codes_source_id")
                        .from("municipality_codes", "source_id")
                        .to("sources", "id"),
                )
                .to_owned(),
        )
        .await?;
    manager
        .create_table(
            Table::create()
                .table("region_memberships")
                .col(pk_auto("id"))
                .col(integer("municipality_id"))
                .col(integer("region_id"))
                .col(date_null("valid_from"))
                .col(date_null("valid_to"))
                .col(integer_null("source_id"))
                .col(boolean("verified").default(false))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_region_memberships_municipality_id")
                        .from("region_memberships", "municipality_id")
                        .to("municipalities", "id"),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_region_memberships_region_id")
                        .from("region_memberships", "region_id")
                        .to("regions", "id"),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_region_memberships_source_id")
                        .from("region_memberships", "source_id")
                        .to("sources", "id"),
                )
                .to_owned(),
        )
        .await?;
    manager
        .create_table(
            Table::create()
                .table("organisations")
                .col(pk_auto("id"))
                .col(text_uniq("slug"))
                .col(text("name"))
                .col(text("search_name"))
                .col(text_null("short_name"))
                .col(text("kind"))
                .col(text_null("kind_label"))
                .col(integer_null("country_id"))
                .col(integer_null("municipality_id"))
                .col(integer_null("represents_municipality_id"))
                .col(text_null("org_number"))
                .col(text_null("ror"))
                .col(date_null("valid_from"))
                .col(date_null("valid_to"))
                .col(integer_null("source_id"))
                .col(boolean("verified").default(false))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_organisations_country_id")
                        .from("organisations", "country_id")
                        .to("countries", "id"),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_organisations_municipality_id")
                        .from("organisations", "municipality_id")
                        .to("municipalities", "id"),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_organisations_represents_municipality_id")
                        .from("organisations", "represents_municipality_id")
                        .to("municipalities", "id"),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_organisations_source_id")
                        .from("organisations", "source_id")
                        .to("sources", "id"),
                )
                .to_owned(),
        )
        .await?;
    manager
        .create_table(
            Table::create()
                .table("programmes")
                .col(pk_auto("id"))
                .col(text_uniq("slug"))
                .col(text("name"))
                .col(text("search_name"))
                .col(text_null("full_name"))
                .col(integer_null("country_id"))
                .col(integer_null("owner_organisation_id"))
                .col(integer_null("funder_organisation_id"))
                .col(date_null("valid_from"))
                .col(date_null("valid_to"))
                .col(text_null("period_text"))
                .col(integer_null("source_id"))
                .col(boolean("verified").default(false))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_programmes_country_id")
                        .from("programmes", "country_id")
                        .to("countries", "id"),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_programmes_owner_organisation_id")
                        .from("programmes", "owner_organisation_id")
                        .to("organisations", "id"),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_programmes_funder_organisation_id")
                        .from("programmes", "funder_organisation_id")
                        .to("organisations", "id"),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_programmes_source_id")
                        .from("programmes", "source_id")
                        .to("sources", "id"),
                )
                .to_owned(),
        )
        .await?;
    manager
        .create_table(
            Table::create()
                .table("projects")
                .col(pk_auto("id"))
                .col(text_uniq("slug"))
                .col(text("name"))
                .col(text("search_name"))
                .col(text_null("short_name"))
                .col(integer_null("programme_id"))
                .col(date_null("valid_from"))
                .col(date_null("valid_to"))
                .col(text_null("period_text"))
                .col(boolean("period_approximate").default(false))
                .col(double_null("budget_total"))
                .col(text_null("budget_currency"))
                .col(integer_null("budget_source_id"))
                .col(boolean("budget_verified").default(false))
                .col(integer_null("source_id"))
                .col(boolean("verified").default(false))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_projects_programme_id")
                        .from("projects", "programme_id")
                        .to("programmes", "id"),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_projects_budget_source_id")
                        .from("projects", "budget_source_id")
                        .to("sources", "id"),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_projects_source_id")
                        .from("projects", "source_id")
                        .to("sources", "id"),
                )
                .to_owned(),
        )
        .await?;
    manager
        .create_table(
            Table::create()
                .table("project_budget_lines")
                .col(pk_auto("id"))
                .col(integer("project_id"))
                .col(text("kind"))
                .col(text("label"))
                .col(double("amount"))
                .col(text("currency"))
                .col(boolean("is_final").default(false))
                .col(integer_null("source_id"))
                .col(boolean("verified").default(false))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_project_budget_lines_project_id")
                        .from("project_budget_lines", "project_id")
                        .to("projects", "id"),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_project_budget_lines_source_id")
                        .from("project_budget_lines", "source_id")
                        .to("sources", "id"),
                )
                .to_owned(),
        )
        .await?;
    manager
        .create_table(
            Table::create()
                .table("project_partners")
                .col(pk_auto("id"))
                .col(integer("project_id"))
                .col(integer("organisation_id"))
                .col(text("role"))
                .col(text_null("role_label"))
                .col(double_null("budget_share"))
                .col(integer_null("source_id"))
                .col(boolean("verified").default(false))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_project_partners_project_id")
                        .from("project_partners", "project_id")
                        .to("projects", "id"),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_project_partners_organisation_id")
                        .from("project_partners", "organisation_id")
                        .to("organisations", "id"),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_project_partners_source_id")
                        .from("project_partners", "source_id")
                        .to("sources", "id"),
                )
                .to_owned(),
        )
        .await?;
    manager
        .create_table(
            Table::create()
                .table("collaborations")
                .col(pk_auto("id"))
                .col(text_uniq("slug"))
                .col(integer("organisation_a_id"))
                .col(integer("organisation_b_id"))
                .col(text("kind"))
                .col(integer_null("project_id"))
                .col(date_null("valid_from"))
                .col(date_null("valid_to"))
                .col(text_null("description"))
                .col(integer_null("source_id"))
                .col(boolean("verified").default(false))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_collaborations_organisation_a_id")
                        .from("collaborations", "organisation_a_id")
                        .to("organisations", "id"),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_collaborations_organisation_b_id")
                        .from("collaborations", "organisation_b_id")
                        .to("organisations", "id"),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_collaborations_project_id")
                        .from("collaborations", "project_id")
                        .to("projects", "id"),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_collaborations_source_id")
                        .from("collaborations", "source_id")
                        .to("sources", "id"),
                )
                .to_owned(),
        )
        .await?;
    manager
        .create_table(
            Table::create()
                .table("goals")
                .col(pk_auto("id"))
                .col(text_uniq("slug"))
                .col(integer("project_id"))
                .col(text("kind"))
                .col(text("kind_label"))
                .col(text("text"))
                .col(double_null("target_value"))
                .col(text_null("target_comparator"))
                .col(text_null("target_unit"))
                .col(integer_null("source_id"))
                .col(boolean("verified").default(false))
                .foreign_key(
                    ForeignKey::create().name("fk_goals_project_id").from("goals", "project_id").to("projects", "id"),
                )
                .foreign_key(
                    ForeignKey::create().name("fk_goals_source_id").from("goals", "source_id").to("sources", "id"),
                )
                .to_owned(),
        )
        .await?;
    manager
        .create_table(
            Table::create()
                .table("indicator_values")
                .col(pk_auto("id"))
                .col(text_uniq("slug"))
                .col(integer("project_id"))
                .col(integer_null("goal_id"))
                .col(text("text"))
                .col(double_null("value"))
                .col(text_null("comparator"))
                .col(boolean("approximate").default(false))
                .col(text_null("unit"))
                .col(date_null("period_from"))
                .col(date_null("period_to"))
                .col(text_null("period_text"))
                .col(integer_null("source_id"))
                .col(boolean("verified").default(false))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_indicator_values_project_id")
                        .from("indicator_values", "project_id")
                        .to("projects", "id"),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_indicator_values_goal_id")
                        .from("indicator_values", "goal_id")
                        .to("goals", "id"),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_indicator_values_source_id")
                        .from("indicator_values", "source_id")
                        .to("sources", "id"),
                )
                .to_owned(),
        )
        .await?;
    manager
        .create_table(
            Table::create()
                .table("students")
                .col(pk_auto("id"))
                .col(text_uniq("slug"))
                .col(integer_null("home_municipality_id"))
                .col(integer("enrolling_organisation_id"))
                .col(text_null("field_of_study"))
                .col(date("enrolled_from"))
                .col(date_null("enrolled_to"))
                .col(boolean("synthetic").default(false))
                .col(integer_null("source_id"))
                .col(boolean("verified").default(false))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_students_home_municipality_id")
                        .from("students", "home_municipality_id")
                        .to("municipalities", "id"),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_students_enrolling_organisation_id")
                        .from("students", "enrolling_organisation_id")
                        .to("organisations", "id"),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_students_source_id")
                        .from("students", "source_id")
                        .to("sources", "id"),
                )
                .to_owned(),
        )
        .await?;
    manager
        .create_table(
            Table::create()
                .table("student_placements")
                .col(pk_auto("id"))
                .col(text_uniq("slug"))
                .col(integer("student_id"))
                .col(integer("host_organisation_id"))
                .col(integer_null("project_id"))
                .col(text("kind"))
                .col(date("valid_from"))
                .col(date_null("valid_to"))
                .col(integer_null("source_id"))
                .col(boolean("verified").default(false))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_student_placements_student_id")
                        .from("student_placements", "student_id")
                        .to("students", "id"),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_student_placements_host_organisation_id")
                        .from("student_placements", "host_organisation_id")
                        .to("organisations", "id"),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_student_placements_project_id")
                        .from("student_placements", "project_id")
                        .to("projects", "id"),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_student_placements_source_id")
                        .from("student_placements", "source_id")
                        .to("sources", "id"),
                )
                .to_owned(),
        )
        .await?;
    Ok(())
}

/// An index on every foreign key (neither SQLite nor PostgreSQL creates them), plus the natural
/// keys the importer and the validation rely on.
async fn create_indexes(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    index(manager, "countries", &["source_id"]).await?;
    index(manager, "regions", &["country_id"]).await?;
    index(manager, "regions", &["source_id"]).await?;
    index(manager, "region_codes", &["region_id"]).await?;
    index(manager, "region_codes", &["source_id"]).await?;
    index(manager, "region_parents", &["region_id"]).await?;
    index(manager, "region_parents", &["parent_id"]).await?;
    index(manager, "region_parents", &["source_id"]).await?;
    index(manager, "municipalities", &["country_id"]).await?;
    index(manager, "municipalities", &["successor_id"]).await?;
    index(manager, "municipalities", &["source_id"]).await?;
    index(manager, "municipality_codes", &["municipality_id"]).await?;
    index(manager, "municipality_codes", &["source_id"]).await?;
    index(manager, "region_memberships", &["municipality_id"]).await?;
    index(manager, "region_memberships", &["region_id"]).await?;
    index(manager, "region_memberships", &["source_id"]).await?;
    index(manager, "organisations", &["country_id"]).await?;
    index(manager, "organisations", &["municipality_id"]).await?;
    index(manager, "organisations", &["represents_municipality_id"]).await?;
    index(manager, "organisations", &["source_id"]).await?;
    index(manager, "programmes", &["country_id"]).await?;
    index(manager, "programmes", &["owner_organisation_id"]).await?;
    index(manager, "programmes", &["funder_organisation_id"]).await?;
    index(manager, "programmes", &["source_id"]).await?;
    index(manager, "projects", &["programme_id"]).await?;
    index(manager, "projects", &["budget_source_id"]).await?;
    index(manager, "projects", &["source_id"]).await?;
    index(manager, "project_budget_lines", &["project_id"]).await?;
    index(manager, "project_budget_lines", &["source_id"]).await?;
    index(manager, "project_partners", &["project_id"]).await?;
    index(manager, "project_partners", &["organisation_id"]).await?;
    index(manager, "project_partners", &["source_id"]).await?;
    index(manager, "collaborations", &["organisation_a_id"]).await?;
    index(manager, "collaborations", &["organisation_b_id"]).await?;
    index(manager, "collaborations", &["project_id"]).await?;
    index(manager, "collaborations", &["source_id"]).await?;
    index(manager, "goals", &["project_id"]).await?;
    index(manager, "goals", &["source_id"]).await?;
    index(manager, "indicator_values", &["project_id"]).await?;
    index(manager, "indicator_values", &["goal_id"]).await?;
    index(manager, "indicator_values", &["source_id"]).await?;
    index(manager, "students", &["home_municipality_id"]).await?;
    index(manager, "students", &["enrolling_organisation_id"]).await?;
    index(manager, "students", &["source_id"]).await?;
    index(manager, "student_placements", &["student_id"]).await?;
    index(manager, "student_placements", &["host_organisation_id"]).await?;
    index(manager, "student_placements", &["project_id"]).await?;
    index(manager, "student_placements", &["source_id"]).await?;
    // A code is unique per (scheme, value, valid_from). NULL valid_from means "since before
    // records", and NULLs are distinct in a plain unique index, so the index uses COALESCE.
    for table in ["region_codes", "municipality_codes"] {
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "CREATE UNIQUE INDEX uq_{table}_scheme_value_from ON {table} \
                 (scheme, value, COALESCE(valid_from, '0001-01-01'))"
            ))
            .await?;
    }
    unique(manager, "project_partners", &["project_id", "organisation_id", "role"]).await?;
    index(manager, "region_memberships", &["region_id", "valid_from", "valid_to"]).await?;
    Ok(())
}

async fn index(manager: &SchemaManager<'_>, table: &str, columns: &[&str]) -> Result<(), DbErr> {
    create_index(manager, table, columns, false).await
}

async fn unique(manager: &SchemaManager<'_>, table: &str, columns: &[&str]) -> Result<(), DbErr> {
    create_index(manager, table, columns, true).await
}

async fn create_index(
    manager: &SchemaManager<'_>,
    table: &str,
    columns: &[&str],
    is_unique: bool,
) -> Result<(), DbErr> {
    let prefix = if is_unique { "uq" } else { "idx" };
    let mut statement = Index::create();
    statement.name(format!("{prefix}_{table}_{}", columns.join("_"))).table(table.to_owned());
    for column in columns {
        statement.col(ToString::to_string(column));
    }
    if is_unique {
        statement.unique();
    }
    manager.create_index(statement).await
}
