//! `/graphql/ws`: subscriptions over WebSocket, in both `graphql-transport-ws` (the graphql-ws
//! library) and the legacy `graphql-ws` (subscriptions-transport-ws), chosen by the
//! `Sec-WebSocket-Protocol` header. async-graphql speaks the protocols; this module adds what a
//! public endpoint needs around them: the bearer token from `connection_init`, a deadline for
//! `connection_init`, server keep-alive messages, a cap on subscriptions per socket, and
//! `extensions.code` on every error.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_graphql::http::{WebSocket as GraphqlWebSocket, WebSocketProtocols, WsMessage};
use async_graphql::{Data, Executor, Request, Response};
use axum::Extension;
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, header};
use axum::response::Response as HttpResponse;
use futures::stream::BoxStream;
use futures::{SinkExt, StreamExt, future};
use serde_json::Value;

use super::graphql::add_code;
use crate::auth::{Authenticator, Principal};
use crate::db::Db;
use crate::db::feed::Feed;
use crate::graphql::RegistrySchema;
use crate::graphql::error::{Code, coded};
use crate::graphql::loaders::{connection_loader, connection_metrics_loader};
use crate::graphql::subscription::SubscriptionSlots;

/// Limits of one WebSocket connection.
#[derive(Clone, Copy, Debug)]
pub struct WsLimits {
    /// A connection that has not completed `connection_init` by then is closed (4408).
    pub init_timeout: Duration,
    /// How often the server sends a keep-alive (`ping`, or `ka` in the legacy protocol).
    pub keepalive: Duration,
    /// A graphql-transport-ws connection from which nothing arrives for this long is closed
    /// (clients answer pings with pongs, so a live client never hits it).
    pub idle_timeout: Duration,
    pub max_subscriptions: usize,
}

impl Default for WsLimits {
    fn default() -> Self {
        Self {
            init_timeout: Duration::from_secs(10),
            keepalive: Duration::from_secs(15),
            idle_timeout: Duration::from_secs(120),
            max_subscriptions: 50,
        }
    }
}

#[derive(Clone)]
pub struct WsState {
    pub schema: RegistrySchema,
    pub db: Db,
    pub feed: Feed,
    pub authenticator: Authenticator,
    pub limits: WsLimits,
}

/// Upgrades to a GraphQL WebSocket; the edge has already checked any `Authorization` header
/// (a `connection_init` token replaces it).
pub async fn ws_handler(
    State(state): State<WsState>,
    Extension(principal): Extension<Principal>,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> HttpResponse {
    let id = super::edge::request_id(&headers);
    let upgrade = match upgrade {
        Ok(upgrade) => upgrade,
        Err(rejection) => {
            return super::edge::coded_response(
                crate::codes::Code::BadRequest,
                &format!("/graphql/ws takes WebSocket upgrades only: {}", rejection.body_text()),
                &id,
            );
        }
    };
    let protocol = headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|value| value.to_str().ok())
        .and_then(|offered| offered.split(',').find_map(|p| WebSocketProtocols::from_str(p.trim()).ok()));
    let Some(protocol) = protocol else {
        return super::edge::coded_response(
            crate::codes::Code::BadRequest,
            "Sec-WebSocket-Protocol must be graphql-transport-ws or graphql-ws",
            &id,
        );
    };
    let request_id = super::edge::request_id(&headers);
    // Echo the protocol chosen here (a client offering both gets the one it listed first).
    upgrade
        .protocols([protocol.sec_websocket_protocol()])
        .on_upgrade(move |socket| serve(socket, protocol, state, principal, request_id))
}

/// The schema, with every error coded as over HTTP.
#[derive(Clone)]
struct CodedSchema {
    schema: RegistrySchema,
    request_id: Arc<str>,
}

/// Refuses every operation once the connection's token has expired: queries and mutations sent
/// over the socket too, not only the subscriptions (which end themselves at that moment).
fn expired(session: Option<&Data>) -> Option<Response> {
    let principal = session?.get(&std::any::TypeId::of::<Principal>())?.downcast_ref::<Principal>()?;
    let expired = principal.expires_at.is_some_and(|at| at <= crate::auth::now_secs());
    expired.then(|| {
        let error = coded(Code::Unauthenticated, "the connection's token has expired; reconnect with a new one");
        Response::from_errors(vec![error.into_server_error(async_graphql::Pos::default())])
    })
}

impl Executor for CodedSchema {
    async fn execute(&self, request: Request) -> Response {
        let mut response = self.schema.execute(request).await;
        response.errors.iter_mut().for_each(|error| add_code(error, &self.request_id));
        response
    }

    fn execute_stream(&self, request: Request, session_data: Option<Arc<Data>>) -> BoxStream<'static, Response> {
        if let Some(refusal) = expired(session_data.as_deref()) {
            return futures::stream::once(future::ready(refusal)).boxed();
        }
        let request_id = self.request_id.clone();
        self.schema
            .execute_stream_with_session_data(request, session_data.unwrap_or_default())
            .map(move |mut response| {
                response.errors.iter_mut().for_each(|error| add_code(error, &request_id));
                response
            })
            .boxed()
    }
}

