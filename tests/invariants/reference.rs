//! A deliberately simple reference for the deadline rules v2, written from the rules' text
//! and not from the projections: it reads a log in position order and, for each case, walks
//! the calendar one date at a time (`Calendar::is_workday` only) to find the clock start,
//! the promised and statutory due dates, the outcome of a conclusion, and the v2 rule codes
//! the case raises by an instant `now`.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Duration, NaiveDate};
use jiancha_calendar::{Calendar, LAST_DATE};
use jiancha_events::time::CHINA;
use jiancha_events::{EventData, ItemDefined, StoredEvent, Timestamp};

/// Working days within which an intake answer is timely (Art. 32).
const ANSWER_DAYS: u32 = 5;

/// An event recorded more than this long after it occurred was entered after the fact.
const BACKDATE_HOURS: i64 = 48;

/// The rule codes of rules v2 the reference raises, whatever the event that ends a case.
pub const EVENT_RULES: [&str; 7] = [
    "intake.limits.overridden",
    "intake.item.unknown",
    "procedure.no_acceptance",
    "procedure.after_conclusion",
    "extension.excessive",
    "suspension.unlawful",
    "data.backdated",
];

/// The time-driven rule codes of rules v2 the reference raises; a case with an event entered
/// on a later day than it occurred is not compared on them (a time rule is judged as the
/// clock passes, and a late entry can come after that).
pub const TIME_RULES: [&str; 2] = ["intake.acceptance.late", "suspension.overlong"];

/// What the rules say of one case at `now`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expected {
    /// Whether the item is in the catalog.
    pub known: bool,
    /// submitted, running, suspended, concluded, withdrawn or rejected.
    pub status: &'static str,
    pub clock_start_on: Option<NaiveDate>,
    pub promised_due_on: Option<NaiveDate>,
    pub statutory_due_on: Option<NaiveDate>,
    /// The date the conclusion counts at.
    pub counted_on: Option<NaiveDate>,
    pub on_time: Option<bool>,
    pub early: Option<bool>,
    pub statutory_on_time: Option<bool>,
    /// v2 rule codes raised by `now`.
    pub rules: BTreeSet<&'static str>,
    /// Some event of the case was entered on a later day than it occurred.
    pub entered_late: bool,
}

/// The business date of an instant (+08:00).
fn date(t: &Timestamp) -> NaiveDate {
    t.with_timezone(&CHINA).date_naive()
}

/// The instant a day ends, 24:00 +08:00, as a timestamp.
fn end_of(day: NaiveDate) -> Option<Timestamp> {
    let next = day.succ_opt()?.and_hms_opt(0, 0, 0)?;
    next.and_local_timezone(CHINA).single()
}

/// The `n`-th working day after `start`, walking one date at a time; days after a
/// suspension date up to and including its resumption date are not counted, and an open
/// suspension (no resumption) stops the walk: `None` unless the limit ran out before it.
pub fn walk(
    cal: &Calendar,
    start: NaiveDate,
    n: u32,
    skipped: &[(NaiveDate, Option<NaiveDate>)],
) -> Option<NaiveDate> {
    let (mut day, mut counted) = (start, 0);
    while counted < n {
        day = day.succ_opt().filter(|d| *d <= LAST_DATE)?;
        let mut skip = false;
        for (from, to) in skipped {
            match to {
                _ if day <= *from => {}
                None => return None,
                Some(to) if day <= *to => skip = true,
                Some(_) => {}
            }
        }
        if !skip && cal.is_workday(day).ok()? {
            counted += 1;
        }
    }
    Some(day)
}

/// An extension as recorded.
#[derive(Debug, Clone)]
struct Extension {
    occurred_on: NaiveDate,
    recorded_on: NaiveDate,
    days: u32,
    approved: bool,
}

