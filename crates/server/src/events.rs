//! `POST /api/v1/events`: a batch of events, all or nothing.
//!
//! The body is a JSON array of event objects (`application/json`; one object is a batch of
//! one) or JSONL (`application/x-ndjson`, `application/jsonl` or `text/plain`), each event in
//! the interchange format and parsed by `jiancha_events::parse_line`, so a refusal names the
//! element (0-based) or line (1-based) and the field. `id` and `expected_version` are honoured.
//!
//! A token speaks only for itself: the server sets each event's `actor` to the token's name and
//! its `org` to the token's org path. A body may leave both out; an `actor` it gives must be the
//! token's name, an `org` must lie at or under the token's org path (segment-wise), and a case
//! already in the log must be handled by an org under it — else 403. That last check is the
//! store's, made inside the transaction that writes the batch (`append_scoped` with the token's
//! org path), so no concurrent append can change whose case it is in between; its refusal names
//! nothing of the org that does handle the case. A unit appends to case
//! streams only; a center also defines items (`catalog`) for orgs under it. Supervision events
//! go through the bureau's own endpoints, calendar amendments and moved (exported) events
//! through `jiancha import`. Without an auth file the events keep the actor and org they carry.
//!
//! `?historical=true&reason=…` (supervisor only) declares the batch history entered after the
//! fact: see `history`.
//!
//! The answer comes once the batch is committed; the engine folds it in a moment later. Reads
//! wait for the engine to fold everything committed before them, so a read that follows an
//! answer sees the append.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Query, State as StateExtractor};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use jiancha_events::stream::{check_org, org_is_under};
use jiancha_events::{parse_line, EventData, NewEvent, StreamKind};
use jiancha_projections::Millis;
use jiancha_store::{AppendOutcome, RejectionKind, StoreError};
use serde::Serialize;
use serde_json::value::RawValue;

use crate::auth::{Caller, Principal, Role};
use crate::body::{self, EventsFormat};
use crate::error::{ApiError, At, ErrorKind};
use crate::State;

/// One event of a batch, as sent.
#[derive(Debug)]
pub(crate) struct Item<'a> {
    pub(crate) at: At,
    pub(crate) text: &'a str,
}

/// The query of `POST /events`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AppendQuery {
    /// Declares the batch history (supervisor only).
    pub(crate) historical: Option<bool>,
    /// Why the history is entered late (with `historical`).
    pub(crate) reason: Option<String>,
}

/// The answer to an append.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(crate) struct Appended {
    /// The position of each event, in order (the original one for an id already in the log).
    pub positions: Vec<u64>,
    /// How many events were newly written.
    pub appended: u64,
}

/// Appends a batch.
pub(crate) async fn post(
    StateExtractor(state): StateExtractor<Arc<State>>,
    caller: Caller,
    query: Result<Query<AppendQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(crate::query_error)?;
    if q.historical == Some(true) {
        return crate::history::post(&state, &caller, q.reason, &headers, body).await;
    }
    if q.reason.is_some() {
        return Err(ApiError::invalid("reason: only with historical=true").field("reason"));
    }
    let started = Instant::now();
    let principal = caller.appender()?;
    let (format, bytes) = read_events_body(&state, &headers, body).await?;
    let items = split(format, utf8(&bytes)?, state.limits.events_per_batch_max)?;
    let now = state.engine.now();
    let events = items
        .iter()
        .map(|item| prepare(principal, item).and_then(|e| not_ahead(now, e, item.at)))
        .collect::<Result<Vec<_>, _>>()?;
    let scope = principal.and_then(|p| p.org.clone());
    check_appeals(&state, &events, &items)?;
    let streams: Vec<String> = events.iter().map(|e| e.stream.to_string()).collect();
    let outcome = state
        .store
        .append_scoped(events, scope)
        .await
        .map_err(|e| {
            let unseen = unseen_case(&e, &streams, &items, &caller);
            unseen.unwrap_or_else(|| redact(refusal(e, &items), &caller))
        })?;
    state.metrics.appended(outcome.appended, started.elapsed());
    Ok(answer(outcome))
}

