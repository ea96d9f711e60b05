//! `GET /api/v1/insights?period=&org=&now=&format=`: the leadership's insight (辅助决策) from
//! the engine's projections, as `jiancha insight --format json` (evaluators and the supervision
//! bureau only; with `now`, the log as of then, as `jiancha insight --now`); and the Excel answers of this route and of `GET /api/v1/reports`
//! (`format=xlsx`): the workbook of `jiancha_xlsx`, with its content type and a Chinese file
//! name (RFC 5987) beside an ASCII one.

use std::sync::Arc;

use axum::extract::{Query, State as StateExtractor};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse as _, Response};
use jiancha_projections::insight::InsightQuery;
use jiancha_projections::{Millis, Period};
use serde::Deserialize;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::params::instant_or;
use crate::State;

/// The query of `GET /insights`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct InsightsQuery {
    period: Option<String>,
    org: Option<String>,
    now: Option<String>,
    format: Option<String>,
}

/// Whether `format=` asks for a workbook (`json`, the default, or `xlsx`).
pub(crate) fn wants_xlsx(format: Option<&str>) -> Result<bool, ApiError> {
    match format.unwrap_or("json") {
        "json" => Ok(false),
        "xlsx" => Ok(true),
        other => {
            Err(ApiError::invalid(format!("format: {other:?}: use json or xlsx")).field("format"))
        }
    }
}

/// A workbook of `value` as a download named `names` (ASCII, Chinese).
pub(crate) fn xlsx_response(
    value: &impl serde::Serialize,
    sheets: &[jiancha_xlsx::Sheet],
    at: Millis,
    (ascii, name): (&str, &str),
) -> Result<Response, ApiError> {
    let doc = serde_json::to_value(value).map_err(ApiError::internal)?;
    let bytes = jiancha_xlsx::workbook(&doc, sheets, jiancha_xlsx::Created::from_unix_millis(at))
        .map_err(ApiError::internal)?;
    let disposition = HeaderValue::from_str(&jiancha_xlsx::content_disposition(ascii, name))
        .map_err(ApiError::internal)?;
    Ok((
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(jiancha_xlsx::CONTENT_TYPE),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}

/// `GET /insights`.
pub(crate) async fn insights(
    StateExtractor(state): StateExtractor<Arc<State>>,
    caller: Caller,
    query: Result<Query<InsightsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    caller.may_read_insight()?;
    let Query(q) = query.map_err(crate::query_error)?;
    let Some(period) = q.period.as_deref() else {
        return Err(
            ApiError::invalid("period: give period=YYYY-MM (or YYYY-H1, YYYY-Q2, YYYY)")
                .field("period"),
        );
    };
    let period =
        Period::parse(period).map_err(|e| ApiError::invalid(e.to_string()).field("period"))?;
    if let Some(org) = &q.org {
        jiancha_events::stream::check_org("org", org)
            .map_err(|e| ApiError::invalid(e.to_string()).field("org"))?;
    }
    let xlsx = wants_xlsx(q.format.as_deref())?;
    let now = instant_or("now", q.now.as_deref(), state.engine.now())?;
    crate::caught_up(&state).await;
    let query = InsightQuery {
        period,
        org: q.org.clone(),
    };
    // At an instant: the log as of then (the events that had occurred by it), as `jiancha
    // insight --now` folds it.
    let insight = crate::alerts::live_or_as_of(&state, q.now.is_some(), now, true, |p| {
        p.insight(&query, now)
    })
    .await?;
    if xlsx {
        let label = insight.period.clone();
        return xlsx_response(
            &insight,
            &jiancha_xlsx::insight_sheets(),
            now,
            (
                &format!("insight-{label}.xlsx"),
                &format!("辅助决策-{label}.xlsx"),
            ),
        );
    }
    Ok(crate::json_response(StatusCode::OK, &insight))
}
