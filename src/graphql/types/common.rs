//! Shared GraphQL building blocks: the `Date` scalar, mirrored enums, provenance, and context
//! accessors used by every resolver.

use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{
    Context, Enum, InputValueError, InputValueResult, Result, Scalar, ScalarType, SimpleObject, Value,
};
use chrono::NaiveDate;
use entity::source;

use crate::graphql::error::OrInternal;
use crate::graphql::loaders::{RegistryLoader, SourceById};

/// A calendar date, `YYYY-MM-DD`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Date(pub NaiveDate);

#[Scalar(name = "Date")]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(text) => NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .ok()
                // Four-digit years only: year 0 or 99999 is a typo or a probe, never a fact here.
                .filter(|day| (1000..=9999).contains(&chrono::Datelike::year(day)))
                .map(Date)
                .ok_or_else(|| {
                    let shown: String = text.chars().take(40).collect();
                    InputValueError::custom(format!("`{shown}` is not a date (YYYY-MM-DD, years 1000–9999)"))
                }),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.format("%Y-%m-%d").to_string())
    }
}

pub fn date(day: Option<NaiveDate>) -> Option<Date> {
    day.map(Date)
}

/// The day dated fields use when the client gives no `asOf`: today (UTC).
pub fn as_of_or_today(as_of: Option<Date>) -> NaiveDate {
    as_of.map_or_else(|| chrono::Utc::now().date_naive(), |d| d.0)
}

pub fn loader<'a>(ctx: &'a Context<'_>) -> &'a DataLoader<RegistryLoader> {
    ctx.data_unchecked::<DataLoader<RegistryLoader>>()
}

