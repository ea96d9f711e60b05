//! `POST /api/v1/events?historical=true&reason=…`: the bureau enters a batch as history (a
//! department's records from before it joined the system), as `jiancha import --historical`
//! does. The store writes a `HistoryImported` declaration at the head, in the same transaction
//! and before the events, covering exactly their positions, so they raise no `data.backdated`
//! and count at their `occurred_at`.
//!
//! Supervisor only (other roles 403). The events keep the actor and org they carry (they are
//! other units' history; the declaration is the supervisor's); case and catalog streams only.
//! A historical batch holds new events only: an id already in the log is refused (400 naming
//! it), not answered with its position.

use std::time::Instant;

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use jiancha_events::StreamKind;
use jiancha_store::{HistoricalImport, ImportChunk};
use serde::Serialize;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::events::{prepare, refusal, split};
use crate::State;

/// The reason of a historical batch when none is given.
const DEFAULT_REASON: &str = "historical import";

/// The answer to a historical batch.
#[derive(Debug, Serialize)]
struct HistoryAppended {
    /// The position of each event, in order.
    positions: Vec<u64>,
    /// How many events were written (the declaration not counted).
    appended: u64,
    /// The position of the `HistoryImported` declaration.
    declaration: u64,
}

/// Appends a batch declared history.
pub(crate) async fn post(
    state: &State,
    caller: &Caller,
    reason: Option<String>,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let started = Instant::now();
    let (actor, org) = caller.supervisor()?;
    // The declaration's reason is kept in the chain and shown: given, it says something.
    if let Some(reason) = &reason {
        if reason.trim().is_empty() || reason.chars().any(char::is_control) {
            return Err(ApiError::invalid(
                "reason: must not be blank nor hold control characters (leave it out for the \
                 default)",
            )
            .field("reason"));
        }
    }
    // History is the district's own: an event of another district's org would add a root
    // row of its own to every report. (A local server, with no tokens, has no district.)
    let district = (org != crate::auth::OPEN_ORG).then(|| org.split('/').next().unwrap_or(org));
    let (format, bytes) = crate::events::read_events_body(state, headers, body).await?;
    let items = split(
        format,
        crate::events::utf8(&bytes)?,
        state.limits.events_per_batch_max,
    )?;
    let mut events = Vec::with_capacity(items.len());
    let now = state.engine.now();
    for (i, item) in items.iter().enumerate() {
        let event = crate::events::not_ahead(now, prepare(None, item)?, item.at)?;
        if !matches!(event.stream.kind(), StreamKind::Case | StreamKind::Catalog) {
            return Err(ApiError::forbidden(
                "stream: history holds case events and item definitions only",
            )
            .at(item.at)
            .field("stream"));
        }
        if let Some(district) = district {
            if !jiancha_events::stream::org_is_under(&event.org, district) {
                return Err(ApiError::invalid(format!(
                    "org: {:?} is outside the district {district:?}",
                    event.org
                ))
                .at(item.at)
                .field("org"));
            }
        }
        // The workflow's limits are the district center's act, in force from when it is
        // recorded: no history can set them after the fact.
        if matches!(
            event.data,
            jiancha_events::EventData::WorkflowLimitsDefined(_)
        ) {
            return Err(ApiError::forbidden(
                "type: WorkflowLimitsDefined is the district center's act, appended through \
                 /api/v1/events by its token, never entered as history",
            )
            .at(item.at)
            .field("type"));
        }
        events.push((i as u64, event));
    }
    let declared = HistoricalImport {
        events: events.len() as u64,
        reason: reason.unwrap_or_else(|| DEFAULT_REASON.to_owned()),
        actor: actor.to_owned(),
        org: org.to_owned(),
    };
    let (tx, rx) = tokio::sync::mpsc::channel(3);
    for chunk in [
        ImportChunk::Historical(declared),
        ImportChunk::Events(events),
        ImportChunk::Commit,
    ] {
        tx.try_send(chunk)
            .map_err(|_| ApiError::internal("the import channel is full"))?;
    }
    let outcome = state
        .store
        .import(rx)
        .await
        .map_err(|e| refusal(e, &items))?;
    let Some((declaration, last)) = outcome.range else {
        return Err(ApiError::internal("a historical batch wrote nothing"));
    };
    let appended = outcome.appended.saturating_sub(1);
    state.metrics.appended(appended, started.elapsed());
    let answer = HistoryAppended {
        positions: (declaration + 1..=last).collect(),
        appended,
        declaration,
    };
    Ok(crate::json_response(StatusCode::CREATED, &answer))
}
