//! Reports over the ledger: rows per org path (rolled up along the tree), item or channel for a
//! period of months, with rates computed from integer counts and printed with 4 decimals, the
//! score and its grade.
//!
//! Scores: a unit's month scores from its own counts; a parent row's month is the mean of the
//! month scores of the units below it (itself included) that had activity that month,
//! weighted by their accepted cases (a plain mean when none accepted any) — never a sum, so a
//! town and a window are on one scale. A longer period's score is the mean over the months
//! with activity; a row with no active month has no score.
//!
//! A report reads the ledger's monthly sums, not the log. At the instant of evaluation it adds
//! what the clock has raised since the cases' last events (cards not yet folded) and counts the
//! cases still open past their promised due date at the period's end (`overdue_open`).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::case::CaseState;
use crate::instant::{end_of, Millis};
use crate::ledger::{Counts, Dimension, Month, Scoring};
use crate::{Ledger, Projections};

/// A period: one or more consecutive months.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    /// As the user wrote it (normalised): `2026-03`, `2026-H1`, `2026`, `2026-01..2026-03`.
    pub label: String,
    /// Its months, in order.
    pub months: Vec<Month>,
}

/// Why a period could not be read. The messages name no flag nor parameter: a caller that
/// takes a range from two of them names them with [`PeriodError::naming`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    /// The text is none of the forms [`Period::parse`] reads: the user gives another; the
    /// message lists the forms.
    #[error("{0:?} is not a period: use YYYY-MM, YYYY-H1, YYYY-H2, YYYY-Q1..Q4 or YYYY")]
    NotAPeriod(String),
    /// An end of a range is not a month: the user gives a `YYYY-MM`; name the end as the
    /// caller called it with [`PeriodError::naming`].
    #[error("the range's {end} {text:?} is not YYYY-MM")]
    NotAMonth {
        /// Which end.
        end: RangeEnd,
        /// The text given for it.
        text: String,
    },
    /// The range ends before it begins: the user swaps or corrects the ends; name them with
    /// [`PeriodError::naming`].
    #[error("the range's end {to} is before its start {from}")]
    Backwards {
        /// The first month given.
        from: String,
        /// The last month given, before it.
        to: String,
    },
}

/// An end of a range of months.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeEnd {
    /// The first month.
    From,
    /// The last month.
    To,
}

impl std::fmt::Display for RangeEnd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RangeEnd::From => "start",
            RangeEnd::To => "end",
        })
    }
}

impl PeriodError {
    /// The message with the range's ends called what the caller called them (`--from` and
    /// `--to` on the command line, `from` and `to` in a query): `--to: "x" is not YYYY-MM`,
    /// `--to 2026-01 is before --from 2026-03`.
    pub fn naming(&self, from: &str, to: &str) -> String {
        match self {
            PeriodError::NotAPeriod(_) => self.to_string(),
            PeriodError::NotAMonth { end, text } => {
                let name = match end {
                    RangeEnd::From => from,
                    RangeEnd::To => to,
                };
                format!("{name}: {text:?} is not YYYY-MM")
            }
            PeriodError::Backwards {
                from: first,
                to: last,
            } => format!("{to} {last} is before {from} {first}"),
        }
    }
}

fn parse_month(text: &str) -> Option<Month> {
    let (y, m) = text.split_once('-')?;
    let (y, m): (u32, u32) = (y.parse().ok()?, m.parse().ok()?);
    ((1990..=2100).contains(&y) && (1..=12).contains(&m) && text.len() == 7).then_some(y * 100 + m)
}

fn months_between(from: Month, to: Month) -> Vec<Month> {
    let mut out = Vec::new();
    let mut m = from;
    while m <= to {
        out.push(m);
        m = if m % 100 == 12 {
            (m / 100 + 1) * 100 + 1
        } else {
            m + 1
        };
    }
    out
}

