//! The procurement report (`report --kind procurement`): per purchaser org and month, the
//! projects registered, awards, contracts and contracts signed on time (within 30 natural days
//! of the award notice), the cards (violations) and the score. Read from the ledger's
//! procurement sums, with the cards the clock has raised since the projects' last events.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;
use serde_json::value::RawValue;

use crate::ledger::{Month, ProcCounts};
use crate::report::{pending_entries_of, rate, Period};
use crate::{Millis, Projections};

/// One row: a purchaser org in one month.
#[derive(Debug, Clone, Serialize)]
pub struct ProcRow {
    /// The purchaser org's path.
    pub org: String,
    /// Its display name, when the catalog names it.
    pub org_name: Option<String>,
    /// The month (`YYYYMM`).
    pub month: Month,
    /// Projects registered.
    pub projects: i64,
    /// Award notices.
    pub awards: i64,
    /// Contracts signed.
    pub contracts: i64,
    /// Contracts signed within 30 natural days of their award notice.
    pub contracts_on_time: i64,
    /// contracts_on_time ÷ contracts (4 decimals; null without a contract).
    pub contract_on_time_rate: Option<Box<RawValue>>,
    /// Yellow cards.
    pub yellow: i64,
    /// Red cards.
    pub red: i64,
    /// Violations: yellow and red cards.
    pub violations: i64,
    /// The base points and the cards' points (never under the scoring's floor).
    pub score: i64,
    /// The score's grade: 优秀, 良好, 合格 or 不合格.
    pub grade: &'static str,
}

/// The procurement report of a period.
#[derive(Debug, Clone, Serialize)]
pub struct ProcReport {
    /// The period's label.
    pub period: String,
    /// The rows, by org then month.
    pub rows: Vec<ProcRow>,
}

/// The ledger entries of the cards the clock has raised on projects since their last events
/// (not folded yet), as the next event will record them.
pub fn pending_entries(p: &Projections, ledger: &crate::Ledger, now: Millis) -> Vec<crate::Entry> {
    let active = p
        .projects_sorted()
        .into_iter()
        .filter(|(_, c)| c.is_active(&p.config));
    pending_entries_of(p, ledger, now, active)
}

/// The procurement report of `period` at `now`, for the purchasers at or under `org` (every
/// purchaser when empty); `None` when the projections keep no ledger.
pub fn procurement_report(
    p: &Projections,
    period: &Period,
    org: &str,
    now: Millis,
) -> Option<ProcReport> {
    let ledger = p.ledger()?;
    let under = |path: &str| jiancha_events::stream::org_is_under(path, org) || org.is_empty();
    let in_period = |m: &Month| period.months.contains(m);
    let mut grid: BTreeMap<(Arc<str>, Month), ProcCounts> = BTreeMap::new();
    for (o, months) in ledger.procurement_sums() {
        if !under(o) {
            continue;
        }
        for (m, c) in months.iter().filter(|(m, _)| in_period(m)) {
            grid.entry((o.clone(), *m)).or_default().merge(c);
        }
    }
    for e in pending_entries(p, ledger, now) {
        if in_period(&e.month) && under(&e.org) {
            grid.entry((e.org.clone(), e.month)).or_default().add(&e);
        }
    }
    let scoring = ledger.scoring;
    let rows = grid
        .into_iter()
        .map(|((o, month), c)| {
            let score = (scoring.base_points + c.points).max(scoring.floor_points);
            ProcRow {
                org: o.to_string(),
                org_name: p.catalog.org_name(&o).map(str::to_owned),
                month,
                projects: c.projects,
                awards: c.awards,
                contracts: c.contracts,
                contracts_on_time: c.contracts_on_time,
                contract_on_time_rate: rate(c.contracts_on_time, c.contracts)
                    .and_then(|r| RawValue::from_string(r).ok()),
                yellow: c.yellow,
                red: c.red,
                violations: c.yellow + c.red,
                score,
                grade: scoring.grade(i128::from(score) * 100),
            }
        })
        .collect();
    Some(ProcReport {
        period: period.label.clone(),
        rows,
    })
}

/// Every entry behind the procurement rows of `org` and the purchasers under it in a period:
/// what `report explain --kind procurement` lists, with totals equal to the rows' sums.
#[derive(Debug, Clone, Serialize)]
pub struct ProcExplanation {
    /// The period's label.
    pub period: String,
    /// The org path (its purchasers and those under it).
    pub org: String,
    /// The ledger's procurement entries of the period's months for those purchasers, and the
    /// entries of cards the clock raised since the projects' last events; in ledger order,
    /// the pending ones last.
    pub entries: Vec<crate::Entry>,
    /// The sums of `entries`: the rows' counts added up.
    pub totals: ProcCounts,
    /// The rows themselves, one per purchaser and month.
    pub rows: Vec<ProcRow>,
}

/// Explains the procurement rows of `org` (and the purchasers under it) for `period` at `now`.
pub fn explain(
    p: &Projections,
    period: &Period,
    org: &str,
    now: Millis,
) -> Option<ProcExplanation> {
    let ledger = p.ledger()?;
    let counted = |month: crate::ledger::Month, path: &str, measure: crate::ledger::Measure| {
        measure.is_procurement()
            && period.months.contains(&month)
            && (org.is_empty() || jiancha_events::stream::org_is_under(path, org))
    };
    let mut entries: Vec<crate::Entry> = ledger.entries_matching(counted);
    entries.extend(
        pending_entries(p, ledger, now)
            .into_iter()
            .filter(|e| counted(e.month, &e.org, e.measure)),
    );
    let mut totals = ProcCounts::default();
    for e in &entries {
        totals.add(e);
    }
    let rows = procurement_report(p, period, org, now).map_or_else(Vec::new, |r| r.rows);
    Some(ProcExplanation {
        period: period.label.clone(),
        org: org.to_owned(),
        entries,
        totals,
        rows,
    })
}