/// The principal of a `connection_init` payload: `{"Authorization": "Bearer …"}` (any case),
/// or `{"token": "…"}`; none keeps the upgrade request's.
fn principal_of(
    payload: &Value,
    authenticator: &Authenticator,
    upgrade: Principal,
) -> async_graphql::Result<Principal> {
    let field = |name: &str| {
        payload.as_object()?.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).and_then(|(_, v)| v.as_str())
    };
    let verified = match (field("authorization"), field("token")) {
        (Some(header), _) => authenticator.principal(Some(header)),
        (None, Some(token)) => authenticator.verify(token),
        (None, None) => return Ok(upgrade),
    };
    verified.map_err(|error| async_graphql::Error::new(format!("UNAUTHENTICATED: {error}")))
}

async fn serve(
    socket: WebSocket,
    protocol: WebSocketProtocols,
    state: WsState,
    upgrade: Principal,
    request_id: String,
) {
    let (mut sink, stream) = socket.split();
    let input = stream.take_while(|message| future::ready(message.is_ok())).filter_map(|message| {
        future::ready(match message {
            Ok(Message::Text(text)) => Some(text.as_bytes().to_vec()),
            Ok(Message::Binary(bytes)) => Some(bytes.to_vec()),
            _ => None,
        })
    });
    let limits = state.limits;
    let mut connection = Data::default();
    connection.insert(state.feed.clone());
    connection.insert(state.db.clone());
    connection.insert(connection_loader(&state.db));
    connection.insert(connection_metrics_loader(&state.db));
    connection.insert(SubscriptionSlots::new(limits.max_subscriptions));
    let authenticator = state.authenticator.clone();
    let executor = CodedSchema { schema: state.schema.clone(), request_id: request_id.into() };
    let messages = GraphqlWebSocket::new(executor, input, protocol)
        .connection_data(connection)
        .on_connection_init(move |payload| async move {
            let principal = principal_of(&payload, &authenticator, upgrade)?;
            let mut data = Data::default();
            data.insert(principal);
            Ok(data)
        })
        // Only graphql-transport-ws clients answer the server's pings; legacy clients may rightly
        // stay silent for hours, so only the former are closed for silence.
        .keepalive_timeout((protocol == WebSocketProtocols::GraphQLWS).then_some(limits.idle_timeout));
    futures::pin_mut!(messages);

    let keepalive_message = match protocol {
        WebSocketProtocols::GraphQLWS => r#"{"type":"ping"}"#,
        WebSocketProtocols::SubscriptionsTransportWS => r#"{"type":"ka"}"#,
    };
    let init_deadline = tokio::time::sleep(limits.init_timeout);
    futures::pin_mut!(init_deadline);
    let mut keepalive = tokio::time::interval_at(tokio::time::Instant::now() + limits.keepalive, limits.keepalive);
    keepalive.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut acknowledged = false;
    loop {
        let outgoing = tokio::select! {
            message = messages.next() => match message {
                Some(WsMessage::Text(text)) => {
                    if !acknowledged {
                        acknowledged = is_ack(&text);
                        if acknowledged && protocol == WebSocketProtocols::SubscriptionsTransportWS {
                            // The legacy protocol expects a `ka` right after the ack.
                            let _ = sink.send(Message::Text(text.into())).await;
                            Message::Text(keepalive_message.into())
                        } else {
                            Message::Text(text.into())
                        }
                    } else {
                        Message::Text(text.into())
                    }
                }
                Some(WsMessage::Close(code, reason)) => {
                    // async-graphql refuses a `connection_init` with 1002; graphql-transport-ws's
                    // code for it is 4403 (Forbidden), which clients such as graphql-ws know to
                    // be a refusal to retry with new credentials, not a broken protocol.
                    let refused = protocol == WebSocketProtocols::GraphQLWS
                        && !acknowledged
                        && code == 1002
                        && reason.starts_with("UNAUTHENTICATED");
                    let code = if refused { 4403 } else { code };
                    Message::Close(Some(CloseFrame { code, reason: control_frame_text(&reason).into() }))
                }
                None => break,
            },
            () = &mut init_deadline, if !acknowledged => {
                // graphql-transport-ws's code for it; the legacy protocol has none, so the same.
                Message::Close(Some(CloseFrame { code: 4408, reason: "Connection initialisation timeout".into() }))
            }
            _ = keepalive.tick(), if acknowledged => Message::Text(keepalive_message.into()),
        };
        let closing = matches!(outgoing, Message::Close(_));
        // A client that stops reading must not hold the task (and its subscriptions) forever.
        let sent = tokio::time::timeout(limits.idle_timeout, sink.send(outgoing)).await;
        if !matches!(sent, Ok(Ok(()))) || closing {
            break;
        }
    }
    let _ = sink.close().await;
}

/// A close reason fits a control frame: at most 123 bytes, cut at a character boundary.
fn control_frame_text(reason: &str) -> &str {
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    &reason[..end]
}

fn is_ack(text: &str) -> bool {
    serde_json::from_str::<Value>(text).ok().and_then(|v| v.get("type").and_then(Value::as_str).map(str::to_owned))
        == Some("connection_ack".to_owned())
}
