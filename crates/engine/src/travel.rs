//! Time travel without replay: the projections a question at an instant T needs, folded from
//! the events that occurred by T of the cases concerned only (chosen by the case index, see
//! [`crate::index`]), never from the whole log. The answers are those of a full replay
//! (`--replay`), which the property tests compare them with.

use jiancha_events::StoredEvent;
use jiancha_projections::{asof, AlertView, KeptCase, Millis, Period, Projections, Scoring};
use jiancha_store::{EventStore, IndexSelect, KeptAlerts, StoreError};

use crate::index;

/// The projections of a question at an instant, and what they cost.
#[derive(Debug)]
pub struct Travelled {
    /// The projections, evaluated by the caller at the instant.
    pub projections: Projections,
    /// The settled cases whose alerts were read as kept instead of folded (the alerts'
    /// question only), by stream.
    pub kept: Vec<(String, KeptCase)>,
    /// How many cases and projects were folded.
    pub cases: usize,
    /// How many events were read (their contexts).
    pub events: usize,
    /// What bringing the index up to the log did first.
    pub caught_up: index::CaughtUp,
}

impl Travelled {
    /// The alerts at `now`: the folded cases' and the kept ones', in the order of
    /// [`Projections::alerts`].
    pub fn alerts(&self, now: Millis) -> Vec<AlertView> {
        let folded = self.projections.alerts(now);
        if self.kept.is_empty() {
            return folded;
        }
        // The kept cases' alerts rendered and sorted in two halves at once (a year's settled
        // cases are hundreds of thousands), then the three sorted runs merged.
        let render = |part: &[(String, KeptCase)]| {
            let mut out = Vec::with_capacity(part.iter().map(|(_, k)| k.alerts.len()).sum());
            for (stream, kept) in part {
                out.extend(self.projections.kept_alerts(stream, kept, now));
            }
            jiancha_projections::sort_alerts(&mut out);
            out
        };
        let (a, b) = jiancha_projections::in_halves(&self.kept, render);
        jiancha_projections::merge_alerts([folded, a, b])
    }
}

/// Whether questions under the thresholds `config` can be answered from the index: its flags
/// are judged with the default thresholds.
pub fn serves_config(config: &jiancha_projections::AlertConfig) -> bool {
    *config == jiancha_projections::AlertConfig::default()
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
        false,
    )
    .await
}

/// What `alerts --now` reads ([`Travelled::alerts`]): the cases that existed by `now` and were
/// ever alerted, are active, or are irregular, folded (with the ledger, as a replay keeps it);
/// of those, the ones settled by `now` whose alerts the index keeps are read as kept instead,
/// named with the catalog as of `now`.
pub async fn for_alerts(store: &dyn EventStore, now: Millis) -> Result<Travelled, StoreError> {
    travel(
        store,
        IndexSelect::Alerts { by: now },
        now,
        index::judging(),
        true,
    )
    .await
}

async fn travel(
    store: &dyn EventStore,
    select: IndexSelect,
    now: Millis,
    empty: Projections,
    keep: bool,
) -> Result<Travelled, StoreError> {
    let caught_up = index::catch_up(store).await?;
    let (to, streams, kept) = selected(store, select, keep.then_some(now)).await?;
    // Every context holds the whole catalog: the names of the kept cases' items and orgs at
    // the instant come with it, even when no case is folded.
    let mut events: Vec<StoredEvent> = store.read_contexts(&streams).await?;
    // The log as the index covers it: events appended since are the next question's.
    events.retain(|e| e.position <= to);
    let projections = asof::fold_occurred(empty, &events, now);
    let kept = decode_kept(kept)?;
    Ok(Travelled {
        projections,
        cases: streams.len() + kept.len(),
        kept,
        events: events.len(),
        caught_up,
    })
}

/// The index's position, the streams `select` selects and (with `kept_by`) the kept alerts
/// settled by then, all of one checkpoint: read again if another process wrote one between.
async fn selected(
    store: &dyn EventStore,
    select: IndexSelect,
    kept_by: Option<Millis>,
) -> Result<(u64, Vec<String>, Vec<KeptAlerts>), StoreError> {
    let mut attempts = 0;
    loop {
        let before = store.index_state().await?.position;
        // Two reads at once: each store reads on connections of its own.
        let kept = async {
            match kept_by {
                Some(by) => store.index_kept(by).await,
                None => Ok(Vec::new()),
            }
        };
        let (streams, kept) = tokio::try_join!(store.index_select(select), kept)?;
        let after = store.index_state().await?.position;
        if before == after {
            return Ok((after, streams, kept));
        }
        attempts += 1;
        if attempts == 3 {
            return Err(StoreError::IndexMoved {
                expected: before,
                found: after,
            });
        }
    }
}

fn decode_kept(kept: Vec<KeptAlerts>) -> Result<Vec<(String, KeptCase)>, StoreError> {
    kept.into_iter()
        .map(|k| {
            let case =
                KeptCase::decode(&k.stream, &k.body).map_err(|e| StoreError::KeptUnreadable {
                    stream: e.stream,
                    reason: e.reason,
                })?;
            Ok((k.stream, case))
        })
        .collect()
}
