//! `GET /api/v1/alerts/stream`: Server-Sent Events of alerts raised and closed.
//!
//! Each `alerts` message carries `id: <position>` and the changes at that position
//! (`{"position": P, "changes": [{"kind": "raised"|"closed"|"withdrawn", "alert": {…}}]}`). A client that
//! reconnects with `Last-Event-ID: P` (or `?after=P`) receives every message after P, each once.
//! A new client first gets a `ready` event whose id is the position it starts from. A client
//! whose id the journal no longer holds gets a `reload` event (with the position to continue
//! from): it should read `GET /api/v1/alerts` afresh, then carries on live. A unit's stream
//! holds only the changes of alerts under its org path.
//!
//! Slots: a token holds at most `sse_streams_per_token_max` streams (429 beyond it), and a
//! share of the slots is kept for the bureau (supervisor tokens and the open caller), so the
//! other tokens together cannot lock it out (503 when the slots they may take are gone).

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, State as StateExtractor};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::Stream;
use serde::Deserialize;
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};

use crate::auth::{Caller, Role, Scope};
use crate::error::{ApiError, ErrorKind};
use crate::journal::{Journal, Read};
use crate::State;

/// Messages taken from the journal per read.
const READ_BATCH_MESSAGES: usize = 256;
/// How often an idle stream sends a comment, so proxies keep it open.
const KEEP_ALIVE_INTERVAL: Duration = Duration::from_secs(15);
/// How long a client waits before reconnecting (the SSE `retry:` field), in milliseconds.
const RETRY_MS: u64 = 2_000;

/// The query of the stream.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StreamQuery {
    /// Resume after this position (as `Last-Event-ID`, which wins when both are given).
    after: Option<u64>,
}

struct Subscriber {
    journal: Arc<Journal>,
    head: watch::Receiver<u64>,
    stop: watch::Receiver<bool>,
    /// The org path a unit's stream is restricted to.
    under: Option<String>,
    cursor: u64,
    queued: VecDeque<Event>,
    _slot: Slot,
}

/// The live-stream slots: those any token may take, those kept for the bureau, and how many
/// each token holds (index: its rate bucket, 0 for the open caller).
#[derive(Debug)]
pub(crate) struct Slots {
    shared: Arc<Semaphore>,
    reserved: Arc<Semaphore>,
    total: usize,
    per_token: Arc<Vec<AtomicUsize>>,
    per_token_max: usize,
}

/// One stream's slot, given back when the stream ends.
#[derive(Debug)]
struct Slot {
    _permit: OwnedSemaphorePermit,
    _count: Option<TokenCount>,
}

/// One stream counted against its token, uncounted when dropped.
#[derive(Debug)]
struct TokenCount {
    counts: Arc<Vec<AtomicUsize>>,
    index: usize,
}

