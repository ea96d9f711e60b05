//! Cards: the `CardIssued` event the engine appends for each alert it delivers, and appending
//! them so that each is written once however often it is attempted.
//!
//! A card's id is `card:<alert id>`. Appending an id already in the log is a no-op when the
//! event is the same, and a refusal (`IdReused`) when another engine or an earlier run issued it
//! at another instant: either way the card exists, and nothing more is written. Appends that
//! fail for other reasons (the database is unavailable) are kept, up to [`CARD_RETRY_MAX`], and
//! tried again every [`CARD_RETRY_INTERVAL`].

use std::collections::VecDeque;
use std::time::Duration;

use chrono::{DateTime, Utc};
use jiancha_events::time::CHINA;
use jiancha_events::{CardIssued, EventData, NewEvent, Severity, StreamName, Timestamp};
use jiancha_projections::{AlertView, Millis, Rule};
use jiancha_store::{EventStore, RejectionKind, StoreError};

use crate::repeats::Repeats;
use crate::{CARD_ID_PREFIX, ENGINE_ACTOR};

/// Cards appended in one batch.
pub const CARD_BATCH_EVENTS_MAX: usize = 1_000;

/// Cards kept for another attempt after an append failed; beyond it the oldest are dropped
/// (with a warning) and found again at the next start, as alerts still undelivered.
pub const CARD_RETRY_MAX: usize = 10_000;

/// How long to wait before trying failed cards again.
pub const CARD_RETRY_INTERVAL: Duration = Duration::from_secs(5);

/// An instant as the engine uses it: milliseconds for the fold, a +08:00 timestamp for events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Now {
    /// Milliseconds since the epoch.
    pub ms: Millis,
    /// The same instant at +08:00, to the millisecond.
    pub at: Timestamp,
}

impl Now {
    /// The instant of a clock reading, cut to the millisecond.
    pub fn of(utc: DateTime<Utc>) -> Now {
        let ms = utc.timestamp_millis();
        Now {
            ms,
            at: timestamp(ms).unwrap_or_else(|| utc.with_timezone(&CHINA)),
        }
    }
}

/// The +08:00 timestamp of an instant in milliseconds.
fn timestamp(ms: Millis) -> Option<Timestamp> {
    DateTime::from_timestamp_millis(ms).map(|utc| utc.with_timezone(&CHINA))
}

/// The card for an alert, issued at `now`; `None` when the alert's instant is out of range.
pub fn card(stream: &StreamName, alert: &AlertView, now: Now) -> Option<NewEvent> {
    let severity = Rule::from_code(alert.rule).map_or(Severity::Red, Rule::severity);
    let data = CardIssued {
        case: alert.case.clone(),
        rule: alert.rule.to_owned(),
        severity,
        due: timestamp(alert.raised_at_millis())?,
    };
    let event = NewEvent::new(
        stream.clone(),
        now.at,
        ENGINE_ACTOR,
        alert.org.clone(),
        EventData::CardIssued(data),
    );
    Some(event.with_id(format!("{CARD_ID_PREFIX}{}", alert.id)))
}

/// Why a card is withdrawn: an event entered after the fact ended its condition before its
/// threshold (the engine published it ahead of the fold).
pub const WITHDRAWN_LATE_EVENT: &str = "an event entered after the fact ended the condition \
     before its threshold: the log no longer raises this alert";

/// Why a card is withdrawn at start-up: the log issued it, and the fold holds no alert that is
/// it.
pub const WITHDRAWN_NOT_RAISED: &str = "the log holds no alert for this card under the rules \
     in force (issued under other rules, or by an engine stopped before withdrawing it)";

/// The `CardWithdrawn` for an alert published at `raised_at` that the log no longer raises,
/// for the reason `why`; its id, `withdrawn:<alert id>@<raised_at ms>`, makes a second attempt
/// (a restart, another engine) a no-op.
pub fn withdrawal(
    stream: &StreamName,
    (case, alert): (&str, &str),
    raised_at: Millis,
    org: &str,
    why: &str,
    now: Now,
) -> Option<NewEvent> {
    let data = jiancha_events::CardWithdrawn {
        case: case.to_owned(),
        card: alert.to_owned(),
        reason: why.to_owned(),
    };
    let event = NewEvent::new(
        stream.clone(),
        now.at,
        ENGINE_ACTOR,
        org.to_owned(),
        EventData::CardWithdrawn(data),
    );
    Some(event.with_id(format!("{WITHDRAWN_ID_PREFIX}{alert}@{raised_at}")))
}

