#!/usr/bin/env python3
"""One-off generator for entity/src/*.rs from a compact table spec (kept for reference; the
generated files are the source of truth and may be edited by hand)."""
import os
PROV = [("source_id", "Option<i32>", "sources"), ("verified", "bool", None)]
T = {
 "source": ("sources", [("key","String!u"),("kind","String"),("title","Option<String>"),("url","Option<String>"),("locator","Option<String>"),("description","Option<String>")], False),
 "country": ("countries", [("code","String!u"),("name","String"),("name_en","Option<String>"),("eu_member","bool")], True),
 "region": ("regions", [("slug","String!u"),("name","String"),("search_name","String"),("short_name","Option<String>"),("kind","RegionKind"),("country_id","Option<i32>>countries"),("status","LifecycleStatus"),("valid_from","Option<Date>"),("valid_to","Option<Date>"),("note","Option<String>")], True),
 "region_code": ("region_codes", [("region_id","i32>regions"),("scheme","CodeScheme"),("value","String"),("valid_from","Option<Date>"),("valid_to","Option<Date>"),("nuts_version","Option<String>")], True),
 "region_parent": ("region_parents", [("region_id","i32>regions"),("parent_id","i32>regions"),("nuts_version","Option<String>"),("valid_from","Option<Date>"),("valid_to","Option<Date>")], True),
 "municipality": ("municipalities", [("slug","String!u"),("name","String"),("search_name","String"),("country_id","i32>countries"),("status","LifecycleStatus"),("successor_id","Option<i32>>municipalities"),("dissolved_on","Option<Date>"),("established_on","Option<Date>"),("admin_centre","Option<String>"),("note","Option<String>")], True),
 "municipality_code": ("municipality_codes", [("municipality_id","i32>municipalities"),("scheme","CodeScheme"),("value","String"),("valid_from","Option<Date>"),("valid_to","Option<Date>")], True),
 "region_membership": ("region_memberships", [("municipality_id","i32>municipalities"),("region_id","i32>regions"),("valid_from","Option<Date>"),("valid_to","Option<Date>")], True),
 "organisation": ("organisations", [("slug","String!u"),("name","String"),("search_name","String"),("short_name","Option<String>"),("kind","OrganisationKind"),("kind_label","Option<String>"),("country_id","Option<i32>>countries"),("municipality_id","Option<i32>>municipalities"),("represents_municipality_id","Option<i32>>municipalities"),("org_number","Option<String>"),("ror","Option<String>"),("valid_from","Option<Date>"),("valid_to","Option<Date>")], True),
 "student": ("students", [("slug","String!u"),("home_municipality_id","Option<i32>>municipalities"),("enrolling_organisation_id","i32>organisations"),("field_of_study","Option<String>"),("enrolled_from","Date"),("enrolled_to","Option<Date>"),("synthetic","bool")], True),
 "student_placement": ("student_placements", [("slug","String!u"),("student_id","i32>students"),("host_organisation_id","i32>organisations"),("project_id","Option<i32>>projects"),("kind","PlacementKind"),("valid_from","Date"),("valid_to","Option<Date>")], True),
 "programme": ("programmes", [("slug","String!u"),("name","String"),("search_name","String"),("full_name","Option<String>"),("country_id","Option<i32>>countries"),("owner_organisation_id","Option<i32>>organisations"),("funder_organisation_id","Option<i32>>organisations"),("valid_from","Option<Date>"),("valid_to","Option<Date>"),("period_text","Option<String>")], True),
 "project": ("projects", [("slug","String!u"),("name","String"),("search_name","String"),("short_name","Option<String>"),("programme_id","Option<i32>>programmes"),("valid_from","Option<Date>"),("valid_to","Option<Date>"),("period_text","Option<String>"),("period_approximate","bool"),("budget_total","Option<f64>"),("budget_currency","Option<String>"),("budget_source_id","Option<i32>>sources"),("budget_verified","bool")], True),
 "project_budget_line": ("project_budget_lines", [("project_id","i32>projects"),("kind","BudgetKind"),("label","String"),("amount","f64"),("currency","String"),("is_final","bool")], True),
 "project_partner": ("project_partners", [("project_id","i32>projects"),("organisation_id","i32>organisations"),("role","PartnerRole"),("role_label","Option<String>"),("budget_share","Option<f64>")], True),
 "collaboration": ("collaborations", [("slug","String!u"),("organisation_a_id","i32>organisations"),("organisation_b_id","i32>organisations"),("kind","CollaborationKind"),("project_id","Option<i32>>projects"),("valid_from","Option<Date>"),("valid_to","Option<Date>"),("description","Option<String>")], True),
 "goal": ("goals", [("slug","String!u"),("project_id","i32>projects"),("kind","GoalKind"),("kind_label","String"),("text","String"),("target_value","Option<f64>"),("target_comparator","Option<Comparator>"),("target_unit","Option<String>")], True),
 "indicator_value": ("indicator_values", [("slug","String!u"),("project_id","i32>projects"),("goal_id","Option<i32>>goals"),("text","String"),("value","Option<f64>"),("comparator","Option<Comparator>"),("approximate","bool"),("unit","Option<String>"),("period_from","Option<Date>"),("period_to","Option<Date>"),("period_text","Option<String>")], True),
}
ENUMS = {"RegionKind","LifecycleStatus","CodeScheme","OrganisationKind","PlacementKind","BudgetKind","PartnerRole","CollaborationKind","GoalKind","Comparator"}
mod_of = {v[0]: k for k, v in T.items()}
def camel(s): return "".join(p.capitalize() for p in s.split("_"))
out = "/work/main/entity/src"
for mod, (table, cols, prov) in T.items():
    cols = list(cols) + ([(c, t + (">" + f if f else "")) for c, t, f in PROV] if prov else [])
    fields, rels, enums_used = [], [], set()
    for name, spec in cols:
        fk = None
        uniq = spec.endswith("!u")
        spec = spec.replace("!u", "")
        if ">" in spec and not spec.endswith(">"):
            # "Option<i32>>table" or "i32>table"
            idx = spec.rfind(">") if spec.startswith("Option") and spec.count(">") == 2 else spec.find(">")
            if spec.startswith("Option"):
                idx = spec.index(">", spec.index("i32")) + 1
                ty, fk = spec[:idx], spec[idx+1:]
            else:
                ty, fk = spec[:idx], spec[idx+1:]
        else:
            ty = spec
        base = ty.replace("Option<", "").replace(">", "")
        if base in ENUMS: enums_used.add(base)
        attr = "    #[sea_orm(unique)]\n" if uniq else ""
        fields.append(f"{attr}    pub {name}: {ty},")
        if fk:
            target = mod_of[fk]
            variant = camel(name[:-3]) if name.endswith("_id") else camel(name)
            rels.append((variant, target, camel(name)))
    use_enums = ("use crate::enums::{" + ", ".join(sorted(enums_used)) + "};\n") if enums_used else ""
    date = "use chrono::NaiveDate as Date;\n" if any("Date" in c[1] for c in cols) else ""
    rel_src = "\n".join(
        f"    #[sea_orm(\n        belongs_to = \"super::{t}::Entity\",\n        from = \"Column::{c}\",\n        to = \"super::{t}::Column::Id\"\n    )]\n    {v}," for v, t, c in rels)
    # fix: column name derives from field name
    rel_lines = []
    for (name, spec) in cols:
        pass
    doc = f"//! `{table}`: one row per {mod.replace('_', ' ')}; see DESIGN §2."
    body = f"""{doc}

{date}use sea_orm::entity::prelude::*;
use serde::{{Deserialize, Serialize}};
{use_enums}
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "{table}")]
pub struct Model {{
    #[sea_orm(primary_key)]
    pub id: i32,
{chr(10).join(fields)}
}}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {{
{rel_src}
}}

impl ActiveModelBehavior for ActiveModel {{}}
"""
    open(f"{out}/{mod}.rs", "w").write(body)
