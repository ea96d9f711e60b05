//! 辅助决策: the leadership's insight for a period, a pure function of the projections at an
//! instant — where the working days go (per item, org and step), which promised limits could
//! be shorter (承诺时限压缩), how many cases are coming (a seasonal forecast with its backtest
//! error beside it), and the hot spots (orgs whose cards per 100 accepted cases rose three
//! months in a row, items whose applicants are asked for corrections twice).
//!
//! Every figure carries the evidence it rests on (n, percentiles, the months used) and is made
//! of integers: percentiles of working days are integers or halves (see [`percentile2`]),
//! rates are integer ratios printed with 4 decimals ([`crate::report::rate`]), forecasts are
//! integers rounded half up. Output is sorted; nothing is in hash-map order.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use jiancha_events::stream::org_is_under;
use serde::Serialize;
use serde_json::value::RawValue;

use crate::case::{CaseState, Ctx};
use crate::instant::{date_of, format, Millis};
use crate::ledger::{month_of, Dimension, Month};
use crate::report::{rate, Period, ReportQuery};
use crate::rules::Rule;
use crate::view::Conclusion;
use crate::Projections;

/// Conclusions an item needs in the last 12 months before its promise is judged.
pub const MIN_CONCLUSIONS: u64 = 30;
/// A promise is suggested shorter when the p90 of used days is at most this share (percent)
/// of it.
pub const SHORTEN_AT_PERCENT: u64 = 60;
/// Below this on-time rate (basis points) the promise is flagged.
pub const ON_TIME_FLAG_BP: u64 = 9_500;
/// Months of history the forecast reads.
pub const HISTORY_MONTHS: u32 = 24;
/// Months forecast ahead.
pub const HORIZON_MONTHS: u32 = 3;
/// Known months the forecast is backtested on.
pub const BACKTEST_MONTHS: u32 = 6;
/// The flag of a promise the unit does not keep.
pub const FLAG_UNREALISTIC: &str = "unrealistic_or_short_of_capacity";
/// The step key of the last segment: from the last step to the conclusion.
pub const CONCLUSION_STEP: &str = "(conclusion)";

/// What to look into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InsightQuery {
    /// The period whose conclusions the bottlenecks read; its last month is the forecast's
    /// origin and the end of the 12 months the recommendations read.
    pub period: Period,
    /// Only what orgs under this prefix (segment-wise) did: conclusions by the accountable
    /// org, the forecast by the accepting org, repeated corrections by the org applied to.
    pub org: Option<String>,
}

/// The insight.
#[derive(Debug, Clone, Serialize)]
pub struct Insight {
    /// The period's label.
    pub period: String,
    /// The org prefix, when one was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
    /// The instant of evaluation.
    pub now: String,
    /// Where the working days go.
    pub bottlenecks: Bottlenecks,
    /// Promised-limit recommendations (承诺时限压缩), one per item with enough conclusions.
    pub recommendations: Vec<Recommendation>,
    /// Accepted cases per month ahead, per item and org, with the backtest error.
    pub forecast: Vec<Forecast>,
    /// The hot spots.
    pub hot_spots: HotSpots,
}

/// The bottleneck views.
#[derive(Debug, Clone, Serialize)]
pub struct Bottlenecks {
    /// Per item: the working days the period's conclusions used.
    pub items: Vec<Spread>,
    /// Per accountable org.
    pub orgs: Vec<Spread>,
    /// Per item and step: the working days from the previous step (or the clock start) to it.
    pub steps: Vec<StepRow>,
}

/// The working days used by a set of conclusions.
#[derive(Debug, Clone, Serialize)]
pub struct Spread {
    /// The item code (per item).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item: Option<String>,
    /// The org path (per org).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
    /// The catalog's name of the item or org.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Conclusions.
    pub n: u64,
    /// Concluded on or before the promised due date.
    pub on_time: u64,
    /// on_time ÷ n.
    pub on_time_rate: Option<Box<RawValue>>,
    /// The median of the working days used.
    pub p50: Box<RawValue>,
    /// Their 90th percentile.
    pub p90: Box<RawValue>,
    /// Their maximum.
    pub max: u32,
    /// Their sum.
    pub used_days_total: u64,
    /// The item's promised limit now (per item).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub promised_limit_days: Option<u32>,
}

