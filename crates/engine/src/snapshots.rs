//! Fast restart: the projections are kept as a snapshot beside the log (with the position and
//! hash they cover), loaded at start and caught up from there. A snapshot is used only when it
//! decodes in the current format, was taken with the same thresholds and scoring, and the log
//! still holds the same event at its position; otherwise it is ignored and the projections are
//! rebuilt from the log, never trusted blindly.

use jiancha_projections::{AlertConfig, Projections, Scoring};
use jiancha_store::{EventStore, StoreError, READ_PAGE_EVENTS};

/// The name the projections' snapshot is kept under.
pub const PROJECTIONS_SNAPSHOT: &str = "projections";

/// How the projections were obtained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    /// The position the snapshot covered, if one was used.
    pub snapshot: Option<u64>,
    /// Why a snapshot found was not used.
    pub ignored: Option<String>,
    /// Events folded after the snapshot (or from the start).
    pub replayed: u64,
}

/// Loads the snapshot when it can be trusted, or starts empty; then folds the rest of the log.
pub async fn restore_or_replay(
    store: &dyn EventStore,
    alerts: AlertConfig,
    scoring: Scoring,
) -> Result<(Projections, Restored), StoreError> {
    restore_until(store, alerts, scoring, u64::MAX).await
}

/// As [`restore_or_replay`], folding the log up to position `until` only (a closed period's
/// report): a snapshot taken after `until` cannot be used, an earlier one can.
pub async fn restore_until(
    store: &dyn EventStore,
    alerts: AlertConfig,
    scoring: Scoring,
    until: u64,
) -> Result<(Projections, Restored), StoreError> {
    let fresh = || Projections::new(alerts).with_ledger(scoring);
    let (mut projections, snapshot, ignored) = match trusted(store, alerts, scoring).await? {
        Ok(p) if p.position() <= until => {
            let at = p.position();
            (p, Some(at), None)
        }
        Ok(_) => (fresh(), None, None),
        Err(why) => (fresh(), None, why),
    };
    if let Some(reason) = &ignored {
        tracing::warn!(%reason, "projection snapshot ignored; rebuilding from the log");
    }
    let mut replayed = 0;
    let mut after = projections.position();
    while after < until {
        let page = store.read_after(after, READ_PAGE_EVENTS).await?;
        let Some(last) = page.last() else { break };
        after = last.position;
        for event in page.iter().take_while(|e| e.position <= until) {
            projections.apply(event);
            replayed += 1;
        }
    }
    Ok((
        projections,
        Restored {
            snapshot,
            ignored,
            replayed,
        },
    ))
}

/// The stored snapshot, or why it cannot be used (`None` when there is none).
async fn trusted(
    store: &dyn EventStore,
    alerts: AlertConfig,
    scoring: Scoring,
) -> Result<Result<Projections, Option<String>>, StoreError> {
    let Some((position, bytes)) = store.load_snapshot(PROJECTIONS_SNAPSHOT).await? else {
        return Ok(Err(None));
    };
    let (p, header) = match Projections::restore(&bytes) {
        Ok(r) => r,
        Err(e) => return Ok(Err(Some(e.to_string()))),
    };
    if header.position != position {
        return Ok(Err(Some(format!(
            "kept for position {position} but covers {}",
            header.position
        ))));
    }
    let at = store.read_raw_after(position.saturating_sub(1), 1).await?;
    match at.first() {
        Some(raw) if raw.position == position && raw.hash == header.head => {}
        _ => {
            return Ok(Err(Some(format!(
                "the log's event at position {position} is not the one it covers"
            ))))
        }
    }
    if p.config != alerts || p.ledger().map(|l| l.scoring) != Some(scoring) {
        return Ok(Err(Some("taken with other thresholds or scoring".into())));
    }
    Ok(Ok(p))
}

/// Keeps a snapshot of `projections` beside the log.
pub async fn save(store: &dyn EventStore, projections: &Projections) -> Result<(), StoreError> {
    if projections.position() == 0 {
        return Ok(());
    }
    match projections.snapshot(projections.head()) {
        Ok(bytes) => {
            store
                .save_snapshot(PROJECTIONS_SNAPSHOT, projections.position(), bytes)
                .await
        }
        Err(e) => {
            tracing::warn!(error = %e, "projection snapshot not saved");
            Ok(())
        }
    }
}