impl Period {
    /// Parses `YYYY-MM`, `YYYY-H1`, `YYYY-H2`, `YYYY-Q1`…`Q4` or `YYYY`.
    pub fn parse(text: &str) -> Result<Period, PeriodError> {
        let bad = || PeriodError::NotAPeriod(text.to_owned());
        if let Some(m) = parse_month(text) {
            return Ok(Period {
                label: text.to_owned(),
                months: vec![m],
            });
        }
        let (year, part) = text.split_once('-').unwrap_or((text, ""));
        let y: u32 = year.parse().map_err(|_| bad())?;
        if !(1990..=2100).contains(&y) || year.len() != 4 {
            return Err(bad());
        }
        let (a, b) = match part {
            "" => (1, 12),
            "H1" => (1, 6),
            "H2" => (7, 12),
            "Q1" => (1, 3),
            "Q2" => (4, 6),
            "Q3" => (7, 9),
            "Q4" => (10, 12),
            _ => return Err(bad()),
        };
        Ok(Period {
            label: text.to_owned(),
            months: months_between(y * 100 + a, y * 100 + b),
        })
    }

    /// The months from `from` to `to` (`YYYY-MM` each), inclusive.
    pub fn range(from: &str, to: &str) -> Result<Period, PeriodError> {
        let not_a_month = |end, text: &str| PeriodError::NotAMonth {
            end,
            text: text.to_owned(),
        };
        let f = parse_month(from).ok_or_else(|| not_a_month(RangeEnd::From, from))?;
        let t = parse_month(to).ok_or_else(|| not_a_month(RangeEnd::To, to))?;
        if t < f {
            return Err(PeriodError::Backwards {
                from: from.to_owned(),
                to: to.to_owned(),
            });
        }
        Ok(Period {
            label: format!("{from}..{to}"),
            months: months_between(f, t),
        })
    }

    /// The instant the period begins (00:00 +08:00 of its first day).
    pub fn start(&self) -> Millis {
        let first = self.months.first().copied().unwrap_or(0);
        let (y, m) = ((first / 100) as i32, first % 100);
        NaiveDate::from_ymd_opt(y, m, 1).map_or(Millis::MIN, crate::instant::start_of)
    }

    /// The instant the period ends (24:00 +08:00 of its last day).
    pub fn end(&self) -> Millis {
        let last = self.months.last().copied().unwrap_or(0);
        let (y, m) = ((last / 100) as i32, last % 100);
        let first_next = if m == 12 {
            NaiveDate::from_ymd_opt(y + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(y, m + 1, 1)
        };
        first_next
            .and_then(|d| d.pred_opt())
            .map_or(Millis::MAX, end_of)
    }
}

/// What to report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportQuery {
    /// The period.
    pub period: Period,
    /// The grouping.
    pub by: Dimension,
    /// For `Dimension::Org`: keep paths of at most this many segments.
    pub depth: Option<usize>,
}

