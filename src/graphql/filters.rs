//! The `where:` argument of every list: one `…Where` input per entity, with `and`/`or`/`not`,
//! operator inputs per field type and `some`/`none`/`every` on relations. Each input turns
//! into a `domain::filter::Filter`; `db::queries::filter` checks it against the list's table
//! and compiles it. The limits (depth, tests, values per `in`, text length) are in the schema
//! descriptions and enforced in `domain::filter`.

use async_graphql::{Context, InputObject, InputType, Result};
use chrono::NaiveDate;
use sea_orm::ActiveEnum;
use sea_orm::sea_query::Condition;

use super::access::{Role, role_of};
use super::error::{Code, bad_input, coded};
use super::types::common::{
    CollaborationKind, Date, GoalKind, LifecycleStatus, OrganisationKind, PartnerRole, PlacementKind, RegionKind,
};
use crate::db::queries::filter::{self as compiler, CompileError, Scope, Table};
use crate::domain::filter::{Comparison, Filter, FilterError, Quantifier, Test, TextTest};

/// Tests on a text field; given together they must all hold. On names (`name`), `startsWith`,
/// `contains` and `search` ignore case, accents and Nordic spellings ("tromso" finds Tromsø,
/// "malmo" Malmö, "baerum" Bærum); `eq` and `in` compare exactly. On other text (slugs, codes)
/// every test is exact and case-sensitive, and `search` is refused. At most 200 characters per
/// value and 500 values per `in`.
#[derive(InputObject, Clone, Default, Debug)]
pub struct TextFilter {
    pub eq: Option<String>,
    #[graphql(name = "in")]
    pub any_of: Option<Vec<String>>,
    pub starts_with: Option<String>,
    pub contains: Option<String>,
    /// Names only: every word of the search occurs in the name. Without `orderBy`, a list
    /// whose filter holds a `search` for every row is ordered by relevance (the whole name,
    /// then its start, then a word's start, then anywhere).
    pub search: Option<String>,
    pub is_null: Option<bool>,
}

/// Tests on a number; given together they must all hold. A test on an unknown value is false.
#[derive(InputObject, Clone, Default, Debug)]
pub struct FloatFilter {
    pub eq: Option<f64>,
    pub gt: Option<f64>,
    pub gte: Option<f64>,
    pub lt: Option<f64>,
    pub lte: Option<f64>,
    /// `[low, high]`, both included.
    pub between: Option<Vec<f64>>,
    pub is_null: Option<bool>,
}

/// Tests on a day; given together they must all hold. A test on an unknown day is false.
#[derive(InputObject, Clone, Default, Debug)]
pub struct DateFilter {
    pub eq: Option<Date>,
    pub gt: Option<Date>,
    pub gte: Option<Date>,
    pub lt: Option<Date>,
    pub lte: Option<Date>,
    /// `[first, last]`, both included.
    pub between: Option<Vec<Date>>,
    pub is_null: Option<bool>,
}

/// Tests on an enumerated field.
#[derive(InputObject, Clone, Default, Debug)]
#[graphql(
    concrete(name = "RegionKindFilter", params(RegionKind)),
    concrete(name = "LifecycleStatusFilter", params(LifecycleStatus)),
    concrete(name = "OrganisationKindFilter", params(OrganisationKind)),
    concrete(name = "PartnerRoleFilter", params(PartnerRole)),
    concrete(name = "GoalKindFilter", params(GoalKind)),
    concrete(name = "CollaborationKindFilter", params(CollaborationKind)),
    concrete(name = "PlacementKindFilter", params(PlacementKind))
)]
pub struct EnumFilter<E: InputType> {
    pub eq: Option<E>,
    #[graphql(name = "in")]
    pub any_of: Option<Vec<E>>,
}

