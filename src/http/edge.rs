//! The HTTP edge in front of `/graphql`: who the caller is (bearer token → [`Principal`], or
//! 401), how often they may call (a per-client token bucket from `governor`, keyed by token
//! subject or peer address → 429), and the coded JSON error bodies every refusal here carries,
//! in the same shape as GraphQL errors, with the request id the logs use.

use crate::codes::Code;
use std::net::{IpAddr, SocketAddr};
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
#[derive(Clone, Debug)]
pub struct RateLimit {
    pub per_second: u32,
    pub burst: u32,
    /// Balancers whose `X-Forwarded-For` names the client (`--trusted-proxies`); from any other
    /// peer the header is ignored, since anyone can send it.
    pub trusted_proxies: Vec<IpAddr>,
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
    trusted_proxies: Arc<[IpAddr]>,
    clock: EdgeClock,
}

impl Edge {
    /// `rate_limit: None` (or zero per second) turns rate limiting off.
    pub fn new(authenticator: Authenticator, rate_limit: Option<RateLimit>, clock: EdgeClock) -> Self {
        let trusted_proxies = rate_limit.as_ref().map(|limit| limit.trusted_proxies.clone()).unwrap_or_default().into();
        let limiter = rate_limit.and_then(|limit| {
            let per_second = NonZeroU32::new(limit.per_second)?;
            let burst = NonZeroU32::new(limit.burst).unwrap_or(per_second);
            let quota = Quota::per_second(per_second).allow_burst(burst);
            Some(Arc::new(RateLimiter::new(quota, DefaultKeyedStateStore::default(), clock.clone())))
        });
        Self { authenticator, limiter, trusted_proxies, clock }
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
        let key = client_key(&principal, &request, &edge.trusted_proxies);
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

/// Token subject when there is one (a client keeps its budget across addresses), else the
/// client's address: the peer's, or behind a trusted balancer the one it forwarded.
fn client_key(principal: &Principal, request: &Request<Body>, trusted_proxies: &[IpAddr]) -> String {
    if let Some(subject) = &principal.subject {
        return format!("sub:{subject}");
    }
    let Some(peer) = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|info| info.0.ip()) else {
        return "ip:unknown".to_owned();
    };
    let forwarded = request.headers().get_all(X_FORWARDED_FOR).iter().filter_map(|value| value.to_str().ok());
    format!("ip:{}", forwarded_client(peer, forwarded, trusted_proxies))
}

const X_FORWARDED_FOR: &str = "x-forwarded-for";

/// The client behind a chain of proxies: from a trusted peer, the rightmost address of
/// `X-Forwarded-For` that is not itself a trusted proxy (entries left of it were written by
/// the client and prove nothing); the peer when it is not trusted or forwarded nothing usable.
fn forwarded_client<'a>(peer: IpAddr, header_values: impl Iterator<Item = &'a str>, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let hops: Vec<&str> = header_values.flat_map(|value| value.split(',')).map(str::trim).collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(address) if trusted.contains(&address) => client = address,
            Ok(address) => return address,
            // A garbled entry ends what can be believed.
            Err(_) => break,
        }
    }
    client
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

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap_or_else(|_| panic!("{text} is an address"))
    }

    #[test]
    fn forwarded_for_counts_only_from_a_trusted_balancer_and_only_its_own_hop() {
        let balancer = ip("127.0.0.1");
        let trusted = [balancer, ip("10.0.0.2")];
        // From the balancer: the address it appended (the rightmost).
        assert_eq!(forwarded_client(balancer, ["203.0.113.7"].into_iter(), &trusted), ip("203.0.113.7"));
        // A client's own claim to the left is not believed; a second trusted hop is passed over.
        assert_eq!(
            forwarded_client(balancer, ["1.2.3.4, 203.0.113.7, 10.0.0.2"].into_iter(), &trusted),
            ip("203.0.113.7")
        );
        assert_eq!(forwarded_client(balancer, ["1.2.3.4", "2001:db8::1"].into_iter(), &trusted), ip("2001:db8::1"));
        // From anyone else the header is ignored.
        assert_eq!(forwarded_client(ip("198.51.100.9"), ["1.2.3.4"].into_iter(), &trusted), ip("198.51.100.9"));
        // Nothing usable: the balancer itself is the client.
        assert_eq!(forwarded_client(balancer, ["not an address"].into_iter(), &trusted), balancer);
        assert_eq!(forwarded_client(balancer, std::iter::empty(), &trusted), balancer);
    }
}
