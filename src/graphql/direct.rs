//! `Direct<T>`: an object resolved with its fields in the order asked and without
//! async-graphql's per-field extension chain, for the objects that come by the thousand (page
//! nodes, aggregate rows and their keys and counts).
//!
//! With any extension registered (ours: the cost limits and field order), async-graphql 7 sends
//! every field of every object through the extension chain (a `ResolveInfo` with two registry
//! look-ups, a boxed future per extension) and then puts the fields into the object in the order
//! they finished; on a 4 500-row aggregate that bookkeeping was most of the request's CPU. Here
//! the fields still run concurrently (a DataLoader batches across them as before) but are joined
//! in selection order, and the request's actual cost is charged once per object for the fields
//! it resolved, as the cost extension's per-field hook would have. Selections this does not
//! cover (fragments, directives other than `@skip`/`@include`, a response key asked twice) go
//! through async-graphql's own resolution unchanged.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;

use async_graphql::futures_util::future::join_all;
use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{Field, Selection, SelectionSet};
use async_graphql::registry::Registry;
use async_graphql::{ContainerType, ContextSelectionSet, OutputType, Positioned, ServerResult, Value};

type FieldFuture<'a> = Pin<Box<dyn Future<Output = ServerResult<Option<Value>>> + Send + 'a>>;

/// `T` as the same GraphQL type (same name, same fields), resolved directly; see the module.
pub struct Direct<T>(pub T);

/// The fields of `set` when it is a plain list of fields with distinct response keys and no
/// directive that changes resolution (`@skip`/`@include` were applied before execution).
fn plain_fields(set: &SelectionSet) -> Option<Vec<&Positioned<Field>>> {
    let mut fields = Vec::with_capacity(set.items.len());
    for item in &set.items {
        let Selection::Field(field) = &item.node else { return None };
        let builtin = |name: &str| name == "skip" || name == "include";
        if !field.node.directives.iter().all(|directive| builtin(directive.node.name.node.as_str())) {
            return None;
        }
        let key = field.node.response_key().node.as_str();
        if fields.iter().any(|other: &&Positioned<Field>| other.node.response_key().node.as_str() == key) {
            return None;
        }
        fields.push(field);
    }
    Some(fields)
}

impl<T: ContainerType + OutputType> OutputType for Direct<T> {
    fn type_name() -> Cow<'static, str> {
        T::type_name()
    }

    fn qualified_type_name() -> String {
        T::qualified_type_name()
    }

    fn introspection_type_name(&self) -> Cow<'static, str> {
        self.0.introspection_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        T::create_type_info(registry)
    }

    async fn resolve(&self, ctx: &ContextSelectionSet<'_>, field: &Positioned<Field>) -> ServerResult<Value> {
        let Some(fields) = plain_fields(&ctx.item.node) else {
            return self.0.resolve(ctx, field).await;
        };
        let contexts: Vec<_> = fields.iter().map(|field| ctx.with_field(field)).collect();
        let resolved = contexts.iter().filter(|field| field.item.node.name.node != "__typename").count();
        super::cost::charge(ctx, resolved as u64);
        // Boxed, as async-graphql boxes its field futures: objects nest in cycles (a region's
        // municipalities' regions), and an unboxed future would contain itself.
        let values = join_all(contexts.iter().map(|field| -> FieldFuture<'_> {
            if field.item.node.name.node == "__typename" {
                let name = self.0.introspection_type_name().into_owned();
                Box::pin(std::future::ready(Ok(Some(Value::String(name)))))
            } else {
                Box::pin(self.0.resolve_field(field))
            }
        }))
        .await;
        // As async-graphql does: a field that failed is left out and its error recorded.
        let mut object = IndexMap::with_capacity(fields.len());
        for (field, value) in fields.iter().zip(values) {
            match value {
                Ok(value) => {
                    object.insert(field.node.response_key().node.clone(), value.unwrap_or_default());
                }
                Err(error) => ctx.add_error(error),
            }
        }
        Ok(if object.is_empty() { Value::Null } else { Value::Object(object) })
    }
}
