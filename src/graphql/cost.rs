//! Query cost before execution: every operation gets a static cost from async-graphql's
//! complexity walk, with list sizes (`first`/`last`, or the default page size, multiplying
//! what each item selects) and aliases counted in full, plus the work of every network and
//! analysis it asks for ([`network_cost`]: by algorithm and by the size of the network it would
//! run on, estimated from cheap counts of the registry). A role may spend up to its limit per
//! request (public the least); a dearer request is refused with `QUERY_TOO_EXPENSIVE`, with the
//! estimate and the limit, before any resolver (and so any SQL) runs. Documents are also capped
//! in fields, aliases and root fields. A client that sends `"extensions": {"cost": true}` (or
//! the header `x-samverka-cost: true`) gets `extensions.cost { estimated, actual, limit }` back:
//! `actual` counts the resolver calls made (fields and list items) plus the analyses on the
//! networks really built. The
//! weights are in the schema as `@cost` and `@listSize` (the IBM cost directives). Errors of the
//! parse and validation phases are coded here, by phase.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextPrepareRequest, NextRequest,
    NextValidation,
};
use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, Field, Selection, SelectionSet};
use async_graphql::{Request, Response, ServerError, ServerResult, TypeDirective, ValidationResult, Value, Variables};

use crate::auth::{Principal, Role};
use crate::codes::Code;
use crate::domain::network::Level;
use crate::domain::network::work::{RegistryCounts, Size, Work};

/// The page size a list has when the query names none (see `graphql::pagination`).
const DEFAULT_PAGE: usize = 50;
/// The most rows one list may ask for.
const MAX_PAGE: usize = 500;
/// The most values (list items and object fields, nested ones included) the variables may hold.
pub const MAX_VARIABLE_VALUES: usize = 10_000;

/// Values in `variables`, counting stopped just past `most`.
fn count_values(variables: &Variables, most: usize) -> usize {
    fn count(value: &Value, total: &mut usize, most: usize) {
        *total += 1;
        if *total > most {
            return;
        }
        match value {
            Value::List(items) => items.iter().for_each(|item| count(item, total, most)),
            Value::Object(fields) => fields.values().for_each(|field| count(field, total, most)),
            _ => {}
        }
    }
    let mut total = 0;
    for value in variables.values() {
        count(value, &mut total, most);
    }
    total
}

/// The longest query document accepted; long values belong in variables.
pub const MAX_DOCUMENT_BYTES: usize = 100 * 1024;

/// Cost of a paginated list: one for the field, plus its page size times what each item costs.
pub fn page(first: Option<i32>, last: Option<i32>, child_complexity: usize) -> usize {
    let size = first.or(last).map_or(DEFAULT_PAGE, |n| usize::try_from(n).unwrap_or(0).min(MAX_PAGE));
    1usize.saturating_add(size.saturating_mul(child_complexity.max(1)))
}

/// Cost of a nested list bounded by `first`.
pub fn nested(first: i32, child_complexity: usize) -> usize {
    page(Some(first), None, child_complexity)
}

/// `@cost(weight)`: the IBM cost directive. On an analysis the weight is its least cost; the
/// field's description gives how it grows with the network.
#[TypeDirective(location = "FieldDefinition", name = "cost")]
pub fn cost_weight(weight: String) {}

/// `@listSize`: the IBM list-size directive, on every list whose length an argument bounds.
#[TypeDirective(location = "FieldDefinition", name = "listSize")]
pub fn list_size(
    assumed_size: Option<i32>,
    slicing_arguments: Option<Vec<String>>,
    require_one_slicing_argument: Option<bool>,
) {
}

/// What the operations of one batched HTTP request have been estimated at so far: a batch may
/// spend the role's limit once, not once per operation.
#[derive(Default)]
pub struct BatchSpent(AtomicUsize);

