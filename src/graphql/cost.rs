//! Query cost before execution: every operation gets a static cost from async-graphql's
//! complexity walk, with list sizes (`first`/`last`, or the default page size, multiplying
//! what each item selects), per-field weights (network analyses by algorithm) and aliases
//! counted in full. A role may spend up to its limit per request (public the least); a dearer
//! request is refused with `QUERY_TOO_EXPENSIVE`, with the estimate and the limit, before any
//! resolver (and so any SQL) runs. Documents are also capped in fields, aliases and root fields.
//! A client that sends `"extensions": {"cost": true}` gets `extensions.cost` back. Errors of
//! the parse and validation phases are coded here, by phase.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextPrepareRequest, NextRequest,
    NextValidation,
};
use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, Selection, SelectionSet};
use async_graphql::{Request, Response, ServerError, ServerResult, ValidationResult, Value, Variables};

use crate::auth::{Principal, Role};
use crate::codes::Code;

/// The page size a list has when the query names none (see `graphql::pagination`).
const DEFAULT_PAGE: usize = 50;
/// The most rows one list may ask for.
const MAX_PAGE: usize = 500;

/// Cost of a paginated list: one for the field, plus its page size times what each item costs.
pub fn page(first: Option<i32>, last: Option<i32>, child_complexity: usize) -> usize {
    let size = first.or(last).map_or(DEFAULT_PAGE, |n| usize::try_from(n).unwrap_or(0).min(MAX_PAGE));
    1usize.saturating_add(size.saturating_mul(child_complexity.max(1)))
}

/// Cost of a nested list bounded by `first`.
pub fn nested(first: i32, child_complexity: usize) -> usize {
    page(Some(first), None, child_complexity)
}

/// Weights of the network analyses, per request of one (their cost grows with the network:
/// exact betweenness is O(V·E), closeness O(V·E), Louvain and eigenvector iterate over the
/// edges, PageRank a few dozen times, degree once).
pub mod weight {
    pub const BUILD_NETWORK: usize = 500;
    pub const EXACT_BETWEENNESS: usize = 20_000;
    pub const CLOSENESS: usize = 10_000;
    pub const COMMUNITIES: usize = 2_000;
    pub const EIGENVECTOR: usize = 1_000;
    pub const PAGERANK: usize = 1_000;
    pub const STRUCTURE: usize = 200;
    pub const DEGREE: usize = 20;
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
}

impl Default for CostLimits {
    fn default() -> Self {
        Self {
            public: 50_000,
            analyst: 100_000,
            editor: 100_000,
            admin: 200_000,
            max_fields: 2_000,
            max_aliases: 100,
            max_root_fields: 50,
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
            estimated: AtomicUsize::new(0),
            limit: AtomicUsize::new(0),
        })
    }
}

struct CostExtension {
    limits: CostLimits,
    max_depth: usize,
    wanted: AtomicBool,
    estimated: AtomicUsize,
    limit: AtomicUsize,
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

/// Counts of a document, stopping once `budget` fields have been seen.
#[derive(Default)]
struct Census {
    fields: usize,
    aliases: usize,
    root_fields: usize,
}

fn census(document: &ExecutableDocument, budget: usize) -> Census {
    fn walk(
        document: &ExecutableDocument,
        set: &SelectionSet,
        census: &mut Census,
        budget: usize,
        depth: usize,
        root: bool,
    ) {
        for selection in &set.items {
            if census.fields > budget || depth > 64 {
                return;
            }
            match &selection.node {
                Selection::Field(field) => {
                    census.fields += 1;
                    if root {
                        census.root_fields += 1;
                    }
                    if field.node.alias.is_some() {
                        census.aliases += 1;
                    }
                    walk(document, &field.node.selection_set.node, census, budget, depth + 1, false);
                }
                Selection::FragmentSpread(spread) => {
                    if let Some(fragment) = document.fragments.get(&spread.node.fragment_name.node) {
                        walk(document, &fragment.node.selection_set.node, census, budget, depth + 1, root);
                    }
                }
                Selection::InlineFragment(inline) => {
                    walk(document, &inline.node.selection_set.node, census, budget, depth + 1, root);
                }
            }
        }
    }
    let mut census = Census::default();
    let operations: Vec<_> = match &document.operations {
        DocumentOperations::Single(operation) => vec![operation],
        DocumentOperations::Multiple(operations) => operations.values().collect(),
    };
    for operation in operations {
        walk(document, &operation.node.selection_set.node, &mut census, budget, 0, true);
    }
    census
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
        next.run(ctx, request).await
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
        let counted = census(&document, self.limits.max_fields);
        for (what, label, found, cap) in [
            ("fields", "fields", counted.fields, self.limits.max_fields),
            ("aliases", "aliases", counted.aliases, self.limits.max_aliases),
            ("rootFields", "root fields", counted.root_fields, self.limits.max_root_fields),
        ] {
            if found > cap {
                return Err(too_expensive(
                    format!("the document has more than {cap} {label}; split it into several requests"),
                    found,
                    cap,
                    what,
                ));
            }
        }
        Ok(document)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await.map_err(|errors| {
            errors
                .into_iter()
                .map(|error| {
                    // async-graphql gives argument values of the wrong shape no kind of their
                    // own; its message is the only sign.
                    let code = if error.message.to_lowercase().contains("invalid value") {
                        Code::BadUserInput
                    } else {
                        Code::GraphqlValidationFailed
                    };
                    coded_error(error, code)
                })
                .collect::<Vec<_>>()
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
        self.estimated.store(result.complexity, Ordering::Relaxed);
        self.limit.store(limit, Ordering::Relaxed);
        if result.complexity > limit {
            return Err(vec![too_expensive(
                format!(
                    "this query would cost {} and the {} role may spend {limit} per request; ask for smaller pages \
                     (first/last), fewer aliases or fewer analyses",
                    result.complexity,
                    role.as_str()
                ),
                result.complexity,
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

    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let mut response = next.run(ctx).await;
        if self.wanted.load(Ordering::Relaxed) {
            let mut cost = async_graphql::indexmap::IndexMap::new();
            cost.insert(
                async_graphql::Name::new("estimated"),
                Value::from(self.estimated.load(Ordering::Relaxed) as u64),
            );
            cost.insert(async_graphql::Name::new("limit"), Value::from(self.limit.load(Ordering::Relaxed) as u64));
            response.extensions.insert("cost".into(), Value::Object(cost));
        }
        response
    }
}
