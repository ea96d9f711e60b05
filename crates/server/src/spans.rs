//! The request span: every HTTP request is served inside a `request` span naming its method,
//! its route (the template it matched, `/api/v1/cases/{id}`, never the path with its ids; `-`
//! when no route matched), the caller's role and token name once its token is checked (`auth`),
//! and, once the response is ready, its status and latency in ms, logged by an info event
//! `answered`. So an error logged while a request is served (the cause of a 500) names its
//! route and caller.
//!
//! The span is at the error level so that it is there whenever an error is logged (the CLI
//! logs warnings and errors by default). It is the router's outermost layer, so it wraps each
//! request however the router is served: by `listen` (one span per request, not per
//! connection) or by a test calling the router. The latency runs until the response's head;
//! a body, a live stream's above all, is sent after it.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use tracing::field::Empty;
use tracing::Instrument;

/// The route of a request no route matched (the path may hold ids: it is left out).
const NO_ROUTE: &str = "-";

/// Serves a request inside its span.
pub(crate) async fn request(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or(NO_ROUTE, MatchedPath::as_str);
    let span = tracing::error_span!(
        "request",
        method = %request.method(),
        route = %route,
        role = Empty,
        caller = Empty,
        status = Empty,
        latency_ms = Empty,
    );
    let started = Instant::now();
    let response = next.run(request).instrument(span.clone()).await;
    let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    span.record("status", response.status().as_u16());
    span.record("latency_ms", latency_ms);
    tracing::info!(parent: &span, "answered");
    response
}