/// One row. Exactly one of `org`, `item`, `channel` is present, by the grouping.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Row {
    /// The org path (grouping by org).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
    /// The item code (grouping by item).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item: Option<String>,
    /// The channel (grouping by channel).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// The name of the org or item, when the catalog gives one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Cases accepted.
    pub accepted: i64,
    /// Cases concluded.
    pub concluded: i64,
    /// Concluded within the promised limit.
    pub on_time: i64,
    /// on_time ÷ concluded (null when nothing concluded).
    pub on_time_rate: Option<Box<RawValue>>,
    /// Concluded early.
    pub early: i64,
    /// early ÷ concluded.
    pub early_rate: Option<Box<RawValue>>,
    /// Concluded within the statutory limit.
    pub statutory_on_time: i64,
    /// Cases open past their promised due date at the period's end (or the instant, if
    /// earlier).
    pub overdue_open: i64,
    /// Yellow cards.
    pub yellow: i64,
    /// Red cards.
    pub red: i64,
    /// Ratings.
    pub rated: i64,
    /// Ratings of 4 or 5.
    pub satisfied: i64,
    /// satisfied ÷ rated.
    pub satisfaction_rate: Option<Box<RawValue>>,
    /// Ratings of 1 or 2.
    pub bad_rated: i64,
    /// Complaints.
    pub complaints: i64,
    /// Warnings (prompts before the promised limit expires; not cards).
    pub warnings: i64,
    /// Cases of items the catalog does not define (never on time).
    pub unmonitored: i64,
    /// Correction orders received (督办).
    pub ordered: i64,
    /// Orders reported back within their days and verified.
    pub corrected_on_time: i64,
    /// corrected_on_time ÷ ordered (纠错率; null without an order).
    pub correction_rate: Option<Box<RawValue>>,
    /// Orders gone past their due date without a report-back.
    pub correction_overdue: i64,
    /// Bad ratings verified as valid (属实).
    pub bad_valid: i64,
    /// Valid bad ratings rectified within their days.
    pub rectified_on_time: i64,
    /// rectified_on_time ÷ bad_valid (差评整改率; null without a valid bad rating).
    pub rectification_rate: Option<Box<RawValue>>,
    /// Call-backs scored 4 or 5.
    pub callback_satisfied: i64,
    /// Ratings given by default when the window closed unrated.
    pub defaulted: i64,
    /// Complaints answered as upheld.
    pub complaints_upheld: i64,
    /// Complaints accepted or answered late.
    pub complaints_late: i64,
    /// The score (an integer, or 4 decimals for a mean); null without an active month.
    pub score: Option<Box<RawValue>>,
    /// The score's grade: 优秀, 良好, 合格 or 不合格; null without a score.
    #[serde(deserialize_with = "grade")]
    pub grade: Grade,
    /// The counts behind the rates, for the table view.
    #[serde(skip)]
    pub counts: Counts,
}

/// A report.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Report {
    /// The period's label.
    pub period: String,
    /// The rows, sorted by their key.
    pub rows: Vec<Row>,
}

/// A row's grade (named by an alias, so that reading a row back borrows nothing).
pub type Grade = Option<&'static str>;

/// The grades a score can have, as written in a report.
const GRADES: [&str; 4] = ["优秀", "良好", "合格", "不合格"];

fn grade<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<&'static str>, D::Error> {
    let Some(text) = Option::<String>::deserialize(d)? else {
        return Ok(None);
    };
    GRADES
        .iter()
        .find(|g| **g == text)
        .map(|g| Some(*g))
        .ok_or_else(|| serde::de::Error::custom(format!("grade: {text:?} is not a grade")))
}

impl Report {
    /// A report read back from its JSON (a closed report kept in its `PeriodClosed` event), with
    /// each row's counts rebuilt from its fields (card points are not in a row: 0). Its pretty
    /// form is the text the JSON was written from, so a digest of that text checks it.
    pub fn from_json(text: &str) -> Result<Report, serde_json::Error> {
        let mut report: Report = serde_json::from_str(text)?;
        for r in &mut report.rows {
            r.counts = Counts {
                accepted: r.accepted,
                concluded: r.concluded,
                on_time: r.on_time,
                early: r.early,
                statutory_on_time: r.statutory_on_time,
                rated: r.rated,
                satisfied: r.satisfied,
                bad_rated: r.bad_rated,
                complaints: r.complaints,
                warnings: r.warnings,
                yellow: r.yellow,
                red: r.red,
                unmonitored: r.unmonitored,
                ordered: r.ordered,
                corrected_on_time: r.corrected_on_time,
                correction_overdue: r.correction_overdue,
                bad_valid: r.bad_valid,
                rectified_on_time: r.rectified_on_time,
                callback_satisfied: r.callback_satisfied,
                defaulted: r.defaulted,
                complaints_upheld: r.complaints_upheld,
                complaints_late: r.complaints_late,
                points: 0,
            };
        }
        Ok(report)
    }

