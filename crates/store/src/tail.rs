//! Following the log: a stream of every event after a position, live. Each page is read in
//! position order; when caught up, the follower waits for the store's next announced commit (this
//! process's, or on PostgreSQL another process's, through LISTEN/NOTIFY), or polls: polling
//! finds any commit nobody announced.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use futures::Stream;
use jiancha_events::StoredEvent;

use crate::{EventStore, StoreError, READ_PAGE_EVENTS};

/// How often a caught-up follower polls for commits it was not told about.
pub const POLL_INTERVAL: Duration = Duration::from_millis(500);

struct Follower {
    store: Arc<dyn EventStore>,
    after: u64,
    buffer: VecDeque<StoredEvent>,
    committed: tokio::sync::watch::Receiver<u64>,
    failed: bool,
}

/// Every event after `after`, in position order, then every event as it commits. An error is
/// yielded once and ends the stream.
pub fn subscribe(
    store: Arc<dyn EventStore>,
    after: u64,
) -> impl Stream<Item = Result<StoredEvent, StoreError>> + Send {
    let committed = store.committed();
    let follower = Follower {
        store,
        after,
        buffer: VecDeque::new(),
        committed,
        failed: false,
    };
    futures::stream::unfold(follower, |mut f| async move {
        if f.failed {
            return None;
        }
        loop {
            if let Some(event) = f.buffer.pop_front() {
                f.after = event.position;
                return Some((Ok(event), f));
            }
            match f.store.read_after(f.after, READ_PAGE_EVENTS).await {
                Err(e) => {
                    f.failed = true;
                    return Some((Err(e), f));
                }
                Ok(page) if !page.is_empty() => f.buffer.extend(page),
                Ok(_) => {
                    let _ = tokio::time::timeout(POLL_INTERVAL, f.committed.changed()).await;
                }
            }
        }
    })
}