/// The prefix of the ids of `CardWithdrawn` events.
pub const WITHDRAWN_ID_PREFIX: &str = "withdrawn:";

/// Appends cards in batches, dropping the ones the log refuses. Returns the highest position
/// among them (new or already there), and the cards still to write when an append failed
/// (counted in `failures`, which logs them).
pub(crate) async fn append(
    store: &dyn EventStore,
    cards: Vec<NewEvent>,
    failures: &mut Repeats,
) -> (u64, Vec<NewEvent>) {
    let mut reached = 0;
    let mut rest = cards.into_iter();
    loop {
        let batch: Vec<NewEvent> = rest.by_ref().take(CARD_BATCH_EVENTS_MAX).collect();
        if batch.is_empty() {
            failures.succeeded(tokio::time::Instant::now());
            return (reached, Vec::new());
        }
        match append_batch(store, batch).await {
            Ok(position) => reached = reached.max(position),
            Err((error, mut failed)) => {
                let cards = failed.len() + rest.len();
                let error = format_args!("{error} ({cards} cards wait for the next attempt)");
                failures.failed(tokio::time::Instant::now(), &error);
                failed.extend(rest);
                return (reached, failed);
            }
        }
    }
}

/// One batch: refused cards are taken out one at a time (each refusal names one).
async fn append_batch(
    store: &dyn EventStore,
    mut batch: Vec<NewEvent>,
) -> Result<u64, (StoreError, Vec<NewEvent>)> {
    while !batch.is_empty() {
        match store.append(batch.clone()).await {
            Ok(outcome) => return Ok(outcome.positions.into_iter().max().unwrap_or(0)),
            Err(StoreError::Rejected(r)) => {
                let Some(index) = usize::try_from(r.tag).ok().filter(|i| *i < batch.len()) else {
                    return Err((StoreError::Rejected(r), batch));
                };
                let refused = batch.remove(index);
                match r.kind {
                    RejectionKind::IdReused { position } => {
                        if let Some(card) = reissue(store, refused, position).await {
                            batch.insert(index, card);
                        }
                    }
                    _ => tracing::error!(id = ?refused.id, refusal = %r, "card refused by the log"),
                }
            }
            Err(e) => return Err((e, batch)),
        }
    }
    Ok(0)
}

/// A card whose id is taken by the event at `position`: `None` when that event is the same
/// card issued at another instant (by another engine, or before a restart). Otherwise the id
/// names a card for an earlier instance of the alert (one whose threshold an event moved after
/// the card was issued), and this card is issued as `card:<alert id>@<due>`.
async fn reissue(store: &dyn EventStore, card: NewEvent, position: u64) -> Option<NewEvent> {
    let EventData::CardIssued(mine) = &card.data else {
        return None;
    };
    let existing = match store.read_at(position).await {
        Ok(event) => event,
        Err(error) => {
            tracing::warn!(%error, id = ?card.id, "cannot read the card an id names; skipped");
            return None;
        }
    };
    let same = existing.as_ref().is_some_and(|e| match &e.data {
        EventData::CardIssued(theirs) => theirs.due == mine.due && theirs.rule == mine.rule,
        _ => false,
    });
    let id = card.id.clone().unwrap_or_default();
    if same || id.contains(DUE_SEPARATOR) {
        tracing::debug!(%id, position, "card already issued");
        return None;
    }
    let due = jiancha_events::format_timestamp(&mine.due);
    Some(card.with_id(format!("{id}{DUE_SEPARATOR}{due}")))
}

/// Separates an alert id from the due instant in the id of a card for a later instance of an
/// alert whose first card was for another threshold.
pub const DUE_SEPARATOR: char = '@';

/// Cards waiting for another attempt.
#[derive(Debug, Default)]
pub struct Retry {
    cards: VecDeque<NewEvent>,
    at: Option<tokio::time::Instant>,
}