/// Loads one value through the request's DataLoader, mapping failures to `INTERNAL`.
pub async fn load_one<K>(ctx: &Context<'_>, key: K) -> Result<Option<<RegistryLoader as Loader<K>>::Value>>
where
    K: Send + Sync + std::hash::Hash + Eq + Clone + 'static,
    RegistryLoader: Loader<K>,
    <RegistryLoader as Loader<K>>::Error: std::fmt::Display,
{
    loader(ctx).load_one(key).await.or_internal()
}

/// A count of students as this caller may see it: below k = 5, `public` callers get
/// `value: null` with `suppressed: true` (k-anonymity; analysts and up see every count).
#[derive(SimpleObject, Clone, Copy, Debug)]
pub struct SuppressedCount {
    pub value: Option<i64>,
    /// True when the value is withheld because it is below k.
    pub suppressed: bool,
}

impl SuppressedCount {
    pub fn for_caller(ctx: &Context<'_>, count: i64) -> Self {
        let trusted = crate::graphql::access::role_of(ctx) >= crate::auth::Role::Analyst;
        let value = crate::domain::privacy::disclosed_count(count, trusted);
        Self { value, suppressed: value.is_none() }
    }
}

/// Where a fact came from.
#[derive(SimpleObject)]
pub struct Source {
    /// The catalogue key: a seed file name, a URL, or `github:owner/repo`-style reference.
    pub key: String,
    /// What kind of source it is (seed document, web page, registry package, …).
    pub kind: String,
    pub title: Option<String>,
    pub url: Option<String>,
    /// Where inside the source the fact is (a file path, a table).
    pub locator: Option<String>,
    /// What the source showed.
    pub description: Option<String>,
    /// The row's version: bumped by every write; send it back as `expectedVersion` to change the row.
    pub version: i32,
}

impl From<source::Model> for Source {
    fn from(model: source::Model) -> Self {
        Self {
            key: model.key,
            kind: model.kind,
            title: model.title,
            url: model.url,
            locator: model.locator,
            description: model.description,
            version: model.version,
        }
    }
}

pub async fn source_of(ctx: &Context<'_>, source_id: Option<i32>) -> Result<Option<Source>> {
    match source_id {
        Some(id) => Ok(load_one(ctx, SourceById(id)).await?.map(Source::from)),
        None => Ok(None),
    }
}

/// Declares a GraphQL enum mirroring an entity enum (conversions both ways).
macro_rules! mirror_enum {
    ($(#[$meta:meta])* $name:ident = $remote:literal { $($variant:ident $(= $graphql_name:literal)?),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
        #[graphql(remote = $remote)]
        pub enum $name { $($(#[graphql(name = $graphql_name)])? $variant),+ }
    };
}

mirror_enum!(
    /// What a region is.
    RegionKind = "entity::enums::RegionKind" { Fylke, Lan, Nuts0 = "NUTS0", Nuts1 = "NUTS1", Nuts2 = "NUTS2", Nuts3 = "NUTS3", SubRegion, InformalArea, Landskap }
);
mirror_enum!(
    /// What a reform did (one row per predecessor and successor): MERGER (several became one),
    /// SPLIT (one became several), TRANSFER (part of the predecessor's area went to the
    /// successor, which both go on), RECODE (same unit, new code), COUNTY_CHANGE (same unit, new
    /// code because its county changed), NAME_CHANGE (same unit, new name; an organisation's rename).
    ChangeKind = "entity::enums::ChangeKind" { Merger, Split, Transfer, Recode, CountyChange, NameChange }
);
mirror_enum!(
    /// Whether a region or municipality still exists.
    LifecycleStatus = "entity::enums::LifecycleStatus" { Active, Dissolved }
);
mirror_enum!(
    /// Official code systems.
    CodeScheme = "entity::enums::CodeScheme" { Kommunenummer, Kommunkod, Fylkesnummer, Lanskod, Nuts0 = "NUTS0", Nuts1 = "NUTS1", Nuts2 = "NUTS2", Nuts3 = "NUTS3", Iso3166_2 = "ISO3166_2" }
);
mirror_enum!(
    /// Kinds of organisation.
    OrganisationKind = "entity::enums::OrganisationKind" {
        University, UniversityCollege, ResearchInstitute, ScienceCentre, KnowledgePark, BusinessGarden, StudyCentre,
        LearningCentre, CompetenceCentre, Campus, UpperSecondarySchool, Company, BusinessDevelopmentCompany,
        BusinessAssociation, MunicipalAssociation, RegionalCouncil, RegionalAuthority, CountyAuthority, Ministry, EuFund,
        EuProgrammeBody, Municipality, Unknown
    }
);
mirror_enum!(
    /// What a student does at the host.
    PlacementKind = "entity::enums::PlacementKind" { Internship, Thesis, Vfu, DemolaCase, Course }
);
mirror_enum!(
    /// A line of a project budget.
    BudgetKind = "entity::enums::BudgetKind" { Total, Eu, National, Other }
);
mirror_enum!(
    /// A partner's role in a project.
    PartnerRole = "entity::enums::PartnerRole" { Lead, Owner, Partner, Funder }
);
mirror_enum!(
    /// A tie between two organisations.
    CollaborationKind = "entity::enums::CollaborationKind" { Agreement, Network, CourseDelivery, StudentWork }
);
mirror_enum!(
    /// The level of a goal.
    GoalKind = "entity::enums::GoalKind" { Main, Result, Effect, Project, Purpose, Vision, Method, Other }
);
mirror_enum!(
    /// How a value relates to the number given: EQ (=), GTE (>=), GT (>), LTE (<=), LT (<).
    Comparator = "entity::enums::Comparator" { Eq, Gte, Gt, Lte, Lt }
);

/// Converts a list of GraphQL enum values into entity enum values.
pub fn into_entity<G: Into<E> + Copy + PartialEq, E>(values: &Option<Vec<G>>) -> Option<Vec<E>> {
    // An enum has few values: repeats are dropped, so a list of any length binds a handful.
    values.as_ref().map(|values| {
        let mut distinct: Vec<G> = Vec::new();
        for value in values {
            if !distinct.contains(value) {
                distinct.push(*value);
            }
        }
        distinct.into_iter().map(Into::into).collect()
    })
}

/// The longest text a `nameContains`-style filter may hold.
pub const MAX_FILTER_TEXT: usize = 200;

/// A text filter, checked: at most 200 characters and no NUL (SQLite's LIKE would stop there and
/// match everything).
pub fn filter_text(argument: &str, text: Option<String>) -> async_graphql::Result<Option<String>> {
    match text {
        Some(text) if text.chars().count() > MAX_FILTER_TEXT => Err(crate::graphql::error::bad_input(
            argument,
            format!("`{argument}` is at most {MAX_FILTER_TEXT} characters"),
        )),
        Some(text) if text.contains('\0') => {
            Err(crate::graphql::error::bad_input(argument, format!("`{argument}` may not contain NUL characters")))
        }
        text => Ok(text),
    }
}

/// A period; either end may be open. Lists keep rows whose own period overlaps it.
#[derive(async_graphql::InputObject, Clone, Copy, Debug, Default)]
pub struct PeriodInput {
    pub from: Option<Date>,
    pub to: Option<Date>,
}

/// A checked period: `from` may not be after `to` (`BAD_USER_INPUT` on field `field`).
pub fn period_of(input: Option<PeriodInput>, field: &str) -> Result<crate::domain::metrics::Period> {
    let input = input.unwrap_or_default();
    if let (Some(from), Some(to)) = (input.from, input.to)
        && from.0 > to.0
    {
        return Err(crate::graphql::error::bad_input(
            field,
            format!("{field}.from ({}) is after {field}.to ({})", from.0, to.0),
        ));
    }
    Ok(crate::domain::metrics::Period { from: input.from.map(|d| d.0), to: input.to.map(|d| d.0) })
}

/// A period as returned: either end may be open.
#[derive(SimpleObject, Clone, Copy, Debug)]
pub struct PeriodOutput {
    pub from: Option<Date>,
    pub to: Option<Date>,
}

impl From<crate::domain::metrics::Period> for PeriodOutput {
    fn from(period: crate::domain::metrics::Period) -> Self {
        Self { from: date(period.from), to: date(period.to) }
    }
}
