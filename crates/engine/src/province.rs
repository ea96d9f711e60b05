//! The province's roll-up over districts side by side in one PostgreSQL database (a schema
//! each): each named district's log is opened in turn, only if it exists, folded the cheapest
//! correct way (its engine's snapshot beside the log when it matches, plus the tail; at an
//! explicit instant, the events that occurred by then of the cases the period concerns, from the
//! district's case index, or a replay of the log under other thresholds or a default rating),
//! reduced to its
//! [`DistrictFigures`] and closed, and the figures are rolled up by
//! `jiancha_projections::province`. A district's whole projections (its snapshot) are folded
//! one district at a time, so that memory holds one; at an explicit instant, where each holds a
//! period's cases only, [`DISTRICTS_AT_ONCE`] are folded together (the figures keep the
//! districts' order either way). Read only: nothing is appended, no snapshot is saved, each
//! district's chain is left as it is (a
//! district's case index is brought up to its log, which writes only the index's tables). `jiancha province report` and the server's
//! `GET /api/v1/province/reports` both call [`report`].

use std::sync::Arc;

use jiancha_projections::province::{district_figures, province_report, DistrictFigures};
use jiancha_projections::{asof, AlertConfig, Millis, Period, Projections, Scoring};
use jiancha_store::{check_district_name, Clock, EventStore, StoreError};

/// The most districts one roll-up reads.
pub const DISTRICTS_MAX: usize = 256;

/// Districts folded together at an explicit instant (each from its case index: a period's
/// cases), each on its own connections: the database's work and the folds overlap.
pub const DISTRICTS_AT_ONCE: usize = 4;

pub use jiancha_projections::province::{DistrictRow, ProvinceReport};

/// What a roll-up reads.
#[derive(Debug, Clone)]
pub struct ProvinceQuery {
    /// The districts (schemas), in any order; the report lists them by name.
    pub districts: Vec<String>,
    /// The period.
    pub period: Period,
    /// The instant of evaluation.
    pub now: Millis,
    /// Whether `now` was given: then only the events that had occurred by it count, from a
    /// replay, as `report --now` does.
    pub explicit_now: bool,
    /// With an explicit instant: fold each district's whole log rather than the cases its case
    /// index names (the audit path).
    pub replay: bool,
    /// The alert thresholds the districts' engines run with.
    pub alerts: AlertConfig,
    /// The scoring scheme.
    pub scoring: Scoring,
}

/// Why a list of districts cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DistrictsError {
    /// No district was named: the user names at least one.
    #[error("name at least one district")]
    Empty,
    /// More than [`DISTRICTS_MAX`]: the user asks in several parts.
    #[error("at most {DISTRICTS_MAX} districts at once")]
    TooMany,
    /// A name is not a plain identifier: the user corrects it.
    #[error("{0}")]
    Name(#[from] jiancha_store::DistrictError),
    /// A district is named twice: the user drops one.
    #[error("district {0:?} is named twice")]
    Repeated(String),
}

/// Checks a list of districts: each a plain identifier, none repeated, at most
/// [`DISTRICTS_MAX`]; sorted by name.
pub fn check_districts(names: &[String]) -> Result<Vec<String>, DistrictsError> {
    if names.is_empty() {
        return Err(DistrictsError::Empty);
    }
    if names.len() > DISTRICTS_MAX {
        return Err(DistrictsError::TooMany);
    }
    let mut sorted = names.to_vec();
    for name in &sorted {
        check_district_name(name)?;
    }
    sorted.sort();
    if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
        return Err(DistrictsError::Repeated(w[0].clone()));
    }
    Ok(sorted)
}

/// The province report of `q.districts` in the PostgreSQL database `url` names (without a
/// schema of its own).
pub async fn report(
    url: &str,
    clock: Arc<dyn Clock>,
    q: &ProvinceQuery,
) -> Result<ProvinceReport, StoreError> {
    use futures::{StreamExt, TryStreamExt};
    let at_once = if q.explicit_now { DISTRICTS_AT_ONCE } else { 1 };
    let each: Vec<_> = q
        .districts
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let clock = clock.clone();
            async move { Ok::<_, StoreError>((i, district(url, name, clock, q).await?)) }
        })
        .collect();
    // In the order they finish (a slow district holds no other back), then in the order named.
    let mut figures: Vec<(usize, Option<DistrictFigures>)> = futures::stream::iter(each)
        .buffer_unordered(at_once)
        .try_collect()
        .await?;
    figures.sort_unstable_by_key(|(i, _)| *i);
    Ok(province_report(
        &q.period,
        figures.into_iter().filter_map(|(_, f)| f).collect(),
        &q.scoring,
    ))
}

/// One district's figures: its log opened, folded and closed.
async fn district(
    url: &str,
    name: &str,
    clock: Arc<dyn Clock>,
    q: &ProvinceQuery,
) -> Result<Option<DistrictFigures>, StoreError> {
    let store = jiancha_store::open_district(url, name, clock).await?;
    match store.head().await {
        Ok(head) if head.position == 0 => {
            store.close().await;
            return Err(StoreError::EmptyDistrict {
                name: name.to_owned(),
            });
        }
        Ok(_) => {}
        Err(e) => {
            store.close().await;
            return Err(e);
        }
    }
    let folded = fold(&*store, q).await;
    store.close().await;
    Ok(one(name, &folded?, q))
}

fn one(name: &str, projections: &Projections, q: &ProvinceQuery) -> Option<DistrictFigures> {
    district_figures(name, projections, &q.period, q.now)
}

/// A district's projections with the ledger, as `report` folds them.
async fn fold(store: &dyn EventStore, q: &ProvinceQuery) -> Result<Projections, StoreError> {
    if !q.explicit_now {
        let (p, how) = crate::snapshots::restore_or_replay(store, q.alerts, q.scoring).await?;
        tracing::debug!(snapshot = ?how.snapshot, replayed = how.replayed, "district folded");
        return Ok(p);
    }
    if !q.replay
        && crate::travel::serves_config(&q.alerts)
        && crate::travel::serves_scoring(&q.scoring)
    {
        // The cases the period concerns, from the district's case index.
        let travelled = crate::travel::for_report(store, &q.period, q.now, q.scoring).await?;
        return Ok(travelled.projections);
    }
    let mut p = Projections::new(q.alerts).with_ledger(q.scoring);
    let mut pages = store.pages(0);
    while let Some(page) = pages.next().await? {
        p = asof::fold_occurred(p, &page, q.now);
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn districts_are_checked_and_sorted() {
        assert_eq!(check_districts(&names(&["b", "a"])), Ok(names(&["a", "b"])));
        assert_eq!(check_districts(&[]), Err(DistrictsError::Empty));
        assert_eq!(
            check_districts(&names(&["a", "b", "a"])),
            Err(DistrictsError::Repeated("a".into()))
        );
        assert!(matches!(
            check_districts(&names(&["a", "B"])),
            Err(DistrictsError::Name(_))
        ));
        let many: Vec<String> = (0..=DISTRICTS_MAX).map(|i| format!("d{i}")).collect();
        assert_eq!(check_districts(&many), Err(DistrictsError::TooMany));
    }
}
