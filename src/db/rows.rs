//! What the generic writers (importer and editors' mutations) need to know of every row: its
//! surrogate id, its version, and its slug for change events.

use entity::*;

pub trait Row: Clone + PartialEq + serde::Serialize {
    fn id(&self) -> i32;
    fn set_id(&mut self, id: i32);
    fn version(&self) -> i32;
    fn set_version(&mut self, version: i32);
    fn slug(&self) -> Option<String>;
    /// Where in its source file the row came from (tables that record it).
    fn locator(&self) -> Option<String> {
        None
    }
    fn set_locator(&mut self, _locator: Option<String>) {}
}

/// The locator methods of the tables with a `source_locator` column.
macro_rules! located {
    () => {
        fn locator(&self) -> Option<String> {
            self.source_locator.clone()
        }
        fn set_locator(&mut self, locator: Option<String>) {
            self.source_locator = locator;
        }
    };
}

macro_rules! unlocated {
    () => {};
}

macro_rules! rows {
    ($($module:ident),+ ; slugged: $($slugged:ident),+ ; located: $($located:ident),+ ; slugged and located: $($both:ident),+) => {
        rows!(@impl None, unlocated; $($module),+);
        rows!(@impl Some, unlocated; $($slugged),+);
        rows!(@impl None, located; $($located),+);
        rows!(@impl Some, located; $($both),+);
    };
    (@impl $wrap:ident, $locator:ident; $($module:ident),+) => {
        $(impl Row for $module::Model {
            fn id(&self) -> i32 { self.id }
            fn set_id(&mut self, id: i32) { self.id = id; }
            fn version(&self) -> i32 { self.version }
            fn set_version(&mut self, version: i32) { self.version = version; }
            fn slug(&self) -> Option<String> { rows!(@slug $wrap self) }
            $locator!();
        })+
    };
    (@slug None $row:ident) => { None };
    (@slug Some $row:ident) => { Some($row.slug.clone()) };
}

rows!(
    source, country, region_code, region_parent, municipality_code, region_membership, municipality_name,
    municipality_change, region_change, organisation_name, organisation_change, organisation_link;
    slugged: region, municipality, collaboration, goal, indicator_value, student, student_placement;
    located: project_budget_line, project_partner;
    slugged and located: organisation, programme, project
);

/// Keeps a project's euro columns in step with its budget, currency and start: every way a
/// project is written (import, mutation, synthetic seed) passes through here before the write.
pub fn price_budget(model: &mut project::Model) {
    let day = model.valid_from.or(model.valid_to);
    let conversion = match (model.budget_total, model.budget_currency.as_deref()) {
        (Some(amount), Some(currency)) => crate::domain::currency::budget_to_eur(amount, currency, day),
        _ => None,
    };
    model.budget_eur = conversion.map(|c| c.eur);
    model.budget_eur_rate = conversion.map(|c| c.rate);
    model.budget_rate_date = conversion.and_then(|c| c.rate_date);
}