/// One case, folded from its events.
#[derive(Debug, Default)]
struct Case {
    item: Option<ItemDefined>,
    known: bool,
    submitted_on: Option<NaiveDate>,
    status: &'static str,
    first_answer: Option<NaiveDate>,
    timely_correction: bool,
    /// The last supplement's date while an answer to it is outstanding.
    awaiting: Option<NaiveDate>,
    /// The last supplement, when the answer to it came late (the deemed acceptance date).
    late_answer_to: Option<NaiveDate>,
    accepted_on: Option<NaiveDate>,
    limits: Option<(u32, u32)>,
    /// Lawful suspensions: the date, the resumption date, and when it turns overlong.
    suspensions: Vec<(NaiveDate, Option<NaiveDate>)>,
    /// The open lawful suspension's overlong instant.
    overlong_at: Option<Timestamp>,
    extensions: u32,
    added: u32,
    counted_on: Option<NaiveDate>,
    ended: bool,
    rules: BTreeSet<&'static str>,
    entered_late: bool,
}

/// The reference over a whole log, at `now`.
pub fn expected(
    log: &[StoredEvent],
    cal: &Calendar,
    now: &Timestamp,
) -> BTreeMap<String, Expected> {
    let imported = history_ranges(log);
    let mut items: BTreeMap<String, ItemDefined> = BTreeMap::new();
    let mut cases: BTreeMap<String, Case> = BTreeMap::new();
    for e in log.iter().filter(|e| e.occurred_at <= *now) {
        match &e.data {
            EventData::ItemDefined(item) => {
                items.insert(item.code.clone(), item.clone());
            }
            _ if e.stream.starts_with("case-") => {
                let case = cases.entry(e.stream.clone()).or_default();
                let declared = imported.iter().any(|r| r.contains(&e.position));
                case.apply(e, &items, cal, declared);
            }
            _ => {}
        }
    }
    cases
        .into_iter()
        .map(|(stream, case)| (stream, case.finish(cal, now)))
        .collect()
}

/// The positions covered by declared historical imports.
fn history_ranges(log: &[StoredEvent]) -> Vec<std::ops::RangeInclusive<u64>> {
    log.iter()
        .filter_map(|e| match &e.data {
            EventData::HistoryImported(h) => Some(h.from_position..=h.to_position),
            _ => None,
        })
        .collect()
}

impl Case {
    fn apply(
        &mut self,
        e: &StoredEvent,
        items: &BTreeMap<String, ItemDefined>,
        cal: &Calendar,
        declared: bool,
    ) {
        let on = date(&e.occurred_at);
        let late_entry = e.recorded_at - e.occurred_at > Duration::hours(BACKDATE_HOURS);
        if date(&e.recorded_at) != on {
            self.entered_late = true;
        }
        if late_entry && !declared {
            self.rules.insert("data.backdated");
        }
        let feedback = matches!(e.data, EventData::Rated(_) | EventData::Complained(_));
        if self.ended && !feedback {
            self.rules.insert("procedure.after_conclusion");
            return;
        }
        match &e.data {
            EventData::Submitted(s) => {
                self.status = "submitted";
                self.submitted_on = Some(on);
                self.item = items.get(&s.item).cloned();
                self.known = self.item.is_some();
            }
            EventData::CorrectionRequested(_) if self.status == "submitted" => {
                if self.first_answer.is_none() {
                    self.timely_correction = !self.answer_late(cal, on);
                    self.first_answer = Some(on);
                }
                self.stop_waiting(e, cal);
            }
            EventData::MaterialsSupplemented(_) if self.status == "submitted" => {
                self.awaiting = Some(on);
            }
            EventData::Accepted(a) if self.status == "submitted" => {
                self.first_answer.get_or_insert(on);
                self.stop_waiting(e, cal);
                self.accept(on, a.promised_days, a.statutory_days);
            }
            EventData::RejectedAtIntake(_) if self.status == "submitted" => {
                self.first_answer.get_or_insert(on);
                self.stop_waiting(e, cal);
                self.status = "rejected";
                self.ended = true;
            }
            EventData::Suspended(s) => self.suspend(e, cal, s),
            EventData::Resumed(_) if self.status == "suspended" => self.resume(on, e),
            EventData::Extended(x) if matches!(self.status, "running" | "suspended") => {
                let extension = Extension {
                    occurred_on: on,
                    recorded_on: date(&e.recorded_at),
                    days: x.days,
                    approved: !x.approved_by.trim().is_empty(),
                };
                self.extend(cal, &extension);
            }
            EventData::Concluded(_) => {
                self.stop_waiting(e, cal);
                if self.status == "suspended" {
                    self.resume(on, e);
                }
                if self.accepted_on.is_none() {
                    self.rules.insert("procedure.no_acceptance");
                    self.unmonitored();
                }
                let counted = if late_entry && !declared {
                    date(&e.recorded_at)
                } else {
                    on
                };
                self.counted_on = Some(counted);
                self.status = "concluded";
                self.ended = true;
            }
            EventData::Withdrawn(_) => {
                self.stop_waiting(e, cal);
                if self.status == "suspended" {
                    self.resume(on, e);
                }
                self.status = "withdrawn";
                self.ended = true;
            }
            _ => {}
        }
    }

