//! Closed periods over HTTP: `POST /api/v1/reports/close` (the bureau closes a period: its
//! canonical report, from the engine's fold at the engine's clock, fixed by its SHA-256 in a
//! `PeriodClosed` event), `GET /api/v1/reports?as_closed=true` (the report as closed: the log
//! replayed up to the close's position, evaluated at its instant, the digest checked), and the
//! `closed` object a closed period's report carries.
//!
//! Which periods are closed is read from the supervision stream. A close never changes once in
//! the log, so a close found is kept; "not closed" is kept only while the engine stays at the
//! same position, so a dashboard asking about twelve months reads the stream once.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

use axum::body::Body;
use axum::extract::{Query, State as StateExtractor};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use jiancha_engine::closing::{self, Closed};
use jiancha_projections::{Period, Projections, Report};
use jiancha_store::{RejectionKind, StoreError};
use serde::{Deserialize, Serialize};

use crate::auth::Caller;
use crate::error::{ApiError, ErrorKind};
use crate::State;

/// The closes found so far, and the periods found open at one engine position.
#[derive(Debug, Default)]
pub(crate) struct Closes {
    inner: Mutex<Known>,
}

#[derive(Debug, Default)]
struct Known {
    closed: HashMap<String, Closed>,
    open_at: u64,
    open: HashSet<String>,
    /// A closed period's entries as its close held them (the log replayed up to the close): the
    /// closed side of its adjustments, which never changes.
    at_close: HashMap<String, Arc<ClosedEntries>>,
}

/// The entries of a closed period's months at its close, by stable id.
pub(crate) type ClosedEntries = BTreeMap<String, jiancha_projections::EntryView>;

impl Closes {
    fn lock(&self) -> std::sync::MutexGuard<'_, Known> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The close of the period `label`, if it is closed (call once the engine caught up).
    pub(crate) async fn find(
        &self,
        state: &State,
        label: &str,
    ) -> Result<Option<Closed>, ApiError> {
        let position = state.engine.position();
        {
            let known = self.lock();
            if let Some(c) = known.closed.get(label) {
                return Ok(Some(c.clone()));
            }
            if known.open_at == position && known.open.contains(label) {
                return Ok(None);
            }
        }
        let found = closing::find(&*state.store, label)
            .await
            .map_err(ApiError::internal)?;
        let mut known = self.lock();
        match &found {
            Some(c) => {
                known.closed.insert(label.to_owned(), c.clone());
            }
            None => {
                if known.open_at != position {
                    known.open.clear();
                    known.open_at = position;
                }
                known.open.insert(label.to_owned());
            }
        }
        Ok(found)
    }
}

/// The entries of the closed `period`'s months as its close held them: kept after the first
/// ask, which replays the log up to the close (one replay at a time: 429 meanwhile).
pub(crate) async fn entries_at_close(
    state: &State,
    period: &Period,
    closed: &Closed,
) -> Result<Arc<ClosedEntries>, ApiError> {
    if let Some(kept) = state.closes.lock().at_close.get(&period.label) {
        return Ok(kept.clone());
    }
    // The fold up to the close, whether or not it reproduces the closed figures: the entries
    // recorded after the close are told apart by position, not by figures.
    let projections = {
        let _slot = crate::replay_slot(state, "a replay of the log")?;
        fold_to_close(state, closed).await?
    };
    let entries = Arc::new(jiancha_projections::report::period_entries(
        period,
        (&projections, closed.at),
    ));
    state
        .closes
        .lock()
        .at_close
        .insert(period.label.clone(), entries.clone());
    Ok(entries)
}

/// 409 for a period that cannot be closed (or reproduced) as asked.
fn conflict(message: String, closed: Option<&Closed>) -> ApiError {
    let e = ApiError::new(ErrorKind::PeriodConflict, message).field("period");
    match closed.and_then(|c| serde_json::to_value(c).ok()) {
        Some(detail) => e.detail(detail),
        None => e,
    }
}

fn already_closed(c: &Closed) -> ApiError {
    conflict(
        format!(
            "period {} was already closed at {} (position {})",
            c.period, c.closed_at, c.position
        ),
        Some(c),
    )
}

/// The query and body of `POST /reports/close`: the period, in either.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CloseRequest {
    period: Option<String>,
}

