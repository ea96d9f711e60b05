//! Reading the log page by page: [`Pages`], what [`EventStore::pages`](crate::EventStore::pages)
//! and [`EventStore::raw_pages`](crate::EventStore::raw_pages) hand out, in place of a loop of
//! `read_after(after, READ_PAGE_EVENTS)` at every caller.

use std::fmt;

use futures::future::BoxFuture;
use jiancha_events::{RawEvent, StoredEvent};

use crate::StoreError;

/// Reads one page of at most [`crate::READ_PAGE_EVENTS`] rows after a position.
type ReadPage<'a, T> =
    Box<dyn Fn(u64) -> BoxFuture<'a, Result<Vec<T>, StoreError>> + Send + Sync + 'a>;

/// The log after a position, a page at a time, in position order, up to the head: each page
/// holds at most [`crate::READ_PAGE_EVENTS`] rows, every row comes once, and the pages end at
/// the first read that finds nothing after the last row handed out (so a page appended while
/// reading is read too).
///
/// ```
/// # use jiancha_store::{EventStore, StoreError};
/// async fn count(store: &dyn EventStore) -> Result<usize, StoreError> {
///     let mut events = 0;
///     let mut pages = store.pages(0);
///     while let Some(page) = pages.next().await? {
///         events += page.len();
///     }
///     Ok(events)
/// }
/// ```
pub struct Pages<'a, T> {
    after: u64,
    read: ReadPage<'a, T>,
    position: fn(&T) -> u64,
}

impl<'a, T> Pages<'a, T> {
    pub(crate) fn new(after: u64, read: ReadPage<'a, T>, position: fn(&T) -> u64) -> Self {
        Pages {
            after,
            read,
            position,
        }
    }

    /// The next page, never empty; `None` when nothing follows the last row handed out.
    pub async fn next(&mut self) -> Result<Option<Vec<T>>, StoreError> {
        let page = (self.read)(self.after).await?;
        let Some(last) = page.last() else {
            return Ok(None);
        };
        self.after = (self.position)(last);
        Ok(Some(page))
    }

    /// The position of the last row handed out (the starting position before the first page).
    pub fn after(&self) -> u64 {
        self.after
    }
}

impl<T> fmt::Debug for Pages<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pages")
            .field("after", &self.after)
            .finish_non_exhaustive()
    }
}

/// The position of a decoded event.
pub(crate) fn stored_position(e: &StoredEvent) -> u64 {
    e.position
}

/// The position of a stored row.
pub(crate) fn raw_position(r: &RawEvent) -> u64 {
    r.position
}