/// One step of one item over the period's conclusions.
#[derive(Debug, Clone, Serialize)]
pub struct StepRow {
    /// The item code.
    pub item: String,
    /// The item's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item_name: Option<String>,
    /// The step's index in the item's steps as the case's definition gives them (the number of
    /// steps for the last segment).
    pub step_index: u16,
    /// The step's name, or `(conclusion)` for the segment from the last step to the
    /// conclusion.
    pub step: String,
    /// Conclusions with this segment.
    pub n: u64,
    /// Working days summed over them.
    pub days_total: u64,
    /// days_total ÷ the working days all the item's conclusions used.
    pub share: Option<Box<RawValue>>,
    /// The median of the segment's working days.
    pub p50: Box<RawValue>,
    /// Their 90th percentile.
    pub p90: Box<RawValue>,
    /// Their maximum.
    pub max: u32,
    /// Conclusions whose promised limit ran out during this segment.
    pub overran: u64,
}

/// A promised-limit recommendation for one item.
#[derive(Debug, Clone, Serialize)]
pub struct Recommendation {
    /// The item code.
    pub item: String,
    /// Its name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The first and last month read (the 12 months ending with the period's last).
    pub months: [String; 2],
    /// Conclusions in those months.
    pub n: u64,
    /// The median of the working days used.
    pub p50: Box<RawValue>,
    /// Their 90th percentile.
    pub p90: Box<RawValue>,
    /// Concluded on time.
    pub on_time: u64,
    /// on_time ÷ n.
    pub on_time_rate: Option<Box<RawValue>>,
    /// The promised limit now.
    pub promised_limit_days: u32,
    /// max(1, ceil(p90)) when p90 is at most 60% of the limit; never above the limit.
    pub suggested_promise_days: Option<u32>,
    /// `unrealistic_or_short_of_capacity` when the on-time rate is below 95%.
    pub flag: Option<&'static str>,
}

/// A forecast of accepted cases for one item or org (or the whole scope).
#[derive(Debug, Clone, Serialize)]
pub struct Forecast {
    /// `item`, `org` or `all`.
    pub dimension: &'static str,
    /// The item code or org path (empty for `all`).
    pub key: String,
    /// Its name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The 24 months read, oldest first.
    pub history: Vec<MonthCount>,
    /// Accepted in the 12 months ending with the origin.
    pub trend_recent: u64,
    /// Accepted in the 12 months before those.
    pub trend_prior: u64,
    /// The months ahead.
    pub months: Vec<Forecasted>,
    /// The last 6 known months, each forecast from the months before it.
    pub backtest: Vec<Backtested>,
    /// The sum of the backtest's absolute errors.
    pub backtest_abs_error: u64,
    /// backtest_abs_error ÷ the backtest months' actual cases (null when none).
    pub backtest_error_rate: Option<Box<RawValue>>,
}

/// Accepted cases in a month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MonthCount {
    /// `YYYY-MM`.
    #[serde(serialize_with = "ser_month")]
    pub month: Month,
    /// Cases accepted.
    pub accepted: u64,
}

/// A month forecast.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Forecasted {
    /// `YYYY-MM`.
    #[serde(serialize_with = "ser_month")]
    pub month: Month,
    /// The forecast: base × recent ÷ prior, rounded half up (base when prior is 0).
    pub accepted: u64,
    /// The same month a year earlier.
    #[serde(serialize_with = "ser_month")]
    pub base_month: Month,
    /// Accepted in it.
    pub base: u64,
}

/// A backtest month.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Backtested {
    /// `YYYY-MM`.
    #[serde(serialize_with = "ser_month")]
    pub month: Month,
    /// Accepted in it.
    pub actual: u64,
    /// Forecast from the months before it.
    pub forecast: u64,
}