/// The body of a batch of events, within the size and time limits, and its format.
pub(crate) async fn read_events_body(
    state: &State,
    headers: &HeaderMap,
    body: Body,
) -> Result<(EventsFormat, axum::body::Bytes), ApiError> {
    let format = body::events_format(headers)?;
    let limits = &state.limits;
    let bytes = body::read(
        headers,
        body,
        limits.body_bytes_max,
        limits.body_read_timeout,
    )
    .await?;
    Ok((format, bytes))
}

/// The body as text, refused unless UTF-8.
pub(crate) fn utf8(bytes: &[u8]) -> Result<&str, ApiError> {
    std::str::from_utf8(bytes)
        .map_err(|e| ApiError::invalid(format!("the body is not UTF-8: {e}")).field("json"))
}

/// 201 when anything was written, 200 when every event was already in the log.
pub(crate) fn answer(outcome: AppendOutcome) -> Response {
    let status = if outcome.appended > 0 {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    crate::json_response(
        status,
        &Appended {
            positions: outcome.positions,
            appended: outcome.appended,
        },
    )
}

fn too_many(max: usize) -> ApiError {
    ApiError::new(
        ErrorKind::TooLarge,
        format!("more than {max} events in one batch: split it into smaller batches"),
    )
}

/// The events of a body, each with its place.
pub(crate) fn split(
    format: EventsFormat,
    text: &str,
    max: usize,
) -> Result<Vec<Item<'_>>, ApiError> {
    let items = match format {
        EventsFormat::Jsonl => {
            let mut items = Vec::new();
            for (n, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                if items.len() == max {
                    return Err(too_many(max));
                }
                items.push(Item {
                    at: At::Line(n + 1),
                    text: line,
                });
            }
            items
        }
        EventsFormat::Json if text.trim_start().starts_with('{') => vec![Item {
            at: At::Index(0),
            text,
        }],
        EventsFormat::Json => {
            let elements: Vec<&RawValue> = serde_json::from_str(text).map_err(|e| {
                ApiError::invalid(format!(
                    "json: the body must be a JSON array of events (or one event): {e}"
                ))
                .field("json")
            })?;
            if elements.len() > max {
                return Err(too_many(max));
            }
            elements
                .into_iter()
                .enumerate()
                .map(|(i, raw)| Item {
                    at: At::Index(i),
                    text: raw.get(),
                })
                .collect()
        }
    };
    if items.is_empty() {
        return Err(ApiError::invalid("the body holds no events").field("json"));
    }
    Ok(items)
}

/// Parses one event, with the token's actor and org set, and checks what the token may write.
pub(crate) fn prepare(
    principal: Option<&Principal>,
    item: &Item<'_>,
) -> Result<NewEvent, ApiError> {
    let stamped;
    let text = match principal {
        None => item.text,
        Some(p) => {
            stamped = stamp(p, item)?;
            stamped.as_deref().unwrap_or(item.text)
        }
    };
    let line = match item.at {
        At::Line(n) => n,
        At::Index(i) => i,
    };
    let event = parse_line(line, text).map_err(|e| {
        ApiError::invalid(format!("{}: {}", e.field, e.message))
            .at(item.at)
            .field(e.field)
    })?;
    if event.moved.is_some() {
        return Err(ApiError::invalid(
            "hash: an exported event (with position, recorded_at and hash) is moved with \
             `jiancha import`, not over HTTP",
        )
        .at(item.at)
        .field("hash"));
    }
    if let Some(p) = principal {
        check_stream(p, &event).map_err(|e| e.at(item.at))?;
    }
    Ok(event)
}

