//! The province's roll-up: one row per district and a total, each made of the districts'
//! integer counts as a report's parent row is made of its units'. A district's row is the row
//! its own report by org gives its root (the sum of its roots when its log has several); the
//! total's counts are the districts' sums, its rates recomputed from them (never averaged), and
//! its score is that of a parent over every district's units: per month the mean of the active
//! units' scores weighted by their accepted cases, then the mean of the active months — as if
//! the province were one more level above the district roots.
//!
//! Pure: the caller folds each district's log (`jiancha_engine::province`) and hands over
//! [`DistrictFigures`], which keep only the period's monthly counts per unit, so a province of
//! many districts never holds more than one district's projections at a time.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::instant::Millis;
use crate::ledger::{Counts, Dimension, Month, Scoring};
use crate::report::{self, Period, ReportQuery, Row};
use crate::Projections;

/// One district's figures for a period.
#[derive(Debug, Clone)]
pub struct DistrictFigures {
    /// The district's name (its schema).
    pub district: String,
    /// Its row: the figures of its root org (the sum of its roots when it has several).
    pub row: Row,
    /// Each unit's monthly counts over the period, for the province's score.
    units: Vec<BTreeMap<Month, Counts>>,
}

/// A district's row in the province report.
#[derive(Debug, Clone, Serialize)]
pub struct DistrictRow {
    /// The district's name (its schema).
    pub district: String,
    /// The root org's figures, as the district's own report by org gives them.
    #[serde(flatten)]
    pub row: Row,
}

/// The province report: a row per district, in order of name, and the total.
#[derive(Debug, Clone, Serialize)]
pub struct ProvinceReport {
    /// The period's label.
    pub period: String,
    /// One row per district, by name.
    pub districts: Vec<DistrictRow>,
    /// The districts' counts summed, rates recomputed from the sums, the score of a parent
    /// over every district's units.
    pub total: Row,
}

/// A district's figures for `period` at `now`, from its projections; `None` when they keep no
/// ledger.
pub fn district_figures(
    district: &str,
    projections: &Projections,
    period: &Period,
    now: Millis,
) -> Option<DistrictFigures> {
    let ledger = projections.ledger()?;
    let q = query(period);
    let grid = report::unit_grid(ledger, projections, &q, now);
    let overdue = report::overdue_open(projections, Dimension::Org, period.end().min(now));
    let mut roots: Vec<String> = grid
        .keys()
        .chain(overdue.iter())
        .map(|org| org.split('/').next().unwrap_or_default().to_owned())
        .collect();
    if roots.is_empty() {
        // No activity in the period: the district is still named by the roots of the orgs its
        // catalog names and of the items it defines.
        roots = projections
            .catalog
            .orgs()
            .map(|(path, _)| path)
            .chain(projections.catalog.items().map(|d| d.item.org.as_str()))
            .map(|org| org.split('/').next().unwrap_or_default().to_owned())
            .collect();
    }
    roots.sort_unstable();
    roots.dedup();
    let units: Vec<BTreeMap<Month, Counts>> = grid.into_values().collect();
    let overdue = i64::try_from(overdue.len()).unwrap_or(i64::MAX);
    let mut row = rollup(&q, &ledger.scoring, &units, overdue);
    if let [root] = roots.as_slice() {
        row.name = projections.catalog.org_name(root).map(str::to_owned);
        row.org = Some(root.clone());
    }
    Some(DistrictFigures {
        district: district.to_owned(),
        row,
        units,
    })
}

/// The province report of `districts` (sorted by name here) for `period`.
pub fn province_report(
    period: &Period,
    mut districts: Vec<DistrictFigures>,
    scoring: &Scoring,
) -> ProvinceReport {
    districts.sort_by(|a, b| a.district.cmp(&b.district));
    let q = query(period);
    let overdue: i64 = districts.iter().map(|d| d.row.overdue_open).sum();
    let units: Vec<&BTreeMap<Month, Counts>> =
        districts.iter().flat_map(|d| d.units.iter()).collect();
    let total = rollup_refs(&q, scoring, &units, overdue);
    ProvinceReport {
        period: period.label.clone(),
        districts: districts
            .into_iter()
            .map(|d| DistrictRow {
                district: d.district,
                row: d.row,
            })
            .collect(),
        total,
    }
}

fn query(period: &Period) -> ReportQuery {
    ReportQuery {
        period: period.clone(),
        by: Dimension::Org,
        depth: Some(1),
    }
}

fn rollup(
    q: &ReportQuery,
    scoring: &Scoring,
    units: &[BTreeMap<Month, Counts>],
    overdue: i64,
) -> Row {
    let refs: Vec<&BTreeMap<Month, Counts>> = units.iter().collect();
    rollup_refs(q, scoring, &refs, overdue)
}

/// The row of a parent over `units`: their counts summed month by month, the parent's score.
fn rollup_refs(
    q: &ReportQuery,
    scoring: &Scoring,
    units: &[&BTreeMap<Month, Counts>],
    overdue: i64,
) -> Row {
    let mut months: BTreeMap<Month, Counts> = BTreeMap::new();
    for unit in units {
        for (month, counts) in *unit {
            months.entry(*month).or_default().merge(counts);
        }
    }
    let score = report::period_score(&q.period.months, units, scoring);
    Row {
        org: None,
        ..report::row(q, scoring, String::new(), &months, overdue, score)
    }
}