    /// Keeps the org rows of at most `depth` path segments (a report by org at every depth
    /// narrowed as `ReportQuery::depth` narrows it).
    pub fn keep_depth(&mut self, depth: usize) {
        self.rows.retain(|r| {
            r.org
                .as_deref()
                .is_none_or(|o| o.split('/').count() <= depth)
        });
    }
}

fn raw(text: String) -> Box<RawValue> {
    RawValue::from_string(text).unwrap_or_else(|_| RawValue::NULL.to_owned())
}

/// `num ÷ den` rounded half up to 4 decimals, from integers only; `None` when `den` is 0.
/// Every rate of a report is a part over its whole (`num <= den` by construction; a property
/// test holds the ledger to it).
pub fn rate(num: i64, den: i64) -> Option<String> {
    if den <= 0 {
        return None;
    }
    let scaled = (num.max(0) as i128 * 20_000 + den as i128) / (2 * den as i128);
    Some(format!("{}.{:04}", scaled / 10_000, scaled % 10_000))
}

/// Fixed-point scale of scores while they are averaged: 10^-12 of a point.
const SCORE_SCALE: i128 = 1_000_000_000_000;

/// `num ÷ den` at [`SCORE_SCALE`], rounded half away from zero; 0 when `den` is 0.
fn scaled_div(num: i128, den: i128) -> i128 {
    if den == 0 {
        return 0;
    }
    let q = (num.abs() * SCORE_SCALE * 2 / den.abs() + 1) / 2;
    if (num < 0) != (den < 0) {
        -q
    } else {
        q
    }
}

/// A score at [`SCORE_SCALE`] as the report prints it: an integer when it is one, else 4
/// decimals rounded half away from zero.
fn score_text(scaled: i128) -> String {
    if scaled % SCORE_SCALE == 0 {
        return (scaled / SCORE_SCALE).to_string();
    }
    let step = SCORE_SCALE / 10_000;
    let ten_thousandths = (scaled.abs() + step / 2) / step;
    format!(
        "{}{}.{:04}",
        if scaled < 0 { "-" } else { "" },
        ten_thousandths / 10_000,
        ten_thousandths % 10_000
    )
}

/// The score of a row over the period, at [`SCORE_SCALE`]: the mean over the months in which
/// any of `units` had activity of the month's accepted-weighted mean of their scores; `None`
/// without such a month.
pub(crate) fn period_score(
    months: &[Month],
    units: &[&BTreeMap<Month, Counts>],
    scoring: &Scoring,
) -> Option<i128> {
    let mut sum: i128 = 0;
    let mut active: i128 = 0;
    for m in months {
        let (mut weighted, mut weights, mut plain, mut n) = (0i128, 0i128, 0i128, 0i128);
        for unit in units {
            let Some(c) = unit.get(m).filter(|c| c.is_active()) else {
                continue;
            };
            let score = i128::from(c.score(scoring));
            let w = i128::from(c.accepted.max(0));
            weighted += score * w;
            weights += w;
            plain += score;
            n += 1;
        }
        if n == 0 {
            continue;
        }
        sum += if weights > 0 {
            scaled_div(weighted, weights)
        } else {
            scaled_div(plain, n)
        };
        active += 1;
    }
    (active > 0).then(|| {
        // The mean of the months, at the same scale.
        scaled_div(sum, active * SCORE_SCALE)
    })
}

/// Every prefix of an org path: `a/b/c` gives `a`, `a/b`, `a/b/c`.
fn prefixes(org: &str) -> impl Iterator<Item = &str> {
    org.match_indices('/')
        .map(|(i, _)| &org[..i])
        .chain(std::iter::once(org))
}

pub(crate) type Grid = BTreeMap<String, BTreeMap<Month, Counts>>;

fn add_to(grid: &mut Grid, key: &str, month: Month, counts: &Counts) {
    grid.entry(key.to_owned())
        .or_default()
        .entry(month)
        .or_default()
        .merge(counts);
}