/// The event, unless it says it occurred after the server's clock `now` (by more than
/// [`jiancha_events::time::AHEAD_MAX_MILLIS`]): an act is entered when or after it happens. Taken, a conclusion dated
/// next year would show an overdue case as concluded in every view with no instant until then.
pub(crate) fn not_ahead(now: Millis, event: NewEvent, at: At) -> Result<NewEvent, ApiError> {
    use jiancha_events::time::AHEAD_MAX_MILLIS;
    if event.occurred_at.timestamp_millis() <= now.saturating_add(AHEAD_MAX_MILLIS) {
        return Ok(event);
    }
    let clock = chrono::DateTime::from_timestamp_millis(now)
        .map(|t| jiancha_events::format_timestamp(&t.with_timezone(&jiancha_events::time::CHINA)))
        .unwrap_or_default();
    Err(ApiError::invalid(format!(
        "occurred_at: {} is after the server's clock ({clock}) by more than {} minutes: an \
         event is entered when or after it happens",
        jiancha_events::format_timestamp(&event.occurred_at),
        AHEAD_MAX_MILLIS / 60_000
    ))
    .at(at)
    .field("occurred_at"))
}

/// The event's text with the token's actor and org added where it leaves them out (`None`:
/// nothing to add, or not a JSON object; the parser will say what is wrong with it). The text
/// is never re-encoded: the parser sees the fields as sent, a repeated key included, so a line
/// is refused here exactly as `jiancha import` refuses it.
fn stamp(p: &Principal, item: &Item<'_>) -> Result<Option<String>, ApiError> {
    let Ok(Fields(fields)) = serde_json::from_str::<Fields<'_>>(item.text) else {
        return Ok(None);
    };
    let org = p.org.as_deref().unwrap_or_default();
    let text = |key: &'static str| {
        fields
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| serde_json::from_str::<String>(v.get()).ok())
    };
    for actor in text("actor").flatten() {
        if actor != p.name {
            return Err(ApiError::forbidden(format!(
                "actor: this token writes as {:?}, not {actor:?}: leave actor out",
                p.name
            ))
            .at(item.at)
            .field("actor"));
        }
    }
    for given in text("org").flatten() {
        check_org("org", &given)
            .map_err(|e| ApiError::invalid(e.to_string()).at(item.at).field("org"))?;
        if !org_is_under(&given, org) {
            return Err(ApiError::forbidden(format!(
                "org: {given:?} is outside this token's org path {org:?}"
            ))
            .at(item.at)
            .field("org"));
        }
    }
    let mut added = Vec::new();
    for (key, value) in [("actor", p.name.as_str()), ("org", org)] {
        if text(key).next().is_none() {
            let value = serde_json::to_string(value)
                .map_err(|e| ApiError::internal(format!("cannot encode {key}: {e}")))?;
            added.push(format!("\"{key}\":{value}"));
        }
    }
    let Some(open) = item.text.trim_end().strip_suffix('}') else {
        return Ok(None);
    };
    if added.is_empty() {
        return Ok(None);
    }
    let comma = if fields.is_empty() { "" } else { "," };
    Ok(Some(format!("{open}{comma}{}}}", added.join(","))))
}

/// The top-level fields of a JSON object as sent, in order, repeats kept.
struct Fields<'a>(Vec<(String, &'a RawValue)>);

impl<'de: 'a, 'a> serde::Deserialize<'de> for Fields<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for Visitor<'a> {
            type Value = Fields<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(
                self,
                mut map: M,
            ) -> Result<Self::Value, M::Error> {
                let mut fields = Vec::new();
                while let Some(entry) = map.next_entry::<String, &'de RawValue>()? {
                    fields.push(entry);
                }
                Ok(Fields(fields))
            }
        }
        deserializer.deserialize_map(Visitor(std::marker::PhantomData))
    }
}