    /// Whether an answer on `on` came more than 5 working days after the submission.
    fn answer_late(&self, cal: &Calendar, on: NaiveDate) -> bool {
        let Some(submitted) = self.submitted_on else {
            return false;
        };
        walk(cal, submitted, ANSWER_DAYS, &[]).is_some_and(|due| on > due)
    }

    /// The threshold instant after which an answer to supplements of `supplied` is late.
    fn supplement_deadline(cal: &Calendar, supplied: NaiveDate) -> Option<Timestamp> {
        end_of(walk(cal, supplied, ANSWER_DAYS, &[])?)
    }

    /// An answer, a new request or the case's end stops the wait for an answer to the
    /// supplements: late when it came past the threshold after a timely request.
    fn stop_waiting(&mut self, e: &StoredEvent, cal: &Calendar) {
        let Some(supplied) = self.awaiting.take() else {
            return;
        };
        let late = Self::supplement_deadline(cal, supplied).is_some_and(|t| e.occurred_at >= t);
        if self.timely_correction && late {
            self.rules.insert("intake.acceptance.late");
            self.late_answer_to = Some(supplied);
        }
    }

    /// A case of an unknown item raises its alert when it would start the clock (accepted, or
    /// concluded unaccepted): a case refused or withdrawn before is never monitored.
    fn unmonitored(&mut self) {
        if !self.known {
            self.rules.insert("intake.item.unknown");
        }
    }

    fn accept(&mut self, on: NaiveDate, promised: Option<u32>, statutory: Option<u32>) {
        self.accepted_on = Some(on);
        self.status = "running";
        self.unmonitored();
        let Some(item) = &self.item else {
            return;
        };
        let longer = |asked: Option<u32>, limit: u32| asked.is_some_and(|d| d > limit);
        if longer(promised, item.promised_days) || longer(statutory, item.statutory_days) {
            self.rules.insert("intake.limits.overridden");
        }
        let capped = |asked: Option<u32>, limit: u32| asked.map_or(limit, |d| d.min(limit));
        self.limits = Some((
            capped(promised, item.promised_days),
            capped(statutory, item.statutory_days),
        ));
    }

    fn suspend(&mut self, e: &StoredEvent, cal: &Calendar, s: &jiancha_events::Suspended) {
        let lawful = jiancha_events::vocab::is_lawful_suspension(&s.reason)
            && s.notice.as_deref().is_some_and(|n| !n.trim().is_empty());
        if !lawful {
            self.rules.insert("suspension.unlawful");
            return;
        }
        if self.status != "running" {
            return;
        }
        let on = date(&e.occurred_at);
        let told = s.expected_days.unwrap_or_else(|| {
            self.item.as_ref().map_or(
                jiancha_events::vocab::DEFAULT_SUSPENSION_EXPECTED_DAYS,
                |i| i.suspension_expected_days(),
            )
        });
        self.overlong_at = walk(cal, on, told, &[]).and_then(end_of);
        self.suspensions.push((on, None));
        self.status = "suspended";
    }

    fn resume(&mut self, on: NaiveDate, e: &StoredEvent) {
        if let Some(last) = self.suspensions.last_mut().filter(|s| s.1.is_none()) {
            last.1 = Some(on.max(last.0));
        }
        if self.overlong_at.take().is_some_and(|t| e.occurred_at >= t) {
            self.rules.insert("suspension.overlong");
        }
        self.status = "running";
    }

    /// The day the clock starts: deemed on the submission date after a late first answer or
    /// when never accepted, on the last supplement after a late answer to it.
    fn clock_start(&self) -> Option<NaiveDate> {
        let submitted = self.submitted_on?;
        match self.accepted_on {
            None if self.counted_on.is_some() => Some(submitted),
            None => None,
            Some(accepted) => Some(self.late_answer_to.unwrap_or(accepted)),
        }
    }

