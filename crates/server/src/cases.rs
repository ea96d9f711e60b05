//! The case endpoints: `GET /api/v1/cases/{id}` (its deadline state, as `jiancha case show`;
//! for a procurement project `proc-…`, the project view, read from the live fold or, with
//! `now`, from the whole log folded as of then, as `jiancha case show proc-… --now` does),
//! `GET /api/v1/cases/{id}/history?as_of=` (the document `jiancha history --format json` prints:
//! the events recorded by an instant, what each changed, and the state and alerts then) and
//! `GET /api/v1/cases/{id}/evidence?now=` (the pack `jiancha evidence` prints, built by
//! `jiancha_engine::evidence::pack`, as an attachment) and `POST /api/v1/cases/{id}/exemptions`
//! (the bureau's 免责).
//!
//! Without `now`, a case is read from the engine's live fold at the engine's clock. With `now`
//! (or `as_of`), what the case needs — the catalog, the calendar amendments, its stream and the
//! supervision events naming it — is read from the log and folded afresh: `now` keeps the events
//! that occurred by then (as `case show --now`), `as_of` the ones recorded and occurred by then
//! (what the log showed at that instant, as `jiancha history --as-of`). Both are answered by
//! `jiancha_projections::asof`, as the CLI's are.

use crate::params::Segments;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Query, State as StateExtractor};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse as _, Response};
use jiancha_engine::evidence::{self, EvidenceError};
use jiancha_events::{EventData, Exempted, NewEvent, StoredEvent, StreamName};
use jiancha_projections::{asof, Millis};
use jiancha_store::{AppendOutcome, RejectionKind, StoreError};
use serde::Deserialize;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::params::{case_or_project_stream, instant_or};
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
    Segments(id): Segments<String>,
    query: QueryResult<CaseQuery>,
) -> Result<Response, ApiError> {
    let case = case_or_project_stream(&id)?;
    let Query(query) = query.map_err(crate::query_error)?;
    check_read(&state, &caller, &case).await?;
    if case.kind() == jiancha_events::StreamKind::Procurement {
        return project(&state, &case, query.now.as_deref()).await;
    }
    let view = match query.now.as_deref() {
        None => state
            .engine
            .read()
            .case_view(case.as_str(), state.engine.now()),
        Some(text) => {
            let now = instant_or("now", Some(text), 0)?;
            let events = case_events(&state, case.as_str()).await?;
            asof::case_view(state.alert_config, case.as_str(), &events, now)
        }
    };
    let view = view
        .ok_or_else(|| ApiError::not_found(format!("no case {case} had been submitted by then")))?;
    Ok(crate::json_response(StatusCode::OK, &view))
}

/// `GET /cases/proc-…`: the project view at `now` (the engine's clock when absent).
async fn project(
    state: &State,
    case: &StreamName,
    now: Option<&str>,
) -> Result<Response, ApiError> {
    let view = match now {
        None => state
            .engine
            .read()
            .project_view(case.as_str(), state.engine.now()),
        Some(text) => {
            // The project's context, as `jiancha case show proc-… --now` reads it.
            let now = instant_or("now", Some(text), 0)?;
            let events = case_events(state, case.as_str()).await?;
            asof::fold_occurred(
                jiancha_projections::Projections::new(state.alert_config),
                &events,
                now,
            )
            .project_view(case.as_str(), now)
        }
    };
    let view = view.ok_or_else(|| {
        ApiError::not_found(format!("no project {case} had been registered by then"))
    })?;
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

/// `GET /cases/{id}/history`: the document `jiancha history --format json` prints.
pub(crate) async fn history(
    StateExtractor(state): StateExtractor<Arc<State>>,
    caller: Caller,
    Segments(id): Segments<String>,
    query: QueryResult<HistoryQuery>,
) -> Result<Response, ApiError> {
    let case = case_or_project_stream(&id)?;
    let Query(query) = query.map_err(crate::query_error)?;
    check_read(&state, &caller, &case).await?;
    let as_of = instant_or("as_of", query.as_of.as_deref(), state.engine.now())?;
    let events = case_events(&state, case.as_str()).await?;
    let history =
        asof::history(state.alert_config, case.as_str(), &events, as_of).ok_or_else(|| {
            ApiError::not_found(format!("no event of {case} had been recorded by then"))
        })?;
    Ok(crate::json_response(StatusCode::OK, &history))
}

/// The query of `GET /cases/{id}/evidence`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EvidenceQuery {
    now: Option<String>,
}