/// What streams a token may append to.
fn check_stream(p: &Principal, event: &NewEvent) -> Result<(), ApiError> {
    let org = p.org.as_deref().unwrap_or_default();
    match (event.stream.kind(), p.role) {
        // The purchaser answers for a project and carries its cards: a token opens projects
        // of purchasers under its own path only (the store holds the rest of the project to it).
        (StreamKind::Procurement, _) => match &event.data {
            EventData::ProcurementRegistered(r) if !org_is_under(&r.purchaser_org, org) => Err(
                outside_path("data.purchaser_org", format!("{:?}", r.purchaser_org), org),
            ),
            _ => Ok(()),
        },
        // A rating or a complaint is the citizen's, brought by the center (the 好差评 and
        // complaint channels), never by the unit it judges.
        (StreamKind::Case, Role::Unit)
            if matches!(event.data, EventData::Rated(_) | EventData::Complained(_)) =>
        {
            Err(ApiError::forbidden(format!(
                "type: {} is the citizen's: it is brought by the center's token, not by the \
                 unit it judges",
                event.data.type_name()
            ))
            .field("type"))
        }
        (StreamKind::Case, _) => Ok(()),
        (StreamKind::Catalog, Role::Center) => match &event.data {
            EventData::ThresholdDefined(t) if !org_is_under(&t.jurisdiction, org) => Err(
                outside_path("data.jurisdiction", format!("{:?}", t.jurisdiction), org),
            ),
            EventData::ItemDefined(item) if !org_is_under(&item.org, org) => Err(outside_path(
                "data.org",
                format!("item {}'s org {:?}", item.code, item.org),
                org,
            )),
            EventData::OrgDefined(o) if !org_is_under(&o.path, org) => {
                Err(outside_path("data.path", format!("org {:?}", o.path), org))
            }
            // The workflow's limits hold for the whole district: its center defines them.
            EventData::WorkflowLimitsDefined(_) if org.contains('/') => {
                Err(ApiError::forbidden(format!(
                    "type: WorkflowLimitsDefined holds for the whole district: it is defined by \
                     a center token of the district's root, not of {org:?}"
                ))
                .field("type"))
            }
            _ => Ok(()),
        },
        (StreamKind::Catalog, _) => Err(ApiError::forbidden(
            "stream: a unit token appends to case streams only; items are defined by the center",
        )
        .field("stream")),
        // The workflow acts are held to their roles by their own endpoints (`auth::Act`); a
        // token cannot reach around them through a batch.
        (StreamKind::Supervision, _) => Err(ApiError::forbidden(
            "stream: supervision events, the workflow's acts included, are written through \
             their endpoints, each held to its roles: /api/v1/alerts/{id}/acknowledge, \
             …/correction-orders, …/report-backs, …/verifications, \
             /api/v1/cases/{id}/rating/verification, …/rating/rectification, \
             …/rating/callback, /api/v1/cases/{id}/complaints/{n}/acceptance, …/rejection, \
             …/answer and /api/v1/cases/{id}/exemptions",
        )
        .field("stream")),
        (StreamKind::Calendar, _) => Err(ApiError::forbidden(
            "stream: calendar amendments are imported with `jiancha import` by the operator",
        )
        .field("stream")),
    }
}

/// 403 naming `field`: `what` lies outside the token's org path `org`.
fn outside_path(field: &'static str, what: String, org: &str) -> ApiError {
    ApiError::forbidden(format!(
        "{field}: {what} is outside this token's org path {org:?}"
    ))
    .field(field)
}

