//! What the generic writers (importer and editors' mutations) need to know of every row: its
//! surrogate id, its version, and its slug for change events.

use entity::*;

pub trait Row: Clone + PartialEq + serde::Serialize {
    fn id(&self) -> i32;
    fn set_id(&mut self, id: i32);
    fn version(&self) -> i32;
    fn set_version(&mut self, version: i32);
    fn slug(&self) -> Option<String>;
}

macro_rules! rows {
    ($($module:ident),+ ; slugged: $($slugged:ident),+) => {
        rows!(@impl None; $($module),+);
        rows!(@impl Some; $($slugged),+);
    };
    (@impl $wrap:ident; $($module:ident),+) => {
        $(impl Row for $module::Model {
            fn id(&self) -> i32 { self.id }
            fn set_id(&mut self, id: i32) { self.id = id; }
            fn version(&self) -> i32 { self.version }
            fn set_version(&mut self, version: i32) { self.version = version; }
            fn slug(&self) -> Option<String> { rows!(@slug $wrap self) }
        })+
    };
    (@slug None $row:ident) => { None };
    (@slug Some $row:ident) => { Some($row.slug.clone()) };
}

rows!(
    source, country, region_code, region_parent, municipality_code, region_membership, project_budget_line,
    project_partner, municipality_name, municipality_change, region_change, organisation_name, organisation_change;
    slugged: region, municipality, organisation, programme, project, collaboration, goal, indicator_value, student,
    student_placement
);