/// The hot spots.
#[derive(Debug, Clone, Serialize)]
pub struct HotSpots {
    /// Orgs whose cards per 100 accepted cases rose three months in a row up to the period's
    /// last month.
    pub orgs: Vec<CardTrend>,
    /// Items by their rate of repeated correction requests (`intake.correction.repeated`),
    /// highest first.
    pub items: Vec<CorrectionRate>,
}

/// An org's cards per 100 accepted cases over four months.
#[derive(Debug, Clone, Serialize)]
pub struct CardTrend {
    /// The org path.
    pub org: String,
    /// Its name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The four months, oldest first.
    pub months: Vec<CardMonth>,
}

/// An org's month.
#[derive(Debug, Clone, Serialize)]
pub struct CardMonth {
    /// `YYYY-MM`.
    #[serde(serialize_with = "ser_month")]
    pub month: Month,
    /// Accepted cases (the report's).
    pub accepted: i64,
    /// Yellow and red cards (the report's).
    pub cards: i64,
    /// cards × 100 ÷ accepted.
    pub per_100: Option<Box<RawValue>>,
}

/// An item's repeated correction requests.
#[derive(Debug, Clone, Serialize)]
pub struct CorrectionRate {
    /// The item code.
    pub item: String,
    /// Its name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Cases submitted in the period.
    pub submitted: u64,
    /// Of them, those with a second correction request by the instant.
    pub repeated: u64,
    /// repeated ÷ submitted.
    pub rate: Option<Box<RawValue>>,
}

fn ser_month<S: serde::Serializer>(m: &Month, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&month_text(*m))
}

/// A month as `YYYY-MM`.
pub fn month_text(m: Month) -> String {
    format!("{:04}-{:02}", m / 100, m % 100)
}

/// The month `delta` months after `m` (before it when negative).
pub fn add_months(m: Month, delta: i64) -> Month {
    let index = i64::from(m / 100) * 12 + i64::from(m % 100) - 1 + delta;
    let index = index.max(0);
    ((index / 12) * 100 + index % 12 + 1) as Month
}

fn raw(text: String) -> Box<RawValue> {
    RawValue::from_string(text).unwrap_or_else(|_| RawValue::NULL.to_owned())
}

fn raw_rate(num: u64, den: u64) -> Option<Box<RawValue>> {
    rate(num as i64, den as i64).map(raw)
}

/// The `p`th percentile of sorted values, doubled (so it is an integer): with `k = p·n/100`,
/// the value at rank `ceil(k)` when `k` is not an integer, else the mean of the values at
/// ranks `k` and `k + 1` (the empirical distribution's percentile, averaged at its steps; the
/// median of an even count is the mean of the middle two). So a percentile of working days
/// is an integer or a half. `None` for no values.
pub fn percentile2(sorted: &[u32], p: u64) -> Option<u64> {
    let n = sorted.len() as u64;
    if n == 0 {
        return None;
    }
    let at = |rank: u64| u64::from(sorted[(rank.clamp(1, n) - 1) as usize]);
    let k = p * n;
    Some(if k.is_multiple_of(100) {
        let k = k / 100;
        if k == 0 {
            2 * at(1)
        } else if k >= n {
            2 * at(n)
        } else {
            at(k) + at(k + 1)
        }
    } else {
        2 * at(k / 100 + 1)
    })
}

/// A doubled value as JSON: an integer, or a number ending in `.5`.
pub fn half_text(doubled: u64) -> String {
    if doubled.is_multiple_of(2) {
        (doubled / 2).to_string()
    } else {
        format!("{}.5", doubled / 2)
    }
}

fn days(sorted: &[u32], p: u64) -> Box<RawValue> {
    raw(percentile2(sorted, p).map_or_else(|| "null".to_owned(), half_text))
}

