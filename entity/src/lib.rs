//! SeaORM entities of the Samverka registry: one module per table, no GraphQL derives (the
//! GraphQL layer wraps these models, so persistence never depends on the API).
//!
//! Every fact table carries `source_id` (→ `sources`) and `verified`: provenance is part of the
//! model, not an afterthought.

pub mod enums;

pub mod collaboration;
pub mod country;
pub mod event;
pub mod goal;
pub mod indicator_value;
pub mod municipality;
pub mod municipality_change;
pub mod municipality_code;
pub mod municipality_name;
pub mod organisation;
pub mod organisation_change;
pub mod organisation_link;
pub mod organisation_name;
pub mod programme;
pub mod project;
pub mod project_budget_line;
pub mod project_partner;
pub mod reference_release;
pub mod region;
pub mod region_change;
pub mod region_code;
pub mod region_membership;
pub mod region_parent;
pub mod source;
pub mod student;
pub mod student_placement;