/// The cost of a network download (`/export/network.*`): building the network and writing it,
/// and for the Cytoscape.js drawing a sampled betweenness, on the estimated size.
pub fn download_cost(
    counts: &RegistryCounts,
    level: Level,
    programme: Option<&str>,
    project: bool,
    placements: bool,
    drawing: bool,
) -> u64 {
    let ties = counts.estimate_with(Level::Organisation, programme, project, placements);
    let size = counts.estimate_with(level, programme, project, placements);
    let drawing = if drawing { Work::Betweenness(Some(256)).cost(size) } else { 0 };
    Work::Build.cost(ties).saturating_add(Work::Export.cost(size)).saturating_add(drawing)
}

/// What a request really spent, added up while it runs (see [`charge`]).
#[derive(Default)]
pub struct Spent(AtomicU64);

/// Adds `units` to the request's actual cost.
pub fn charge<Item>(ctx: &async_graphql::context::ContextBase<'_, Item>, units: u64) {
    if let Some(spent) = ctx.data_opt::<Arc<Spent>>() {
        spent.0.fetch_add(units, Ordering::Relaxed);
    }
}

/// How a field of `Network` costs.
pub enum NetworkField {
    /// An analysis or export of the whole network.
    Work(Work),
    /// A list of nodes or edges, `limit` long at most.
    List { edges: bool, limit: Option<u64> },
    /// A network within the network (`ego`): its fields cost on the same estimate.
    Within,
}

/// What each role may spend per request, and the document caps.
#[derive(Clone, Copy, Debug)]
pub struct CostLimits {
    pub public: usize,
    pub analyst: usize,
    pub editor: usize,
    pub admin: usize,
    /// Fields in the document, fragments expanded where spread.
    pub max_fields: usize,
    pub max_aliases: usize,
    pub max_root_fields: usize,
    /// Directives (`@include`, `@skip`…) in the document, fragments expanded.
    pub max_directives: usize,
}

impl Default for CostLimits {
    /// Public requests may run about 0.7 s of analysis on two cores; analysts about 15 s (a
    /// sampled betweenness of thousands of sources on the synthetic `medium` registry's whole
    /// network); admins an exact one there (~1.1 M).
    fn default() -> Self {
        Self {
            public: 50_000,
            analyst: 1_000_000,
            editor: 1_000_000,
            admin: 2_000_000,
            max_fields: 2_000,
            max_aliases: 100,
            max_root_fields: 50,
            max_directives: 200,
        }
    }
}

impl CostLimits {
    /// The limits with no role above `most`.
    pub fn capped(self, most: usize) -> Self {
        Self {
            public: self.public.min(most),
            analyst: self.analyst.min(most),
            editor: self.editor.min(most),
            admin: self.admin.min(most),
            ..self
        }
    }

    pub fn for_role(&self, role: Role) -> usize {
        match role {
            Role::Public => self.public,
            Role::Analyst => self.analyst,
            Role::Editor => self.editor,
            Role::Admin => self.admin,
        }
    }
}

/// The extension factory the schema installs: the cost limits and the deepest nesting allowed.
pub struct Cost(pub CostLimits, pub usize);

impl ExtensionFactory for Cost {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(CostExtension {
            limits: self.0,
            max_depth: self.1,
            wanted: AtomicBool::new(false),
            network: AtomicU64::new(0),
            estimated: AtomicUsize::new(0),
            limit: AtomicUsize::new(0),
            spent: Arc::default(),
        })
    }
}

struct CostExtension {
    limits: CostLimits,
    max_depth: usize,
    wanted: AtomicBool,
    /// The networks' part of the estimate, from the parsed document.
    network: AtomicU64,
    estimated: AtomicUsize,
    limit: AtomicUsize,
    spent: Arc<Spent>,
}

/// `error` with `code`, unless it has one.
fn coded_error(mut error: ServerError, code: Code) -> ServerError {
    let extensions = error.extensions.get_or_insert_with(Default::default);
    if extensions.get("code").is_none() {
        extensions.set("code", code.as_str());
    }
    error
}

