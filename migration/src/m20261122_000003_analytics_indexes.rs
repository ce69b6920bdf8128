//! Covering indexes for the analytical statements (metrics, aggregates): each lets the hot joins
//! (organisation → its placements, students, partnerships; municipality → its regions on a day)
//! read the index alone instead of the table rows.

use sea_orm_migration::prelude::*;

/// (index name, table, columns).
const INDEXES: &[(&str, &str, &[&str])] = &[
    (
        "ix_placements_host_period",
        "student_placements",
        &["host_organisation_id", "valid_from", "valid_to", "student_id"],
    ),
    (
        "ix_placements_student_period",
        "student_placements",
        &["student_id", "valid_from", "valid_to", "host_organisation_id"],
    ),
    ("ix_students_enrolling_period", "students", &["enrolling_organisation_id", "enrolled_from", "enrolled_to", "id"]),
    ("ix_partners_organisation_project", "project_partners", &["organisation_id", "project_id", "role"]),
    ("ix_partners_project_organisation", "project_partners", &["project_id", "organisation_id", "role"]),
    (
        "ix_memberships_municipality_period",
        "region_memberships",
        &["municipality_id", "valid_from", "valid_to", "region_id"],
    ),
    ("ix_organisations_municipality_kind", "organisations", &["municipality_id", "id", "kind", "country_id"]),
];

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table, columns) in INDEXES {
            let mut index = Index::create();
            index.name(*name).table((*table).to_owned());
            for column in *columns {
                index.col((*column).to_owned());
            }
            manager.create_index(index).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table, _) in INDEXES {
            manager.drop_index(Index::drop().name(*name).table((*table).to_owned()).to_owned()).await?;
        }
        Ok(())
    }
}
