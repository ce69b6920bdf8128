//! The `/graphql` endpoint (GraphQL-over-HTTP). It reads the body itself, so the body limit, the
//! content type (CSRF: POST takes only `application/json`), batching (capped by config) and
//! GET-never-mutates (405) are all decided here, before execution. Every error leaves with
//! `extensions.code` and the request id the logs carry.

use crate::codes::Code;
use async_graphql::parser::types::OperationType;
use async_graphql::{BatchRequest, BatchResponse, ServerError};
use axum::Extension;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::edge::{coded_response, request_id};
use super::reads::{Answerer, DATABASE_HEADER, LSN_HEADER, ReadRouting, after_lsn};
use super::writer_lane::WriterLane;
use crate::auth::Principal;
use crate::db::{Db, replica};
use crate::graphql::RegistrySchema;
use crate::graphql::loaders::{AnalyticsTurn, request_loader, request_metrics_loader};

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

#[derive(Clone)]
pub struct GraphqlState {
    pub schema: RegistrySchema,
    pub db: Db,
    /// Most operations in one batched (JSON array) request; 0 refuses batches.
    pub max_batch: usize,
    /// Where mutations run (none: on the request's task, as in unit tests).
    pub writer_lane: Option<WriterLane>,
    /// Queries on a streaming replica (`--read-database-url`); none: everything on `db`.
    pub reads: Option<ReadRouting>,
}

/// The header that asks for `extensions.cost` in the response.
pub const COST_HEADER: &str = "x-samverka-cost";

pub async fn graphql_handler(
    State(state): State<GraphqlState>,
    Extension(principal): Extension<Principal>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let id = request_id(&parts.headers);
    let batch = match read_request(&parts.method, parts.uri.query(), &parts.headers, body).await {
        Ok(batch) => batch,
        Err(refusal) => return refusal.into_response(&id),
    };
    let batch = match batch {
        BatchRequest::Batch(requests) if requests.len() > state.max_batch => {
            let message = if state.max_batch == 0 {
                "batched requests are turned off on this server; send one operation per request".to_owned()
            } else {
                format!("a batch may hold at most {} operations, this one has {}", state.max_batch, requests.len())
            };
            return Refusal::new(Code::BatchTooLarge, message).into_response(&id);
        }
        batch => batch,
    };
    let mut batch = batch;
    let mutation = runs_mutation(&mut batch);
    if parts.method == Method::GET && mutation {
        let mut response =
            Refusal::new(Code::MethodNotAllowed, "mutations run only over POST".to_owned()).into_response(&id);
        response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    // Mutations run on the writer lane, with its database; everything else here.
    let lane = state.writer_lane.as_ref().filter(|_| mutation);
    let after = match after_lsn(&parts.headers) {
        Ok(after) => after,
        Err(error) => return Refusal::new(Code::BadUserInput, error.to_string()).into_response(&id),
    };
    // Queries go to the replica when there is one, unless it has not replayed what they must see.
    let mut answerer = match &state.reads {
        Some(reads) if !mutation => Some(reads.choose(after).await),
        Some(_) => Some(Answerer::Primary),
        None => None,
    };
    let on_replica = answerer == Some(Answerer::Replica);
    // One loader per operation: rows are not cached across requests (or across a batch's parts);
    // only analytical results are, by data version (`db::cache`).
    // `x-samverka-cost: true` asks for `extensions.cost` as the request extension does.
    let wants_cost = parts.headers.get(COST_HEADER).is_some_and(|value| value.as_bytes().eq_ignore_ascii_case(b"true"));
    let setup = Setup {
        // A batch spends one request's cost limit, across its operations.
        batch_spent: std::sync::Arc::new(crate::graphql::cost::BatchSpent::default()),
        wants_cost,
        principal,
    };
    let mut response = match (lane, &state.reads) {
        (Some(lane), _) => {
            let schema = state.schema.clone();
            let batch = setup.apply(batch, lane.db(), true);
            match lane.run(async move { schema.execute_batch(batch).await }).await {
                Ok(response) => response,
                Err(error) => {
                    tracing::error!(error.cause = %error, "a mutation's task on the writer lane failed");
                    return internal_response(&id);
                }
            }
        }
        (None, Some(reads)) if on_replica => {
            // A copy to answer again on the primary if the replica fails the query or goes down
            // while answering it (queries only: answering twice changes nothing).
            let again = copy_batch(&batch);
            let on_replica = setup.apply(batch, &reads.replica, true);
            let answered = tokio::select! {
                response = state.schema.execute_batch(on_replica) => Some(response),
                () = reads.went_down() => None,
            };
            match answered {
                Some(response) if !(replica_could_not_answer(&response) && reads.replica_failed().await) => response,
                _ => {
                    reads.answered_again.increment();
                    answerer = Some(Answerer::Primary);
                    state.schema.execute_batch(setup.apply(again, &state.db, false)).await
                }
            }
        }
        _ => state.schema.execute_batch(setup.apply(batch, &state.db, false)).await,
    };
    let request_failed = match &mut response {
        BatchResponse::Single(single) => {
            single.errors.iter_mut().for_each(|error| add_code(error, &id));
            single.data == async_graphql::Value::Null && !single.errors.is_empty()
        }
        BatchResponse::Batch(responses) => {
            responses.iter_mut().flat_map(|r| r.errors.iter_mut()).for_each(|error| add_code(error, &id));
            false
        }
    };
    let wants_graphql_response = parts
        .headers
        .get(header::ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.contains(GRAPHQL_RESPONSE_JSON));
    let body = match serde_json::to_vec(&response) {
        Ok(body) => body,
        Err(error) => {
            tracing::error!(error.cause = %error, "could not serialise a GraphQL response");
            return internal_response(&id);
        }
    };
    // With the newer media type, a request that could not run at all is a 400 (spec §7.1.2);
    // with plain JSON every well-formed request is a 200.
    let (status, content_type) = if wants_graphql_response {
        (if request_failed { StatusCode::BAD_REQUEST } else { StatusCode::OK }, GRAPHQL_RESPONSE_JSON)
    } else {
        (StatusCode::OK, "application/json")
    };
    let mut response = (status, [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))], body).into_response();
    if let (Some(reads), Some(answerer)) = (&state.reads, answerer) {
        reads.count(answerer);
        let headers = response.headers_mut();
        headers.insert(DATABASE_HEADER, HeaderValue::from_static(answerer.as_str()));
        // A write's position, for the client's next query to present (read-your-writes).
        if mutation {
            match replica::current_lsn(&state.db.conn).await {
                Ok(Some(lsn)) => {
                    if let Ok(value) = HeaderValue::from_str(&lsn.to_string()) {
                        headers.insert(LSN_HEADER, value);
                    }
                }
                Ok(None) => {}
                Err(error) => {
                    tracing::warn!(error.cause = %error, "could not read the primary's WAL position after a write")
                }
            }
        }
    }
    response
}

