//! Declared historical imports: an import of events entered long after they happened, on
//! purpose (a department's records from before it joined the system). The store writes a
//! `HistoryImported {from_position, to_position, reason}` supervision event at the head, in the
//! same transaction and before the events, covering its own position and exactly the positions
//! of the events after it — so the fold knows the range before it meets them.
//!
//! The range must be exact, so a historical import holds new events only: an id already in the
//! log (which a plain import skips) and a moved event (which keeps its own history) are refused,
//! and the import is aborted unless it appended exactly the declared number of events.

use std::collections::HashMap;

use jiancha_events::{EventData, HistoryImported, NewEvent, StreamKind, StreamName, Timestamp};

use crate::error::{Rejection, StoreError};
use crate::plan::Planned;
use crate::ImportOutcome;

/// The tag of the declaration among an import's events: no line or element of the input.
pub const DECLARATION_TAG: u64 = u64::MAX;

/// What a historical import declares: how many events follow the declaration, why, and who
/// declares it for which org.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoricalImport {
    /// The number of events the import appends after the declaration: exact.
    pub events: u64,
    /// Why the history is entered late.
    pub reason: String,
    /// The declaration's actor.
    pub actor: String,
    /// The declaration's org path.
    pub org: String,
}

impl HistoricalImport {
    /// The declaration for an import whose first event lands right after `head`, occurring at
    /// `at` (the transaction's stamp).
    pub fn declaration(&self, head: u64, at: Timestamp) -> Result<NewEvent, StoreError> {
        let refuse = |field: &str, message: String| {
            StoreError::Rejected(Rejection::invalid(DECLARATION_TAG, field, message))
        };
        jiancha_events::stream::check_org("org", &self.org)
            .map_err(|e| refuse(&e.field, e.message))?;
        if self.actor.trim().is_empty() {
            return Err(refuse("actor", "must not be empty".into()));
        }
        let from_position = head + 1;
        let data = EventData::HistoryImported(HistoryImported {
            from_position,
            to_position: from_position + self.events,
            reason: self.reason.clone(),
        });
        data.check().map_err(|e| refuse(&e.field, e.message))?;
        let stream = StreamName::supervision();
        Ok(NewEvent::new(
            stream,
            at,
            self.actor.clone(),
            self.org.clone(),
            data,
        ))
    }

    /// Refuses a moved event: it keeps the history of the log it came from.
    pub fn check_events(events: &[(u64, NewEvent)]) -> Result<(), StoreError> {
        match events.iter().find(|(_, e)| e.moved.is_some()) {
            Some((tag, _)) => Err(StoreError::Rejected(Rejection::invalid(
                *tag,
                "hash",
                "an exported event (with position and hash) keeps its own history and cannot \
                 be declared history: a historical import holds new events only"
                    .into(),
            ))),
            None => Ok(()),
        }
    }

    /// Refuses an event whose id is already in the log (or earlier in the import), which a
    /// plain import would skip: the declared range would no longer hold.
    pub fn check_planned(
        events: &[(u64, NewEvent)],
        planned: &[Planned],
    ) -> Result<(), StoreError> {
        for ((tag, event), plan) in events.iter().zip(planned) {
            if let Planned::Duplicate(position) = plan {
                let id = event.id.as_deref().unwrap_or_default();
                return Err(StoreError::Rejected(Rejection::invalid(
                    *tag,
                    "id",
                    format!(
                        "{id:?} is already in the log, or earlier in this import (at \
                         position {position}): a historical import holds new events only, each \
                         id once"
                    ),
                )));
            }
        }
        Ok(())
    }

    /// Checks, before the commit, that the import appended the declaration and exactly the
    /// declared number of events.
    pub fn check_count(&self, outcome: &ImportOutcome) -> Result<(), StoreError> {
        let written = outcome.appended.saturating_sub(1);
        if outcome.duplicates == 0 && outcome.appended == self.events + 1 {
            return Ok(());
        }
        Err(StoreError::Aborted(format!(
            "the historical import declared {} events but appended {written} (and skipped {}); \
             nothing was written",
            self.events, outcome.duplicates
        )))
    }
}

/// The order of a historical import's events within each case and project: the fold counts
/// each at its `occurred_at` and takes a case's events in log order, so a case whose events
/// came out of order would be judged as they were listed (a publication before the signing it
/// follows carded as missing, an award after its contract not compared with it). Each case's
/// events must come in the order they happened (equal instants in any order); the import is
/// refused at the first that does not, naming it. Across chunks: one per import.
#[derive(Debug, Default)]
pub struct HistoryOrder {
    /// The latest `occurred_at` (Unix milliseconds) of each case or project stream so far.
    latest: HashMap<String, i64>,
}

impl HistoryOrder {
    /// Checks a chunk of the import and, if it holds, takes it in; refused, nothing is taken.
    pub fn check(&mut self, events: &[(u64, NewEvent)]) -> Result<(), StoreError> {
        let mut seen: HashMap<&str, i64> = HashMap::new();
        for (tag, event) in events {
            if !matches!(
                event.data.stream_kind(),
                StreamKind::Case | StreamKind::Procurement
            ) {
                continue;
            }
            let stream = event.stream.as_str();
            let at = event.occurred_at.timestamp_millis();
            let before = seen
                .get(stream)
                .copied()
                .or_else(|| self.latest.get(stream).copied());
            if let Some(before) = before.filter(|b| at < *b) {
                let previous = chrono::DateTime::from_timestamp_millis(before)
                    .map(|t| {
                        jiancha_events::format_timestamp(
                            &t.with_timezone(&jiancha_events::time::CHINA),
                        )
                    })
                    .unwrap_or_default();
                return Err(StoreError::Rejected(Rejection::invalid(
                    *tag,
                    "occurred_at",
                    format!(
                        "{} is before {previous}, when an earlier line of {stream} occurred: a \
                         historical import counts each event when it occurred, so each case's \
                         events must come in the order they happened (sort them by occurred_at \
                         within each case)",
                        jiancha_events::format_timestamp(&event.occurred_at)
                    ),
                )));
            }
            seen.insert(stream, at);
        }
        for (stream, at) in seen {
            self.latest.insert(stream.to_owned(), at);
        }
        Ok(())
    }
}
