//! `GET /api/v1/overview?org=&rule=&severity=&now=`: the dashboard's overview table, one row
//! per department of the district center and per town — open red and yellow cards and
//! warnings, cases overdue and due this week, the month's on-time rate with its denominator —
//! from `Projections::overview` (built from the alert, case-list and report views). Every role
//! reads it, as figures: a unit the groups of its own org path. Without `now` the engine's live
//! fold answers at the engine's clock; with `now`, the log folded as of then (events that
//! occurred by then), one replay at a time — the same rows for the same instant.

use std::sync::Arc;

use axum::extract::{Query, State as StateExtractor};
use axum::http::StatusCode;
use axum::response::Response;
use jiancha_projections::{OverviewQuery, Rule};
use serde::{Deserialize, Serialize};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::params::instant_or;
use crate::State;

/// The query of `GET /overview`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Q {
    org: Option<String>,
    rule: Option<String>,
    severity: Option<String>,
    now: Option<String>,
}

/// The answer: the overview and the instant and position it was evaluated at.
#[derive(Serialize)]
struct Answer {
    now: String,
    position: u64,
    #[serde(flatten)]
    overview: jiancha_projections::Overview,
}

/// `GET /overview`.
pub(crate) async fn overview(
    StateExtractor(state): StateExtractor<Arc<State>>,
    caller: Caller,
    query: Result<Query<Q>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let scope = caller.case_list_scope()?;
    let Query(q) = query.map_err(crate::query_error)?;
    let org = crate::alerts::effective_org(scope, q.org.as_deref())?;
    if let Some(code) = &q.rule {
        if Rule::from_code(code).is_none() {
            return Err(ApiError::invalid(format!(
                "rule: unknown rule code {code:?} (deadline.promised.overdue, fee.mismatch, …)"
            ))
            .field("rule"));
        }
    }
    let severities = crate::alerts::severities_of(q.severity.as_deref())?
        .map(|s| s.into_iter().map(str::to_owned).collect());
    let query = OverviewQuery {
        org,
        rule: q.rule,
        severities,
    };
    let now = instant_or("now", q.now.as_deref(), state.engine.now())?;
    crate::caught_up(&state).await;
    let (overview, position) =
        crate::alerts::live_or_as_of(&state, q.now.is_some(), now, true, |p| {
            (p.overview(&query, now), p.position())
        })
        .await?;
    let answer = Answer {
        now: jiancha_projections::instant::format(now),
        position,
        overview,
    };
    Ok(crate::json_response(StatusCode::OK, &answer))
}
