//! `projects`: one row per project.

use chrono::NaiveDate as Date;
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "projects")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub slug: String,
    pub name: String,
    pub search_name: String,
    pub short_name: Option<String>,
    pub programme_id: Option<i32>,
    pub valid_from: Option<Date>,
    pub valid_to: Option<Date>,
    pub period_text: Option<String>,
    pub period_approximate: bool,
    pub budget_total: Option<f64>,
    pub budget_currency: Option<String>,
    pub budget_source_id: Option<i32>,
    pub budget_verified: bool,
    /// `budget_total` in euros at the ECB rate of the project's start (the write path keeps it).
    pub budget_eur: Option<f64>,
    /// The rate used: units of `budget_currency` per euro.
    pub budget_eur_rate: Option<f64>,
    /// The ECB business day whose rate was used.
    pub budget_rate_date: Option<Date>,
    pub source_id: Option<i32>,
    /// Where in the source the row came from (`organization.csv row 17`), for imported rows.
    pub source_locator: Option<String>,
    pub verified: bool,
    /// Bumped by every write; updates must name the version they read.
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::programme::Entity",
        from = "Column::ProgrammeId",
        to = "super::programme::Column::Id"
    )]
    Programme,
    #[sea_orm(belongs_to = "super::source::Entity", from = "Column::BudgetSourceId", to = "super::source::Column::Id")]
    BudgetSource,
    #[sea_orm(belongs_to = "super::source::Entity", from = "Column::SourceId", to = "super::source::Column::Id")]
    Source,
}

impl ActiveModelBehavior for ActiveModel {}
