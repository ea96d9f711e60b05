//! The journal of live alert messages behind `GET /api/v1/alerts/stream`: a bounded, in-memory
//! sequence of messages, each holding every alert change the engine published for one position
//! of the log, with that position as its id. A client reconnecting with `Last-Event-ID: P`
//! receives the messages after P from here, exactly once each.
//!
//! Alert changes are derived, not stored, so the journal is fed from the engine's bus. The
//! engine publishes an event's changes before it announces the event's position, so once the
//! engine has reached P every change of P is on the bus: the feeder then closes the messages up
//! to P. A change the clock raises (a deadline passing) is published at the last position
//! already announced; it joins the next position the engine announces — normally the
//! `CardIssued` event the engine appends for it at once. So every message id is a position,
//! ids strictly increase, and no message changes once sent.
//!
//! The journal holds the messages with ids above its floor. A client whose last id is below the
//! floor (it was away too long, the server restarted, or the feeder lost changes when the bus
//! overflowed) is told to reload instead of being sent a partial history.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use jiancha_engine::{AlertChange, Engine};
use serde::Serialize;
use tokio::sync::{broadcast, watch};

/// One SSE message: the alert changes at one position.
#[derive(Debug)]
pub(crate) struct Message {
    /// The position (the SSE `id:`).
    pub id: u64,
    /// The changes, in the order the engine published them.
    pub changes: Vec<AlertChange>,
    /// The message's data for a caller who sees every org.
    pub json_all: String,
}

#[derive(Serialize)]
struct ChangeOut<'a> {
    kind: &'static str,
    alert: &'a jiancha_projections::AlertView,
}

#[derive(Serialize)]
struct MessageOut<'a> {
    position: u64,
    changes: Vec<ChangeOut<'a>>,
}

impl Message {
    fn new(id: u64, changes: Vec<AlertChange>) -> Message {
        let json_all = render(id, changes.iter());
        Message {
            id,
            changes,
            json_all,
        }
    }

    /// The message's data restricted to the changes `keep` accepts; `None` when none is left.
    pub fn json_where(&self, keep: impl Fn(&AlertChange) -> bool) -> Option<String> {
        let kept: Vec<&AlertChange> = self.changes.iter().filter(|c| keep(c)).collect();
        if kept.is_empty() {
            return None;
        }
        if kept.len() == self.changes.len() {
            return Some(self.json_all.clone());
        }
        Some(render(self.id, kept.into_iter()))
    }
}

fn render<'a>(id: u64, changes: impl Iterator<Item = &'a AlertChange>) -> String {
    let out = MessageOut {
        position: id,
        changes: changes
            .map(|c| ChangeOut {
                kind: c.kind.as_str(),
                alert: &c.alert,
            })
            .collect(),
    };
    serde_json::to_string(&out).unwrap_or_default()
}

#[derive(Debug)]
struct Inner {
    /// Every message with an id above it is held.
    floor: u64,
    messages: VecDeque<Arc<Message>>,
}

/// What a reader finds after its last id.
#[derive(Debug)]
pub(crate) enum Read {
    /// The messages after it (empty when it is up to date).
    Messages(Vec<Arc<Message>>),
    /// The journal no longer holds (or never held) what came after it.
    Gap,
}

/// The bounded journal, and the head position readers wait on.
#[derive(Debug)]
pub(crate) struct Journal {
    inner: Mutex<Inner>,
    head: watch::Sender<u64>,
    max: usize,
}