print("ok", len(T))

# ---- migration: one file creating every table in dependency order --------------------------
order = ["source","country","region","region_code","region_parent","municipality","municipality_code",
         "region_membership","organisation","programme","project","project_budget_line","project_partner",
         "collaboration","goal","indicator_value","student","student_placement"]
assert set(order) == set(T)
def coltype(ty):
    null = ty.startswith("Option<")
    base = ty.replace("Option<", "").rstrip(">") if null else ty
    fn = {"String":"text","i32":"integer","bool":"boolean","Date":"date","f64":"double"}.get(base, "text")
    return fn + ("_null" if null else "")
ups, downs, idx = [], [], []
for mod in order:
    table, cols, prov = T[mod]
    cols = list(cols) + ([(c, t + (">" + f if f else "")) for c, t, f in PROV] if prov else [])
    lines = [f'            .col(pk_auto("id"))']
    fks = []
    for name, spec in cols:
        uniq = spec.endswith("!u"); spec = spec.replace("!u", "")
        fk = None
        if spec.startswith("Option<i32>>"): ty, fk = "Option<i32>", spec[len("Option<i32>>"):]
        elif spec.startswith("i32>"): ty, fk = "i32", spec[4:]
        else: ty = spec
        fn = coltype(ty)
        if uniq: fn = fn.replace("_null", "") + "_uniq"
        default = ".default(false)" if ty == "bool" else ""
        lines.append(f'            .col({fn}("{name}"){default})')
        if fk:
            fks.append((name, fk))
            idx.append((table, name))
    for name, fk in fks:
        lines.append(f'            .foreign_key(ForeignKey::create().name("fk_{table}_{name}").from("{table}", "{name}").to("{fk}", "id"))')
    ups.append(f'    manager\n        .create_table(\n            Table::create()\n                .table("{table}")\n    {chr(10).join("    " + l for l in lines)}\n                .to_owned(),\n        )\n        .await?;')
    downs.append(f'    manager.drop_table(Table::drop().table("{table}").if_exists().to_owned()).await?;')