fn too_expensive(message: String, estimated: usize, limit: usize, what: &str) -> ServerError {
    let mut error = ServerError::new(message, None);
    let mut extensions = async_graphql::ErrorExtensionValues::default();
    extensions.set("code", Code::QueryTooExpensive.as_str());
    extensions.set("estimated", estimated as u64);
    extensions.set("limit", limit as u64);
    extensions.set("measure", what);
    error.extensions = Some(extensions);
    error
}

/// Counts of a document with every fragment spread expanded where it is spread.
#[derive(Clone, Copy, Default)]
struct Census {
    fields: usize,
    aliases: usize,
    /// Fields at the operation's own level (through spreads and inline fragments).
    root_fields: usize,
    /// Selections visited: fields, spreads and inline fragments.
    selections: usize,
    /// Deepest field nesting.
    depth: usize,
    /// Directives on fields, spreads and inline fragments.
    directives: usize,
}

impl Census {
    fn add(&mut self, other: Census) {
        self.fields = self.fields.saturating_add(other.fields);
        self.aliases = self.aliases.saturating_add(other.aliases);
        self.root_fields = self.root_fields.saturating_add(other.root_fields);
        self.selections = self.selections.saturating_add(other.selections);
        self.depth = self.depth.max(other.depth);
        self.directives = self.directives.saturating_add(other.directives);
    }
}

/// Counts the document in time linear in its text: each fragment is counted once and its
/// counts are added wherever it is spread (saturating), so a fragment "bomb" whose expansion
/// is astronomically large is measured without being walked. A spread that would recurse
/// counts nothing here; validation reports the cycle.
fn census(document: &ExecutableDocument) -> Census {
    use std::collections::HashMap;
    struct Counter<'a> {
        document: &'a ExecutableDocument,
        fragments: HashMap<&'a str, Option<Census>>,
    }
    impl<'a> Counter<'a> {
        fn set(&mut self, set: &'a SelectionSet) -> Census {
            let mut census = Census::default();
            for selection in &set.items {
                census.selections = census.selections.saturating_add(1);
                match &selection.node {
                    Selection::Field(field) => {
                        census.directives = census.directives.saturating_add(field.node.directives.len());
                        let inner = self.set(&field.node.selection_set.node);
                        census.fields = census.fields.saturating_add(1).saturating_add(inner.fields);
                        census.aliases = census
                            .aliases
                            .saturating_add(usize::from(field.node.alias.is_some()))
                            .saturating_add(inner.aliases);
                        census.root_fields = census.root_fields.saturating_add(1);
                        census.selections = census.selections.saturating_add(inner.selections);
                        census.depth = census.depth.max(inner.depth.saturating_add(1));
                        census.directives = census.directives.saturating_add(inner.directives);
                    }
                    Selection::FragmentSpread(spread) => {
                        census.directives = census.directives.saturating_add(spread.node.directives.len());
                        census.add(self.fragment(spread.node.fragment_name.node.as_str()));
                    }
                    Selection::InlineFragment(inline) => {
                        census.directives = census.directives.saturating_add(inline.node.directives.len());
                        census.add(self.set(&inline.node.selection_set.node));
                    }
                }
            }
            census
        }

        fn fragment(&mut self, name: &'a str) -> Census {
            match self.fragments.get(name) {
                Some(Some(counted)) => return *counted,
                // In progress: a cycle.
                Some(None) => return Census::default(),
                None => {}
            }
            let Some(fragment) = self.document.fragments.get(name) else { return Census::default() };
            self.fragments.insert(name, None);
            let counted = self.set(&fragment.node.selection_set.node);
            self.fragments.insert(name, Some(counted));
            counted
        }
    }
    let mut counter = Counter { document, fragments: HashMap::new() };
    let mut census = Census::default();
    let operations: Vec<_> = match &document.operations {
        DocumentOperations::Single(operation) => vec![operation],
        DocumentOperations::Multiple(operations) => operations.values().collect(),
    };
    for operation in operations {
        census.add(counter.set(&operation.node.selection_set.node));
    }
    census
}