impl Journal {
    /// An empty journal whose history begins after `floor`.
    pub(crate) fn new(floor: u64, max: usize) -> Journal {
        Journal {
            inner: Mutex::new(Inner {
                floor,
                messages: VecDeque::new(),
            }),
            head: watch::channel(floor).0,
            max: max.max(1),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The last position the journal is complete up to.
    pub(crate) fn head(&self) -> u64 {
        *self.head.borrow()
    }

    /// A receiver that changes when the head moves.
    pub(crate) fn watch(&self) -> watch::Receiver<u64> {
        self.head.subscribe()
    }

    /// Appends closed messages and moves the head to `reached`, dropping the oldest messages
    /// beyond the bound.
    fn push(&self, messages: Vec<Message>, reached: u64) {
        let mut inner = self.lock();
        let added = !messages.is_empty();
        inner.messages.extend(messages.into_iter().map(Arc::new));
        while inner.messages.len() > self.max {
            if let Some(old) = inner.messages.pop_front() {
                inner.floor = old.id;
            }
        }
        // Under the lock, so a reader never holds a message past the head it sees; readers are
        // woken only when there is something to read.
        self.head.send_if_modified(|head| {
            *head = reached;
            added
        });
    }

    /// Forgets everything: history now begins after `floor`.
    fn reset(&self, floor: u64) {
        let mut inner = self.lock();
        inner.messages.clear();
        inner.floor = floor;
        self.head.send_replace(floor);
    }

    /// Up to `max` messages after `after`.
    pub(crate) fn read_after(&self, after: u64, max: usize) -> Read {
        let inner = self.lock();
        if after < inner.floor || after > self.head() {
            return Read::Gap;
        }
        let start = inner.messages.partition_point(|m| m.id <= after);
        Read::Messages(
            inner
                .messages
                .iter()
                .skip(start)
                .take(max)
                .cloned()
                .collect(),
        )
    }
}

/// Closes the changes up to `reached` into messages: a change at a position already closed
/// joins the first open one. Changes past `reached` stay pending.
fn close(pending: &mut Vec<AlertChange>, closed: u64, reached: u64) -> Vec<Message> {
    let (groups, later) = group(std::mem::take(pending), |c| c.position, closed, reached);
    *pending = later;
    groups
        .into_iter()
        .map(|(id, changes)| Message::new(id, changes))
        .collect()
}

/// Groups items by the id of the message they belong to (strictly increasing ids, each in
/// `closed + 1 ..= reached`), and returns the items past `reached` apart.
fn group<T>(
    items: Vec<T>,
    position: impl Fn(&T) -> u64,
    closed: u64,
    reached: u64,
) -> (Vec<(u64, Vec<T>)>, Vec<T>) {
    let (now, later): (Vec<T>, Vec<T>) = items.into_iter().partition(|c| position(c) <= reached);
    let mut groups: Vec<(u64, Vec<T>)> = Vec::new();
    for item in now {
        let floor = groups.last().map_or(closed + 1, |g| g.0);
        let id = position(&item).max(floor);
        match groups.last_mut() {
            Some(g) if g.0 == id => g.1.push(item),
            _ => groups.push((id, vec![item])),
        }
    }
    (groups, later)
}

/// Moves whatever the bus holds into `pending`; false when changes were lost.
fn drain(bus: &mut broadcast::Receiver<AlertChange>, pending: &mut Vec<AlertChange>) -> bool {
    loop {
        match bus.try_recv() {
            Ok(change) => pending.push(change),
            Err(broadcast::error::TryRecvError::Lagged(_)) => return false,
            Err(_) => return true,
        }
    }
}

/// Feeds the journal from the engine's bus until `stop` turns true or the engine stops.
pub(crate) async fn feed(
    engine: Arc<Engine>,
    mut bus: broadcast::Receiver<AlertChange>,
    journal: Arc<Journal>,
    mut stop: watch::Receiver<bool>,
) {
    let mut closed = journal.head();
    let mut pending: Vec<AlertChange> = Vec::new();
    loop {
        let lost = tokio::select! {
            biased;
            _ = stop.wait_for(|s| *s) => return,
            change = bus.recv() => match change {
                Ok(change) => {
                    pending.push(change);
                    false
                }
                Err(broadcast::error::RecvError::Lagged(_)) => true,
                Err(broadcast::error::RecvError::Closed) => return,
            },
            reached = engine.wait_for(closed + 1) => {
                let Ok(reached) = reached else { return };
                let lost = !drain(&mut bus, &mut pending);
                if !lost {
                    journal.push(close(&mut pending, closed, reached), reached);
                    closed = reached;
                }
                lost
            }
        };
        if lost {
            // The bus overflowed: some changes are gone. Start afresh; streams behind this
            // point are told to reload.
            tracing::warn!("the live alert journal fell behind the engine; streams will reload");
            pending.clear();
            closed = engine.position();
            journal.reset(closed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_group_by_position_and_late_ones_join_the_next() {
        // Closed up to 10; the engine reached 12. A change at 9 came late (the clock raised it
        // after 9 was announced): it joins 11. Changes at 13 wait.
        let (groups, later) = group(vec![9, 11, 11, 12, 13], |p| *p, 10, 12);
        assert_eq!(groups, vec![(11, vec![9, 11, 11]), (12, vec![12])]);
        assert_eq!(later, vec![13]);
        // A late change alone becomes the next position's message.
        let (groups, _) = group(vec![10], |p| *p, 10, 14);
        assert_eq!(groups, vec![(11, vec![10])]);
    }

    #[test]
    fn reading_after_a_gap_says_so() {
        let journal = Journal::new(10, 2);
        assert!(matches!(journal.read_after(10, 5), Read::Messages(m) if m.is_empty()));
        assert!(matches!(journal.read_after(9, 5), Read::Gap));
        assert!(matches!(journal.read_after(11, 5), Read::Gap));
        journal.push(Vec::new(), 20);
        assert!(matches!(journal.read_after(15, 5), Read::Messages(m) if m.is_empty()));
    }
}