idx_src = "\n".join(f'    index(manager, "{t}", &["{c}"]).await?;' for t, c in idx)
mig = f'''//! Creates the whole registry schema (DESIGN §2). Written with portable column types (TEXT
//! enums, DATE, DOUBLE) so the same migration runs on SQLite and PostgreSQL.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {{
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {{
        create_tables(manager).await?;
        create_indexes(manager).await
    }}

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {{
{chr(10).join("    " + d for d in reversed(downs))}
        Ok(())
    }}
}}

async fn create_tables(manager: &SchemaManager<'_>) -> Result<(), DbErr> {{
{chr(10).join(ups)}
    Ok(())
}}

/// An index on every foreign key (neither SQLite nor PostgreSQL creates them), plus the natural
/// keys the importer and the validation rely on.
async fn create_indexes(manager: &SchemaManager<'_>) -> Result<(), DbErr> {{
{idx_src}
    // A code is unique per (scheme, value, valid_from). NULL valid_from means "since before
    // records", and NULLs are distinct in a plain unique index, so the index uses COALESCE.
    for table in ["region_codes", "municipality_codes"] {{
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "CREATE UNIQUE INDEX uq_{{table}}_scheme_value_from ON {{table}} \\
                 (scheme, value, COALESCE(valid_from, '0001-01-01'))"
            ))
            .await?;
    }}
    unique(manager, "project_partners", &["project_id", "organisation_id", "role"]).await?;
    index(manager, "region_memberships", &["region_id", "valid_from", "valid_to"]).await?;
    Ok(())
}}

async fn index(manager: &SchemaManager<'_>, table: &str, columns: &[&str]) -> Result<(), DbErr> {{
    create_index(manager, table, columns, false).await
}}

async fn unique(manager: &SchemaManager<'_>, table: &str, columns: &[&str]) -> Result<(), DbErr> {{
    create_index(manager, table, columns, true).await
}}

async fn create_index(
    manager: &SchemaManager<'_>,
    table: &str,
    columns: &[&str],
    is_unique: bool,
) -> Result<(), DbErr> {{
    let prefix = if is_unique {{ "uq" }} else {{ "idx" }};
    let mut statement = Index::create();
    statement.name(format!("{{prefix}}_{{table}}_{{}}", columns.join("_"))).table(table.to_owned());
    for column in columns {{
        statement.col(ToString::to_string(column));
    }}
    if is_unique {{
        statement.unique();
    }}
    manager.create_index(statement).await
}}
'''
open("/work/main/migration/src/m20261122_000001_create_registry.rs", "w").write(mig)
