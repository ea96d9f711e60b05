//! The dashboard's overview: one row per department of the district center and per town (the
//! board's groups), with its open cards and warnings, its cases open past the promise and due
//! within the next five working days, and its on-time rate of the month with the denominator.
//! Built from the existing views — [`Projections::alerts`], [`Projections::case_list`] and
//! [`Projections::report`] — at an explicit instant, so the live fold and a replay as of an
//! instant give the same rows. `GET /api/v1/overview` serves it.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::value::RawValue;

use crate::caselist::CaseQuery;
use crate::catalog::Catalog;
use crate::instant::{date_of, Millis};
use crate::ledger::Dimension;
use crate::report::{Period, ReportQuery};
use crate::Projections;

/// The working days "due this week" looks ahead (today and the next five), as the dashboard's
/// 本周到期 button and `GET /api/v1/cases?due_within=5`.
pub const DUE_WEEK_DAYS: u32 = 5;

/// What the overview counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OverviewQuery {
    /// Only orgs under this path (segment-wise).
    pub org: Option<String>,
    /// Only alerts of this rule code.
    pub rule: Option<String>,
    /// Only alerts of these severities (`warning`, `yellow`, `red`); `None`: all.
    pub severities: Option<Vec<String>>,
}

/// One group of the board. Field names are a contract (`GET /api/v1/overview`).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct OverviewRow {
    /// The group's org path: `<district>/center/<department>` or `<district>/<town>`.
    pub org: String,
    /// department (under the district center), town, or other (the supervision bureau, …).
    pub kind: &'static str,
    /// The org's name, when an `OrgDefined` names it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Open red cards.
    pub red: usize,
    /// Open yellow cards.
    pub yellow: usize,
    /// Open warnings (prompts before a deadline, not cards).
    pub warnings: usize,
    /// Open red cards on procurement projects (counted apart from the cases' `red`).
    pub proc_red: usize,
    /// Open yellow cards on procurement projects (apart from the cases' `yellow`).
    pub proc_yellow: usize,
    /// Open cases past their promised due date.
    pub overdue: usize,
    /// Open cases whose promised due date falls today or within the next five working days.
    pub due_this_week: usize,
    /// Cases concluded in the month (the on-time rate's denominator).
    pub concluded: i64,
    /// Of them, concluded within the promised limit.
    pub on_time: i64,
    /// on_time ÷ concluded, 4 decimals; null when nothing concluded.
    #[schemars(with = "Option<f64>")]
    pub on_time_rate: Option<Box<RawValue>>,
}

/// The overview at an instant.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Overview {
    /// The month the rates are of (the instant's), `YYYY-MM`.
    pub month: String,
    /// The rows: departments, then towns, then the others, each by org path.
    pub rows: Vec<OverviewRow>,
}

/// The board group of an org: its kind and path. A department of the district center
/// (`jiangjin/center/dept-03/…` → `jiangjin/center/dept-03`), a town (`jiangjin/town-07/…` →
/// `jiangjin/town-07`), else the org's first two segments.
pub fn group_of(org: &str) -> (&'static str, String) {
    let parts: Vec<&str> = org.split('/').collect();
    match parts.as_slice() {
        [district, "center", dept, ..] => ("department", format!("{district}/center/{dept}")),
        [district, "center"] => ("department", format!("{district}/center")),
        [district, town, ..] if town.starts_with("town") => ("town", format!("{district}/{town}")),
        [district, other, ..] => ("other", format!("{district}/{other}")),
        _ => ("other", org.to_owned()),
    }
}

fn kind_rank(kind: &str) -> u8 {
    match kind {
        "department" => 0,
        "town" => 1,
        _ => 2,
    }
}

fn raw(text: String) -> Option<Box<RawValue>> {
    RawValue::from_string(text).ok()
}

/// The rows by (kind, org path): departments, then towns, then the others.
type Groups = BTreeMap<(u8, String), OverviewRow>;

/// The row of the group `org` belongs to, made empty the first time.
fn row<'a>(groups: &'a mut Groups, catalog: &Catalog, org: &str) -> &'a mut OverviewRow {
    let (kind, path) = group_of(org);
    groups
        .entry((kind_rank(kind), path.clone()))
        .or_insert_with(|| OverviewRow {
            name: catalog.org_name(&path).map(str::to_owned),
            org: path,
            kind,
            red: 0,
            yellow: 0,
            proc_red: 0,
            proc_yellow: 0,
            warnings: 0,
            overdue: 0,
            due_this_week: 0,
            concluded: 0,
            on_time: 0,
            on_time_rate: None,
        })
}

