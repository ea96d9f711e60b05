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

impl Projections {
    /// The overview at `now`: alerts and cases open then, the month of `now` for the rates.
    pub fn overview(&self, query: &OverviewQuery, now: Millis) -> Overview {
        let under = |org: &str| {
            query
                .org
                .as_deref()
                .is_none_or(|p| jiancha_events::stream::org_is_under(org, p))
        };
        let mut groups: BTreeMap<(u8, String), OverviewRow> = BTreeMap::new();
        let mut entry = |org: &str| -> (u8, String) {
            let (kind, path) = group_of(org);
            let key = (kind_rank(kind), path.clone());
            groups.entry(key.clone()).or_insert_with(|| OverviewRow {
                name: self.catalog.org_name(&path).map(str::to_owned),
                org: path,
                kind,
                red: 0,
                yellow: 0,
                warnings: 0,
                overdue: 0,
                due_this_week: 0,
                concluded: 0,
                on_time: 0,
                on_time_rate: None,
            });
            key
        };
        let mut counted: Vec<((u8, String), Count)> = Vec::new();
        for a in self.alerts(now) {
            if !a.is_open() || !under(&a.org) {
                continue;
            }
            if query.rule.as_deref().is_some_and(|r| r != a.rule) {
                continue;
            }
            if query
                .severities
                .as_ref()
                .is_some_and(|s| !s.iter().any(|s| s == a.severity))
            {
                continue;
            }
            let what = match a.severity {
                "red" => Count::Red,
                "yellow" => Count::Yellow,
                _ => Count::Warning,
            };
            counted.push((entry(&a.org), what));
        }
        let cases = CaseQuery {
            org: query.org.clone(),
            overdue: true,
            ..CaseQuery::default()
        };
        for c in self.case_list(&cases, now) {
            counted.push((entry(&c.org), Count::Overdue));
        }
        let cases = CaseQuery {
            org: query.org.clone(),
            due_within_days: Some(DUE_WEEK_DAYS),
            ..CaseQuery::default()
        };
        for c in self.case_list(&cases, now) {
            counted.push((entry(&c.org), Count::DueThisWeek));
        }
        let today = date_of(now);
        let month = today.format("%Y-%m").to_string();
        if let Ok(period) = Period::parse(&month) {
            let report = self.report(
                &ReportQuery {
                    period,
                    by: Dimension::Org,
                    depth: Some(3),
                },
                now,
            );
            for r in report.map(|r| r.rows).unwrap_or_default() {
                let Some(org) = r.org.as_deref() else {
                    continue;
                };
                // The group rows only: not the district's nor the whole center's, which
                // add up their groups.
                let (kind, path) = group_of(org);
                let depth = if kind == "department" { 3 } else { 2 };
                if r.concluded == 0 || !under(org) || path != org || org.split('/').count() != depth
                {
                    continue;
                }
                let key = entry(org);
                counted.push((key, Count::Concluded(r.concluded, r.on_time)));
            }
        }
        for (key, what) in counted {
            let Some(row) = groups.get_mut(&key) else {
                continue;
            };
            match what {
                Count::Red => row.red += 1,
                Count::Yellow => row.yellow += 1,
                Count::Warning => row.warnings += 1,
                Count::Overdue => row.overdue += 1,
                Count::DueThisWeek => row.due_this_week += 1,
                Count::Concluded(concluded, on_time) => {
                    row.concluded = concluded;
                    row.on_time = on_time;
                    row.on_time_rate = crate::report::rate(on_time, concluded).and_then(raw);
                }
            }
        }
        Overview {
            month,
            rows: groups.into_values().collect(),
        }
    }
}

/// What one alert, case or report row adds to its group.
enum Count {
    Red,
    Yellow,
    Warning,
    Overdue,
    DueThisWeek,
    Concluded(i64, i64),
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