impl Retry {
    /// Keeps failed cards for later, dropping the oldest beyond [`CARD_RETRY_MAX`].
    pub fn keep(&mut self, failed: Vec<NewEvent>) {
        if failed.is_empty() {
            return;
        }
        self.cards.extend(failed);
        let excess = self.cards.len().saturating_sub(CARD_RETRY_MAX);
        if excess > 0 {
            tracing::warn!(
                dropped = excess,
                "too many cards waiting; the oldest are dropped until the next start"
            );
            self.cards.drain(..excess);
        }
        self.at = Some(tokio::time::Instant::now() + CARD_RETRY_INTERVAL);
    }

    /// When the next attempt is due, if any card waits.
    pub fn due_at(&self) -> Option<tokio::time::Instant> {
        self.at
    }

    /// The waiting cards, when their attempt is due.
    pub fn take_due(&mut self) -> Vec<NewEvent> {
        match self.at {
            Some(at) if at <= tokio::time::Instant::now() => {
                self.at = None;
                self.cards.drain(..).collect()
            }
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use jiancha_store::{memory::MemoryStore, ManualClock};

    use super::*;
    use crate::repeats::Level;

    fn card_at(id: &str, due: &str, at: &str) -> NewEvent {
        let ts = |t| jiancha_events::parse_timestamp(t).unwrap();
        let data = CardIssued {
            case: "case-1".into(),
            rule: "fee.mismatch".into(),
            severity: Severity::Red,
            due: ts(due),
        };
        let stream = StreamName::supervision();
        NewEvent::new(
            stream,
            ts(at),
            ENGINE_ACTOR,
            "jiangjin",
            EventData::CardIssued(data),
        )
        .with_id(format!("{CARD_ID_PREFIX}case-1/fee.mismatch/{id}"))
    }

    const NINE: &str = "2026-03-02T09:00:00+08:00";
    const TEN: &str = "2026-03-02T10:00:00+08:00";

    #[tokio::test]
    async fn a_card_already_in_the_log_is_not_written_again_at_any_instant() {
        let t0 = jiancha_events::parse_timestamp(NINE).unwrap();
        let store = MemoryStore::new(Arc::new(ManualClock::new(t0.to_utc())));
        let mut log = Repeats::new(Level::Warn, "cannot append cards", "appending again");
        let first = card_at("1", NINE, NINE);
        assert_eq!(
            append(&store, vec![first.clone()], &mut log).await,
            (1, Vec::new())
        );
        // The same card again: a no-op answered with its position.
        assert_eq!(append(&store, vec![first], &mut log).await, (1, Vec::new()));
        // Issued again at another instant (another engine, a restart), beside a new card: the
        // refused one is dropped and the new one written.
        let again = card_at("1", NINE, TEN);
        let second = card_at("2", NINE, TEN);
        assert_eq!(
            append(&store, vec![again, second], &mut log).await,
            (2, Vec::new())
        );
        // The same id for another due instant: a later instance of the alert, carded under
        // its own id (once).
        let later = card_at("1", TEN, TEN);
        assert_eq!(
            append(&store, vec![later.clone()], &mut log).await,
            (3, Vec::new())
        );
        assert_eq!(append(&store, vec![later], &mut log).await, (3, Vec::new()));
        let events = store.read_after(0, 10).await.unwrap();
        let ids: Vec<_> = events.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "card:case-1/fee.mismatch/1",
                "card:case-1/fee.mismatch/2",
                "card:case-1/fee.mismatch/1@2026-03-02T10:00:00+08:00"
            ]
        );
    }

    #[tokio::test]
    async fn failed_cards_wait_their_turn_and_are_bounded() {
        let mut retry = Retry::default();
        assert!(retry.due_at().is_none());
        let cards: Vec<_> = (0..CARD_RETRY_MAX + 3)
            .map(|i| card_at(&i.to_string(), NINE, NINE))
            .collect();
        retry.keep(cards);
        assert!(retry.take_due().is_empty(), "not before the interval");
        retry.at = Some(tokio::time::Instant::now());
        let due = retry.take_due();
        assert_eq!(due.len(), CARD_RETRY_MAX);
        assert_eq!(due[0].id.as_deref(), Some("card:case-1/fee.mismatch/3"));
        assert!(retry.due_at().is_none());
    }
}
