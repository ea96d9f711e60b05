//! `GET /api/v1/cases?org=&item=&status=&due_within=&overdue=&kind=&now=&limit=&cursor=`: the
//! case list (`Projections::case_list`, as `jiancha case list` prints it), a page at a time.
//! Supervisors, the center and evaluators list every case; a unit lists the cases under its
//! org path. Without `now` the engine's live fold answers at the engine's clock; with `now`, the
//! log folded as of then (events that occurred by then), one replay at a time.

use std::sync::Arc;

use axum::extract::{Query, State as StateExtractor};
use axum::http::StatusCode;
use axum::response::Response;
use jiancha_projections::caselist::{parse_status, CaseKey};
use jiancha_projections::{CaseQuery, CaseRow};
use serde::{Deserialize, Serialize};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::params::instant_or;
use crate::State;

/// The query of `GET /cases`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    org: Option<String>,
    item: Option<String>,
    status: Option<String>,
    due_within: Option<u32>,
    overdue: Option<bool>,
    kind: Option<String>,
    now: Option<String>,
    limit: Option<usize>,
    cursor: Option<String>,
}

/// A page of the case list.
#[derive(Serialize)]
struct CasePage {
    cases: Vec<CaseRow>,
    /// The cursor of the next page; null on the last.
    next_cursor: Option<String>,
}

/// The case kinds `kind=` takes: approval cases only, for now.
const KINDS: [&str; 1] = ["approval"];

/// The checked query, and the text its cursor digest is taken over.
fn case_query(q: &ListQuery, org: Option<String>) -> Result<(CaseQuery, String), ApiError> {
    if let Some(kind) = q.kind.as_deref().filter(|k| !KINDS.contains(k)) {
        return Err(ApiError::invalid(format!(
            "kind: {kind:?} is not a case kind this version lists (approval)"
        ))
        .field("kind"));
    }
    let status = match q.status.as_deref() {
        None => None,
        Some(text) => Some(parse_status(text).ok_or_else(|| {
            ApiError::invalid(format!(
                "status: {text:?}: use submitted, running, suspended, concluded, withdrawn or \
                 rejected"
            ))
            .field("status")
        })?),
    };
    let query = CaseQuery {
        org,
        item: q.item.clone(),
        status,
        due_within_days: q.due_within,
        overdue: q.overdue == Some(true),
    };
    let filters = format!("cases\n{query:?}\n{:?}", q.now);
    Ok((query, filters))
}

/// A case list key as a cursor carries it: `<due date or ->\t<stream>`.
fn key_text(key: &CaseKey) -> String {
    let due = key
        .due_on()
        .map_or_else(|| "-".to_owned(), |d| d.to_string());
    format!("{due}\t{}", key.stream())
}

fn key_of(text: &str) -> Result<CaseKey, ApiError> {
    let bad = || ApiError::invalid("cursor: not a cursor of the case list").field("cursor");
    let (due, stream) = text.split_once('\t').ok_or_else(bad)?;
    let due = match due {
        "-" => None,
        d => Some(d.parse().map_err(|_| bad())?),
    };
    Ok(CaseKey::new(due, stream))
}

/// `GET /cases`.
pub(crate) async fn list(
    StateExtractor(state): StateExtractor<Arc<State>>,
    caller: Caller,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let scope = caller.case_list_scope()?;
    let Query(q) = query.map_err(crate::query_error)?;
    let org = crate::alerts::effective_org(scope, q.org.as_deref())?;
    let (query, filters) = case_query(&q, org)?;
    let after = match q.cursor.as_deref() {
        None => None,
        Some(c) => Some(key_of(&crate::cursor::decode(c, &filters)?)?),
    };
    let now = instant_or("now", q.now.as_deref(), state.engine.now())?;
    let limit = crate::limits::page_limit(q.limit, crate::limits::CASES_PAGE_MAX)?;
    crate::caught_up(&state).await;
    let rows = crate::alerts::live_or_as_of(&state, q.now.is_some(), now, false, |p| {
        p.case_list(&query, now)
    })
    .await?;
    let mut rest = rows
        .into_iter()
        .filter(|r| after.as_ref().is_none_or(|k| r.key() > *k));
    let cases: Vec<CaseRow> = rest.by_ref().take(limit).collect();
    let next_cursor = match (rest.next(), cases.last()) {
        (Some(_), Some(last)) => Some(crate::cursor::encode(&key_text(&last.key()), &filters)),
        _ => None,
    };
    let page = CasePage { cases, next_cursor };
    Ok(crate::json_response(StatusCode::OK, &page))
}