impl Drop for TokenCount {
    fn drop(&mut self) {
        if let Some(c) = self.counts.get(self.index) {
            c.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

impl Slots {
    pub(crate) fn new(limits: &crate::Limits, tokens: usize) -> Self {
        let total = limits.sse_subscribers_max;
        // At most half the slots are kept back, so the other tokens always have some.
        let reserved = limits.sse_reserved_for_supervisors.min(total / 2);
        Slots {
            shared: Arc::new(Semaphore::new(total - reserved)),
            reserved: Arc::new(Semaphore::new(reserved)),
            total,
            per_token: Arc::new((0..=tokens).map(|_| AtomicUsize::new(0)).collect()),
            per_token_max: limits.sse_streams_per_token_max,
        }
    }

    /// The streams open now.
    pub(crate) fn in_use(&self) -> usize {
        self.total - self.shared.available_permits() - self.reserved.available_permits()
    }

    /// A slot for the caller, or 429 (its own streams are at the cap) or 503 (no slot left
    /// that it may take).
    fn take(&self, caller: &Caller) -> Result<Slot, ApiError> {
        let (bureau, counted) = match caller {
            Caller::Open => (true, None),
            Caller::Token(p) => (p.role == Role::Supervisor, Some(p.index)),
        };
        let count = match counted {
            Some(index) if index < self.per_token.len() => Some(self.count(index)?),
            _ => None,
        };
        let permit = self.shared.clone().try_acquire_owned().or_else(|e| {
            if bureau {
                self.reserved.clone().try_acquire_owned()
            } else {
                Err(e)
            }
        });
        // On refusal `count` is dropped here, giving the token's count back.
        let permit = permit.map_err(|_| {
            ApiError::new(
                ErrorKind::Unavailable,
                format!(
                    "too many live alert streams (at most {}): try again later",
                    self.total
                ),
            )
        })?;
        Ok(Slot {
            _permit: permit,
            _count: count,
        })
    }

    /// Counts one more stream for the token at `index`, or 429 at its cap.
    fn count(&self, index: usize) -> Result<TokenCount, ApiError> {
        let max = self.per_token_max;
        self.per_token[index]
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .map_err(|_| {
                ApiError::new(
                    ErrorKind::TooManyRequests,
                    format!(
                        "this token already holds {max} live alert streams: close one (each \
                         dashboard tab holds one)"
                    ),
                )
            })?;
        Ok(TokenCount {
            counts: self.per_token.clone(),
            index,
        })
    }
}

fn resume_point(headers: &HeaderMap, query: &StreamQuery) -> Result<Option<u64>, ApiError> {
    match headers.get("last-event-id") {
        None => Ok(query.after),
        Some(v) => v
            .to_str()
            .ok()
            .map(str::trim)
            .and_then(|t| t.parse().ok())
            .map(Some)
            .ok_or_else(|| {
                ApiError::invalid("Last-Event-ID must be a position (the id of a message)")
                    .field("Last-Event-ID")
            }),
    }
}

/// Opens a live stream.
pub(crate) async fn stream(
    StateExtractor(state): StateExtractor<Arc<State>>,
    caller: Caller,
    headers: HeaderMap,
    query: Result<Query<StreamQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let under = match caller.read_scope()? {
        Scope::All => None,
        Scope::Under(org) => Some(org.to_owned()),
    };
    let Query(query) = query.map_err(crate::query_error)?;
    let after = resume_point(&headers, &query)?;
    let slot = state.sse_slots.take(&caller)?;
    let journal = state.journal.clone();
    let mut sub = Subscriber {
        head: journal.watch(),
        stop: state.stop.clone(),
        cursor: journal.head(),
        journal,
        under,
        queued: VecDeque::new(),
        _slot: slot,
    };
    match after {
        None => sub.queued.push_back(
            Event::default()
                .event("ready")
                .id(sub.cursor.to_string())
                .retry(Duration::from_millis(RETRY_MS))
                .data(format!("{{\"position\":{}}}", sub.cursor)),
        ),
        Some(p) => sub.cursor = p,
    }
    let sse = Sse::new(events(sub)).keep_alive(KeepAlive::new().interval(KEEP_ALIVE_INTERVAL));
    Ok(([("x-accel-buffering", "no")], sse).into_response())
}

impl Subscriber {
    /// Queues what the journal holds after the cursor; false when there is nothing new.
    fn fill(&mut self) -> bool {
        self.head.borrow_and_update();
        match self.journal.read_after(self.cursor, READ_BATCH_MESSAGES) {
            Read::Gap => {
                let head = self.journal.head();
                self.cursor = head;
                let data = serde_json::json!({
                    "position": head,
                    "reason": "the server no longer holds the alerts since your last message: \
                               read GET /api/v1/alerts again; the stream continues from here",
                });
                self.queued.push_back(
                    Event::default()
                        .event("reload")
                        .id(head.to_string())
                        .data(data.to_string()),
                );
                true
            }
            Read::Messages(messages) if messages.is_empty() => false,
            Read::Messages(messages) => {
                for m in messages {
                    self.cursor = m.id;
                    let data = match &self.under {
                        None => Some(m.json_all.clone()),
                        Some(root) => m.json_where(|c| c.alert.concerns_org(root)),
                    };
                    if let Some(data) = data {
                        self.queued.push_back(
                            Event::default()
                                .event("alerts")
                                .id(m.id.to_string())
                                .data(data),
                        );
                    }
                }
                true
            }
        }
    }
}

fn events(sub: Subscriber) -> impl Stream<Item = Result<Event, Infallible>> + Send {
    futures::stream::unfold(sub, |mut sub| async move {
        loop {
            if *sub.stop.borrow() {
                return None;
            }
            if let Some(event) = sub.queued.pop_front() {
                return Some((Ok(event), sub));
            }
            if sub.fill() {
                continue;
            }
            tokio::select! {
                changed = sub.head.changed() => if changed.is_err() { return None },
                _ = sub.stop.wait_for(|s| *s) => return None,
            }
        }
    })
}
