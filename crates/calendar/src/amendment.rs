//! Amendments: the changes a jurisdiction makes to the national calendar (local holidays,
//! closures, shifted workdays, years declared once their notice is out), and which
//! jurisdictions each one reaches.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The jurisdiction of the national calendar; its amendments reach every jurisdiction.
pub const NATIONAL: &str = "national";

/// One change to a calendar, as carried by the `CalendarAmended` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Amendment {
    /// Who it applies to: [`NATIONAL`], or an org path such as `cq` or `cq/jiangjin`. An
    /// amendment reaches its jurisdiction and every path below it.
    pub jurisdiction: String,
    /// The day changed; for [`AmendmentKind::YearDeclared`], any day of the declared year.
    pub date: NaiveDate,
    /// What the day becomes.
    pub kind: AmendmentKind,
    /// Why, in the words of the notice or order (shown beside the day).
    pub reason: String,
}

/// What an amendment does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AmendmentKind {
    /// The day is a holiday (statutory, or local such as an ethnic festival): a rest day.
    Holiday,
    /// The day is a rest day that is not a holiday: in lieu, or an emergency closure.
    RestDay,
    /// The day is worked (调休上班).
    Workday,
    /// The year of `date` is declared: its arrangements are complete, so counts across it
    /// are no longer provisional. Send the year's days first, then this.
    YearDeclared,
}

impl AmendmentKind {
    /// The wire name: `holiday`, `rest_day`, `workday`, `year_declared`.
    pub fn as_str(self) -> &'static str {
        match self {
            AmendmentKind::Holiday => "holiday",
            AmendmentKind::RestDay => "rest_day",
            AmendmentKind::Workday => "workday",
            AmendmentKind::YearDeclared => "year_declared",
        }
    }
}

impl fmt::Display for AmendmentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An amendment kind name that is not one of the four wire names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown amendment kind {0:?}: expected holiday, rest_day, workday or year_declared")]
pub struct UnknownAmendmentKind(pub String);

impl FromStr for AmendmentKind {
    type Err = UnknownAmendmentKind;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        [
            AmendmentKind::Holiday,
            AmendmentKind::RestDay,
            AmendmentKind::Workday,
            AmendmentKind::YearDeclared,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == text)
        .ok_or_else(|| UnknownAmendmentKind(text.to_owned()))
    }
}

/// Whether an amendment made for `source` reaches the calendar of `target`: national ones
/// reach everyone; `cq` reaches `cq` and `cq/jiangjin` but not `cqx`.
pub(crate) fn reaches(source: &str, target: &str) -> bool {
    let source = source.trim_end_matches('/');
    let target = target.trim_end_matches('/');
    source == NATIONAL
        || source == target
        || target
            .strip_prefix(source)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// How far below the national calendar a jurisdiction sits: national 0, `cq` 1, `cq/a` 2.
pub(crate) fn depth(jurisdiction: &str) -> usize {
    let path = jurisdiction.trim_end_matches('/');
    if path == NATIONAL || path.is_empty() {
        0
    } else {
        path.split('/').count()
    }
}

/// The amendments that reach `target`, in the order they apply: less specific jurisdictions
/// first (so `cq/jiangjin` overrides `cq`, which overrides national), and within one
/// jurisdiction in the order given (the log's order: the later one wins).
pub(crate) fn applicable<'a>(target: &str, amendments: &'a [Amendment]) -> Vec<&'a Amendment> {
    let mut reaching: Vec<&Amendment> = amendments
        .iter()
        .filter(|a| reaches(&a.jurisdiction, target))
        .collect();
    // A stable sort keeps the log's order within one depth.
    reaching.sort_by_key(|a| depth(&a.jurisdiction));
    reaching
}