/// A test on the rows a to-many relation leads to: `some` (at least one passes), `none` (none
/// passes), `every` (none fails; true when there are none). Given together, all must hold.
#[derive(InputObject, Clone, Default, Debug)]
#[graphql(
    concrete(name = "RegionListWhere", params(RegionWhere)),
    concrete(name = "MunicipalityListWhere", params(MunicipalityWhere)),
    concrete(name = "OrganisationListWhere", params(OrganisationWhere)),
    concrete(name = "ProjectListWhere", params(ProjectWhere)),
    concrete(name = "PartnerListWhere", params(PartnerWhere)),
    concrete(name = "GoalListWhere", params(GoalWhere)),
    concrete(name = "IndicatorValueListWhere", params(IndicatorValueWhere)),
    concrete(name = "CollaborationListWhere", params(CollaborationWhere)),
    concrete(name = "StudentListWhere", params(StudentWhere)),
    concrete(name = "PlacementListWhere", params(PlacementWhere))
)]
pub struct ListWhere<W: InputType> {
    pub some: Option<Box<W>>,
    pub none: Option<Box<W>>,
    pub every: Option<Box<W>>,
}

/// A `…Where` input as a domain filter.
pub trait WhereInput {
    fn to_filter(&self) -> Result<Filter, FilterError>;
}

/// The tests of one `…Where` level, ANDed.
#[derive(Default)]
struct Parts(Vec<Filter>);

impl Parts {
    fn test(&mut self, field: &'static str, test: Test) {
        self.0.push(Filter::Field { field, test });
    }

    fn text(&mut self, field: &'static str, filter: &Option<TextFilter>) -> &mut Self {
        self.text_as(field, filter, |text| text.to_owned())
    }

    /// Country codes: ISO codes compare in upper case whatever the client typed.
    fn country(&mut self, filter: &Option<TextFilter>) -> &mut Self {
        self.text_as("country", filter, str::to_uppercase)
    }

    fn text_as(&mut self, field: &'static str, filter: &Option<TextFilter>, form: fn(&str) -> String) -> &mut Self {
        let Some(f) = filter else { return self };
        if let Some(v) = &f.eq {
            self.test(field, Test::Text(TextTest::Eq(form(v))));
        }
        if let Some(v) = &f.any_of {
            self.test(field, Test::Text(TextTest::In(v.iter().map(|v| form(v)).collect())));
        }
        if let Some(v) = &f.starts_with {
            self.test(field, Test::Text(TextTest::StartsWith(form(v))));
        }
        if let Some(v) = &f.contains {
            self.test(field, Test::Text(TextTest::Contains(form(v))));
        }
        if let Some(v) = &f.search {
            self.test(field, Test::Text(TextTest::Search(v.clone())));
        }
        if let Some(v) = f.is_null {
            self.test(field, Test::IsNull(v));
        }
        self
    }

    fn number(&mut self, field: &'static str, filter: &Option<FloatFilter>) -> Result<&mut Self, FilterError> {
        let Some(f) = filter else { return Ok(self) };
        for comparison in comparisons(field, f.eq, f.gt, f.gte, f.lt, f.lte, f.between.as_deref())? {
            self.test(field, Test::Number(comparison));
        }
        if let Some(v) = f.is_null {
            self.test(field, Test::IsNull(v));
        }
        Ok(self)
    }

    fn date(&mut self, field: &'static str, filter: &Option<DateFilter>) -> Result<&mut Self, FilterError> {
        let Some(f) = filter else { return Ok(self) };
        let day = |d: Option<Date>| d.map(|d| d.0);
        let between: Option<Vec<NaiveDate>> = f.between.as_ref().map(|days| days.iter().map(|d| d.0).collect());
        for comparison in
            comparisons(field, day(f.eq), day(f.gt), day(f.gte), day(f.lt), day(f.lte), between.as_deref())?
        {
            self.test(field, Test::Date(comparison));
        }
        if let Some(v) = f.is_null {
            self.test(field, Test::IsNull(v));
        }
        Ok(self)
    }