impl Projections {
    /// The overview at `now`: alerts and cases open then, the month of `now` for the rates.
    pub fn overview(&self, query: &OverviewQuery, now: Millis) -> Overview {
        let under = |org: &str| {
            query
                .org
                .as_deref()
                .is_none_or(|p| jiancha_events::stream::org_is_under(org, p))
        };
        let mut groups = Groups::new();
        for a in self.alerts(now) {
            let counted = a.is_open()
                && under(&a.org)
                && query.rule.as_deref().is_none_or(|r| r == a.rule)
                && query
                    .severities
                    .as_ref()
                    .is_none_or(|s| s.iter().any(|s| s == a.severity));
            if !counted {
                continue;
            }
            let row = row(&mut groups, &self.catalog, &a.org);
            let procurement = crate::kinds::kind_of_stream(&a.case).is_some();
            match (a.severity, procurement) {
                ("red", false) => row.red += 1,
                ("yellow", false) => row.yellow += 1,
                ("red", true) => row.proc_red += 1,
                ("yellow", true) => row.proc_yellow += 1,
                _ => row.warnings += 1,
            }
        }
        let overdue = CaseQuery {
            org: query.org.clone(),
            overdue: true,
            ..CaseQuery::default()
        };
        for c in self.case_list(&overdue, now) {
            row(&mut groups, &self.catalog, &c.org).overdue += 1;
        }
        let due = CaseQuery {
            org: query.org.clone(),
            due_within_days: Some(DUE_WEEK_DAYS),
            ..CaseQuery::default()
        };
        for c in self.case_list(&due, now) {
            row(&mut groups, &self.catalog, &c.org).due_this_week += 1;
        }
        // The month the instant ends: 24:00 of a month's last day (what a date alone means)
        // closes that month, not the next.
        let month = date_of(now.saturating_sub(1)).format("%Y-%m").to_string();
        // A filter below a group (a window, a village point) shows the group's row with the
        // filter's own figures: its report row, under its group.
        let below = query.org.as_deref().filter(|f| {
            let (kind, path) = group_of(f);
            kind != "other" && path != *f
        });
        let report = Period::parse(&month).ok().and_then(|period| {
            self.report(
                &ReportQuery {
                    period,
                    by: Dimension::Org,
                    depth: Some(below.map_or(3, |f| f.split('/').count().max(3))),
                },
                now,
            )
        });
        for r in report.map(|r| r.rows).unwrap_or_default() {
            let Some(org) = r.org.as_deref() else {
                continue;
            };
            if r.concluded == 0 {
                continue;
            }
            match below {
                Some(f) if org != f => continue,
                Some(_) => {}
                None => {
                    // The group rows only: not the district's nor the whole center's, which add
                    // up their groups.
                    let (kind, path) = group_of(org);
                    let depth = if kind == "department" { 3 } else { 2 };
                    if !under(org) || path != org || org.split('/').count() != depth {
                        continue;
                    }
                }
            }
            let row = row(&mut groups, &self.catalog, org);
            row.concluded = r.concluded;
            row.on_time = r.on_time;
            row.on_time_rate = crate::report::rate(r.on_time, r.concluded).and_then(raw);
        }
        Overview {
            month,
            rows: groups.into_values().collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::group_of;

    #[test]
    fn orgs_group_by_department_and_town() {
        let cases = [
            (
                "jiangjin/center/dept-03/window-1",
                "department",
                "jiangjin/center/dept-03",
            ),
            (
                "jiangjin/center/dept-03",
                "department",
                "jiangjin/center/dept-03",
            ),
            ("jiangjin/center", "department", "jiangjin/center"),
            ("jiangjin/town-07/village-2", "town", "jiangjin/town-07"),
            ("jiangjin/town-1", "town", "jiangjin/town-1"),
            ("jiangjin/supervision", "other", "jiangjin/supervision"),
            ("jiangjin", "other", "jiangjin"),
        ];
        for (org, kind, path) in cases {
            assert_eq!(group_of(org), (kind, path.to_owned()), "{org}");
        }
    }
}