/// The document caps, checked on the parsed document before async-graphql's own checks (whose
/// recursion check walks every spread and so takes exponential time on a fragment bomb).
fn check_document(document: &ExecutableDocument, limits: &CostLimits, max_depth: usize) -> ServerResult<()> {
    let counted = census(document);
    for (what, label, found, cap) in [
        ("fields", "fields", counted.fields, limits.max_fields),
        ("fields", "selections", counted.selections, limits.max_fields.saturating_mul(4)),
        ("aliases", "aliases", counted.aliases, limits.max_aliases),
        ("directives", "directives", counted.directives, limits.max_directives),
        ("rootFields", "root fields", counted.root_fields, limits.max_root_fields),
        ("depth", "levels of nesting", counted.depth, max_depth),
    ] {
        if found > cap {
            return Err(too_expensive(
                format!("the document has more than {cap} {label} (fragments counted where spread); split it"),
                found,
                cap,
                what,
            ));
        }
    }
    Ok(())
}

/// The work of every `network(…)` in the document: building it, and each analysis, list and
/// export on it, on the size its level and filter allow (aliases and fragment spreads count
/// every time). Fields of `Network` are told apart by [`super::network::field_cost`].
pub fn network_cost(document: &ExecutableDocument, variables: &Variables, counts: &RegistryCounts) -> u64 {
    fn argument(field: &Field, variables: &Variables, name: &str) -> Option<Value> {
        let (_, value) = field.arguments.iter().find(|(argument, _)| argument.node.as_str() == name)?;
        value.node.clone().into_const_with(|variable| variables.get(&variable).cloned().ok_or(())).ok()
    }
    fn text(value: &Value) -> Option<&str> {
        match value {
            Value::String(text) => Some(text),
            Value::Enum(name) => Some(name.as_str()),
            _ => None,
        }
    }
    /// Fields under `set` (fragments expanded), for what each listed node or edge selects.
    fn fields(document: &ExecutableDocument, set: &SelectionSet, depth: usize) -> u64 {
        if depth > 32 {
            return 0;
        }
        set.items
            .iter()
            .map(|selection| match &selection.node {
                Selection::Field(field) => 1 + fields(document, &field.node.selection_set.node, depth + 1),
                Selection::FragmentSpread(spread) => document
                    .fragments
                    .get(&spread.node.fragment_name.node)
                    .map_or(0, |fragment| fields(document, &fragment.node.selection_set.node, depth + 1)),
                Selection::InlineFragment(inline) => fields(document, &inline.node.selection_set.node, depth + 1),
            })
            .fold(0u64, u64::saturating_add)
    }
    struct Walk<'a> {
        document: &'a ExecutableDocument,
        variables: &'a Variables,
        counts: &'a RegistryCounts,
    }
    impl Walk<'_> {
        /// `set` of the root type (`network: None`) or of a network of estimated `network` size.
        fn set(&self, set: &SelectionSet, network: Option<Size>, depth: usize) -> u64 {
            if depth > 32 {
                return 0;
            }
            let mut total = 0u64;
            for selection in &set.items {
                let cost = match &selection.node {
                    Selection::Field(field) => self.field(&field.node, network, depth),
                    Selection::FragmentSpread(spread) => self
                        .document
                        .fragments
                        .get(&spread.node.fragment_name.node)
                        .map_or(0, |fragment| self.set(&fragment.node.selection_set.node, network, depth + 1)),
                    Selection::InlineFragment(inline) => self.set(&inline.node.selection_set.node, network, depth + 1),
                };
                total = total.saturating_add(cost);
            }
            total
        }

        fn field(&self, field: &Field, network: Option<Size>, depth: usize) -> u64 {
            let argument = |name: &str| argument(field, self.variables, name);
            match network {
                None if field.name.node == "network" => {
                    let level = match argument("level").as_ref().and_then(text) {
                        Some("MUNICIPALITY") => Level::Municipality,
                        Some("REGION") => Level::Region,
                        Some("COUNTRY") => Level::Country,
                        _ => Level::Organisation,
                    };
                    let filter = argument("filter");
                    let filter_field = |name: &str| match &filter {
                        Some(Value::Object(fields)) => fields.get(name).cloned(),
                        _ => None,
                    };
                    let programme = filter_field("programme");
                    let project = filter_field("project").is_some_and(|p| !matches!(p, Value::Null));
                    let programme = programme.as_ref().and_then(text);
                    let placements = match argument("edges") {
                        Some(Value::List(kinds)) => kinds.iter().any(|kind| text(kind) == Some("PLACEMENT")),
                        Some(kind) => text(&kind) == Some("PLACEMENT"),
                        None => false,
                    };
                    // Ties are selected between organisations whatever the level.
                    let ties = self.counts.estimate_with(Level::Organisation, programme, project, placements);
                    let size = self.counts.estimate_with(level, programme, project, placements);
                    Work::Build.cost(ties).saturating_add(self.set(&field.selection_set.node, Some(size), depth + 1))
                }
                None => 0,
                Some(size) => match super::network::field_cost(field.name.node.as_str(), &argument) {
                    Some(NetworkField::Work(work)) => work.cost(size),
                    Some(NetworkField::List { edges, limit }) => {
                        let length = if edges { size.edges } else { size.nodes };
                        let length = limit.map_or(length, |limit| limit.min(length));
                        length.saturating_mul(1 + fields(self.document, &field.selection_set.node, depth + 1))
                    }
                    Some(NetworkField::Within) => Work::Linear.cost(size).saturating_add(self.set(
                        &field.selection_set.node,
                        Some(size),
                        depth + 1,
                    )),
                    None => 0,
                },
            }
        }
    }
    let walk = Walk { document, variables, counts };
    let operations: Vec<_> = match &document.operations {
        DocumentOperations::Single(operation) => vec![operation],
        DocumentOperations::Multiple(operations) => operations.values().collect(),
    };
    operations
        .into_iter()
        .map(|operation| walk.set(&operation.node.selection_set.node, None, 0))
        .fold(0, u64::saturating_add)
}

