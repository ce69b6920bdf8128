//! Look-ahead for the graph's spine: a `regions` page whose selection stays on regions, their
//! municipalities, organisations and projects (plain columns, their counts and nested lists)
//! is compiled to one statement that builds the answer in the database
//! (`db::queries::graph`); any other selection resolves field by field as before.
//!
//! Why: at four levels of ten the field-by-field read is thousands of objects through the
//! loaders (a statement per level and kind, a gather delay per level, every row converted,
//! every field resolved); the database builds the same JSON in one statement in a fraction of
//! that. What the compiled form covers is public on purpose: the student and placement fields
//! (guarded by role), metrics, codes, dated names (`name(asOf:)`) and anything else fall back
//! to the resolvers and their guards, so the access rules have one home.

use std::sync::Mutex;

use async_graphql::{Context, ContextSelectionSet, OutputType, Positioned, ScalarType, SelectionField, Value};
use async_graphql::{ServerResult, parser::types::Field as FieldNode, registry::Registry};
use chrono::NaiveDate;

use super::error::OrInternal;
use super::pagination::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Page};
use super::types::actors::Organisation;
use super::types::common::{Date, as_of_or_today};
use super::types::geography::{Municipality, Region};
use super::types::work::Project;
use crate::db::queries::graph::{self, Column, Field, Fields, PageField, RegionsPage};

/// Most fields one compiled object may carry: PostgreSQL's `json_build_object` takes at most
/// 100 arguments, a key and a value per field.
const MOST_FIELDS: usize = 40;

/// `T`, or its answer already built by a compiled statement: the same GraphQL type either way.
pub enum Compiled<T> {
    Resolved(T),
    Built { value: Mutex<Option<Value>>, units: u64 },
}

impl<T> Compiled<T> {
    /// An answer built in the database; `units` is what resolving it field by field would
    /// have charged to the request's actual cost.
    pub fn built(value: Value, units: u64) -> Self {
        Self::Built { value: Mutex::new(Some(value)), units }
    }
}

impl<T: OutputType> OutputType for Compiled<T> {
    fn type_name() -> std::borrow::Cow<'static, str> {
        T::type_name()
    }

    fn qualified_type_name() -> String {
        T::qualified_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        T::create_type_info(registry)
    }

    async fn resolve(&self, ctx: &ContextSelectionSet<'_>, field: &Positioned<FieldNode>) -> ServerResult<Value> {
        match self {
            Self::Resolved(inner) => inner.resolve(ctx, field).await,
            Self::Built { value, units } => {
                super::cost::charge(ctx, *units);
                // A field's value is resolved once; the lock is never contended.
                Ok(value.lock().ok().and_then(|mut value| value.take()).unwrap_or_default())
            }
        }
    }
}

/// The `regions` page `ctx` asks for (no filter, order or cursor: the caller checks), built by
/// one statement when its selection can be compiled; `None` sends it down the resolvers.
pub async fn regions(ctx: &Context<'_>, first: Option<i32>) -> async_graphql::Result<Option<Compiled<Page<Region>>>> {
    let Some(page) = regions_page(ctx, first) else { return Ok(None) };
    let text = graph::regions_page(super::query::db(ctx), &page).await.or_internal()?;
    let value: Value = serde_json::from_str(&text).or_internal()?;
    let units = units(&page, &value);
    Ok(Some(Compiled::built(value, units)))
}

/// The page of regions the `regions` field in `ctx` asks for, when its selection can be
/// compiled.
fn regions_page(ctx: &Context<'_>, first: Option<i32>) -> Option<RegionsPage> {
    let limit = match first {
        None => DEFAULT_PAGE_SIZE,
        Some(n) if (0..=MAX_PAGE_SIZE as i64).contains(&i64::from(n)) => n as u64,
        // Out of range: the resolvers say why.
        Some(_) => return None,
    };
    let mut fields = Vec::new();
    for (key, selection) in keyed(ctx.field())? {
        let field = match selection.name() {
            "__typename" => PageField::Constant(<Page<Region> as OutputType>::type_name().into_owned()),
            "totalCount" => PageField::TotalCount,
            "nodes" => PageField::Nodes(object(Level::Region, selection)?),
            _ => return None,
        };
        fields.push((key, field));
    }
    Some(RegionsPage { limit, fields })
}

/// What resolving `value` (the answer to `page`) field by field would charge: every field but
/// `__typename`, and every list item.
fn units(page: &RegionsPage, value: &Value) -> u64 {
    let Value::Object(object) = value else { return 0 };
    page.fields
        .iter()
        .map(|(key, field)| match field {
            PageField::Constant(_) => 0,
            PageField::TotalCount => 1,
            PageField::Nodes(fields) => 1 + list_units(fields, object.get(key.as_str())),
        })
        .sum()
}