/// The forecast of a month from a base month's count and a trend: `base × recent ÷ prior`
/// rounded half up, or `base` when `prior` is 0.
pub fn forecast_count(base: u64, recent: u64, prior: u64) -> u64 {
    if prior == 0 {
        return base;
    }
    let (b, r, p) = (u128::from(base), u128::from(recent), u128::from(prior));
    ((2 * b * r + p) / (2 * p)) as u64
}

/// The suggested promise for an item: `max(1, ceil(p90))` when the p90 (doubled) is at most
/// 60% of the limit and that is shorter than the limit.
pub fn suggested_promise(p90_doubled: u64, limit: u32) -> Option<u32> {
    let limit64 = u64::from(limit);
    if limit == 0 || p90_doubled * 100 > 2 * SHORTEN_AT_PERCENT * limit64 {
        return None;
    }
    let ceil = p90_doubled.div_ceil(2).max(1);
    (ceil < limit64).then_some(ceil as u32)
}

/// One conclusion as the insight reads it.
struct Concluded {
    month: Month,
    used: u32,
    on_time: bool,
    /// The working days of each segment: (step index, days, the limit ran out in it).
    segments: Vec<(u16, u32, bool)>,
}

/// Evaluates a concluded case: `None` when it is not concluded by `today`, or has no limits.
fn concluded(
    case: &CaseState,
    step_dates: &[(u16, NaiveDate)],
    ctx: &Ctx<'_>,
    today: NaiveDate,
    segments: bool,
) -> Option<Concluded> {
    let (_, on, _) = case.concluded?;
    if on > today || case.unmonitored {
        return None;
    }
    let (limit, _) = case.limits_days()?;
    let used = case.used_days(ctx, on)?;
    let (promised, statutory) = case.dues(ctx);
    let on_time = Conclusion::new(case, promised, statutory).on_time == Some(true);
    let mut out = Vec::new();
    if segments {
        let count = case.def.as_deref().map_or(0, |d| d.steps.len());
        let mut dates = step_dates.to_vec();
        dates.sort_by_key(|(i, d)| (*d, *i));
        let mut before = 0u32;
        for (index, date) in dates {
            let at = case.used_days(ctx, date.min(on)).unwrap_or(0).max(before);
            out.push((index, at - before, before <= limit && at > limit));
            before = at;
        }
        let last = u16::try_from(count).unwrap_or(u16::MAX);
        let end = used.max(before);
        out.push((last, end - before, before <= limit && end > limit));
    }
    Some(Concluded {
        month: month_of(on),
        used,
        on_time,
        segments: out,
    })
}

/// Sorted working days, and the on-time count.
#[derive(Default)]
struct Sample {
    used: Vec<u32>,
    on_time: u64,
}

impl Sample {
    fn add(&mut self, used: u32, on_time: bool) {
        self.used.push(used);
        self.on_time += u64::from(on_time);
    }
}

#[derive(Default)]
struct StepSample {
    days: Vec<u32>,
    overran: u64,
}

impl Projections {
    /// The insight for `query` at `now`.
    pub fn insight(&self, query: &InsightQuery, now: Millis) -> Insight {
        insight(self, query, now)
    }
}