#[async_graphql::async_trait::async_trait]
impl Extension for CostExtension {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        let wanted = request.extensions.get("cost").is_some_and(|v| matches!(v, Value::Boolean(true)));
        self.wanted.store(wanted, Ordering::Relaxed);
        let mut request = request;
        if request.query.len() > MAX_DOCUMENT_BYTES {
            return Err(too_expensive(
                format!(
                    "the document is longer than {MAX_DOCUMENT_BYTES} bytes; pass long values as variables or split \
                     it"
                ),
                request.query.len(),
                MAX_DOCUMENT_BYTES,
                "bytes",
            ));
        }
        let values = count_values(&request.variables, MAX_VARIABLE_VALUES);
        if values > MAX_VARIABLE_VALUES {
            return Err(too_expensive(
                format!("the variables hold more than {MAX_VARIABLE_VALUES} values; split the request"),
                values,
                MAX_VARIABLE_VALUES,
                "variables",
            ));
        }
        // Parsed once here (the transport may have parsed it already) and reused by execution;
        // a document that does not parse is left to async-graphql to report.
        if let Ok(document) = request.parsed_query() {
            check_document(document, &self.limits, self.max_depth)?;
        }
        next.run(ctx, request.data(self.spent.clone())).await
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        // Parse errors are coded here, by phase, not by their message.
        let document =
            next.run(ctx, query, variables).await.map_err(|error| coded_error(error, Code::GraphqlParseFailed))?;
        let network = ctx.data_opt::<crate::db::Db>().map_or(0, |db| {
            let counts = db.network_counts.read().unwrap_or_else(std::sync::PoisonError::into_inner);
            network_cost(&document, variables, &counts)
        });
        self.network.store(network, Ordering::Relaxed);
        Ok(document)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await.map_err(|errors| {
            let mut errors = errors
                .into_iter()
                .map(|error| {
                    // async-graphql gives argument values of the wrong shape no kind of their
                    // own; its message is the only sign: "Invalid value for argument …" from
                    // the rules, "Failed to parse …" when the cost walk reads the argument.
                    let message = error.message.to_lowercase();
                    let wrong_value = message.contains("invalid value")
                        || message.starts_with("failed to parse")
                        || message.starts_with("expected input type");
                    let code = if wrong_value { Code::BadUserInput } else { Code::GraphqlValidationFailed };
                    let argument = wrong_value
                        .then(|| error.message.split('"').nth(1).map(str::to_owned))
                        .flatten()
                        .filter(|_| message.contains("argument"));
                    let mut error = coded_error(error, code);
                    if let Some(argument) = argument {
                        let extensions = error.extensions.get_or_insert_with(Default::default);
                        extensions.set("field", argument.as_str());
                        extensions.set("argument", argument.as_str());
                    }
                    error
                })
                .collect::<Vec<_>>();
            // The cost walk and the variable check report again what the argument rule
            // reported: one error per wrong value.
            let rules_found_it = errors.iter().any(|e| e.message.to_lowercase().contains("invalid value"));
            if rules_found_it {
                errors.retain(|e| {
                    let message = e.message.to_lowercase();
                    !(message.starts_with("failed to parse") || message.starts_with("expected input type"))
                });
            }
            errors
        })?;
        if result.depth > self.max_depth {
            return Err(vec![too_expensive(
                format!("the query nests {} levels deep; at most {} are allowed", result.depth, self.max_depth),
                result.depth,
                self.max_depth,
                "depth",
            )]);
        }
        let role = ctx.data_opt::<Principal>().map(|p| p.role).unwrap_or_default();
        let limit = self.limits.for_role(role);
        let network = usize::try_from(self.network.load(Ordering::Relaxed)).unwrap_or(usize::MAX);
        let estimated = result.complexity.saturating_add(network);
        self.estimated.store(estimated, Ordering::Relaxed);
        self.limit.store(limit, Ordering::Relaxed);
        let batch = ctx
            .data_opt::<Arc<BatchSpent>>()
            .map_or(0, |spent| spent.0.fetch_add(estimated, Ordering::Relaxed).saturating_add(estimated));
        if batch > limit && estimated <= limit {
            return Err(vec![too_expensive(
                format!(
                    "the operations of this batch would cost {batch} together and the {} role may spend {limit} \
                     per request; send them one by one",
                    role.as_str()
                ),
                batch,
                limit,
                "batch",
            )]);
        }
        if estimated > limit {
            return Err(vec![too_expensive(
                format!(
                    "this query would cost {estimated} and the {} role may spend {limit} per request; ask for \
                     smaller pages (first/last), fewer aliases, fewer analyses or smaller networks (a filter, \
                     a higher level, sampled betweenness)",
                    role.as_str()
                ),
                estimated,
                limit,
                "cost",
            )]);
        }
        Ok(result)
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let mut response = next.run(ctx, operation_name).await;
        // Our resolvers code every error they raise; what comes back uncoded from execution is
        // async-graphql refusing an argument value (a date that is not a date).
        for error in &mut response.errors {
            *error = coded_error(std::mem::replace(error, ServerError::new("", None)), Code::BadUserInput);
        }
        response
    }

    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: async_graphql::extensions::ResolveInfo<'_>,
        next: async_graphql::extensions::NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        self.spent.0.fetch_add(1, Ordering::Relaxed);
        next.run(ctx, info).await
    }

    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let mut response = next.run(ctx).await;
        if self.wanted.load(Ordering::Relaxed) {
            let mut cost = async_graphql::indexmap::IndexMap::new();
            cost.insert(
                async_graphql::Name::new("estimated"),
                Value::from(self.estimated.load(Ordering::Relaxed) as u64),
            );
            cost.insert(async_graphql::Name::new("actual"), Value::from(self.spent.0.load(Ordering::Relaxed)));
            cost.insert(async_graphql::Name::new("limit"), Value::from(self.limit.load(Ordering::Relaxed) as u64));
            response.extensions.insert("cost".into(), Value::Object(cost));
        }
        response
    }
}