/// `GET /cases/{id}/evidence`: the case's evidence pack at `now` (the engine's clock when
/// absent), the bytes `jiancha evidence` prints for the same log and instant (pretty JSON and a
/// newline), as the attachment `<case>-evidence.json`. Read by whoever may read the case.
pub(crate) async fn evidence(
    StateExtractor(state): StateExtractor<Arc<State>>,
    caller: Caller,
    Segments(id): Segments<String>,
    query: QueryResult<EvidenceQuery>,
) -> Result<Response, ApiError> {
    let case = case_or_project_stream(&id)?;
    let Query(query) = query.map_err(crate::query_error)?;
    check_read(&state, &caller, &case).await?;
    let now = instant_or("now", query.now.as_deref(), state.engine.now())?;
    let pack = evidence::pack(&*state.store, case.as_str(), now)
        .await
        .map_err(|e| match e {
            EvidenceError::NoSuchCase { .. } => {
                ApiError::not_found(format!("no case {case} had been recorded by then"))
            }
            EvidenceError::Store(e) => ApiError::internal(e),
            EvidenceError::Encode(e) => ApiError::internal(e),
        })?;
    let mut bytes = serde_json::to_vec_pretty(&pack)
        .map_err(|e| ApiError::internal(format!("cannot encode a response: {e}")))?;
    bytes.push(b'\n');
    let disposition =
        HeaderValue::from_str(&format!("attachment; filename=\"{case}-evidence.json\""))
            .map_err(ApiError::internal)?;
    Ok((
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}

/// The answer of `GET /cases/{id}/ledger`.
#[derive(serde::Serialize)]
struct CaseLedger {
    case: String,
    now: String,
    /// The case's assessment entries in ledger order, then the cards the clock has raised
    /// since its last event (`pending: true`), as `jiancha evidence` lists them.
    entries: Vec<jiancha_projections::EntryView>,
}

/// `GET /cases/{id}/ledger`: the case's assessment entries at the engine's clock.
pub(crate) async fn ledger(
    StateExtractor(state): StateExtractor<Arc<State>>,
    caller: Caller,
    Segments(id): Segments<String>,
) -> Result<Response, ApiError> {
    let case = case_or_project_stream(&id)?;
    check_read(&state, &caller, &case).await?;
    let now = state.engine.now();
    let entries = {
        let p = state.engine.read();
        let Some(ledger) = p.ledger() else {
            return Err(ApiError::internal("the engine keeps no assessment ledger"));
        };
        let mut entries: Vec<_> = p
            .case_entries(case.as_str())
            .iter()
            .map(|e| ledger.view(e))
            .collect();
        let pending = if case.kind() == jiancha_events::StreamKind::Procurement {
            jiancha_projections::kinds::procurement::report::pending_entries(&p, ledger, now)
        } else {
            jiancha_projections::report::pending_entries(&p, ledger, now)
        };
        entries.extend(
            pending
                .iter()
                .filter(|e| *e.case == *case.as_str())
                .map(|e| ledger.view(e)),
        );
        entries
    };
    let answer = CaseLedger {
        case: case.to_string(),
        now: jiancha_projections::instant::format(now),
        entries,
    };
    Ok(crate::json_response(StatusCode::OK, &answer))
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
    Segments(id): Segments<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let (actor, org) = caller.supervisor()?;
    let case = case_or_project_stream(&id)?;
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
    if let Some(answer) = repeat_of(&state, &key, (actor, org), &data).await? {
        return Ok(answer);
    }
    // Once per case: a second exemption under a new key is refused (without one, the repeat
    // is answered with the first's position).
    let exempted = state
        .engine
        .read()
        .case(case.as_str())
        .is_some_and(|c| c.exempted);
    if exempted {
        // Without a key, the repeat is answered with the exemption's position, however it was
        // made; under a new key, it is refused.
        if matches!(key, Key::Given(_)) {
            return Err(ApiError::new(
                crate::error::ErrorKind::ActConflict,
                format!("case: {case} was exempted already (an exemption is once per case)"),
            )
            .field("case"));
        }
        let acts = state
            .store
            .read_concerning(case.as_str())
            .await
            .map_err(crate::events::store_refusal)?;
        if let Some(first) = acts
            .iter()
            .find(|e| matches!(e.data, EventData::Exempted(_)))
        {
            // The same exemption again is answered with its position; another reason would be
            // dropped by a 200, so it is refused.
            if first.data != data {
                return Err(ApiError::new(
                    crate::error::ErrorKind::ActConflict,
                    format!(
                        "case: {case} was exempted already at position {} with another reason \
                         (an exemption is once per case); nothing was appended",
                        first.position
                    ),
                )
                .field("case"));
            }
            return Ok(crate::events::answer(AppendOutcome {
                positions: vec![first.position],
                appended: 0,
            }));
        }
    }
    supervise(&state, actor, org, data, key).await
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct AppealBody {
    /// The ledger entry's stable id (`<position>/<measure>[/<n>]`).
    entry: String,
    reason: Option<String>,
    /// An idempotency key: a repeat under it answers with the original position.
    id: Option<String>,
}

/// `POST /appeals`: the bureau upholds an appeal of a card or a rating entry (`AppealUpheld`),
/// which reverses it (a rating at once, with its `rating.bad` card); supervisor only. An entry
/// the ledger does not hold, or that is no card or rating, is 400 naming `entry`; one reversed
/// already (by an appeal or an exemption) is 409.
pub(crate) async fn appeal(
    StateExtractor(state): StateExtractor<Arc<State>>,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let (actor, org) = caller.supervisor()?;
    let timeout = state.limits.body_read_timeout;
    let req: AppealBody = crate::body::action_body(&headers, body, timeout).await?;
    crate::caught_up(&state).await;
    let now = state.engine.now();
    // The appeal names the entry's case, which sees it (a rating's workflow ends with it). A
    // card the clock raised that no event folded yet is in no ledger: its entry names the
    // case's last event, whose stream is the case.
    let held = state
        .engine
        .read()
        .ledger()
        .and_then(|l| l.case_of(&req.entry));
    let case = match held {
        Some(case) => Some(case.to_string()),
        None => case_of_entry(&state, &req.entry).await?,
    };
    let key = Key::from_id(req.id);
    let data = EventData::AppealUpheld(jiancha_events::AppealUpheld {
        entry: req.entry.clone(),
        case: case.clone(),
        reason: req.reason,
    });
    if let Some(answer) = repeat_of(&state, &key, (actor, org), &data).await? {
        return Ok(answer);
    }
    let known = state
        .engine
        .read()
        .appeal_check(&req.entry, case.as_deref(), now);
    match known {
        Some(Err(e @ jiancha_projections::ledger::AppealError::AlreadyReversed(_))) => {
            return Err(
                ApiError::new(crate::error::ErrorKind::ActConflict, format!("entry: {e}"))
                    .field("entry"),
            )
        }
        Some(Err(e)) => return Err(ApiError::invalid(format!("entry: {e}")).field("entry")),
        _ => {}
    }
    supervise(&state, actor, org, data, key).await
}

/// A retry under the caller's idempotency key (`id`): when the id names an event already, the
/// same act (its type, data, actor and org; the instant is the server's, so it differs) is
/// answered with that event's position (200, nothing appended), before any check of the act
/// (which it would now fail: the act was done), and another act is 409 `id_reused`. `None`
/// when no key was given or it is new.
pub(crate) async fn repeat_of(
    state: &State,
    key: &Key,
    (actor, org): (&str, &str),
    data: &EventData,
) -> Result<Option<Response>, ApiError> {
    let Key::Given(id) = key else {
        return Ok(None);
    };
    let found = state
        .store
        .read_by_id(id)
        .await
        .map_err(crate::events::store_refusal)?;
    let Some(existing) = found else {
        return Ok(None);
    };
    let same = existing.stream == jiancha_events::SUPERVISION_STREAM
        && existing.data == *data
        && existing.actor == actor
        && existing.org == org;
    if !same {
        return Err(ApiError::new(
            crate::error::ErrorKind::IdReused,
            "id: already names a different event: choose a new id, or send the original act \
             unchanged",
        )
        .field("id"));
    }
    Ok(Some(crate::events::answer(AppendOutcome {
        positions: vec![existing.position],
        appended: 0,
    })))
}

/// The case or project whose event an entry id names (`<position>/…`), if that event is one.
async fn case_of_entry(state: &State, entry: &str) -> Result<Option<String>, ApiError> {
    let Ok(id) = jiancha_events::EntryId::parse(entry) else {
        return Ok(None);
    };
    let event = state
        .store
        .read_at(id.position)
        .await
        .map_err(crate::events::store_refusal)?;
    Ok(event
        .filter(|e| {
            matches!(
                e.data.stream_kind(),
                jiancha_events::StreamKind::Case | jiancha_events::StreamKind::Procurement
            )
        })
        .map(|e| e.stream.to_string()))
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

impl Key {
    /// The key of a body's optional `id`: the caller's own, else a new act each time.
    pub(crate) fn from_id(id: Option<String>) -> Key {
        id.map_or(Key::Fresh, Key::Given)
    }
}

/// Appends one supervision event now, and answers as an append does.
pub(crate) async fn supervise(
    state: &State,
    actor: &str,
    org: &str,
    data: EventData,
    key: Key,
) -> Result<Response, ApiError> {
    data.check_append()
        .map_err(|e| ApiError::invalid(e.to_string()).field(e.field.trim_start_matches("data.")))?;
    let stream = StreamName::supervision();
    let now: Millis = state.engine.now();
    let at = chrono::DateTime::from_timestamp_millis(now)
        .ok_or_else(|| ApiError::internal("the clock is out of range"))?
        .with_timezone(&jiancha_events::time::CHINA);
    let mut event = NewEvent::new(stream, at, actor, org, data);
    let once = match &key {
        Key::Once(id) => Some(id.clone()),
        _ => None,
    };
    event.id = match key {
        Key::Fresh => None,
        Key::Given(id) | Key::Once(id) => Some(id),
    };
    let data = event.data.clone();
    let outcome = match state.store.append(vec![event]).await {
        Ok(outcome) => outcome,
        Err(jiancha_store::StoreError::Rejected(r)) if once.is_some() => match r.kind {
            RejectionKind::IdReused { position } => {
                once_again(state, once.as_deref(), &data, position).await?
            }
            _ => return Err(crate::events::store_refusal(StoreError::Rejected(r))),
        },
        Err(e) => return Err(crate::events::store_refusal(e)),
    };
    Ok(crate::events::answer(outcome))
}

/// An act done once (`ack:<alert>`, `exempt:<case>`) sent again: one that adds nothing to what
/// was recorded (the same data, or an acknowledgement without a note) is answered with the
/// original position, whoever sends it (the card is acknowledged, the case exempted); one that
/// carries something else (another note, another reason) is 409: it is not recorded, and
/// saying 200 would drop it without a word.
async fn once_again(
    state: &State,
    id: Option<&str>,
    data: &EventData,
    position: u64,
) -> Result<AppendOutcome, ApiError> {
    let existing = match id {
        Some(id) => state
            .store
            .read_by_id(id)
            .await
            .map_err(crate::events::store_refusal)?,
        None => None,
    };
    let adds_nothing = |recorded: &EventData| match (recorded, data) {
        (EventData::AlertAcknowledged(was), EventData::AlertAcknowledged(now)) => {
            was.alert == now.alert && (now.note.is_none() || now.note == was.note)
        }
        _ => recorded == data,
    };
    match existing {
        Some(e) if adds_nothing(&e.data) => Ok(AppendOutcome {
            positions: vec![position],
            appended: 0,
        }),
        _ => Err(ApiError::new(
            crate::error::ErrorKind::ActConflict,
            format!(
                "already recorded at position {position} with another note or reason: this act \
                 is recorded once; nothing was appended"
            ),
        )),
    }
}
