//! Response fields in the order the query asked for them (GraphQL spec, "Serialized Map
//! Ordering"), for queries, mutations, every subscription message and each request of a batch.
//!
//! async-graphql 7 resolves a selection set's fields concurrently and writes each into the
//! response as it completes, so fields behind a DataLoader land after the immediate ones and in
//! whichever order their loaders answer (upstream issue async-graphql#612). This extension keeps
//! the parsed document and, once a response is complete, puts every object's keys back in the
//! order of its selection set: response keys (aliases) in document order, fragments expanded in
//! place, the first appearance of a key deciding its place. Byte-identical answers to the same
//! query also make responses cacheable by their bytes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextPrepareRequest, NextSubscribe,
};
use async_graphql::futures_util::StreamExt;
use async_graphql::futures_util::stream::BoxStream;
use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, FragmentDefinition, Selection, SelectionSet,
};
use async_graphql::{Name, Positioned, Request, Response, ServerResult, Value, Variables};

/// The extension factory (one [`FieldOrderExtension`] per request).
pub struct FieldOrder;

impl ExtensionFactory for FieldOrder {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(FieldOrderExtension::default())
    }
}

/// What one request needs to reorder its responses: its document and operation name.
#[derive(Default)]
pub struct FieldOrderExtension {
    document: Arc<Mutex<Option<Arc<ExecutableDocument>>>>,
    operation: Arc<Mutex<Option<String>>>,
}

type Fragments = HashMap<Name, Positioned<FragmentDefinition>>;

/// Fragment nesting followed at most (validation has already refused cycles; this is a bound).
const MAX_FRAGMENT_DEPTH: usize = 64;

/// The response keys of `sets` (merged) in document order, each with the sub-selections asked
/// under it.
fn keys_in_order<'d>(sets: &[&'d SelectionSet], fragments: &'d Fragments) -> IndexMap<&'d str, Vec<&'d SelectionSet>> {
    fn collect<'d>(
        set: &'d SelectionSet,
        fragments: &'d Fragments,
        depth: usize,
        keys: &mut IndexMap<&'d str, Vec<&'d SelectionSet>>,
    ) {
        if depth > MAX_FRAGMENT_DEPTH {
            return;
        }
        for item in &set.items {
            match &item.node {
                Selection::Field(field) => {
                    let key = field.node.response_key().node.as_str();
                    keys.entry(key).or_default().push(&field.node.selection_set.node);
                }
                Selection::FragmentSpread(spread) => {
                    if let Some(fragment) = fragments.get(&spread.node.fragment_name.node) {
                        collect(&fragment.node.selection_set.node, fragments, depth + 1, keys);
                    }
                }
                Selection::InlineFragment(inline) => {
                    collect(&inline.node.selection_set.node, fragments, depth + 1, keys);
                }
            }
        }
    }
    let mut keys = IndexMap::new();
    for set in sets {
        collect(set, fragments, 0, &mut keys);
    }
    keys
}

/// The order of an object's keys, and of each key's value in turn: worked out once per place
/// in the document, then applied to every object there (a list of thousands of groups shares one).
#[derive(Default)]
struct Plan<'d> {
    keys: Vec<(&'d str, Plan<'d>)>,
}