/// What every operation of a request gets besides its database.
struct Setup {
    batch_spent: std::sync::Arc<crate::graphql::cost::BatchSpent>,
    wants_cost: bool,
    principal: Principal,
}

impl Setup {
    /// The batch's operations with their loaders on `db`; `own_db`: `db` is not the schema's
    /// own (the writer lane's or a replica's), so resolvers are given it too.
    fn apply(&self, batch: BatchRequest, db: &Db, own_db: bool) -> BatchRequest {
        let prepare = |mut request: async_graphql::Request| {
            db.operations.increment();
            request = request.data(self.batch_spent.clone());
            if self.wants_cost {
                request.extensions.insert("cost".into(), async_graphql::Value::Boolean(true));
            }
            let turn = AnalyticsTurn::default();
            let request = request
                .data(request_loader(db, turn.clone()))
                .data(request_metrics_loader(db, turn))
                .data(self.principal.clone());
            if own_db { request.data(db.clone()) } else { request }
        };
        match batch {
            BatchRequest::Single(request) => BatchRequest::Single(prepare(request)),
            BatchRequest::Batch(requests) => BatchRequest::Batch(requests.into_iter().map(prepare).collect()),
        }
    }
}

/// The operations of a batch as the client sent them (no data attached), to run again.
fn copy_batch(batch: &BatchRequest) -> BatchRequest {
    let copy = |request: &async_graphql::Request| {
        let mut copy = async_graphql::Request::new(request.query.clone()).variables(request.variables.clone());
        copy.operation_name.clone_from(&request.operation_name);
        copy.extensions.clone_from(&request.extensions);
        copy
    };
    match batch {
        BatchRequest::Single(request) => BatchRequest::Single(copy(request)),
        BatchRequest::Batch(requests) => BatchRequest::Batch(requests.iter().map(copy).collect()),
    }
}