/// The answer to a close.
#[derive(Debug, Serialize)]
struct ClosedAnswer<'a> {
    #[serde(flatten)]
    closed: &'a Closed,
    /// Where the `PeriodClosed` event is.
    event_position: u64,
    /// Whether the close keeps the figures (false: too large for one event; `as_closed` then
    /// replays the log).
    figures_kept: bool,
}

/// `POST /reports/close`: the bureau closes a period that has ended and is not closed yet.
pub(crate) async fn close(
    StateExtractor(state): StateExtractor<Arc<State>>,
    caller: Caller,
    query: Result<Query<CloseRequest>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let (actor, org) = caller.supervisor()?;
    let Query(q) = query.map_err(crate::query_error)?;
    let b: CloseRequest =
        crate::body::action_body(&headers, body, state.limits.body_read_timeout).await?;
    // One period, in the query or the body: two that differ name no period.
    if let (Some(a), Some(b)) = (&q.period, &b.period) {
        if a != b {
            return Err(ApiError::invalid(format!(
                "period: the query says {a:?} and the body {b:?}: give it once"
            ))
            .field("period"));
        }
    }
    let label = q.period.or(b.period).ok_or_else(|| {
        ApiError::invalid("period: give period=YYYY-MM (or YYYY-Q1, YYYY-H1, YYYY)").field("period")
    })?;
    let period =
        Period::parse(&label).map_err(|e| ApiError::invalid(e.to_string()).field("period"))?;
    let now = state.engine.now();
    if !closing::has_ended(&period, now) {
        let end = closing::end_text(&period);
        return Err(conflict(
            format!("period {label} has not ended yet: it ends at {end}"),
            None,
        ));
    }
    crate::caught_up(&state).await;
    if let Some(c) = state.closes.find(&state, &label).await? {
        return Err(already_closed(&c));
    }
    let (report, position) = {
        let p = state.engine.read();
        (
            p.report(&closing::canonical_query(period.clone()), now),
            p.position(),
        )
    };
    let report =
        report.ok_or_else(|| ApiError::internal("the engine keeps no assessment ledger"))?;
    let text = closing::report_text(&report).map_err(ApiError::internal)?;
    let kept = closing::kept_text(&report).map_err(ApiError::internal)?;
    let digest = closing::digest(&text);
    let at = chrono::DateTime::from_timestamp_millis(now)
        .ok_or_else(|| ApiError::internal("the clock is out of range"))?
        .with_timezone(&jiancha_events::time::CHINA);
    let event = closing::close_event(
        &label,
        (digest.clone(), position),
        Some(kept),
        at,
        actor,
        org,
    )
    .map_err(ApiError::internal)?;
    let figures_kept =
        matches!(&event.data, jiancha_events::EventData::PeriodClosed(c) if c.report.is_some());
    // Closed a moment ago by another request: read from the log itself (the cache of periods
    // found open is of the engine's position, which may not have moved yet).
    let closed_meanwhile = || async {
        closing::find(&*state.store, &label)
            .await
            .map_err(ApiError::internal)
    };
    let outcome = match state.store.append(vec![event]).await {
        // The same close sent twice at once is taken once: the second is told it was closed.
        Ok(outcome) if outcome.appended == 0 => {
            let c = closed_meanwhile().await?;
            return Err(c.as_ref().map_or_else(
                || conflict(format!("period {label} was already closed"), None),
                already_closed,
            ));
        }
        Ok(outcome) => outcome,
        Err(StoreError::Rejected(r)) if matches!(r.kind, RejectionKind::IdReused { .. }) => {
            let c = closed_meanwhile().await?;
            return Err(c
                .as_ref()
                .map_or_else(|| conflict(r.message, None), already_closed));
        }
        Err(e) => return Err(crate::events::store_refusal(e)),
    };
    let closed = Closed {
        period: label,
        position,
        digest,
        closed_at: jiancha_events::format_timestamp(&at),
        at: now,
        event_position: outcome.positions.first().copied().unwrap_or_default(),
    };
    let answer = ClosedAnswer {
        closed: &closed,
        event_position: closed.event_position,
        figures_kept,
    };
    Ok(crate::json_response(StatusCode::CREATED, &answer))
}