fn list_units(fields: &Fields, value: Option<&Value>) -> u64 {
    let Some(Value::List(items)) = value else { return 0 };
    items.iter().map(|item| 1 + object_units(fields, item)).sum()
}

fn object_units(fields: &Fields, value: &Value) -> u64 {
    let Value::Object(object) = value else { return 0 };
    fields
        .iter()
        .map(|(key, field)| match field {
            Field::Constant(_) => 0,
            Field::Municipalities { fields, .. }
            | Field::Organisations { fields, .. }
            | Field::Projects { fields, .. } => 1 + list_units(fields, object.get(key.as_str())),
            _ => 1,
        })
        .sum()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    Region,
    Municipality,
    Organisation,
    Project,
}

impl Level {
    fn type_name(self) -> String {
        match self {
            Level::Region => <Region as OutputType>::type_name(),
            Level::Municipality => <Municipality as OutputType>::type_name(),
            Level::Organisation => <Organisation as OutputType>::type_name(),
            Level::Project => <Project as OutputType>::type_name(),
        }
        .into_owned()
    }
}

/// The fields selected under `selection` with their response keys, when each key is asked
/// once (a key asked twice is merged by GraphQL's rules: left to the resolvers).
/// `@skip`/`@include` were applied before execution and the schema defines no other
/// executable directive; fragments on these object types can only be on the type itself, so
/// flattening them keeps GraphQL's field order.
fn keyed(selection: SelectionField<'_>) -> Option<Vec<(String, SelectionField<'_>)>> {
    let mut fields: Vec<(String, SelectionField<'_>)> = Vec::new();
    for field in selection.selection_set() {
        let key = field.alias().unwrap_or(field.name()).to_owned();
        if fields.len() == MOST_FIELDS || fields.iter().any(|(other, _)| *other == key) {
            return None;
        }
        fields.push((key, field));
    }
    Some(fields)
}

/// The object at `level` that `selection` asks for.
fn object(level: Level, selection: SelectionField<'_>) -> Option<Fields> {
    keyed(selection)?.into_iter().map(|(key, field)| Some((key, field_of(level, field)?))).collect()
}

fn field_of(level: Level, selection: SelectionField<'_>) -> Option<Field> {
    let arguments = selection.arguments().ok()?;
    let bare = arguments.is_empty();
    let column = |column| bare.then_some(Field::Column(column));
    match (level, selection.name()) {
        (_, "__typename") => Some(Field::Constant(level.type_name())),
        (_, "slug") => column(Column::Slug),
        // `name(asOf:)` of municipalities and organisations reads dated names: not compiled.
        (_, "name") => column(Column::Name),
        (Level::Region | Level::Organisation | Level::Project, "shortName") => column(Column::ShortName),
        (_, "verified") => column(Column::Verified),
        (_, "version") => column(Column::Version),
        (Level::Region, "municipalityCount") => Some(Field::MunicipalityCount(day(&arguments)?)),
        (Level::Region, "municipalities") => Some(Field::Municipalities {
            on: day(&arguments)?,
            limit: first(&arguments)?,
            fields: object(Level::Municipality, selection)?,
        }),
        (Level::Municipality, "organisationCount") => bare.then_some(Field::OrganisationCount),
        (Level::Municipality, "organisations") => {
            Some(Field::Organisations { limit: first(&arguments)?, fields: object(Level::Organisation, selection)? })
        }
        (Level::Organisation, "projectCount") => bare.then_some(Field::ProjectCount),
        (Level::Organisation, "projects") => {
            Some(Field::Projects { limit: first(&arguments)?, fields: object(Level::Project, selection)? })
        }
        _ => None,
    }
}

type Arguments = [(async_graphql::Name, Value)];

/// `asOf` (default today), when it is a valid date: an invalid one is the resolvers' to refuse.
fn day(arguments: &Arguments) -> Option<NaiveDate> {
    match arguments.iter().find(|(name, _)| name.as_str() == "asOf").map(|(_, value)| value) {
        None | Some(Value::Null) => Some(as_of_or_today(None)),
        Some(value) => <Date as ScalarType>::parse(value.clone()).ok().map(|day| day.0),
    }
}

/// A nested list's `first` (default 50), when in range.
fn first(arguments: &Arguments) -> Option<u64> {
    match arguments.iter().find(|(name, _)| name.as_str() == "first").map(|(_, value)| value) {
        None => Some(50),
        Some(Value::Number(n)) => n.as_u64().filter(|n| *n <= MAX_PAGE_SIZE),
        Some(_) => None,
    }
}