/// The units of `units` at or below the org path `key`.
fn units_under<'a>(units: &'a Grid, key: &str) -> Vec<&'a BTreeMap<Month, Counts>> {
    units
        .range(key.to_owned()..)
        .take_while(|(k, _)| k.starts_with(key))
        .filter(|(k, _)| k.len() == key.len() || k.as_bytes().get(key.len()) == Some(&b'/'))
        .map(|(_, months)| months)
        .collect()
}

/// The counts of each unit (accountable org, item or channel) by month of the period, with the
/// cards the clock has raised by `now` that the fold has not yet taken in.
pub(crate) fn unit_grid(
    ledger: &Ledger,
    projections: &Projections,
    q: &ReportQuery,
    now: Millis,
) -> Grid {
    let mut units: Grid = BTreeMap::new();
    let (first, last) = (
        q.period.months.first().copied().unwrap_or(0),
        q.period.months.last().copied().unwrap_or(0),
    );
    for (month, key, counts) in ledger.sums(q.by, first..=last) {
        add_to(&mut units, &key, month, &counts);
    }
    for (month, key, counts) in pending_cards(projections, ledger, q.by, now) {
        if (first..=last).contains(&month) {
            add_to(&mut units, &key, month, &counts);
        }
    }
    units
}

/// Builds a report at the instant `now`.
pub fn report(ledger: &Ledger, projections: &Projections, q: &ReportQuery, now: Millis) -> Report {
    // The counts of each unit (accountable org, item or channel) by month, then each row's.
    let units = unit_grid(ledger, projections, q, now);
    let mut grid: Grid = BTreeMap::new();
    for (key, months) in &units {
        let keys: Vec<&str> = if q.by == Dimension::Org {
            prefixes(key).collect()
        } else {
            vec![key]
        };
        for k in keys {
            for (month, counts) in months {
                add_to(&mut grid, k, *month, counts);
            }
        }
    }
    let mut overdue: BTreeMap<String, i64> = BTreeMap::new();
    for key in overdue_open(projections, q.by, q.period.end().min(now)) {
        let keys: Vec<&str> = if q.by == Dimension::Org {
            prefixes(&key).collect()
        } else {
            vec![&key]
        };
        for k in keys {
            *overdue.entry(k.to_owned()).or_default() += 1;
            grid.entry(k.to_owned()).or_default();
        }
    }
    let rows = grid
        .into_iter()
        .filter(|(key, _)| {
            q.by != Dimension::Org || q.depth.is_none_or(|d| key.split('/').count() <= d)
        })
        .map(|(key, months)| {
            let open = overdue.get(&key).copied().unwrap_or(0);
            let under = if q.by == Dimension::Org {
                units_under(&units, &key)
            } else {
                vec![&months]
            };
            let score = period_score(&q.period.months, &under, &ledger.scoring);
            let name = match q.by {
                Dimension::Org => projections.catalog.org_name(&key),
                Dimension::Item => projections.catalog.item_name(&key),
                Dimension::Channel => None,
            }
            .map(str::to_owned);
            Row {
                name,
                ..row(q, &ledger.scoring, key, &months, open, score)
            }
        })
        .collect();
    Report {
        period: q.period.label.clone(),
        rows,
    }
}

