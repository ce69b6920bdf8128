//! Registry metrics as plain values (analysts): what a region, municipality,
//! organisation, programme or country did in a period. The database layer fills them with SQL
//! aggregates; this module defines them and the period they cover (budgets are summed in EUR as
//! the write path converted them, see `domain::currency`).

use chrono::NaiveDate;

/// A closed period; an open bound reaches to the beginning or end of records.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Period {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

/// What kind of node the metrics are about. Each kind defines its organisations and projects:
/// the organisations seated in it (regions on the `as_of` day), and the projects those
/// organisations act in (not as funders); a programme's projects are its own, its organisations
/// their acting partners.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NodeKind {
    Country,
    Region,
    Municipality,
    Organisation,
    Programme,
}

/// Projects, partnerships and budgets of a node in a period.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ProjectStats {
    /// Projects whose period overlaps the period.
    pub active_projects: i64,
    /// Acting partner rows of the node's organisations in those projects.
    pub partnerships: i64,
    /// Active projects whose acting partners span more than one country.
    pub cross_border_projects: i64,
    pub budget_total_eur: f64,
    /// Active projects whose budget could be converted to EUR.
    pub projects_with_budget: i64,
    /// The goals of those projects.
    pub goals: GoalStats,
}

impl ProjectStats {
    /// Cross-border share of the active projects; none when there are none.
    pub fn cross_border_share(&self) -> Option<f64> {
        (self.active_projects > 0).then(|| self.cross_border_projects as f64 / self.active_projects as f64)
    }
}

/// Goal attainment of a node's active projects: for each goal with a positive numeric target,
/// its latest measured result ÷ target (target ÷ result for "at most" targets), averaged.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct GoalStats {
    pub goals_with_target: i64,
    pub goals_without_target: i64,
    /// Goals with a target and at least one measured result.
    pub goals_measured: i64,
    pub average_attainment: Option<f64>,
}

/// Student placements of a node in a period: hosted by its organisations (`incoming`, including
/// its own students), its students placed outside it (`outgoing`), and of both those whose host
/// and enrolling organisations are in different countries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PlacementStats {
    pub incoming: i64,
    pub outgoing: i64,
    pub cross_border: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn share_is_undefined_without_projects() {
        assert_eq!(ProjectStats::default().cross_border_share(), None);
        let stats = ProjectStats { active_projects: 4, cross_border_projects: 1, ..ProjectStats::default() };
        assert_eq!(stats.cross_border_share(), Some(0.25));
    }
}