/// The figures of a closed period as closed, and its close: the report its close keeps
/// (checked against the digest) when the question is by org and the close keeps one, else the
/// log replayed up to the close (one replay at a time, as verifications), the digest checked.
pub(crate) async fn as_closed(
    state: &State,
    query: &jiancha_projections::ReportQuery,
) -> Result<(Report, Closed), ApiError> {
    let period = &query.period;
    let Some(closed) = state.closes.find(state, &period.label).await? else {
        return Err(ApiError::not_found(format!(
            "period {} was never closed",
            period.label
        )));
    };
    let by_org = query.by == jiancha_projections::ledger::Dimension::Org;
    // Kept figures that are not the closed ones (they do not hash to the digest, or their row
    // breaks the chain) are passed over for the replay, which still proves itself by the digest.
    let kept = if by_org {
        match closing::kept_report(&*state.store, &closed).await {
            Ok(kept) => kept,
            Err(closing::KeptError::Store(e)) => return Err(ApiError::internal(e)),
            Err(e @ closing::KeptError::Mismatch { .. }) => {
                tracing::warn!(period = %closed.period, why = %e, "a close's kept figures are passed over");
                None
            }
        }
    } else {
        None
    };
    let report = match kept {
        Some(report) => report,
        None => {
            let _slot = crate::replay_slot(state, "a replay of the log")?;
            let r = reproduce(state, period, &closed).await?;
            match r.kept {
                Some(_) if !by_org => {
                    return Err(conflict(
                        format!(
                            "the closed report of {} does not reproduce with this server's build and scoring, and its \
                             close keeps the figures by org only: ask by=org",
                            period.label
                        ),
                        Some(&closed),
                    ))
                }
                Some(report) => report,
                None => r
                    .projections
                    .report(query, closed.at)
                    .ok_or_else(|| ApiError::internal("the replay keeps no assessment ledger"))?,
            }
        }
    };
    let mut report = report;
    if let (true, Some(depth)) = (by_org, query.depth) {
        report.keep_depth(depth);
    }
    Ok((report, closed))
}

/// The log folded up to a close, with the server's thresholds and scoring.
async fn fold_to_close(state: &State, closed: &Closed) -> Result<Projections, ApiError> {
    let scoring = state
        .engine
        .read()
        .ledger()
        .map(|l| l.scoring)
        .unwrap_or_default();
    closing::fold_closed(&*state.store, state.alert_config, scoring, closed)
        .await
        .map_err(ApiError::internal)
}

/// A closed period's log replayed up to its close; when it does not give the closed figures
/// (the server's scoring or thresholds, or its rules, differ from the close's), the figures
/// the close keeps.
pub(crate) struct Reproduced {
    /// The log folded up to the close.
    pub(crate) projections: Projections,
    /// The figures kept in the close, when the replay does not reproduce them.
    pub(crate) kept: Option<Report>,
}

/// The projections the closed report of `period` is read from: the log replayed up to its
/// close, the digest checked; a replay that does not reproduce it comes with the report the
/// close keeps (409 when it keeps none). The caller holds a replay slot.
pub(crate) async fn reproduce(
    state: &State,
    period: &Period,
    closed: &Closed,
) -> Result<Reproduced, ApiError> {
    let projections = fold_to_close(state, closed).await?;
    let text = closing::canonical_text(&projections, period, closed.at)
        .ok_or_else(|| ApiError::internal("the replay keeps no assessment ledger"))?
        .map_err(ApiError::internal)?;
    let computed = closing::digest(&text);
    if computed == closed.digest {
        return Ok(Reproduced {
            projections,
            kept: None,
        });
    }
    let kept = closing::kept_report(&*state.store, closed)
        .await
        .map_err(|e| match e {
            closing::KeptError::Store(e) => ApiError::internal(e),
            e @ closing::KeptError::Mismatch { .. } => conflict(
                format!(
                    "the closed report of {} does not reproduce (digest {} recorded, {computed} \
                     computed), and {e}",
                    period.label, closed.digest
                ),
                Some(closed),
            ),
        })?;
    match kept {
        Some(report) => {
            closing::warn_read_from_close(closed, &computed);
            Ok(Reproduced {
                projections,
                kept: Some(report),
            })
        }
        None => Err(conflict(
            format!(
                "the closed report of {} does not reproduce: digest {} was recorded, {computed} \
                 computed (the server's scoring or thresholds differ from the close's), and the \
                 close keeps no report",
                period.label, closed.digest
            ),
            Some(closed),
        )),
    }
}