/// The insight for `query` at `now` (see the module's doc).
pub fn insight(p: &Projections, query: &InsightQuery, now: Millis) -> Insight {
    let today = date_of(now);
    // The months the forecast, the recommendations and the hot spots read end with the
    // period's last, or with the month of `now` when that comes first: a month not begun by
    // then is unknown, not a month of no cases.
    let last = query
        .period
        .months
        .last()
        .copied()
        .unwrap_or(0)
        .min(month_of(today));
    let first = query.period.months.first().copied().unwrap_or(0);
    let year_from = add_months(last, -11);
    let history_from = add_months(
        last,
        -(i64::from(HISTORY_MONTHS) + i64::from(BACKTEST_MONTHS)),
    );
    // Each figure is scoped by the org it is about: the forecast by the accepting org (the
    // work a unit takes in, transferred on or not), the repeated corrections by the org the
    // application came to, the conclusions by the org accountable for them.
    let under = |org: &str| {
        query
            .org
            .as_deref()
            .is_none_or(|prefix| org_is_under(org, prefix))
    };
    let mut items: BTreeMap<&str, Sample> = BTreeMap::new();
    let mut orgs: BTreeMap<&str, Sample> = BTreeMap::new();
    // By item, index and name in the definition the case was handled under: a redefined
    // procedure's steps are other steps, never added into the old ones' rows.
    let mut steps: BTreeMap<(&str, u16, &str), StepSample> = BTreeMap::new();
    let mut year: BTreeMap<&str, Sample> = BTreeMap::new();
    let mut accepted: BTreeMap<(&'static str, &str), BTreeMap<Month, u64>> = BTreeMap::new();
    let mut corrections: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for (_, case) in p.cases() {
        if let Some(a) = &case.accepted {
            let m = month_of(a.on);
            if a.at <= now && (history_from..=last).contains(&m) && under(&a.org) {
                for key in [("item", &*case.item), ("org", &*a.org), ("all", "")] {
                    *accepted.entry(key).or_default().entry(m).or_default() += 1;
                }
            }
        }
        let submitted = month_of(case.submitted_on);
        if case.submitted_at <= now
            && (first..=last).contains(&submitted)
            && under(&case.submitted_org)
        {
            let c = corrections.entry(&case.item).or_default();
            c.0 += 1;
            c.1 += u64::from(
                case.alerts
                    .iter()
                    .any(|a| a.rule == Rule::CorrectionRepeated && a.raised_at <= now),
            );
        }
        let Some((_, on, _)) = case.concluded else {
            continue;
        };
        if !under(case.org()) {
            continue;
        }
        let m = month_of(on);
        if !(year_from..=last).contains(&m) {
            continue;
        }
        let org = case.org();
        // The calendar it concluded under (a later amendment re-derives running cases only).
        let calendar = p.calendar_of(case);
        let ctx = Ctx {
            calendar: &calendar,
            config: &p.config,
            limits: &p.limits,
            generation: 0,
        };
        let in_period = (first..=last).contains(&m);
        let Some(c) = concluded(case, &p.step_dates.of(case.seq), &ctx, today, in_period) else {
            continue;
        };
        year.entry(&case.item).or_default().add(c.used, c.on_time);
        if !in_period || !query.period.months.contains(&c.month) {
            continue;
        }
        items.entry(&case.item).or_default().add(c.used, c.on_time);
        orgs.entry(org).or_default().add(c.used, c.on_time);
        for (index, d, overran) in c.segments {
            let name = case
                .def
                .as_deref()
                .and_then(|def| def.steps.get(usize::from(index)))
                .map_or(CONCLUSION_STEP, String::as_str);
            let s = steps.entry((&case.item, index, name)).or_default();
            s.days.push(d);
            s.overran += u64::from(overran);
        }
    }
    let catalog = &p.catalog;
    let limit_of = |item: &str| catalog.current(item).map(|d| d.item.promised_days);
    let spread = |sample: &mut Sample| {
        sample.used.sort_unstable();
        let n = sample.used.len() as u64;
        Spread {
            item: None,
            org: None,
            name: None,
            n,
            on_time: sample.on_time,
            on_time_rate: raw_rate(sample.on_time, n),
            p50: days(&sample.used, 50),
            p90: days(&sample.used, 90),
            max: sample.used.last().copied().unwrap_or(0),
            used_days_total: sample.used.iter().map(|d| u64::from(*d)).sum(),
            promised_limit_days: None,
        }
    };
    let item_rows: Vec<Spread> = items
        .iter_mut()
        .map(|(item, s)| Spread {
            item: Some((*item).to_owned()),
            name: catalog.item_name(item).map(str::to_owned),
            promised_limit_days: limit_of(item),
            ..spread(s)
        })
        .collect();
    let org_rows: Vec<Spread> = orgs
        .iter_mut()
        .map(|(org, s)| Spread {
            org: Some((*org).to_owned()),
            name: catalog.org_name(org).map(str::to_owned),
            ..spread(s)
        })
        .collect();
    let step_rows = steps
        .iter_mut()
        .map(|((item, index, name), s)| {
            s.days.sort_unstable();
            let total: u64 = s.days.iter().map(|d| u64::from(*d)).sum();
            let item_total: u64 = items
                .get(item)
                .map_or(0, |i| i.used.iter().map(|d| u64::from(*d)).sum());
            StepRow {
                item: (*item).to_owned(),
                item_name: catalog.item_name(item).map(str::to_owned),
                step_index: *index,
                step: (*name).to_owned(),
                n: s.days.len() as u64,
                days_total: total,
                share: raw_rate(total, item_total),
                p50: days(&s.days, 50),
                p90: days(&s.days, 90),
                max: s.days.last().copied().unwrap_or(0),
                overran: s.overran,
            }
        })
        .collect();
    let months = [month_text(year_from), month_text(last)];
    let recommendations = year
        .iter_mut()
        .filter(|(_, s)| s.used.len() as u64 >= MIN_CONCLUSIONS)
        .filter_map(|(item, s)| {
            let limit = limit_of(item)?;
            s.used.sort_unstable();
            let n = s.used.len() as u64;
            let p90 = percentile2(&s.used, 90)?;
            Some(Recommendation {
                item: (*item).to_owned(),
                name: catalog.item_name(item).map(str::to_owned),
                months: months.clone(),
                n,
                p50: days(&s.used, 50),
                p90: raw(half_text(p90)),
                on_time: s.on_time,
                on_time_rate: raw_rate(s.on_time, n),
                promised_limit_days: limit,
                suggested_promise_days: suggested_promise(p90, limit),
                flag: (s.on_time * 10_000 < ON_TIME_FLAG_BP * n).then_some(FLAG_UNREALISTIC),
            })
        })
        .collect();
    let forecast = accepted
        .iter()
        .map(|((dimension, key), counts)| {
            let name = match *dimension {
                "item" => catalog.item_name(key),
                "org" => catalog.org_name(key),
                _ => None,
            };
            forecast_of(dimension, key, name, counts, last)
        })
        .collect();
    let mut hot_items: Vec<CorrectionRate> = corrections
        .iter()
        .map(|(item, (submitted, repeated))| CorrectionRate {
            item: (*item).to_owned(),
            name: catalog.item_name(item).map(str::to_owned),
            submitted: *submitted,
            repeated: *repeated,
            rate: raw_rate(*repeated, *submitted),
        })
        .collect();
    hot_items.sort_by(|a, b| {
        (u128::from(b.repeated) * u128::from(a.submitted))
            .cmp(&(u128::from(a.repeated) * u128::from(b.submitted)))
            .then(b.repeated.cmp(&a.repeated))
            .then(a.item.cmp(&b.item))
    });
    Insight {
        period: query.period.label.clone(),
        org: query.org.clone(),
        now: format(now),
        bottlenecks: Bottlenecks {
            items: item_rows,
            orgs: org_rows,
            steps: step_rows,
        },
        recommendations,
        forecast,
        hot_spots: HotSpots {
            orgs: card_trends(p, query, last, now),
            items: hot_items,
        },
    }
}

/// The forecast of one series whose last known month is `origin`.
fn forecast_of(
    dimension: &'static str,
    key: &str,
    name: Option<&str>,
    counts: &BTreeMap<Month, u64>,
    origin: Month,
) -> Forecast {
    let count = |m: Month| counts.get(&m).copied().unwrap_or(0);
    let sum = |from: Month, to: Month| counts.range(from..=to).map(|(_, c)| *c).sum::<u64>();
    // The forecast of `target` from the months up to `origin`.
    let predict = |origin: Month, target: Month| {
        let recent = sum(add_months(origin, -11), origin);
        let prior = sum(add_months(origin, -23), add_months(origin, -12));
        forecast_count(count(add_months(target, -12)), recent, prior)
    };
    let history = (0..HISTORY_MONTHS)
        .map(|i| {
            let month = add_months(origin, i64::from(i) - i64::from(HISTORY_MONTHS) + 1);
            MonthCount {
                month,
                accepted: count(month),
            }
        })
        .collect();
    let months = (1..=HORIZON_MONTHS)
        .map(|h| {
            let month = add_months(origin, i64::from(h));
            let base_month = add_months(month, -12);
            Forecasted {
                month,
                accepted: predict(origin, month),
                base_month,
                base: count(base_month),
            }
        })
        .collect();
    let backtest: Vec<Backtested> = (0..BACKTEST_MONTHS)
        .map(|i| {
            let month = add_months(origin, i64::from(i) - i64::from(BACKTEST_MONTHS) + 1);
            Backtested {
                month,
                actual: count(month),
                forecast: predict(add_months(month, -1), month),
            }
        })
        .collect();
    let abs_error: u64 = backtest.iter().map(|b| b.actual.abs_diff(b.forecast)).sum();
    let actual: u64 = backtest.iter().map(|b| b.actual).sum();
    Forecast {
        dimension,
        key: key.to_owned(),
        name: name.map(str::to_owned),
        history,
        trend_recent: sum(add_months(origin, -11), origin),
        trend_prior: sum(add_months(origin, -23), add_months(origin, -12)),
        months,
        backtest,
        backtest_abs_error: abs_error,
        backtest_error_rate: raw_rate(abs_error, actual),
    }
}

/// The orgs (every level of the tree, as the report rolls them up) whose cards per 100
/// accepted cases rose in each of the three months up to `last`, from the report of each month
/// at `now`.
fn card_trends(p: &Projections, query: &InsightQuery, last: Month, now: Millis) -> Vec<CardTrend> {
    let months: Vec<Month> = (0..4).map(|i| add_months(last, i - 3)).collect();
    let mut by_org: BTreeMap<String, Vec<CardMonth>> = BTreeMap::new();
    for (i, m) in months.iter().enumerate() {
        let Ok(period) = Period::parse(&month_text(*m)) else {
            continue;
        };
        let q = ReportQuery {
            period,
            by: Dimension::Org,
            depth: None,
        };
        let Some(report) = p.report(&q, now) else {
            return Vec::new();
        };
        for row in report.rows {
            let Some(org) = row.org else { continue };
            if query
                .org
                .as_deref()
                .is_some_and(|prefix| !org_is_under(&org, prefix))
            {
                continue;
            }
            let entry = by_org.entry(org).or_default();
            let cards = row.yellow + row.red;
            if entry.len() == i {
                entry.push(CardMonth {
                    month: *m,
                    accepted: row.accepted,
                    cards,
                    per_100: rate(cards * 100, row.accepted).map(raw),
                });
            }
        }
    }
    let rose = |a: &CardMonth, b: &CardMonth| {
        a.accepted > 0
            && b.accepted > 0
            && i128::from(b.cards) * i128::from(a.accepted)
                > i128::from(a.cards) * i128::from(b.accepted)
    };
    let mut out: Vec<CardTrend> = by_org
        .into_iter()
        .filter(|(_, ms)| ms.len() == 4 && ms.windows(2).all(|w| rose(&w[0], &w[1])))
        .map(|(org, months)| CardTrend {
            name: p.catalog.org_name(&org).map(str::to_owned),
            org,
            months,
        })
        .collect();
    // The steepest last month first.
    out.sort_by(|a, b| {
        let last = |t: &CardTrend| {
            t.months
                .last()
                .map_or((0, 1), |m| (m.cards, m.accepted.max(1)))
        };
        let ((ac, aa), (bc, ba)) = (last(a), last(b));
        (i128::from(bc) * i128::from(aa))
            .cmp(&(i128::from(ac) * i128::from(ba)))
            .then(a.org.cmp(&b.org))
    });
    out
}
