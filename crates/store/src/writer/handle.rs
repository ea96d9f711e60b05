//! The way in to a store's writer task: [`WriterHandle`] starts the task and sends it
//! [`Request`]s (an append, an import, a close), each with a channel the task answers on once
//! its transaction has ended.

use std::sync::Arc;

use jiancha_events::NewEvent;
use tokio::sync::{mpsc, oneshot, watch};

use super::connection::LogConnection;
use super::Writer;
use crate::clock::Clock;
use crate::error::StoreError;
use crate::{AppendOutcome, ImportChunk, ImportMode, ImportOutcome};

/// Requests queued for the writer before appenders wait.
const WRITER_QUEUE_MAX: usize = 1024;

/// Where the writer task answers one request.
pub(super) type Reply<T> = oneshot::Sender<Result<T, StoreError>>;

/// What callers ask the writer task for, in the order they asked.
pub(super) enum Request {
    Append {
        events: Vec<NewEvent>,
        scope: Option<String>,
        reply: Reply<AppendOutcome>,
    },
    Import {
        chunks: mpsc::Receiver<ImportChunk>,
        mode: ImportMode,
        reply: Reply<ImportOutcome>,
    },
    Close {
        done: oneshot::Sender<()>,
    },
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Request::Append { .. } => "Append",
            Request::Import { .. } => "Import",
            Request::Close { .. } => "Close",
        })
    }
}

/// The way to a store's writer task.
#[derive(Debug, Clone)]
pub(crate) struct WriterHandle {
    requests: mpsc::Sender<Request>,
}

impl WriterHandle {
    /// Starts the writer task on `conn`. Each commit advances `committed` to its head.
    pub(crate) fn spawn<C: LogConnection>(
        conn: C,
        clock: Arc<dyn Clock>,
        committed: Arc<watch::Sender<u64>>,
    ) -> Self {
        let (requests, rx) = mpsc::channel(WRITER_QUEUE_MAX);
        tokio::spawn(Writer::new(conn, clock, committed).run(rx));
        WriterHandle { requests }
    }

    async fn ask<T>(&self, make: impl FnOnce(Reply<T>) -> Request) -> Result<T, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.requests
            .send(make(reply))
            .await
            .map_err(|_| StoreError::WriterGone)?;
        answer.await.map_err(|_| StoreError::WriterGone)?
    }

    /// Appends a batch, all or nothing, in the next group commit; with a scope, only to cases
    /// handled under it (checked in the commit's transaction).
    pub(crate) async fn append(
        &self,
        events: Vec<NewEvent>,
        scope: Option<String>,
    ) -> Result<AppendOutcome, StoreError> {
        if events.is_empty() {
            return Ok(AppendOutcome::default());
        }
        self.ask(|reply| Request::Append {
            events,
            scope,
            reply,
        })
        .await
    }

    /// Imports a stream of chunks in one transaction.
    pub(crate) async fn import(
        &self,
        chunks: mpsc::Receiver<ImportChunk>,
        mode: ImportMode,
    ) -> Result<ImportOutcome, StoreError> {
        self.ask(|reply| Request::Import {
            chunks,
            mode,
            reply,
        })
        .await
    }

    /// Stops the writer after the work already queued.
    pub(crate) async fn close(&self) {
        let (done, wait) = oneshot::channel();
        if self.requests.send(Request::Close { done }).await.is_ok() {
            let _ = wait.await;
        }
    }
}