pub(crate) fn row(
    q: &ReportQuery,
    scoring: &Scoring,
    key: String,
    months: &BTreeMap<Month, Counts>,
    overdue_open: i64,
    score: Option<i128>,
) -> Row {
    let mut c = Counts::default();
    for counts in months.values() {
        c.merge(counts);
    }
    let (org, item, channel) = match q.by {
        Dimension::Org => (Some(key), None, None),
        Dimension::Item => (None, Some(key), None),
        Dimension::Channel => (None, None, Some(key)),
    };
    Row {
        org,
        item,
        channel,
        name: None,
        accepted: c.accepted,
        concluded: c.concluded,
        on_time: c.on_time,
        on_time_rate: rate(c.on_time, c.concluded).map(raw),
        early: c.early,
        early_rate: rate(c.early, c.concluded).map(raw),
        statutory_on_time: c.statutory_on_time,
        overdue_open,
        yellow: c.yellow,
        red: c.red,
        rated: c.rated,
        satisfied: c.satisfied,
        satisfaction_rate: rate(c.satisfied, c.rated).map(raw),
        bad_rated: c.bad_rated,
        complaints: c.complaints,
        warnings: c.warnings,
        unmonitored: c.unmonitored,
        ordered: c.ordered,
        corrected_on_time: c.corrected_on_time,
        correction_rate: rate(c.corrected_on_time, c.ordered).map(raw),
        correction_overdue: c.correction_overdue,
        bad_valid: c.bad_valid,
        rectified_on_time: c.rectified_on_time,
        rectification_rate: rate(c.rectified_on_time, c.bad_valid).map(raw),
        callback_satisfied: c.callback_satisfied,
        defaulted: c.defaulted,
        complaints_upheld: c.complaints_upheld,
        complaints_late: c.complaints_late,
        score: score.map(|s| raw(score_text(s))),
        grade: score.map(|s| scoring.grade(s / (SCORE_SCALE / 100))),
        counts: c,
    }
}

/// Cards and warnings the clock has raised by `now` that the fold has not yet taken in (no
/// event on the case since), as (month, key, counts).
fn pending_cards(
    p: &Projections,
    ledger: &Ledger,
    by: Dimension,
    now: Millis,
) -> Vec<(Month, String, Counts)> {
    let mut out: Vec<(Month, String, Counts)> = pending_entries(p, ledger, now)
        .into_iter()
        .map(|e| {
            let mut c = Counts::default();
            c.add(&e);
            let key = match by {
                Dimension::Org => e.org.to_string(),
                Dimension::Item => e.item.to_string(),
                Dimension::Channel => e.channel.as_str().to_owned(),
            };
            (e.month, key, c)
        })
        .collect();
    out.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    out
}

/// The entries the fold will make for the alerts the clock has raised by `now` on cases with
/// no event since: the same ids, months and points, so a report at `now` and the ledger after
/// the next event agree. Sorted by case, then id.
pub fn pending_entries(p: &Projections, ledger: &Ledger, now: Millis) -> Vec<crate::Entry> {
    let mut out = pending_entries_of(p, ledger, now, p.active_cases());
    // A project's workflow counts (an order gone overdue, a complaint handled late) are
    // approval measures, as its orders are: they come with its pending cards too.
    let projects = crate::kinds::procurement::report::pending_entries(p, ledger, now);
    if projects.iter().any(|e| !e.measure.is_procurement()) {
        out.extend(projects.into_iter().filter(|e| !e.measure.is_procurement()));
        out.sort_by(|a, b| (&a.case, a.key()).cmp(&(&b.case, b.key())));
    }
    out
}

/// [`pending_entries`] of the cases `cases` (the active ones, or every case in the tests that
/// check the active set misses none).
pub(crate) fn pending_entries_of<'a>(
    p: &Projections,
    ledger: &Ledger,
    now: Millis,
    cases: impl Iterator<Item = (&'a str, &'a CaseState)>,
) -> Vec<crate::Entry> {
    let mut out = Vec::new();
    for (stream, case) in cases {
        // The cached next threshold first: it rules out nearly every case at no cost.
        if case.exempted
            || case.cursor > now
            || case.cache.next_valid_before(now, p.generation()) == Some(false)
        {
            continue;
        }
        if !case.is_active(&p.config) {
            continue;
        }
        let alerts = p.pending_raw_alerts(case, now);
        if alerts.is_empty() {
            continue;
        }
        let key: std::sync::Arc<str> = std::sync::Arc::from(stream);
        out.extend(ledger.entries_for_alerts(&key, case, &alerts));
    }
    out.sort_by(|a, b| (&a.case, a.key()).cmp(&(&b.case, b.key())));
    out
}

