//! Events sealed as the store would keep them, for tests and benchmarks that feed a projection
//! a log without a store. Shared by the end-to-end test binary and the benchmarks' library
//! (each includes this file with `#[path]`).

use std::collections::HashMap;

use jiancha_events::{format_timestamp, Hash, NewEvent, RawEvent, StoredEvent, Timestamp};

/// A log sealed one event after another as the store seals it: positions 1, 2, …, each
/// stream's versions counted from 1, each event's hash chained to the one before it.
#[derive(Debug)]
pub struct SealedLog {
    versions: HashMap<String, u64>,
    prev: Hash,
    events: Vec<StoredEvent>,
}

impl Default for SealedLog {
    fn default() -> Self {
        SealedLog {
            versions: HashMap::new(),
            prev: jiancha_events::GENESIS_HASH,
            events: Vec::new(),
        }
    }
}

impl SealedLog {
    /// Seals `event` as the next one, recorded at `recorded_at`.
    pub fn push(&mut self, event: NewEvent, recorded_at: Timestamp) {
        let version = self
            .versions
            .entry(event.stream.as_str().to_owned())
            .or_insert(0);
        *version += 1;
        let at = format_timestamp(&recorded_at);
        let position = self.events.len() as u64 + 1;
        let raw = RawEvent::seal(&event, position, *version, &at, self.prev);
        self.prev = raw.hash;
        self.events
            .push(raw.to_stored(event.occurred_at, recorded_at, event.data));
    }

    /// The events sealed so far, in order.
    pub fn into_events(self) -> Vec<StoredEvent> {
        self.events
    }
}
