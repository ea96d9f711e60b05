//! The case endpoints: `GET /api/v1/cases/{id}` (its deadline state, as `jiancha case show`),
//! `GET /api/v1/cases/{id}/history?as_of=` (its stored events recorded by an instant and its
//! state evaluated then) and `POST /api/v1/cases/{id}/exemptions` (the bureau's 免责).
//!
//! Without `now`, a case is read from the engine's live fold at the engine's clock. With `now`
//! (or `as_of`), what the case needs — the catalog, the calendar amendments, its stream and the
//! supervision events naming it — is read from the log and folded afresh: `now` keeps the events
//! that occurred by then (as `case show --now`), `as_of` the ones recorded and occurred by then
//! (what the log showed at that instant, as `jiancha history --as-of`).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, State as StateExtractor};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use jiancha_events::{format_timestamp, EventData, Exempted, NewEvent, StoredEvent, StreamName};
use jiancha_projections::{Millis, Projections};
use jiancha_store::{AppendOutcome, RejectionKind, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::params::{case_stream, instant_or};
use crate::State;

/// The query of `GET /cases/{id}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CaseQuery {
    now: Option<String>,
}

/// The query of `GET /cases/{id}/history`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HistoryQuery {
    as_of: Option<String>,
}

type QueryResult<T> = Result<Query<T>, axum::extract::rejection::QueryRejection>;

/// The one answer for a case the caller may not read and for a case that does not exist: the
/// same status and the same body, so a token learns nothing of other orgs' cases (whether one
/// exists, who handles it).
pub(crate) fn no_such_case() -> ApiError {
    ApiError::not_found("case: no such case among those this token may read").field("case")
}

/// The live org of a case, checked against the caller's read scope (once the engine has
/// folded in what was committed before the request). A case outside the scope is answered as
/// one that does not exist.
async fn check_read(state: &State, caller: &Caller, case: &StreamName) -> Result<(), ApiError> {
    let scope = caller.read_scope()?;
    crate::caught_up(state).await;
    let projections = state.engine.read();
    match projections.case(case.as_str()) {
        Some(found) if scope.covers(found.org()) => Ok(()),
        _ => Err(no_such_case()),
    }
}

/// `GET /cases/{id}`.
pub(crate) async fn get(
    StateExtractor(state): StateExtractor<Arc<State>>,
    caller: Caller,
    Path(id): Path<String>,
    query: QueryResult<CaseQuery>,
) -> Result<Response, ApiError> {
    let case = case_stream(&id)?;
    let Query(query) = query.map_err(crate::query_error)?;
    check_read(&state, &caller, &case).await?;
    let view = match query.now.as_deref() {
        None => state
            .engine
            .read()
            .case_view(case.as_str(), state.engine.now()),
        Some(text) => {
            let now = instant_or("now", Some(text), 0)?;
            let events = case_events(&state, case.as_str()).await?;
            let by = |e: &StoredEvent| jiancha_projections::instant::occurred_by(e, now);
            fold(&state, &events, by).case_view(case.as_str(), now)
        }
    };
    let view = view
        .ok_or_else(|| ApiError::not_found(format!("no case {case} had been submitted by then")))?;
    Ok(crate::json_response(StatusCode::OK, &view))
}

/// The events one case needs, in position order.
async fn case_events(state: &State, case: &str) -> Result<Vec<StoredEvent>, ApiError> {
    state
        .store
        .read_case_context(case)
        .await
        .map_err(ApiError::internal)
}

fn fold(state: &State, events: &[StoredEvent], keep: impl Fn(&StoredEvent) -> bool) -> Projections {
    let mut projections = Projections::new(state.alert_config);
    for event in events.iter().filter(|e| keep(e)) {
        projections.apply(event);
    }
    projections
}

/// One event of a history.
#[derive(Serialize)]
struct HistoryEvent<'a> {
    position: u64,
    stream: &'a str,
    version: u64,
    id: &'a str,
    #[serde(rename = "type")]
    event_type: &'static str,
    occurred_at: String,
    recorded_at: String,
    actor: &'a str,
    org: &'a str,
    data: Box<RawValue>,
}

#[derive(Serialize)]
struct History<'a> {
    case: &'a str,
    as_of: String,
    view: Option<jiancha_projections::CaseView>,
    events: Vec<HistoryEvent<'a>>,
}