/// The entries behind one row of a report by org, and what they add up to.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    /// The period's label.
    pub period: String,
    /// The org path of the row.
    pub org: String,
    /// Every entry the row counts: the ledger's entries of the period's months for the org and
    /// the units below it, and the entries of cards the clock has raised since the cases' last
    /// events; in ledger order, the pending ones last.
    pub entries: Vec<crate::Entry>,
    /// The sums of `entries`: the row's counts.
    pub totals: Counts,
    /// The row itself (absent when the org has none in the period).
    pub row: Option<Row>,
}

/// Explains the row of `org` in the report by org for `period` at `now`.
pub fn explain(
    ledger: &Ledger,
    projections: &Projections,
    period: &Period,
    org: &str,
    now: Millis,
) -> Explanation {
    let under = |path: &str| {
        path.strip_prefix(org)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    };
    // The approval report's entries: procurement is counted apart (`report --kind procurement`).
    let keep = |month: Month, org: &str, measure: crate::ledger::Measure| {
        period.months.contains(&month) && under(org) && !measure.is_procurement()
    };
    let mut entries: Vec<crate::Entry> = ledger.entries_matching(keep);
    entries.extend(
        pending_entries(projections, ledger, now)
            .into_iter()
            .filter(|e| keep(e.month, &e.org, e.measure)),
    );
    let mut totals = Counts::default();
    for e in &entries {
        totals.add(e);
    }
    let query = ReportQuery {
        period: period.clone(),
        by: Dimension::Org,
        depth: None,
    };
    let row = report(ledger, projections, &query, now)
        .rows
        .into_iter()
        .find(|r| r.org.as_deref() == Some(org));
    Explanation {
        period: period.label.clone(),
        org: org.to_owned(),
        entries,
        totals,
        row,
    }
}

/// The keys of the cases open past their promised due date at `at`: a promised-overdue alert
/// open at `at` says so (the fold raised it at the threshold itself); for a case whose clock
/// passed the threshold since its last event, the view at `at` does.
pub(crate) fn overdue_open(p: &Projections, by: Dimension, at: Millis) -> Vec<String> {
    overdue_open_of(p, by, at, p.maybe_overdue_at(at))
}

/// [`overdue_open`] of the cases `cases` (the ones that may be overdue at `at`, or every case in
/// the tests that check that set misses none).
pub(crate) fn overdue_open_of<'a>(
    p: &Projections,
    by: Dimension,
    at: Millis,
    cases: impl Iterator<Item = (&'a str, &'a CaseState)>,
) -> Vec<String> {
    let mut out = Vec::new();
    for (stream, case) in cases {
        let Some(acc) = &case.accepted else { continue };
        let ended = crate::watch::end_instant(case);
        if case.exempted || acc.at > at || ended.is_some_and(|e| e <= at) {
            continue;
        }
        let alerted = case.alerts.iter().any(|a| {
            a.rule == crate::Rule::PromisedOverdue
                && a.raised_at <= at
                && a.closed_at.is_none_or(|c| c > at)
        });
        let overdue = alerted
            || (case.status.is_open()
                && case.cursor <= at
                && p.pending_alerts(stream, at)
                    .iter()
                    .any(|a| a.rule == "deadline.promised.overdue"));
        if overdue {
            out.push(match by {
                Dimension::Org => p.org_at(case, at).to_string(),
                Dimension::Item => case.item.to_string(),
                Dimension::Channel => case.channel.as_str().to_owned(),
            });
        }
    }
    out.sort();
    out
}

/// The share of the catalog's items handled in the center (进驻率), as (in center, all).
pub fn items_in_center(p: &Projections) -> (i64, i64) {
    let mut all = 0;
    let mut inside = 0;
    for d in p.catalog.items() {
        all += 1;
        if d.item.in_center {
            inside += 1;
        }
    }
    (inside, all)
}

/// An entry a closed period's figures did not hold, or held and no longer do.
#[derive(Debug, Clone, Serialize)]
pub struct Adjustment {
    /// `added`: recorded (or raised) after the close; `withdrawn`: in the closed figures, and
    /// no longer in the log's (a card a later entry showed never arose).
    pub change: &'static str,
    /// The entry.
    #[serde(flatten)]
    pub entry: crate::EntryView,
}

