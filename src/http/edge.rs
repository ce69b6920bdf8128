//! The HTTP edge in front of `/graphql`: who the caller is (bearer token → [`Principal`], or
//! 401), how often they may call (a per-client token bucket from `governor`, keyed by token
//! subject or peer address → 429), and the coded JSON error bodies every refusal here carries,
//! in the same shape as GraphQL errors, with the request id the logs use.

use crate::codes::Code;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, FakeRelativeClock};
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use crate::auth::{AuthError, Authenticator, Principal};

/// The header that carries the request id (set by `SetRequestIdLayer`, echoed in responses).
pub const REQUEST_ID: &str = "x-request-id";

/// Per-client request budget: `per_second` sustained, `burst` at once.
#[derive(Clone, Copy, Debug)]
pub struct RateLimit {
    pub per_second: u32,
    pub burst: u32,
}

/// The clock the rate limiter reads: the monotonic clock, or one a test moves by hand (so a
/// test of refilling budgets waits for nothing).
#[derive(Clone, Debug)]
pub struct EdgeClock {
    start: std::time::Instant,
    manual: Option<FakeRelativeClock>,
}

impl EdgeClock {
    pub fn real() -> Self {
        Self { start: std::time::Instant::now(), manual: None }
    }

    /// A clock that moves only when `clock.advance(…)` is called.
    pub fn manual(clock: FakeRelativeClock) -> Self {
        Self { start: std::time::Instant::now(), manual: Some(clock) }
    }
}

impl Clock for EdgeClock {
    type Instant = Nanos;

    fn now(&self) -> Nanos {
        match &self.manual {
            Some(clock) => clock.now(),
            None => Nanos::from(self.start.elapsed()),
        }
    }
}

type Limiter = RateLimiter<String, DefaultKeyedStateStore<String>, EdgeClock, NoOpMiddleware<Nanos>>;

/// Shared state of the edge middleware.
#[derive(Clone)]
pub struct Edge {
    pub authenticator: Authenticator,
    limiter: Option<Arc<Limiter>>,
    clock: EdgeClock,
}

impl Edge {
    /// `rate_limit: None` (or zero per second) turns rate limiting off.
    pub fn new(authenticator: Authenticator, rate_limit: Option<RateLimit>, clock: EdgeClock) -> Self {
        let limiter = rate_limit.and_then(|limit| {
            let per_second = NonZeroU32::new(limit.per_second)?;
            let burst = NonZeroU32::new(limit.burst).unwrap_or(per_second);
            let quota = Quota::per_second(per_second).allow_burst(burst);
            Some(Arc::new(RateLimiter::new(quota, DefaultKeyedStateStore::default(), clock.clone())))
        });
        Self { authenticator, limiter, clock }
    }
}

/// The request id of a request, for error bodies and logs.
pub fn request_id(headers: &HeaderMap) -> String {
    headers.get(REQUEST_ID).and_then(|value| value.to_str().ok()).unwrap_or("-").to_owned()
}

/// A refusal in GraphQL's error shape: `{"errors":[{"message", "extensions":{"code","requestId"}}]}`.
pub fn coded_response(code: Code, message: &str, request_id: &str) -> Response {
    let body = serde_json::json!({
        "errors": [{ "message": message, "extensions": { "code": code.as_str(), "requestId": request_id } }]
    });
    (code.status(), [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body.to_string())
        .into_response()
}

/// Authenticates, rate-limits, and hands the [`Principal`] to the handler as a request extension.
pub async fn guard_edge(State(edge): State<Edge>, mut request: Request, next: Next) -> Response {
    let id = request_id(request.headers());
    let authorization = request.headers().get(header::AUTHORIZATION).map(|value| value.to_str().unwrap_or("\u{0}"));
    let principal = match edge.authenticator.principal(authorization) {
        Ok(principal) => principal,
        Err(error) => {
            tracing::info!(reason = %error, "refused a request with a bad token");
            let mut response = coded_response(Code::Unauthenticated, &error.to_string(), &id);
            let challenge = match error {
                AuthError::Expired => r#"Bearer error="invalid_token", error_description="expired""#,
                _ => r#"Bearer error="invalid_token""#,
            };
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
            return response;
        }
    };
    if let Some(limiter) = &edge.limiter {
        let key = client_key(&principal, &request);
        if let Err(not_until) = limiter.check_key(&key) {
            let wait = not_until.wait_time_from(edge.clock.now());
            tracing::info!(client = %key, "rate limited");
            let mut response = coded_response(
                Code::RateLimited,
                "too many requests; slow down and retry after the time in Retry-After",
                &id,
            );
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            if let Ok(value) = HeaderValue::from_str(&seconds.max(1).to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            return response;
        }
        // Forget idle clients now and then, so the table does not grow without bound.
        if limiter.len() > 10_000 {
            limiter.retain_recent();
        }
    }
    request.extensions_mut().insert(principal);
    next.run(request).await
}

/// Token subject when there is one (a client keeps its budget across addresses), else the peer
/// address. Behind a balancer, put the balancer's rate limiting in front, or give clients tokens.
fn client_key(principal: &Principal, request: &Request<Body>) -> String {
    match &principal.subject {
        Some(subject) => format!("sub:{subject}"),
        None => request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map_or_else(|| "ip:unknown".to_owned(), |info| format!("ip:{}", info.0.ip())),
    }
}

/// Gives the plain-text refusals of tower's layers (body too large, timeout) the coded JSON body.
pub async fn code_layer_errors(request: Request, next: Next) -> Response {
    let id = request_id(request.headers());
    let response = next.run(request).await;
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.contains("json"));
    if is_json {
        return response;
    }
    match response.status() {
        StatusCode::PAYLOAD_TOO_LARGE => coded_response(Code::PayloadTooLarge, "the request body is too large", &id),
        StatusCode::REQUEST_TIMEOUT => coded_response(Code::Timeout, "the request took too long and was stopped", &id),
        // The router's own answers for unknown paths and methods.
        StatusCode::NOT_FOUND => coded_response(
            Code::NotFound,
            "no such route; the API is at /graphql (GraphiQL at /), downloads under /export/",
            &id,
        ),
        StatusCode::METHOD_NOT_ALLOWED => {
            let allow = response.headers().get(header::ALLOW).cloned();
            let mut coded = coded_response(Code::MethodNotAllowed, "this route does not take that method", &id);
            if let Some(allow) = allow {
                coded.headers_mut().insert(header::ALLOW, allow);
            }
            coded
        }
        _ => response,
    }
}