    /// The clock start, adjusted for a late first answer.
    fn start(&self, cal: &Calendar) -> Option<NaiveDate> {
        let first_late = self.first_answer.is_some_and(|a| self.answer_late(cal, a));
        if first_late && self.accepted_on.is_some() {
            return self.submitted_on;
        }
        self.clock_start()
    }

    /// Promised and statutory limits before extensions: the acceptance's (capped), or the
    /// item's for a case concluded unaccepted.
    fn base_limits(&self) -> Option<(u32, u32)> {
        let item = self.item.as_ref()?;
        self.limits
            .or(Some((item.promised_days, item.statutory_days)))
    }

    /// A lawful extension is the first, approved, occurred and recorded on or before the
    /// promised due date; it adds its days up to the item's cap. Anything else is excessive
    /// and adds nothing, except an otherwise lawful one beyond the cap, which adds the cap.
    fn extend(&mut self, cal: &Calendar, x: &Extension) {
        let first = self.extensions == 0;
        self.extensions += 1;
        let (Some(start), Some((promised, _)), Some(item)) =
            (self.start(cal), self.base_limits(), self.item.as_ref())
        else {
            self.rules.insert("extension.excessive");
            return;
        };
        let due = walk(cal, start, promised + self.added, &self.suspensions);
        let in_time = due.is_some_and(|d| x.occurred_on <= d && x.recorded_on <= d);
        let cap = item.max_extension_days();
        let otherwise_lawful = first && x.approved && in_time;
        if !(otherwise_lawful && x.days <= cap) {
            self.rules.insert("extension.excessive");
        }
        if otherwise_lawful {
            self.added += x.days.min(cap);
        }
    }

    fn finish(mut self, cal: &Calendar, now: &Timestamp) -> Expected {
        // Thresholds passed by `now` with the condition still holding.
        if let Some(supplied) = self.awaiting {
            let passed = Self::supplement_deadline(cal, supplied).is_some_and(|t| *now >= t);
            if self.timely_correction && passed {
                self.rules.insert("intake.acceptance.late");
            }
        }
        if self.status == "suspended" && self.overlong_at.is_some_and(|t| *now >= t) {
            self.rules.insert("suspension.overlong");
        }
        let start = self.start(cal);
        let mut out = Expected {
            known: self.known,
            status: self.status,
            clock_start_on: start,
            counted_on: self.counted_on,
            rules: std::mem::take(&mut self.rules),
            entered_late: self.entered_late,
            ..Expected::default()
        };
        let (Some(start), Some((promised, statutory))) = (start, self.base_limits()) else {
            return out;
        };
        out.promised_due_on = walk(cal, start, promised + self.added, &self.suspensions);
        out.statutory_due_on = walk(cal, start, statutory + self.added, &self.suspensions);
        if let (Some(counted), Some(p), Some(s)) =
            (self.counted_on, out.promised_due_on, out.statutory_due_on)
        {
            out.on_time = Some(counted <= p);
            out.early = Some(counted < p);
            out.statutory_on_time = Some(counted <= s);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn the_walk_counts_working_days_and_skips_suspended_ones() {
        let cal = Calendar::national();
        // National Day 2026: 1-7 October off, Saturday 10 October worked.
        assert_eq!(
            walk(&cal, ymd(2026, 9, 28), 5, &[]),
            Some(ymd(2026, 10, 10))
        );
        // Suspended on Monday 12 October, resumed Wednesday 14th: the 13th and 14th skipped.
        let skipped = [(ymd(2026, 10, 12), Some(ymd(2026, 10, 14)))];
        assert_eq!(
            walk(&cal, ymd(2026, 10, 9), 3, &skipped),
            Some(ymd(2026, 10, 15))
        );
        // An open suspension: the due date is open unless it came before.
        let open = [(ymd(2026, 10, 12), None)];
        assert_eq!(walk(&cal, ymd(2026, 10, 9), 3, &open), None);
        assert_eq!(
            walk(&cal, ymd(2026, 10, 9), 2, &open),
            Some(ymd(2026, 10, 12))
        );
    }
}