/// The adjustments after a period's close: the entries of the period's months (pending cards
/// included) that the current figures hold and the closed ones did not, and the other way
/// round, by their stable ids; sorted by id. `closed` is the fold up to the close with the
/// instant it was evaluated at, `current` the fold now.
pub fn adjustments_after_close(
    period: &Period,
    closed: (&Projections, Millis),
    current: (&Projections, Millis),
) -> Vec<Adjustment> {
    adjustments_between(
        &period_entries(period, closed),
        &period_entries(period, current),
    )
}

/// The entries of the period's months a fold holds at an instant (pending cards included), by
/// stable id: one side of [`adjustments_between`]. A server keeps the closed side of a closed
/// period, which never changes.
pub fn period_entries(
    period: &Period,
    (p, now): (&Projections, Millis),
) -> BTreeMap<String, crate::EntryView> {
    let mut out = BTreeMap::new();
    if let Some(ledger) = p.ledger() {
        let pending = pending_entries(p, ledger, now);
        let held = ledger.entries_matching(|month, _, _| period.months.contains(&month));
        for e in held.iter().chain(&pending) {
            if period.months.contains(&e.month) {
                out.insert(e.key(), ledger.view(e));
            }
        }
    }
    out
}

/// The entries `after` holds and `before` did not (added), and the other way round
/// (withdrawn), sorted by the position that caused them, then by id.
pub fn adjustments_between(
    before: &BTreeMap<String, crate::EntryView>,
    after: &BTreeMap<String, crate::EntryView>,
) -> Vec<Adjustment> {
    let mut out: Vec<Adjustment> = after
        .iter()
        .filter(|(id, _)| !before.contains_key(*id))
        .map(|(_, e)| Adjustment {
            change: "added",
            entry: e.clone(),
        })
        .chain(
            before
                .iter()
                .filter(|(id, _)| !after.contains_key(*id))
                .map(|(_, e)| Adjustment {
                    change: "withdrawn",
                    entry: e.clone(),
                }),
        )
        .collect();
    out.sort_by(|a, b| (a.entry.caused_by, &a.entry.id).cmp(&(b.entry.caused_by, &b.entry.id)));
    out
}

#[cfg(test)]
mod period_tests {
    #![allow(
        clippy::unwrap_used,
        reason = "test code: a failed unwrap is a failed test"
    )]

    use super::{Period, PeriodError, RangeEnd};

    #[test]
    fn period_errors_name_no_flag_and_callers_name_their_own() {
        let errors = [
            Period::parse("2026-13").unwrap_err(),
            Period::range("2026-13", "2026-03").unwrap_err(),
            Period::range("2026-01", "march").unwrap_err(),
            Period::range("2026-03", "2026-01").unwrap_err(),
        ];
        for e in &errors {
            assert!(!e.to_string().contains("--"), "{e}");
        }
        assert_eq!(
            errors[1],
            PeriodError::NotAMonth {
                end: RangeEnd::From,
                text: "2026-13".into()
            }
        );
        assert_eq!(
            errors[1].naming("--from", "--to"),
            r#"--from: "2026-13" is not YYYY-MM"#
        );
        assert_eq!(
            errors[2].naming("from", "to"),
            r#"to: "march" is not YYYY-MM"#
        );
        assert_eq!(
            errors[3].naming("--from", "--to"),
            "--to 2026-01 is before --from 2026-03"
        );
        assert_eq!(errors[0].naming("--from", "--to"), errors[0].to_string());
        assert_eq!(
            errors[0].to_string(),
            r#""2026-13" is not a period: use YYYY-MM, YYYY-H1, YYYY-H2, YYYY-Q1..Q4 or YYYY"#
        );
        assert_eq!(
            Period::range("2026-02", "2026-04").unwrap().months,
            [202602, 202603, 202604]
        );
    }
}