/// `GET /cases/{id}/history`.
pub(crate) async fn history(
    StateExtractor(state): StateExtractor<Arc<State>>,
    caller: Caller,
    Path(id): Path<String>,
    query: QueryResult<HistoryQuery>,
) -> Result<Response, ApiError> {
    let case = case_stream(&id)?;
    let Query(query) = query.map_err(crate::query_error)?;
    check_read(&state, &caller, &case).await?;
    let as_of = instant_or("as_of", query.as_of.as_deref(), state.engine.now())?;
    let events = case_events(&state, case.as_str()).await?;
    // What the log showed then: recorded, and occurred, by `as_of` (as `jiancha history`).
    let by = |e: &StoredEvent| {
        e.recorded_at.timestamp_millis() <= as_of && e.occurred_at.timestamp_millis() <= as_of
    };
    let listed: Vec<&StoredEvent> = events
        .iter()
        .filter(|e| {
            by(e) && (e.stream == case.as_str() || e.data.concerns_case() == Some(case.as_str()))
        })
        .collect();
    if !listed.iter().any(|e| e.stream == case.as_str()) {
        return Err(ApiError::not_found(format!(
            "no event of {case} had been recorded by then"
        )));
    }
    let view = fold(&state, &events, by).case_view(case.as_str(), as_of);
    let history = History {
        case: case.as_str(),
        as_of: jiancha_projections::instant::format(as_of),
        view,
        events: listed.into_iter().map(history_event).collect(),
    };
    Ok(crate::json_response(StatusCode::OK, &history))
}

fn history_event(e: &StoredEvent) -> HistoryEvent<'_> {
    HistoryEvent {
        position: e.position,
        stream: &e.stream,
        version: e.version,
        id: &e.id,
        event_type: e.data.type_name(),
        occurred_at: format_timestamp(&e.occurred_at),
        recorded_at: format_timestamp(&e.recorded_at),
        actor: &e.actor,
        org: &e.org,
        data: RawValue::from_string(e.data.to_json()).unwrap_or_else(|_| RawValue::NULL.to_owned()),
    }
}

/// The body of an exemption.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExemptionBody {
    reason: String,
    /// An idempotency key; when absent the case is exempted once (`exempt:<case>`) and a
    /// repeat answers with the original position.
    id: Option<String>,
}

/// `POST /cases/{id}/exemptions`.
pub(crate) async fn exempt(
    StateExtractor(state): StateExtractor<Arc<State>>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let (actor, org) = caller.supervisor()?;
    let case = case_stream(&id)?;
    let timeout = state.limits.body_read_timeout;
    let req: ExemptionBody = crate::body::action_body(&headers, body, timeout).await?;
    if req.reason.trim().is_empty() {
        return Err(ApiError::invalid("reason: must not be empty").field("reason"));
    }
    crate::caught_up(&state).await;
    if state.engine.read().case(case.as_str()).is_none() {
        return Err(no_such_case());
    }
    let data = EventData::Exempted(Exempted {
        case: case.to_string(),
        reason: req.reason,
    });
    let key = match req.id {
        Some(id) => Key::Given(id),
        None => Key::Once(format!("exempt:{case}")),
    };
    supervise(&state, actor, org, data, key).await
}

/// The idempotency key of a supervision act.
#[derive(Debug)]
pub(crate) enum Key {
    /// None: every request is a new act.
    Fresh,
    /// The caller's own: a repeat of the same act answers with its position; another act under
    /// the same key is a conflict (409).
    Given(String),
    /// The act can be done once (`ack:<alert>`, `exempt:<case>`): any repeat answers 200 with
    /// the original position.
    Once(String),
}

/// Appends one supervision event now, and answers as an append does.
pub(crate) async fn supervise(
    state: &State,
    actor: &str,
    org: &str,
    data: EventData,
    key: Key,
) -> Result<Response, ApiError> {
    data.check()
        .map_err(|e| ApiError::invalid(e.to_string()).field(e.field.trim_start_matches("data.")))?;
    let stream = StreamName::supervision();
    let now: Millis = state.engine.now();
    let at = chrono::DateTime::from_timestamp_millis(now)
        .ok_or_else(|| ApiError::internal("the clock is out of range"))?
        .with_timezone(&jiancha_events::time::CHINA);
    let mut event = NewEvent::new(stream, at, actor, org, data);
    let once = matches!(key, Key::Once(_));
    event.id = match key {
        Key::Fresh => None,
        Key::Given(id) | Key::Once(id) => Some(id),
    };
    let outcome = match state.store.append(vec![event]).await {
        Ok(outcome) => outcome,
        Err(jiancha_store::StoreError::Rejected(r)) if once => match r.kind {
            RejectionKind::IdReused { position } => AppendOutcome {
                positions: vec![position],
                appended: 0,
            },
            _ => return Err(crate::events::store_refusal(StoreError::Rejected(r))),
        },
        Err(e) => return Err(crate::events::store_refusal(e)),
    };
    Ok(crate::events::answer(outcome))
}