/// Whether an error of the response says its database could not answer (`UNAVAILABLE`, or
/// `BUSY`: no connection in time).
fn replica_could_not_answer(response: &BatchResponse) -> bool {
    let transient = |error: &ServerError| {
        error.extensions.as_ref().and_then(|extensions| extensions.get("code")).is_some_and(|code| {
            matches!(code, async_graphql::Value::String(code) if code == Code::Unavailable.as_str() || code == Code::Busy.as_str())
        })
    };
    match response {
        BatchResponse::Single(single) => single.errors.iter().any(transient),
        BatchResponse::Batch(responses) => responses.iter().flat_map(|r| r.errors.iter()).any(transient),
    }
}

/// `INTERNAL` (500) for a failure the log explains.
fn internal_response(request_id: &str) -> Response {
    coded_response(Code::Internal, "internal error; it has been logged", request_id)
}

/// A request refused before execution.
struct Refusal {
    code: Code,
    message: String,
}

impl Refusal {
    fn new(code: Code, message: String) -> Self {
        Self { code, message }
    }

    fn into_response(self, request_id: &str) -> Response {
        coded_response(self.code, &self.message, request_id)
    }
}

async fn read_request(
    method: &Method,
    query: Option<&str>,
    headers: &HeaderMap,
    body: Body,
) -> Result<BatchRequest, Refusal> {
    if *method == Method::GET {
        let mut request = async_graphql::http::parse_query_string(query.unwrap_or_default())
            .map_err(|error| Refusal::new(Code::BadRequest, error.to_string()))?;
        // The GraphQL-over-HTTP spec names the parameter `operationName`; async-graphql reads
        // `operation_name`.
        if request.operation_name.is_none() {
            request.operation_name = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
                .find(|(key, _)| key == "operationName")
                .map(|(_, value)| value.into_owned());
        }
        return Ok(BatchRequest::Single(request));
    }
    // CSRF: browsers send form and text/plain bodies cross-site without a preflight; JSON they
    // do not. So POST accepts JSON only.
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok()).unwrap_or_default();
    let media_type = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    if media_type != "application/json" && media_type != GRAPHQL_RESPONSE_JSON {
        return Err(Refusal::new(
            Code::UnsupportedMediaType,
            format!("POST /graphql takes `application/json`, not `{content_type}`"),
        ));
    }
    // The body limit layer bounds what this reads: exceeding it is a 413; a body cut short or
    // badly chunked is the client's malformed request.
    let bytes: Bytes = axum::body::to_bytes(body, usize::MAX).await.map_err(|error| {
        let error = error.into_inner();
        let too_large = std::iter::successors(Some(&*error as &(dyn std::error::Error + 'static)), |e| e.source())
            .any(|e| e.is::<http_body_util::LengthLimitError>());
        if too_large {
            Refusal::new(Code::PayloadTooLarge, "the request body is too large".to_owned())
        } else {
            Refusal::new(Code::BadRequest, "the request body could not be read (cut short or badly framed)".to_owned())
        }
    })?;
    let batch = serde_json::from_slice::<BatchRequest>(&bytes)
        .map_err(|error| Refusal::new(Code::BadRequest, format!("the body is not a GraphQL request: {error}")))?;
    // async-graphql reads `[]` as one request with an empty query.
    let empty_batch = bytes.iter().filter(|b| !b.is_ascii_whitespace()).eq(b"[]".iter());
    if empty_batch || matches!(&batch, BatchRequest::Batch(requests) if requests.is_empty()) {
        return Err(Refusal::new(Code::BadRequest, "an empty batch holds no operation".to_owned()));
    }
    Ok(batch)
}

/// True when any operation the batch would run is a mutation.
/// Parses each document once (execution reuses the parse) and says whether one runs a mutation.
fn runs_mutation(batch: &mut BatchRequest) -> bool {
    batch.iter_mut().any(|request| {
        // A document too long to run is refused before it is parsed (graphql::cost).
        if request.query.len() > crate::graphql::cost::MAX_DOCUMENT_BYTES {
            return false;
        }
        let name = request.operation_name.clone();
        let Ok(document) = request.parsed_query() else { return false };
        match &name {
            Some(name) => document.operations.iter().any(|(op_name, op)| {
                op_name.is_some_and(|n| n.as_str() == name) && op.node.ty == OperationType::Mutation
            }),
            None => document.operations.iter().any(|(_, op)| op.node.ty == OperationType::Mutation),
        }
    })
}

/// Every error carries the request id; one that reached here without a code (the cost
/// extension codes the parse and validation phases) is a validation failure.
pub(super) fn add_code(error: &mut ServerError, request_id: &str) {
    let extensions = error.extensions.get_or_insert_with(Default::default);
    extensions.set("requestId", request_id);
    if extensions.get("code").is_none() {
        extensions.set("code", Code::GraphqlValidationFailed.as_str());
    }
}
