//! The province's roll-up against the report it rolls up: a district's row is its report's root
//! row, a province of one district is that district, and a district counted twice doubles the
//! counts and keeps the rates and the score.

use std::path::Path;

use jiancha_events::StoredEvent;

use crate::ledger::Dimension;
use crate::province::{district_figures, province_report};
use crate::tests::scenario_events;
use crate::{Period, Projections, ReportQuery, Scoring};

fn district() -> (Projections, i64) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/ledger/district.jsonl");
    let (events, now): (Vec<StoredEvent>, _) =
        scenario_events(&std::fs::read_to_string(path).unwrap());
    let mut p = Projections::default().with_ledger(Scoring::default());
    for e in &events {
        p.apply(e);
    }
    (p, now.unwrap())
}

fn value(v: &impl serde::Serialize) -> serde_json::Value {
    serde_json::to_value(v).unwrap()
}

#[test]
fn a_districts_row_is_its_reports_root_row() {
    let (p, now) = district();
    for period in ["2026-03", "2026-04", "2026-H1"] {
        let period = Period::parse(period).unwrap();
        let q = ReportQuery {
            period: period.clone(),
            by: Dimension::Org,
            depth: Some(1),
        };
        let report = p.report(&q, now).unwrap();
        assert_eq!(report.rows.len(), 1, "one root org");
        let figures = district_figures("d", &p, &period, now).unwrap();
        assert_eq!(
            value(&figures.row),
            value(&report.rows[0]),
            "{}",
            period.label
        );
    }
}

#[test]
fn one_district_is_its_province_and_twice_doubles_the_counts_only() {
    let (p, now) = district();
    let period = Period::parse("2026-H1").unwrap();
    let one = || district_figures("d", &p, &period, now).unwrap();
    let row = value(&one().row);
    let alone = province_report(&period, vec![one()], &Scoring::default());
    let mut total = value(&alone.total);
    let mut expected = row.clone();
    for key in ["org", "name"] {
        expected.as_object_mut().unwrap().remove(key);
        total.as_object_mut().unwrap().remove(key);
    }
    assert_eq!(total, expected);
    let mut second = one();
    second.district = "c".into();
    let twice = province_report(&period, vec![one(), second], &Scoring::default());
    assert_eq!(
        twice
            .districts
            .iter()
            .map(|d| d.district.as_str())
            .collect::<Vec<_>>(),
        ["c", "d"]
    );
    let total = value(&twice.total);
    for key in [
        "accepted",
        "concluded",
        "on_time",
        "yellow",
        "red",
        "rated",
        "overdue_open",
    ] {
        assert_eq!(
            total[key].as_i64().unwrap(),
            2 * row[key].as_i64().unwrap(),
            "{key}"
        );
    }
    for key in ["on_time_rate", "satisfaction_rate", "score", "grade"] {
        assert_eq!(total[key], row[key], "{key}");
    }
}

/// A district with no activity in the period is still named: its row carries its root org and
/// name (from the orgs and items its catalog defines), with zero counts.
#[test]
fn a_quiet_districts_row_still_names_its_root() {
    let (p, now) = district();
    let period = Period::parse("2025-01").unwrap();
    let figures = district_figures("d", &p, &period, now).unwrap();
    let active = district_figures("d", &p, &Period::parse("2026-03").unwrap(), now).unwrap();
    assert!(active.row.org.is_some());
    assert_eq!(figures.row.org, active.row.org);
    assert_eq!(figures.row.name, active.row.name);
    assert_eq!(figures.row.accepted, 0);
}
