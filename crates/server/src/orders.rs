//! `GET /api/v1/orders?org=&open=`: the correction orders (督办) as the board shows them at the
//! engine's clock — open ones first (overdue first, then by due date), then the closed ones —
//! from the projections' `orders`. Supervisors, the center and evaluators read them all; a unit
//! reads the orders of cards under its org path.

use std::sync::Arc;

use axum::extract::{Query, State as StateExtractor};
use axum::http::StatusCode;
use axum::response::Response;
use jiancha_events::stream::{check_org, org_is_under};
use jiancha_projections::OrderView;
use serde::{Deserialize, Serialize};

use crate::auth::{Caller, Scope};
use crate::error::ApiError;
use crate::State;

/// The query of `GET /orders`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OrdersQuery {
    /// Only orders of cards under this org path (within the caller's).
    org: Option<String>,
    /// true: only open orders (awaiting a report-back or its verification); false: only closed.
    open: Option<bool>,
}

#[derive(Serialize)]
struct OrderList {
    now: String,
    position: u64,
    total: usize,
    orders: Vec<OrderView>,
}

/// `GET /orders`.
pub(crate) async fn list(
    StateExtractor(state): StateExtractor<Arc<State>>,
    caller: Caller,
    query: Result<Query<OrdersQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let scope = caller.orders_scope()?;
    let Query(q) = query.map_err(crate::query_error)?;
    if let Some(org) = &q.org {
        check_org("org", org).map_err(|e| ApiError::invalid(e.to_string()).field("org"))?;
        if let Scope::Under(root) = scope {
            if !org_is_under(org, root) {
                return Err(ApiError::forbidden(format!(
                    "org: {org:?} is outside this token's org path {root:?}"
                ))
                .field("org"));
            }
        }
    }
    crate::caught_up(&state).await;
    let now = state.engine.now();
    let (all, position) = {
        let p = state.engine.read();
        (p.orders(now), p.position())
    };
    let orders: Vec<OrderView> = all
        .into_iter()
        .filter(|o| scope.covers(&o.org))
        .filter(|o| q.org.as_deref().is_none_or(|p| org_is_under(&o.org, p)))
        .filter(|o| q.open.is_none_or(|open| open == (o.state != "closed")))
        .collect();
    let list = OrderList {
        now: jiancha_projections::instant::format(now),
        position,
        total: orders.len(),
        orders,
    };
    Ok(crate::json_response(StatusCode::OK, &list))
}
