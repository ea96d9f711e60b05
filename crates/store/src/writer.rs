//! The writer task both SQL stores share: one task per store owns a connection, gathers queued
//! appends into one transaction (group commit), streams imports chunk by chunk, and answers
//! every caller after the commit. What differs between databases — how to take the write lock,
//! read the head, look rows up and insert them — sits behind [`LogConnection`]; the rules of the
//! log stay in [`crate::plan`]. This file is the task itself (its loop, and how a transaction
//! begins and ends); the rest is one concern per module:
//!
//! - `handle`: [`WriterHandle`], the way in, and the requests it queues;
//! - `connection`: [`LogConnection`], what each database implements;
//! - `lookup`: what a plan needs read from the log first (stream versions, stored ids, owners);
//! - `group`: group commit, many appends in one transaction;
//! - `import`: the import pipeline, chunks written in runs with the next planned meanwhile.

mod connection;
mod group;
mod handle;
mod import;
mod lookup;

use hashbrown::HashMap;
use std::sync::Arc;

use jiancha_events::{ChainBreak, NewEvent, RawEvent};
use tokio::sync::{mpsc, watch};

use crate::clock::Clock;
use crate::error::StoreError;
use crate::plan::{Head, TxState};

pub(crate) use connection::{LogConnection, OwnerRow, PreviousChunk, RunPlanner};
use handle::Request;
pub(crate) use handle::WriterHandle;

/// Stream versions cached between transactions, at most.
const VERSION_CACHE_MAX: usize = 1_000_000;

/// A batch with each event's tag (its index in the batch, or its line number).
type Tagged = Vec<(u64, NewEvent)>;

/// Whether a transaction keeps the ids it plans, for a later batch in it to find.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PlannedIds {
    /// Kept: a group commit's batches may repeat each other's ids.
    Keep,
    /// Not kept: a large import finds its own ids through the database.
    LeaveToDatabase,
}

/// A head no transaction starts from: the version cache is empty.
fn unknown_head() -> Head {
    Head {
        position: u64::MAX,
        ..Head::default()
    }
}

/// The writer task's own state: its connection, and what it keeps between transactions.
struct Writer<C> {
    conn: C,
    clock: Arc<dyn Clock>,
    committed: Arc<watch::Sender<u64>>,
    broken: Option<ChainBreak>,
    /// Stream versions as of `cache_head`; valid while the log's head is still there when a
    /// transaction begins (no other process wrote in between).
    cache: HashMap<String, u64>,
    cache_head: Head,
    /// Set during a historical import: an id already in the log is refused, not skipped.
    refuse_repeats: bool,
}

/// Checks that the head event's stored hash matches its contents.
fn checked_head(last: Option<RawEvent>) -> Result<Head, StoreError> {
    let Some(raw) = last else {
        return Ok(Head::default());
    };
    if raw.compute_hash() != raw.hash {
        return Err(StoreError::ChainBroken(ChainBreak {
            position: raw.position,
            reason: "the head event's stored hash does not match its contents".into(),
        }));
    }
    Ok(Head {
        position: raw.position,
        hash: raw.hash,
    })
}

impl<C: LogConnection> Writer<C> {
    /// A writer on `conn` that knows nothing of the log yet.
    fn new(conn: C, clock: Arc<dyn Clock>, committed: Arc<watch::Sender<u64>>) -> Self {
        Writer {
            conn,
            clock,
            committed,
            broken: None,
            cache: HashMap::new(),
            cache_head: unknown_head(),
            refuse_repeats: false,
        }
    }

    /// Answers requests in order until closed or every handle is gone.
    async fn run(mut self, mut requests: mpsc::Receiver<Request>) {
        let mut held: Option<Request> = None;
        loop {
            let Some(request) = held.take().or(requests.recv().await) else {
                break;
            };
            match request {
                Request::Close { done } => {
                    let _ = done.send(());
                    break;
                }
                Request::Import {
                    chunks,
                    mode,
                    reply,
                } => {
                    let result = self.import(chunks, mode).await;
                    let _ = reply.send(result);
                }
                Request::Append {
                    events,
                    scope,
                    reply,
                } => {
                    held = self
                        .append_group((events, scope, reply), &mut requests)
                        .await;
                }
            }
        }
        tracing::debug!("event log writer stopped");
    }

    /// Opens a transaction at the log's head, checked, stamped from the clock; refuses once the
    /// chain is known to be broken.
    async fn begin(&mut self, ids: PlannedIds) -> Result<TxState, StoreError> {
        if let Some(b) = &self.broken {
            return Err(StoreError::ChainBroken(b.clone()));
        }
        let last = match self.conn.begin_at_head().await {
            Err(StoreError::Undecodable { position, reason }) => {
                let b = ChainBreak {
                    position,
                    reason: format!("the stored row cannot be read ({reason})"),
                };
                tracing::error!(%b, "refusing to append to a broken chain");
                self.broken = Some(b.clone());
                return Err(StoreError::ChainBroken(b));
            }
            other => other?,
        };
        let head = match checked_head(last) {
            Ok(head) => head,
            Err(e) => {
                self.rollback().await;
                if let StoreError::ChainBroken(b) = &e {
                    tracing::error!(%b, "refusing to append to a broken chain");
                    self.broken = Some(b.clone());
                }
                return Err(e);
            }
        };
        let now = self.clock.now().with_timezone(&jiancha_events::time::CHINA);
        let mut state = TxState::new(head, now);
        state.track_ids = ids == PlannedIds::Keep;
        state.track_owners = false;
        if head == self.cache_head && self.cache.len() <= VERSION_CACHE_MAX {
            state.versions = std::mem::take(&mut self.cache);
        }
        Ok(state)
    }

    /// Rolls back, forgetting the versions cached (the transaction may have changed them).
    async fn rollback(&mut self) {
        self.cache.clear();
        self.cache_head = unknown_head();
        self.conn.rollback().await;
    }

    /// Commits; `advanced_to` is the new head when the transaction wrote anything.
    async fn commit(&mut self, state: TxState, advanced_to: Option<u64>) -> Result<(), StoreError> {
        if let Err(e) = self.conn.commit(advanced_to).await {
            self.rollback().await;
            return Err(e);
        }
        self.committed(state);
        Ok(())
    }

    /// Tells the followers a commit moved the head, and keeps its versions for the next one.
    fn committed(&mut self, state: TxState) {
        let head = state.head.position;
        self.committed.send_if_modified(|c| {
            let moved = head > *c;
            if moved {
                *c = head;
            }
            moved
        });
        self.cache_head = state.head;
        self.cache = state.versions;
    }
}
