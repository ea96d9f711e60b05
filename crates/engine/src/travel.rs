//! Time travel without replay: the projections a question at an instant T needs, folded from
//! the events that occurred by T of the cases concerned only (chosen by the case index, see
//! [`crate::index`]), never from the whole log. The answers are those of a full replay
//! (`--replay`), which the property tests compare them with.

use jiancha_events::StoredEvent;
use jiancha_projections::{asof, Millis, Period, Projections, Scoring};
use jiancha_store::{EventStore, IndexSelect, StoreError};

use crate::index;

/// The projections of a question at an instant, and what they cost.
#[derive(Debug)]
pub struct Travelled {
    /// The projections, evaluated by the caller at the instant.
    pub projections: Projections,
    /// How many cases and projects were folded.
    pub cases: usize,
    /// How many events were read (their contexts).
    pub events: usize,
    /// What bringing the index up to the log did first.
    pub caught_up: index::CaughtUp,
}

/// Whether a report with `scoring` can be answered from the index: its flags are judged with
/// the default scoring, and a default rating keeps more cases active than they say.
pub fn serves_scoring(scoring: &Scoring) -> bool {
    scoring.default_rating == Scoring::default().default_rating
}

/// The projections (with the ledger, scored with `scoring`) that a report for `period` at `now`
/// reads: the cases whose first event occurred by min(end of the period, now) and that were
/// still active, or had an event, at or after min(start of the period, now).
pub async fn for_report(
    store: &dyn EventStore,
    period: &Period,
    now: Millis,
    scoring: Scoring,
) -> Result<Travelled, StoreError> {
    let select = IndexSelect::Report {
        by: period.end().min(now),
        reaching: period.start().min(now),
    };
    travel(
        store,
        select,
        now,
        Projections::new(Default::default()).with_ledger(scoring),
    )
    .await
}

/// The projections `alerts --now` reads: the cases that existed by `now` and were ever alerted,
/// are active, or are irregular (with the ledger, as a replay keeps it).
pub async fn for_alerts(store: &dyn EventStore, now: Millis) -> Result<Travelled, StoreError> {
    travel(
        store,
        IndexSelect::Alerts { by: now },
        now,
        index::judging(),
    )
    .await
}

async fn travel(
    store: &dyn EventStore,
    select: IndexSelect,
    now: Millis,
    empty: Projections,
) -> Result<Travelled, StoreError> {
    let caught_up = index::catch_up(store).await?;
    let streams = store.index_select(select).await?;
    let events: Vec<StoredEvent> = if streams.is_empty() {
        Vec::new()
    } else {
        store.read_contexts(&streams).await?
    };
    let projections = asof::fold_occurred(empty, &events, now);
    Ok(Travelled {
        projections,
        cases: streams.len(),
        events: events.len(),
        caught_up,
    })
}