impl<'d> Plan<'d> {
    /// The plan of `sets`, `depth` levels down. Only a document that ran is planned: validation
    /// has refused fragment cycles and the cost check bounds its size with fragments expanded;
    /// the depth bound is a second guard.
    fn of(sets: &[&'d SelectionSet], fragments: &'d Fragments, depth: usize) -> Self {
        if depth > MAX_FRAGMENT_DEPTH {
            return Self::default();
        }
        let keys = keys_in_order(sets, fragments)
            .into_iter()
            .map(|(key, subsets)| {
                let leaf = subsets.iter().all(|set| set.items.is_empty());
                (key, if leaf { Plan::default() } else { Plan::of(&subsets, fragments, depth + 1) })
            })
            .collect();
        Self { keys }
    }

    /// Whether `object` holds exactly the plan's keys, in its order.
    fn in_order(&self, object: &IndexMap<Name, Value>) -> bool {
        object.len() == self.keys.len() && object.keys().zip(&self.keys).all(|(name, (key, _))| name.as_str() == *key)
    }

    /// Puts the keys of every object in `value` in the plan's order.
    fn apply(&self, value: &mut Value) {
        match value {
            Value::List(items) => {
                for item in items {
                    self.apply(item);
                }
            }
            Value::Object(object) if self.in_order(object) => {
                // Resolved in order already (`graphql::direct`): only the values to visit.
                for ((_, plan), child) in self.keys.iter().zip(object.values_mut()) {
                    plan.apply(child);
                }
            }
            Value::Object(object) if !self.keys.is_empty() => {
                let mut rest = std::mem::replace(object, IndexMap::with_capacity(object.len()));
                for (key, plan) in &self.keys {
                    if let Some((name, mut child)) = rest.swap_remove_entry(*key) {
                        plan.apply(&mut child);
                        object.insert(name, child);
                    }
                }
                // Anything not asked for by name (none expected) goes at the end.
                object.extend(rest);
            }
            _ => {}
        }
    }
}

/// Puts the keys of every object in `value` in the order of the selection sets that made it.
fn reorder(value: &mut Value, sets: &[&SelectionSet], fragments: &Fragments) {
    if matches!(value, Value::Object(_) | Value::List(_)) {
        Plan::of(sets, fragments, 0).apply(value);
    }
}

/// The response with its data in the order `operation` of `document` asked for.
fn ordered(mut response: Response, document: &ExecutableDocument, operation: Option<&str>) -> Response {
    let selected = match (&document.operations, operation) {
        (DocumentOperations::Single(single), _) => Some(single),
        (DocumentOperations::Multiple(operations), Some(name)) => operations.get(name),
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => operations.values().next(),
        (DocumentOperations::Multiple(_), None) => None,
    };
    if let Some(selected) = selected {
        reorder(&mut response.data, &[&selected.node.selection_set.node], &document.fragments);
    }
    response
}

impl FieldOrderExtension {
    fn apply(&self, response: Response) -> Response {
        let document = self.document.lock().unwrap_or_else(PoisonError::into_inner).clone();
        let operation = self.operation.lock().unwrap_or_else(PoisonError::into_inner).clone();
        match document {
            Some(document) => ordered(response, &document, operation.as_deref()),
            None => response,
        }
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for FieldOrderExtension {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        *self.operation.lock().unwrap_or_else(PoisonError::into_inner) = request.operation_name.clone();
        next.run(ctx, request).await
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        *self.document.lock().unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(document.clone()));
        Ok(document)
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        // The operation `prepare_request` noted is the one executed.
        self.apply(next.run(ctx, operation_name).await)
    }

    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        // The document is parsed inside the stream, before its first message.
        let this = FieldOrderExtension { document: self.document.clone(), operation: self.operation.clone() };
        next.run(ctx, stream).map(move |response| this.apply(response)).boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(value: &Value) -> Vec<String> {
        match value {
            Value::Object(object) => object.keys().map(|k| k.to_string()).collect(),
            _ => Vec::new(),
        }
    }

    #[test]
    fn objects_follow_the_selection_set_with_fragments_and_aliases() {
        let document = async_graphql::parser::parse_query(
            "query { a: regions { b c ...F ... on Region { e } d } } fragment F on Region { f b }",
        )
        .expect("a valid document");
        let data = async_graphql::value!({ "a": [ { "d": 4, "f": 6, "c": 3, "e": 5, "b": 2 } ] });
        let response = ordered(Response::new(data), &document, None);
        let Value::Object(root) = &response.data else { panic!("an object") };
        let Value::List(nodes) = &root["a"] else { panic!("a list") };
        assert_eq!(keys(&nodes[0]), ["b", "c", "f", "e", "d"]);
    }
}