/// An appeal must name a card or a rating entry the ledger holds and has not reversed (rules
/// v2); entries of events in the same batch are not in the ledger yet. The engine's ledger is
/// a prefix of the log, and entries are never removed, so one it holds is in the log.
fn check_appeals(state: &State, events: &[NewEvent], items: &[Item<'_>]) -> Result<(), ApiError> {
    let appeals: Vec<(&str, Option<&str>, i64, &Item<'_>)> = events
        .iter()
        .zip(items)
        .filter_map(|(e, item)| match &e.data {
            jiancha_events::EventData::AppealUpheld(a) => Some((
                a.entry.as_str(),
                a.case.as_deref(),
                e.occurred_at.timestamp_millis(),
                item,
            )),
            _ => None,
        })
        .collect();
    if appeals.is_empty() {
        return Ok(());
    }
    let projections = state.engine.read();
    projections
        .check_appeal_batch(
            appeals
                .iter()
                .map(|(entry, case, at, _)| (*entry, *case, *at)),
        )
        .map_err(|(i, field, message)| {
            let e = ApiError::invalid(format!("{field}: {message}")).field(field);
            match appeals.get(i) {
                Some((_, _, _, item)) => e.at(item.at),
                None => e,
            }
        })
}

/// A store's refusal, placed on its line or element.
pub(crate) fn refusal(error: StoreError, items: &[Item<'_>]) -> ApiError {
    let tag = match &error {
        StoreError::Rejected(r) => usize::try_from(r.tag).ok(),
        _ => None,
    };
    let e = store_refusal(error);
    match tag.and_then(|t| items.get(t)) {
        Some(item) => e.at(item.at),
        None => e,
    }
}

/// For a token scoped to an org path, a case outside its scope and a case that does not exist
/// are one answer (404, the same text): a refusal must not tell a unit whether another org's
/// case exists. `None` for any other refusal, or an unscoped caller.
fn unseen_case(
    e: &StoreError,
    streams: &[String],
    items: &[Item<'_>],
    caller: &Caller,
) -> Option<ApiError> {
    let scoped = matches!(caller.read_scope(), Ok(crate::auth::Scope::Under(_)));
    let StoreError::Rejected(r) = e else {
        return None;
    };
    let unseen = match &r.kind {
        RejectionKind::OutOfScope { .. } => true,
        // A case never submitted, a project never registered: neither exists.
        RejectionKind::Invalid => {
            r.field == "stream"
                && (r.message.contains("was never submitted")
                    || r.message.contains("was never registered"))
        }
        _ => false,
    };
    if !scoped || !unseen {
        return None;
    }
    let index = usize::try_from(r.tag).ok()?;
    let stream = streams.get(index)?;
    let error = ApiError::not_found(format!(
        "stream: no case {stream} under this token's org path (a case begins with its \
         Submitted event, a project with its ProcurementRegistered)"
    ))
    .field("stream");
    Some(match items.get(index) {
        Some(item) => error.at(item.at),
        None => error,
    })
}

/// A reused id told to a token scoped to an org path: the event already holding the id may be
/// another org's, so the answer names nothing of it (no position, type or stream). The
/// supervisor's and the center's tokens read the whole log: they keep the position.
fn redact(e: ApiError, caller: &Caller) -> ApiError {
    let scoped = matches!(caller.read_scope(), Ok(crate::auth::Scope::Under(_)));
    if e.kind != ErrorKind::IdReused || !scoped {
        return e;
    }
    let mut redacted = ApiError::new(
        ErrorKind::IdReused,
        "id: already names a different event: choose a new id, or send the original event \
         unchanged",
    )
    .field("id");
    if let Some(at) = e.at {
        redacted = redacted.at(at);
    }
    redacted
}

/// A store's refusal: 400; 403 for a case outside the caller's scope; 409 for a version
/// conflict, a reused id or a second submission; 422 for a transfer out of the district; 503
/// naming the first bad position on a broken log; 500 for the machinery. None names another
/// org or shows another org's event.
pub(crate) fn store_refusal(error: StoreError) -> ApiError {
    let r = match error {
        StoreError::Rejected(r) => r,
        StoreError::ChainBroken(b) => return crate::error::chain_broken(&b),
        other => return ApiError::internal(other),
    };
    let message = format!("{}: {}", r.field, r.message);
    let e = match &r.kind {
        RejectionKind::Invalid => ApiError::invalid(message),
        RejectionKind::Conflict {
            stream,
            expected,
            actual,
        } => ApiError::new(ErrorKind::VersionConflict, message)
            .detail(serde_json::json!({"stream": stream, "expected": expected, "actual": actual})),
        RejectionKind::IdReused { position } => ApiError::new(ErrorKind::IdReused, message)
            .detail(serde_json::json!({ "position": position })),
        RejectionKind::AlreadySubmitted { stream } => {
            ApiError::new(ErrorKind::AlreadySubmitted, message)
                .detail(serde_json::json!({ "stream": stream }))
        }
        RejectionKind::OutOfScope { .. } => ApiError::forbidden(message),
        RejectionKind::OutsideDistrict => ApiError::new(ErrorKind::OutsideDistrict, message),
    };
    e.field(r.field)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit() -> Principal {
        Principal {
            index: 1,
            name: "w1".into(),
            role: Role::Unit,
            org: Some("jiangjin/town-1".into()),
            districts: Vec::new(),
        }
    }

    const EVENT: &str = r#"{"stream":"case-1","type":"Submitted","occurred_at":"2026-03-02T09:00:00+08:00","data":{"item":"x","channel":"window","materials":[]}}"#;

    #[test]
    fn a_token_sets_actor_and_org() {
        let item = Item {
            at: At::Line(1),
            text: EVENT,
        };
        let event = prepare(Some(&unit()), &item).unwrap();
        assert_eq!(
            (event.actor.as_str(), event.org.as_str()),
            ("w1", "jiangjin/town-1")
        );
    }

    #[test]
    fn a_token_cannot_speak_for_a_sibling_or_escape() {
        for (org, kind) in [
            ("jiangjin/town-10", ErrorKind::Forbidden),
            ("jiangjin", ErrorKind::Forbidden),
            ("jiangjin/town-1/../town-10", ErrorKind::Invalid),
        ] {
            let text = EVENT.replace("\"data\"", &format!("\"org\":\"{org}\",\"data\""));
            let item = Item {
                at: At::Index(3),
                text: &text,
            };
            let refused = prepare(Some(&unit()), &item).unwrap_err();
            assert_eq!(refused.kind, kind, "{org}");
            assert_eq!(refused.at, Some(At::Index(3)));
            assert_eq!(refused.field.as_deref(), Some("org"));
        }
        let text = EVENT.replace("\"data\"", "\"org\":\"jiangjin/town-1/village-2\",\"data\"");
        let item = Item {
            at: At::Index(0),
            text: &text,
        };
        assert_eq!(
            prepare(Some(&unit()), &item).unwrap().org,
            "jiangjin/town-1/village-2"
        );
    }

    #[test]
    fn a_repeated_key_reaches_the_parser_as_sent() {
        // Re-encoding through a map would keep only the last `stream` and accept the line.
        let text = EVENT.replace(
            r#""stream":"case-1","#,
            r#""stream":"case-1","stream":"case-2","#,
        );
        let item = Item {
            at: At::Line(1),
            text: &text,
        };
        let refused = prepare(Some(&unit()), &item).unwrap_err();
        assert_eq!(refused.kind, ErrorKind::Invalid);
        assert!(
            refused.message.contains("duplicate field"),
            "{}",
            refused.message
        );
        let inner = EVENT.replace(r#""item":"x","#, r#""item":"x","item":"y","#);
        let item = Item {
            at: At::Line(1),
            text: &inner,
        };
        assert!(prepare(Some(&unit()), &item).is_err());
    }

    #[test]
    fn blank_lines_keep_their_numbers() {
        let body = format!("{EVENT}\n\n{EVENT}\n");
        let items = split(EventsFormat::Jsonl, &body, 10).unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[1].at, At::Line(3));
        assert_eq!(
            split(EventsFormat::Jsonl, &body, 1).unwrap_err().kind,
            ErrorKind::TooLarge
        );
    }
}
