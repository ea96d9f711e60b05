//! The routes. Every API route is registered through [`Routes`], which also records its method
//! and path: [`route_table`] lists them, and a test compares that list with the paths and
//! methods of the OpenAPI document, so the document cannot drift from what the server does.

use std::sync::Arc;

use axum::handler::Handler;
use axum::http::{header, HeaderValue, Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use axum::Router;

use crate::error::{ApiError, ErrorKind};
use crate::{
    acts, alerts, caselist, cases, closing, dashboard, events, insights, me, metrics, orders,
    overview, province, public, public_pages, reports, spans, sse, State,
};

/// The OpenAPI document, embedded.
pub(crate) const OPENAPI_JSON: &str = include_str!("../assets/openapi.json");

/// A router that remembers what it routes.
struct Routes {
    router: Router<Arc<State>>,
    table: Vec<(&'static str, &'static str)>,
}

impl Routes {
    /// Routes `path` to `route` and records it under `method`.
    fn add(
        mut self,
        method: &'static str,
        path: &'static str,
        route: MethodRouter<Arc<State>>,
    ) -> Self {
        self.router = self.router.route(path, route);
        self.table.push((method, path));
        self
    }

    fn get<H: Handler<T, Arc<State>>, T: 'static>(self, path: &'static str, handler: H) -> Self {
        self.add("GET", path, get(handler))
    }

    fn post<H: Handler<T, Arc<State>>, T: 'static>(self, path: &'static str, handler: H) -> Self {
        self.add("POST", path, post(handler))
    }
}

fn api() -> Routes {
    Routes {
        router: Router::new(),
        table: Vec::new(),
    }
    .post("/api/v1/events", events::post)
    .get("/api/v1/cases", caselist::list)
    .get("/api/v1/cases/{id}", cases::get)
    .get("/api/v1/cases/{id}/history", cases::history)
    .get("/api/v1/cases/{id}/ledger", cases::ledger)
    .get("/api/v1/cases/{id}/evidence", cases::evidence)
    .post("/api/v1/cases/{id}/exemptions", cases::exempt)
    .post("/api/v1/appeals", cases::appeal)
    .get("/api/v1/alerts", alerts::list)
    .get("/api/v1/alerts/stream", sse::stream)
    .post("/api/v1/alerts/{id}/acknowledge", alerts::acknowledge)
    .post(
        "/api/v1/alerts/{id}/correction-orders",
        alerts::order_correction,
    )
    .post("/api/v1/alerts/{id}/report-backs", alerts::report_back)
    .post(
        "/api/v1/alerts/{id}/verifications",
        alerts::verify_correction,
    )
    .get("/api/v1/orders", orders::list)
    .post(
        "/api/v1/cases/{id}/rating/verification",
        acts::verify_rating,
    )
    .post(
        "/api/v1/cases/{id}/rating/rectification",
        acts::rectify_rating,
    )
    .post("/api/v1/cases/{id}/rating/callback", acts::call_back)
    .post(
        "/api/v1/cases/{id}/complaints/{n}/acceptance",
        acts::accept_complaint,
    )
    .post(
        "/api/v1/cases/{id}/complaints/{n}/rejection",
        acts::reject_complaint,
    )
    .post(
        "/api/v1/cases/{id}/complaints/{n}/answer",
        acts::answer_complaint,
    )
    .get("/api/v1/overview", overview::overview)
    .get("/api/v1/me", me::me)
    .get("/api/v1/reports", reports::report)
    .get("/api/v1/province/reports", province::report)
    .get("/api/v1/insights", insights::insights)
    .post("/api/v1/reports/close", closing::close)
    .get("/api/v1/verify", reports::verify)
    .get("/api/v1/openapi.json", openapi)
    .get("/public/v1/cases/{receipt}", public::case)
    .get("/healthz", metrics::healthz)
    .get("/metrics", metrics::metrics)
}

/// Every API route as (method, path), paths in OpenAPI's `{param}` form.
pub fn route_table() -> Vec<(&'static str, &'static str)> {
    api().table
}

/// The whole router over the shared state.
pub(crate) fn router(state: Arc<State>) -> Router {
    let api = api().router;
    public_pages::routes(dashboard::routes(api))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::count,
        ))
        .layer(axum::middleware::from_fn(spans::request))
        .with_state(state)
}

async fn openapi() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        OPENAPI_JSON,
    )
        .into_response()
}

async fn method_not_allowed(method: Method, uri: Uri) -> Response {
    let message = format!(
        "{method} is not allowed on {} (see /api/v1/openapi.json for each path's methods)",
        uri.path()
    );
    ApiError::new(ErrorKind::MethodNotAllowed, message).into_response()
}

async fn not_found(uri: Uri) -> Response {
    let mut message = format!("no route {}", uri.path());
    if uri.path().starts_with("/api/v1/alerts/") {
        message.push_str(
            " (an alert id holds '/': percent-encode it as %2F, e.g. \
             /api/v1/alerts/case-1%2Ffee.mismatch%2F1/acknowledge)",
        );
    }
    ApiError::not_found(message).into_response()
}