    fn choice<G, M>(&mut self, field: &'static str, filter: &Option<EnumFilter<G>>) -> &mut Self
    where
        G: InputType + Copy + Into<M>,
        M: ActiveEnum<Value = String>,
    {
        let Some(f) = filter else { return self };
        let stored = |value: &G| -> String { (*value).into().to_value() };
        if let Some(v) = &f.eq {
            self.test(field, Test::OneOf(vec![stored(v)]));
        }
        if let Some(values) = &f.any_of {
            self.test(field, Test::OneOf(values.iter().map(stored).collect()));
        }
        self
    }

    fn flag(&mut self, field: &'static str, value: Option<bool>) -> &mut Self {
        if let Some(v) = value {
            self.test(field, Test::Is(v));
        }
        self
    }

    /// A to-one relation: the related row exists and passes.
    fn one<W: WhereInput>(
        &mut self,
        relation: &'static str,
        filter: &Option<Box<W>>,
    ) -> Result<&mut Self, FilterError> {
        if let Some(w) = filter {
            self.0.push(Filter::Related { relation, quantifier: Quantifier::Some, filter: Box::new(w.to_filter()?) });
        }
        Ok(self)
    }

    fn many<W: WhereInput + InputType>(
        &mut self,
        relation: &'static str,
        filter: &Option<ListWhere<W>>,
    ) -> Result<&mut Self, FilterError> {
        let Some(f) = filter else { return Ok(self) };
        for (quantifier, w) in [(Quantifier::Some, &f.some), (Quantifier::None, &f.none), (Quantifier::Every, &f.every)]
        {
            if let Some(w) = w {
                self.0.push(Filter::Related { relation, quantifier, filter: Box::new(w.to_filter()?) });
            }
        }
        Ok(self)
    }

    /// The level's filter: its tests, its `and`, `or` and `not`, read on `as_of` when given.
    fn finish<W: WhereInput>(
        mut self,
        and: &Option<Vec<W>>,
        or: &Option<Vec<W>>,
        not: &Option<Box<W>>,
        as_of: Option<Date>,
    ) -> Result<Filter, FilterError> {
        if let Some(parts) = and {
            self.0.push(Filter::All(parts.iter().map(W::to_filter).collect::<Result<_, _>>()?));
        }
        if let Some(parts) = or {
            self.0.push(Filter::Any(parts.iter().map(W::to_filter).collect::<Result<_, _>>()?));
        }
        if let Some(inner) = not {
            self.0.push(Filter::Not(Box::new(inner.to_filter()?)));
        }
        let filter = Filter::all(self.0);
        Ok(match as_of {
            Some(day) => Filter::OnDay { day: day.0, filter: Box::new(filter) },
            None => filter,
        })
    }
}

fn comparisons<T: Copy>(
    field: &str,
    eq: Option<T>,
    gt: Option<T>,
    gte: Option<T>,
    lt: Option<T>,
    lte: Option<T>,
    between: Option<&[T]>,
) -> Result<Vec<Comparison<T>>, FilterError> {
    let mut out = Vec::new();
    out.extend(eq.map(Comparison::Eq));
    out.extend(gt.map(Comparison::Gt));
    out.extend(gte.map(Comparison::Gte));
    out.extend(lt.map(Comparison::Lt));
    out.extend(lte.map(Comparison::Lte));
    match between {
        None => {}
        Some([low, high]) => out.push(Comparison::Between(*low, *high)),
        Some(_) => return Err(FilterError::new(format!("`{field}.between` takes exactly two values"))),
    }
    Ok(out)
}

/// A `where` ready to apply: its condition and the `search` phrase (one that holds for every
/// row) a list without an explicit order ranks by.
pub struct Compiled {
    pub condition: Condition,
    pub ranking_search: Option<String>,
}

/// `filter` on `table` for this request, converted once, or the coded error: `BAD_USER_INPUT`
/// (argument `where`) for a malformed or oversized filter, `FORBIDDEN` for one that reaches
/// students or placements without the analyst role.
pub fn compile<W: WhereInput>(ctx: &Context<'_>, table: &'static Table, filter: &W) -> Result<Compiled> {
    let filter = filter.to_filter().map_err(|error| bad_input("where", error.message))?;
    let scope =
        Scope { backend: super::query::db(ctx).get_database_backend(), personal_data: role_of(ctx) >= Role::Analyst };
    let condition = compiler::condition(table, &filter, scope).map_err(|error| match error {
        CompileError::Invalid(error) => bad_input("where", error.message),
        CompileError::Forbidden(message) => coded(Code::Forbidden, message),
    })?;
    let ranking_search = filter.ranking_search().map(|(_, phrase)| phrase.to_owned());
    Ok(Compiled { condition, ranking_search })
}

/// What a `where` adds to the request's cost (see `db::queries::filter::cost`); a filter that
/// does not convert costs nothing here and is refused when the resolver runs.
pub fn cost<W: WhereInput>(filter: &Option<W>, table: &'static Table) -> usize {
    filter.as_ref().and_then(|w| w.to_filter().ok()).map_or(0, |f| compiler::cost(table, &f))
}

/// Regions: counties, län, NUTS regions and named areas.
#[derive(InputObject, Clone, Default, Debug)]
pub struct RegionWhere {
    pub and: Option<Vec<RegionWhere>>,
    pub or: Option<Vec<RegionWhere>>,
    pub not: Option<Box<RegionWhere>>,
    /// The day memberships and codes are read on, here and below (default: any day).
    pub as_of: Option<Date>,
    pub slug: Option<TextFilter>,
    pub name: Option<TextFilter>,
    pub short_name: Option<TextFilter>,
    pub kind: Option<EnumFilter<RegionKind>>,
    pub status: Option<EnumFilter<LifecycleStatus>>,
    /// ISO country code (`NO`, `SE`).
    pub country: Option<TextFilter>,
    /// Any of its codes (fylkesnummer, länskod, NUTS) valid on `asOf`.
    pub code: Option<TextFilter>,
    pub valid_from: Option<DateFilter>,
    pub valid_to: Option<DateFilter>,
    pub verified: Option<bool>,
    /// Its member municipalities (on `asOf`).
    pub municipalities: Option<ListWhere<MunicipalityWhere>>,
}

impl WhereInput for RegionWhere {
    fn to_filter(&self) -> Result<Filter, FilterError> {
        let mut p = Parts::default();
        p.text("slug", &self.slug).text("name", &self.name).text("shortName", &self.short_name);
        p.choice::<_, entity::enums::RegionKind>("kind", &self.kind);
        p.choice::<_, entity::enums::LifecycleStatus>("status", &self.status);
        p.country(&self.country).text("code", &self.code);
        p.date("validFrom", &self.valid_from)?.date("validTo", &self.valid_to)?;
        p.flag("verified", self.verified);
        p.many("municipalities", &self.municipalities)?;
        p.finish(&self.and, &self.or, &self.not, self.as_of)
    }
}

/// Municipalities (kommuner).
#[derive(InputObject, Clone, Default, Debug)]
pub struct MunicipalityWhere {
    pub and: Option<Vec<MunicipalityWhere>>,
    pub or: Option<Vec<MunicipalityWhere>>,
    pub not: Option<Box<MunicipalityWhere>>,
    /// The day memberships and codes are read on, here and below (default: any day).
    pub as_of: Option<Date>,
    pub slug: Option<TextFilter>,
    pub name: Option<TextFilter>,
    pub status: Option<EnumFilter<LifecycleStatus>>,
    pub country: Option<TextFilter>,
    /// Its kommunenummer or kommunkod valid on `asOf`.
    pub code: Option<TextFilter>,
    pub established_on: Option<DateFilter>,
    pub dissolved_on: Option<DateFilter>,
    pub admin_centre: Option<TextFilter>,
    pub verified: Option<bool>,
    /// The regions it belongs to (on `asOf`).
    pub regions: Option<ListWhere<RegionWhere>>,
    /// The organisations seated in it.
    pub organisations: Option<ListWhere<OrganisationWhere>>,
    /// Students living in it (analysts and up).
    pub students: Option<ListWhere<StudentWhere>>,
}

impl WhereInput for MunicipalityWhere {
    fn to_filter(&self) -> Result<Filter, FilterError> {
        let mut p = Parts::default();
        p.text("slug", &self.slug).text("name", &self.name);
        p.choice::<_, entity::enums::LifecycleStatus>("status", &self.status);
        p.country(&self.country).text("code", &self.code).text("adminCentre", &self.admin_centre);
        p.date("establishedOn", &self.established_on)?.date("dissolvedOn", &self.dissolved_on)?;
        p.flag("verified", self.verified);
        p.many("regions", &self.regions)?
            .many("organisations", &self.organisations)?
            .many("students", &self.students)?;
        p.finish(&self.and, &self.or, &self.not, self.as_of)
    }
}

/// Organisations: universities, companies, public bodies.
#[derive(InputObject, Clone, Default, Debug)]
pub struct OrganisationWhere {
    pub and: Option<Vec<OrganisationWhere>>,
    pub or: Option<Vec<OrganisationWhere>>,
    pub not: Option<Box<OrganisationWhere>>,
    /// The day memberships and codes are read on, here and below (default: any day).
    pub as_of: Option<Date>,
    pub slug: Option<TextFilter>,
    pub name: Option<TextFilter>,
    pub short_name: Option<TextFilter>,
    pub kind: Option<EnumFilter<OrganisationKind>>,
    pub country: Option<TextFilter>,
    pub org_number: Option<TextFilter>,
    pub ror: Option<TextFilter>,
    pub valid_from: Option<DateFilter>,
    pub valid_to: Option<DateFilter>,
    pub verified: Option<bool>,
    /// The municipality it is seated in.
    pub municipality: Option<Box<MunicipalityWhere>>,
    /// The regions its seat belongs to (on `asOf`).
    pub regions: Option<ListWhere<RegionWhere>>,
    /// Its project partnerships.
    pub partnerships: Option<ListWhere<PartnerWhere>>,
    /// Students it enrols (analysts and up).
    pub students: Option<ListWhere<StudentWhere>>,
    /// Placements it hosts (analysts and up).
    pub placements: Option<ListWhere<PlacementWhere>>,
}

impl WhereInput for OrganisationWhere {
    fn to_filter(&self) -> Result<Filter, FilterError> {
        let mut p = Parts::default();
        p.text("slug", &self.slug).text("name", &self.name).text("shortName", &self.short_name);
        p.choice::<_, entity::enums::OrganisationKind>("kind", &self.kind);
        p.country(&self.country).text("orgNumber", &self.org_number).text("ror", &self.ror);
        p.date("validFrom", &self.valid_from)?.date("validTo", &self.valid_to)?;
        p.flag("verified", self.verified);
        p.one("municipality", &self.municipality)?;
        p.many("regions", &self.regions)?.many("partnerships", &self.partnerships)?;
        p.many("students", &self.students)?.many("placements", &self.placements)?;
        p.finish(&self.and, &self.or, &self.not, self.as_of)
    }
}

/// Funding programmes.
#[derive(InputObject, Clone, Default, Debug)]
pub struct ProgrammeWhere {
    pub and: Option<Vec<ProgrammeWhere>>,
    pub or: Option<Vec<ProgrammeWhere>>,
    pub not: Option<Box<ProgrammeWhere>>,
    /// The day memberships and codes are read on, here and below (default: any day).
    pub as_of: Option<Date>,
    pub slug: Option<TextFilter>,
    pub name: Option<TextFilter>,
    pub full_name: Option<TextFilter>,
    pub country: Option<TextFilter>,
    pub valid_from: Option<DateFilter>,
    pub valid_to: Option<DateFilter>,
    pub verified: Option<bool>,
    pub projects: Option<ListWhere<ProjectWhere>>,
    pub owner: Option<Box<OrganisationWhere>>,
    pub funder: Option<Box<OrganisationWhere>>,
}

impl WhereInput for ProgrammeWhere {
    fn to_filter(&self) -> Result<Filter, FilterError> {
        let mut p = Parts::default();
        p.text("slug", &self.slug).text("name", &self.name).text("fullName", &self.full_name);
        p.country(&self.country);
        p.date("validFrom", &self.valid_from)?.date("validTo", &self.valid_to)?;
        p.flag("verified", self.verified);
        p.many("projects", &self.projects)?.one("owner", &self.owner)?.one("funder", &self.funder)?;
        p.finish(&self.and, &self.or, &self.not, self.as_of)
    }
}

/// Projects.
#[derive(InputObject, Clone, Default, Debug)]
pub struct ProjectWhere {
    pub and: Option<Vec<ProjectWhere>>,
    pub or: Option<Vec<ProjectWhere>>,
    pub not: Option<Box<ProjectWhere>>,
    /// The day memberships and codes are read on, here and below (default: any day).
    pub as_of: Option<Date>,
    pub slug: Option<TextFilter>,
    pub name: Option<TextFilter>,
    pub short_name: Option<TextFilter>,
    pub valid_from: Option<DateFilter>,
    pub valid_to: Option<DateFilter>,
    pub period_approximate: Option<bool>,
    /// The headline budget in its own currency.
    pub budget_total: Option<FloatFilter>,
    pub budget_currency: Option<TextFilter>,
    /// The headline budget in euros.
    pub budget_eur: Option<FloatFilter>,
    /// Acting (non-funder) partners seated in more than one country.
    pub cross_border: Option<bool>,
    pub verified: Option<bool>,
    pub programme: Option<Box<ProgrammeWhere>>,
    pub partners: Option<ListWhere<PartnerWhere>>,
    pub goals: Option<ListWhere<GoalWhere>>,
    pub indicator_values: Option<ListWhere<IndicatorValueWhere>>,
    pub collaborations: Option<ListWhere<CollaborationWhere>>,
    /// Student placements in the project (analysts and up).
    pub placements: Option<ListWhere<PlacementWhere>>,
}

impl WhereInput for ProjectWhere {
    fn to_filter(&self) -> Result<Filter, FilterError> {
        let mut p = Parts::default();
        p.text("slug", &self.slug).text("name", &self.name).text("shortName", &self.short_name);
        p.date("validFrom", &self.valid_from)?.date("validTo", &self.valid_to)?;
        p.flag("periodApproximate", self.period_approximate);
        p.number("budgetTotal", &self.budget_total)?.number("budgetEur", &self.budget_eur)?;
        p.text("budgetCurrency", &self.budget_currency);
        p.flag("crossBorder", self.cross_border).flag("verified", self.verified);
        p.one("programme", &self.programme)?;
        p.many("partners", &self.partners)?.many("goals", &self.goals)?;
        p.many("indicatorValues", &self.indicator_values)?.many("collaborations", &self.collaborations)?;
        p.many("placements", &self.placements)?;
        p.finish(&self.and, &self.or, &self.not, self.as_of)
    }
}

/// A project's partners (one row per project and organisation).
#[derive(InputObject, Clone, Default, Debug)]
pub struct PartnerWhere {
    pub and: Option<Vec<PartnerWhere>>,
    pub or: Option<Vec<PartnerWhere>>,
    pub not: Option<Box<PartnerWhere>>,
    /// The day memberships and codes are read on, here and below (default: any day).
    pub as_of: Option<Date>,
    pub role: Option<EnumFilter<PartnerRole>>,
    pub role_label: Option<TextFilter>,
    pub budget_share: Option<FloatFilter>,
    pub verified: Option<bool>,
    pub project: Option<Box<ProjectWhere>>,
    pub organisation: Option<Box<OrganisationWhere>>,
}

impl WhereInput for PartnerWhere {
    fn to_filter(&self) -> Result<Filter, FilterError> {
        let mut p = Parts::default();
        p.choice::<_, entity::enums::PartnerRole>("role", &self.role);
        p.text("roleLabel", &self.role_label).number("budgetShare", &self.budget_share)?;
        p.flag("verified", self.verified);
        p.one("project", &self.project)?.one("organisation", &self.organisation)?;
        p.finish(&self.and, &self.or, &self.not, self.as_of)
    }
}

/// Project goals.
#[derive(InputObject, Clone, Default, Debug)]
pub struct GoalWhere {
    pub and: Option<Vec<GoalWhere>>,
    pub or: Option<Vec<GoalWhere>>,
    pub not: Option<Box<GoalWhere>>,
    /// The day memberships and codes are read on, here and below (default: any day).
    pub as_of: Option<Date>,
    pub slug: Option<TextFilter>,
    pub text: Option<TextFilter>,
    pub kind: Option<EnumFilter<GoalKind>>,
    pub target_value: Option<FloatFilter>,
    pub target_unit: Option<TextFilter>,
    pub verified: Option<bool>,
    pub project: Option<Box<ProjectWhere>>,
    pub indicator_values: Option<ListWhere<IndicatorValueWhere>>,
}

impl WhereInput for GoalWhere {
    fn to_filter(&self) -> Result<Filter, FilterError> {
        let mut p = Parts::default();
        p.text("slug", &self.slug).text("text", &self.text).text("targetUnit", &self.target_unit);
        p.choice::<_, entity::enums::GoalKind>("kind", &self.kind);
        p.number("targetValue", &self.target_value)?.flag("verified", self.verified);
        p.one("project", &self.project)?.many("indicatorValues", &self.indicator_values)?;
        p.finish(&self.and, &self.or, &self.not, self.as_of)
    }
}

/// Reported indicator values.
#[derive(InputObject, Clone, Default, Debug)]
pub struct IndicatorValueWhere {
    pub and: Option<Vec<IndicatorValueWhere>>,
    pub or: Option<Vec<IndicatorValueWhere>>,
    pub not: Option<Box<IndicatorValueWhere>>,
    /// The day memberships and codes are read on, here and below (default: any day).
    pub as_of: Option<Date>,
    pub slug: Option<TextFilter>,
    pub text: Option<TextFilter>,
    pub value: Option<FloatFilter>,
    pub unit: Option<TextFilter>,
    pub approximate: Option<bool>,
    pub period_from: Option<DateFilter>,
    pub period_to: Option<DateFilter>,
    pub verified: Option<bool>,
    pub project: Option<Box<ProjectWhere>>,
    pub goal: Option<Box<GoalWhere>>,
}

impl WhereInput for IndicatorValueWhere {
    fn to_filter(&self) -> Result<Filter, FilterError> {
        let mut p = Parts::default();
        p.text("slug", &self.slug).text("text", &self.text).text("unit", &self.unit);
        p.number("value", &self.value)?.flag("approximate", self.approximate);
        p.date("periodFrom", &self.period_from)?.date("periodTo", &self.period_to)?;
        p.flag("verified", self.verified);
        p.one("project", &self.project)?.one("goal", &self.goal)?;
        p.finish(&self.and, &self.or, &self.not, self.as_of)
    }
}

/// Ties between two organisations.
#[derive(InputObject, Clone, Default, Debug)]
pub struct CollaborationWhere {
    pub and: Option<Vec<CollaborationWhere>>,
    pub or: Option<Vec<CollaborationWhere>>,
    pub not: Option<Box<CollaborationWhere>>,
    /// The day memberships and codes are read on, here and below (default: any day).
    pub as_of: Option<Date>,
    pub slug: Option<TextFilter>,
    pub kind: Option<EnumFilter<CollaborationKind>>,
    pub description: Option<TextFilter>,
    pub valid_from: Option<DateFilter>,
    pub valid_to: Option<DateFilter>,
    pub verified: Option<bool>,
    /// Its two sides.
    pub organisations: Option<ListWhere<OrganisationWhere>>,
    pub project: Option<Box<ProjectWhere>>,
}

impl WhereInput for CollaborationWhere {
    fn to_filter(&self) -> Result<Filter, FilterError> {
        let mut p = Parts::default();
        p.text("slug", &self.slug).text("description", &self.description);
        p.choice::<_, entity::enums::CollaborationKind>("kind", &self.kind);
        p.date("validFrom", &self.valid_from)?.date("validTo", &self.valid_to)?;
        p.flag("verified", self.verified);
        p.many("organisations", &self.organisations)?.one("project", &self.project)?;
        p.finish(&self.and, &self.or, &self.not, self.as_of)
    }
}

/// Pseudonymous students (analysts and up).
#[derive(InputObject, Clone, Default, Debug)]
pub struct StudentWhere {
    pub and: Option<Vec<StudentWhere>>,
    pub or: Option<Vec<StudentWhere>>,
    pub not: Option<Box<StudentWhere>>,
    /// The day memberships and codes are read on, here and below (default: any day).
    pub as_of: Option<Date>,
    pub slug: Option<TextFilter>,
    pub field_of_study: Option<TextFilter>,
    pub enrolled_from: Option<DateFilter>,
    pub enrolled_to: Option<DateFilter>,
    pub verified: Option<bool>,
    pub home_municipality: Option<Box<MunicipalityWhere>>,
    pub enrolling_organisation: Option<Box<OrganisationWhere>>,
    pub placements: Option<ListWhere<PlacementWhere>>,
}

impl WhereInput for StudentWhere {
    fn to_filter(&self) -> Result<Filter, FilterError> {
        let mut p = Parts::default();
        p.text("slug", &self.slug).text("fieldOfStudy", &self.field_of_study);
        p.date("enrolledFrom", &self.enrolled_from)?.date("enrolledTo", &self.enrolled_to)?;
        p.flag("verified", self.verified);
        p.one("homeMunicipality", &self.home_municipality)?;
        p.one("enrollingOrganisation", &self.enrolling_organisation)?;
        p.many("placements", &self.placements)?;
        p.finish(&self.and, &self.or, &self.not, self.as_of)
    }
}

/// Student placements (analysts and up).
#[derive(InputObject, Clone, Default, Debug)]
pub struct PlacementWhere {
    pub and: Option<Vec<PlacementWhere>>,
    pub or: Option<Vec<PlacementWhere>>,
    pub not: Option<Box<PlacementWhere>>,
    /// The day memberships and codes are read on, here and below (default: any day).
    pub as_of: Option<Date>,
    pub slug: Option<TextFilter>,
    pub kind: Option<EnumFilter<PlacementKind>>,
    pub valid_from: Option<DateFilter>,
    pub valid_to: Option<DateFilter>,
    pub verified: Option<bool>,
    pub student: Option<Box<StudentWhere>>,
    pub host: Option<Box<OrganisationWhere>>,
    pub project: Option<Box<ProjectWhere>>,
}

impl WhereInput for PlacementWhere {
    fn to_filter(&self) -> Result<Filter, FilterError> {
        let mut p = Parts::default();
        p.text("slug", &self.slug);
        p.choice::<_, entity::enums::PlacementKind>("kind", &self.kind);
        p.date("validFrom", &self.valid_from)?.date("validTo", &self.valid_to)?;
        p.flag("verified", self.verified);
        p.one("student", &self.student)?.one("host", &self.host)?.one("project", &self.project)?;
        p.finish(&self.and, &self.or, &self.not, self.as_of)
    }
}
