//! The case list: which cases match a query at an instant — by org, item, status, due within
//! the next working days, overdue — one row each, sorted by promised due date then stream.
//! `jiancha case list` and `GET /api/v1/cases` print it; the server pages it by [`CaseKey`].

use chrono::NaiveDate;
use serde::Serialize;

use crate::case::{CaseState, Ctx, Status};
use crate::instant::{date_of, Millis};
use crate::view::shown_due;
use crate::Projections;

/// What a case list asks for; every filter given must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseQuery {
    /// Cases of orgs under this path (segment-wise: town-1 does not match town-10).
    pub org: Option<String>,
    /// Cases of this item code.
    pub item: Option<String>,
    /// Cases in this status.
    pub status: Option<Status>,
    /// Open cases whose promised due date falls within the next this many working days of
    /// the evaluation date, by the case's calendar (0: due that day).
    pub due_within_days: Option<u32>,
    /// Open cases past their promised due date.
    pub overdue: bool,
}

/// One case of the list at an instant. Field names are a contract (`jiancha case list
/// --format json`, `GET /api/v1/cases`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseRow {
    /// The case stream.
    pub stream: String,
    /// The item code.
    pub item: String,
    /// The accountable org.
    pub org: String,
    /// The org's name, when the catalog names it (`OrgDefined`); null otherwise.
    pub org_name: Option<String>,
    /// The item's name, when the catalog defines it; null otherwise.
    pub item_name: Option<String>,
    /// submitted, running, suspended, concluded, withdrawn or rejected.
    pub status: &'static str,
    /// The promised due date, as `jiancha case show` gives it (null before the clock starts,
    /// while a lawful suspension keeps it open, or for an item the catalog does not define).
    pub promised_due_on: Option<NaiveDate>,
    /// Working days left on the promised limit at the instant (negative when overdue).
    pub remaining_days: Option<i64>,
    /// Open past the promised due date.
    pub overdue: bool,
    /// The case's alerts open at the instant (raised by events or by the clock).
    pub open_alerts: usize,
}

/// Where a row sorts: by promised due date (cases without one last), then stream. A page of
/// the list ends at a key; the next starts after it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct CaseKey {
    undated: bool,
    due_on: Option<NaiveDate>,
    stream: String,
}

impl CaseKey {
    /// The key of a row with this due date and stream.
    pub fn new(due_on: Option<NaiveDate>, stream: &str) -> Self {
        CaseKey {
            undated: due_on.is_none(),
            due_on,
            stream: stream.to_owned(),
        }
    }

    /// The promised due date.
    pub fn due_on(&self) -> Option<NaiveDate> {
        self.due_on
    }

    /// The case stream.
    pub fn stream(&self) -> &str {
        &self.stream
    }
}

impl CaseRow {
    /// Where the row sorts.
    pub fn key(&self) -> CaseKey {
        CaseKey::new(self.promised_due_on, &self.stream)
    }
}

/// A status from its wire name (`submitted`, `running`, …).
pub fn parse_status(text: &str) -> Option<Status> {
    [
        Status::Submitted,
        Status::Running,
        Status::Suspended,
        Status::Concluded,
        Status::Withdrawn,
        Status::Rejected,
    ]
    .into_iter()
    .find(|s| s.as_str() == text)
}

impl Projections {
    /// The cases matching `query` at `now`, sorted by promised due date (none last), then
    /// stream.
    pub fn case_list(&self, query: &CaseQuery, now: Millis) -> Vec<CaseRow> {
        let today = date_of(now);
        // Only an open case can fall due or be overdue: those lists read the active cases (a
        // superset of the open ones), not the district.
        let only_open = query.due_within_days.is_some()
            || query.overdue
            || query.status.is_some_and(|s| s.is_open());
        let cases: Box<dyn Iterator<Item = (&str, &CaseState)>> = if only_open {
            Box::new(self.active_cases())
        } else {
            Box::new(self.cases())
        };
        let mut rows: Vec<CaseRow> = cases
            .filter(|(_, case)| passes_cheap(query, case))
            .filter_map(|(stream, case)| {
                self.with_ctx(case, |ctx| row(query, stream, case, ctx, today, now))
            })
            .collect();
        rows.sort_unstable_by_key(CaseRow::key);
        // Named with the catalog as of the instant, as the alerts and reports are.
        for r in &mut rows {
            r.org_name = self.catalog.org_name(&r.org).map(str::to_owned);
            r.item_name = self.catalog.item_name(&r.item).map(str::to_owned);
        }
        rows
    }
}

/// The filters that need no calendar.
fn passes_cheap(query: &CaseQuery, case: &CaseState) -> bool {
    let by_due = query.due_within_days.is_some() || query.overdue;
    (!by_due || case.status.is_open())
        && query.status.is_none_or(|s| case.status == s)
        && query.item.as_deref().is_none_or(|i| *case.item == *i)
        && query
            .org
            .as_deref()
            .is_none_or(|p| jiancha_events::stream::org_is_under(case.org(), p))
}

/// A case's row, if it passes the filters that need its due date.
fn row(
    query: &CaseQuery,
    stream: &str,
    case: &CaseState,
    ctx: &Ctx<'_>,
    today: NaiveDate,
    now: Millis,
) -> Option<CaseRow> {
    let limit = case.limits_days().map(|(promised, _)| promised);
    let due_on = limit.and_then(|days| shown_due(case, case.due(ctx, days)));
    let overdue = case.status.is_open() && due_on.is_some_and(|d| d < today);
    if query.overdue && !overdue {
        return None;
    }
    if let Some(days) = query.due_within_days {
        // A window past the calendar's last day reaches that day: every due date is by then.
        let last = ctx
            .calendar
            .add_working_days(today, days)
            .map_or(jiancha_calendar::LAST_DATE, |d| d.date);
        if !due_on.is_some_and(|d| today <= d && d <= last) {
            return None;
        }
    }
    let used = case.used_days(ctx, today);
    Some(CaseRow {
        stream: stream.to_owned(),
        item: case.item.to_string(),
        org: case.org().to_string(),
        org_name: None,
        item_name: None,
        status: case.status.as_str(),
        promised_due_on: due_on,
        remaining_days: limit.zip(used).map(|(p, u)| i64::from(p) - i64::from(u)),
        overdue,
        open_alerts: open_alerts(case, ctx, now),
    })
}

/// The case's alerts open at `now`: raised by then and not closed by then, and the ones the
/// clock raises by then.
fn open_alerts(case: &CaseState, ctx: &Ctx<'_>, now: Millis) -> usize {
    let recorded = case
        .alerts
        .iter()
        .filter(|a| a.raised_at <= now && a.closed_at.is_none_or(|c| c > now))
        .count();
    let pending = if now >= case.cursor {
        case.pending(ctx, now).len()
    } else {
        0
    };
    recorded + pending
}
