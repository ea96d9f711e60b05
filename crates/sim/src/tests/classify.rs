//! An independent reading of a generated run: re-derives from the events alone (with the
//! instants they were entered, and the national calendar) how many cases show each variation
//! and irregularity, the way a supervision engine applying the deadline rules v2 would, so
//! the generator's [`CaseCounts`] can be checked against it.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use jiancha_calendar::Calendar;
use jiancha_events::{EventData, ItemDefined, NewEvent, Timestamp};

use crate::CaseCounts;

/// Working days within which an intake answer is timely.
const ANSWER_DAYS: u32 = 5;

/// An event entered more than this many seconds after it occurred is back-dated.
const BACKDATE_SECONDS: i64 = 48 * 3600;

/// One event and the instant it was entered.
type Entered<'a> = (&'a NewEvent, &'a Timestamp);

/// Counts over all cases, from the events of a whole run in file order and the instant each
/// was entered.
pub(super) fn classify(events: &[NewEvent], entered: &[Timestamp]) -> CaseCounts {
    let mut total = CaseCounts::default();
    for case in read_cases(events, entered).values() {
        case.add_to(&mut total);
    }
    total
}

/// Counts of each case (0 or 1 per field), by stream.
pub(super) fn classify_cases(
    events: &[NewEvent],
    entered: &[Timestamp],
) -> BTreeMap<String, CaseCounts> {
    read_cases(events, entered)
        .into_iter()
        .map(|(stream, case)| {
            let mut counts = CaseCounts::default();
            case.add_to(&mut counts);
            (stream, counts)
        })
        .collect()
}

fn read_cases(events: &[NewEvent], entered: &[Timestamp]) -> BTreeMap<String, Case> {
    assert_eq!(events.len(), entered.len(), "one entry instant per event");
    let mut items = BTreeMap::new();
    let mut cases: BTreeMap<&str, Vec<Entered<'_>>> = BTreeMap::new();
    for (event, at) in events.iter().zip(entered) {
        match &event.data {
            EventData::ItemDefined(item) => {
                items.insert(item.code.clone(), item.clone());
            }
            // The supervision workflow's acts are about cases, not of them; orgs' names are
            // no case's.
            _ if event.stream.as_str() == jiancha_events::SUPERVISION_STREAM => {}
            EventData::OrgDefined(_) => {}
            _ => cases
                .entry(event.stream.as_str())
                .or_default()
                .push((event, at)),
        }
    }
    let calendar = Calendar::national();
    cases
        .into_iter()
        .map(|(stream, case)| (stream.to_owned(), Case::read(&case, &items, &calendar)))
        .collect()
}

fn date(event: &NewEvent) -> NaiveDate {
    event.occurred_at.date_naive()
}

/// What one case shows.
#[derive(Default)]
struct Case {
    flags: BTreeMap<&'static str, bool>,
}

/// An extension as judged: its date, days, whether it names an approver.
#[derive(Clone, Copy)]
struct Extension {
    on: NaiveDate,
    days: u32,
    approved: bool,
}

/// The state of reading one case's events in order.
struct Reader<'a> {
    case: Case,
    item: Option<&'a ItemDefined>,
    cal: &'a Calendar,
    submitted_on: NaiveDate,
    materials: Vec<&'a String>,
    corrections: u32,
    first_answer: Option<NaiveDate>,
    last_supplement: Option<NaiveDate>,
    /// The supplements await an answer (a correction request was answered by them).
    awaiting: bool,
    /// The last supplement, when the answer to it came late after a timely request.
    deemed_from: Option<NaiveDate>,
    accepted_on: Option<NaiveDate>,
    limits_asked: (Option<u32>, Option<u32>),
    /// The date a conclusion counts at: its entry date when entered late.
    concluded_on: Option<NaiveDate>,
    ended: bool,
    /// An open suspension: its date, lawfulness and the working days told.
    suspended: Option<(NaiveDate, bool, Option<u32>)>,
    skipped: Vec<(NaiveDate, NaiveDate)>,
    extensions: Vec<Extension>,
    steps_done: usize,
    decided: bool,
}

impl Case {
    fn set(&mut self, flag: &'static str) {
        self.flags.insert(flag, true);
    }

    fn has(&self, flag: &str) -> bool {
        self.flags.get(flag).copied().unwrap_or(false)
    }

    fn read(events: &[Entered<'_>], items: &BTreeMap<String, ItemDefined>, cal: &Calendar) -> Case {
        let EventData::Submitted(submitted) = &events[0].0.data else {
            panic!("{} does not start with Submitted", events[0].0.stream);
        };
        let mut reader = Reader {
            case: Case::default(),
            item: items.get(&submitted.item),
            cal,
            submitted_on: date(events[0].0),
            materials: submitted.materials.iter().collect(),
            corrections: 0,
            first_answer: None,
            last_supplement: None,
            awaiting: false,
            deemed_from: None,
            accepted_on: None,
            limits_asked: (None, None),
            concluded_on: None,
            ended: false,
            suspended: None,
            skipped: Vec::new(),
            extensions: Vec::new(),
            steps_done: 0,
            decided: false,
        };
        if reader.item.is_none() {
            reader.case.set("unknown_items");
        }
        for &(event, at) in events {
            if at.date_naive() != date(event) {
                reader.case.set("backdated");
            }
        }
        for &(event, at) in &events[1..] {
            let feedback = matches!(event.data, EventData::Rated(_) | EventData::Complained(_));
            if reader.ended && !feedback {
                reader.case.set("after_conclusion");
                continue;
            }
            reader.intake(event);
            reader.processing(event, at);
        }
        reader.finish()
    }
}

impl<'a> Reader<'a> {
    fn workdays_after(&self, from: NaiveDate, on: NaiveDate) -> u32 {
        self.cal.working_days_between(from, on).unwrap().days
    }

    /// An answer to the application: the first one, and after a timely correction request
    /// the one to the supplements.
    fn answered(&mut self, on: NaiveDate) {
        self.first_answer.get_or_insert(on);
        if self.waited_too_long(on) {
            self.deemed_from = self.last_supplement;
        }
    }

    /// Whether, after a timely correction request, the answer to the supplements was still
    /// outstanding past 5 working days when it came (or the case ended) `on`.
    fn waited_too_long(&mut self, on: NaiveDate) -> bool {
        let awaiting = std::mem::take(&mut self.awaiting);
        let Some(supplied) = self.last_supplement.filter(|_| awaiting) else {
            return false;
        };
        let late =
            self.case.has("corrections_timely") && self.workdays_after(supplied, on) > ANSWER_DAYS;
        if late {
            self.case.set("late_supplement_answers");
        }
        late
    }

    fn intake(&mut self, event: &'a NewEvent) {
        let on = date(event);
        match &event.data {
            EventData::CorrectionRequested(_) => {
                self.awaiting = false;
                self.corrections += 1;
                self.first_answer.get_or_insert(on);
                if self.corrections == 1
                    && self.workdays_after(self.submitted_on, on) <= ANSWER_DAYS
                {
                    self.case.set("corrections_timely");
                }
            }
            EventData::MaterialsSupplemented(m) => {
                self.materials.extend(m.materials.iter());
                self.last_supplement = Some(on);
                self.awaiting = true;
            }
            EventData::Accepted(a) => {
                self.answered(on);
                self.accepted_on = Some(on);
                self.limits_asked = (a.promised_days, a.statutory_days);
                self.case.set("accepted");
                if let Some(item) = self.item {
                    let missing = |r: &String| !self.materials.contains(&r);
                    if item.required_materials.iter().any(missing) {
                        self.case.set("accepted_incomplete");
                    }
                    let longer = |asked: Option<u32>, limit| asked.is_some_and(|d| d > limit);
                    if longer(a.promised_days, item.promised_days)
                        || longer(a.statutory_days, item.statutory_days)
                    {
                        self.case.set("limits_overridden");
                    }
                }
            }
            EventData::RejectedAtIntake(_) => {
                self.answered(on);
                self.ended = true;
                self.case.set("rejections_at_intake");
            }
            EventData::Withdrawn(_) => {
                self.waited_too_long(on);
                self.case.set("withdrawals");
            }
            EventData::Rated(r) => {
                self.case.set("rated");
                if r.score <= 2 {
                    self.case.set("bad_ratings");
                }
            }
            EventData::Complained(_) => self.case.set("complaints"),
            _ => {}
        }
    }

    fn processing(&mut self, event: &NewEvent, entered: &Timestamp) {
        let on = date(event);
        let steps: &[String] = self.item.map_or(&[], |i| &i.steps);
        match &event.data {
            EventData::StepCompleted(s) => {
                if self.item.is_some() && steps.get(self.steps_done) != Some(&s.step) {
                    self.case.set("skipped_steps");
                }
                self.steps_done += 1;
            }
            EventData::Suspended(s) => {
                let lawful =
                    jiancha_events::vocab::is_lawful_suspension(&s.reason) && s.notice.is_some();
                self.suspended = Some((on, lawful, s.expected_days));
                self.case.set(if lawful {
                    "lawful_suspensions"
                } else {
                    "unlawful_suspensions"
                });
            }
            EventData::Resumed(_) => self.resume(on),
            EventData::Extended(e) => self.extensions.push(Extension {
                on,
                days: e.days,
                approved: !e.approved_by.is_empty(),
            }),
            EventData::FeeCharged(f)
                if self.item.is_some_and(|i| f.amount_cents != i.fee_cents) =>
            {
                self.case.set("wrong_fees")
            }
            EventData::Decided(d) => {
                self.decided = true;
                if self.item.is_some() && self.steps_done < steps.len() {
                    self.case.set("skipped_steps");
                }
                if d.outcome == jiancha_events::Outcome::Denied {
                    self.case.set("denials");
                }
            }
            EventData::Concluded(_) => {
                self.resume(on);
                self.ended = true;
                let late = (*entered - event.occurred_at).num_seconds() > BACKDATE_SECONDS;
                if late {
                    self.case.set("backdated_conclusions");
                }
                self.concluded_on = Some(if late { entered.date_naive() } else { on });
                self.case.set("concluded");
                if !self.decided {
                    self.case.set("no_decisions");
                    if self.item.is_some() && self.steps_done < steps.len() {
                        self.case.set("skipped_steps");
                    }
                }
            }
            EventData::Withdrawn(_) => {
                self.resume(on);
                self.ended = true;
            }
            _ => {}
        }
    }

    /// The end of a suspension: a lawful one's days are skipped, and it is overlong when it
    /// ran past the end of the last working day its notice told.
    fn resume(&mut self, on: NaiveDate) {
        let Some((from, lawful, told)) = self.suspended.take() else {
            return;
        };
        if !lawful {
            return;
        }
        self.skipped.push((from.succ_opt().unwrap(), on));
        if let Some(told) = told {
            if on > self.cal.add_working_days(from, told).unwrap().date {
                self.case.set("overlong_suspensions");
            }
        }
    }

    /// What needs the whole case: late answers, due dates, extensions, the outcome.
    fn finish(mut self) -> Case {
        let late_answer = self
            .first_answer
            .is_some_and(|d| self.workdays_after(self.submitted_on, d) > ANSWER_DAYS);
        if late_answer {
            self.case.set("late_first_answers");
        }
        if self.corrections >= 2 {
            self.case.set("repeated_corrections");
        }
        if self.accepted_on.is_none() && self.concluded_on.is_some() {
            self.case.set("no_acceptances");
        }
        let start = match (late_answer, self.deemed_from, self.accepted_on) {
            (true, _, _) | (_, _, None) => self.submitted_on,
            (false, Some(supplied), Some(_)) => supplied,
            (false, None, Some(accepted)) => accepted,
        };
        let Some(item) = self.item else {
            return self.case;
        };
        if self.accepted_on.is_none() && self.concluded_on.is_none() {
            return self.case;
        }
        let capped = |asked: Option<u32>, limit: u32| asked.map_or(limit, |d| d.min(limit));
        let promised = capped(self.limits_asked.0, item.promised_days);
        let statutory = capped(self.limits_asked.1, item.statutory_days);
        let (cal, skipped) = (self.cal, &self.skipped);
        let due = |limit| {
            cal.add_working_days_skipping(start, limit, skipped)
                .unwrap()
                .date
        };
        let cap = item.max_extension_days();
        let added = self.case.extensions(&self.extensions, promised, cap, &due);
        if let Some(concluded_on) = self.concluded_on {
            if concluded_on > due(statutory + added) {
                self.case.set("statutory_overruns");
            } else if concluded_on > due(promised + added) {
                self.case.set("late_conclusions");
            }
        }
        self.case
    }
}

impl Case {
    /// Lawful: the first, approved, within the cap, on or before the promised due date. An
    /// otherwise lawful one beyond the cap adds the cap; any other adds nothing. Returns the
    /// days added.
    fn extensions(
        &mut self,
        extensions: &[Extension],
        promised: u32,
        cap: u32,
        due: &dyn Fn(u32) -> NaiveDate,
    ) -> u32 {
        let mut added = 0;
        for (i, e) in extensions.iter().enumerate() {
            let otherwise_lawful = i == 0 && e.approved && e.on <= due(promised);
            if !(otherwise_lawful && e.days <= cap) {
                self.set("excessive_extensions");
            }
            if otherwise_lawful {
                added += e.days.min(cap);
            }
        }
        if !extensions.is_empty() && !self.has("excessive_extensions") {
            self.set("lawful_extensions");
        }
        added
    }

    fn add_to(&self, counts: &mut CaseCounts) {
        let fields: [(&str, &mut u64); 29] = [
            ("accepted", &mut counts.accepted),
            ("concluded", &mut counts.concluded),
            ("corrections_timely", &mut counts.corrections_timely),
            ("late_first_answers", &mut counts.late_first_answers),
            ("repeated_corrections", &mut counts.repeated_corrections),
            ("accepted_incomplete", &mut counts.accepted_incomplete),
            ("rejections_at_intake", &mut counts.rejections_at_intake),
            ("withdrawals", &mut counts.withdrawals),
            ("late_conclusions", &mut counts.late_conclusions),
            ("statutory_overruns", &mut counts.statutory_overruns),
            ("lawful_suspensions", &mut counts.lawful_suspensions),
            ("unlawful_suspensions", &mut counts.unlawful_suspensions),
            ("lawful_extensions", &mut counts.lawful_extensions),
            ("excessive_extensions", &mut counts.excessive_extensions),
            ("skipped_steps", &mut counts.skipped_steps),
            ("wrong_fees", &mut counts.wrong_fees),
            ("no_decisions", &mut counts.no_decisions),
            ("denials", &mut counts.denials),
            ("rated", &mut counts.rated),
            ("bad_ratings", &mut counts.bad_ratings),
            ("complaints", &mut counts.complaints),
            ("backdated", &mut counts.backdated),
            (
                "late_supplement_answers",
                &mut counts.late_supplement_answers,
            ),
            ("limits_overridden", &mut counts.limits_overridden),
            ("unknown_items", &mut counts.unknown_items),
            ("no_acceptances", &mut counts.no_acceptances),
            ("overlong_suspensions", &mut counts.overlong_suspensions),
            ("after_conclusion", &mut counts.after_conclusion),
            ("backdated_conclusions", &mut counts.backdated_conclusions),
        ];
        for (flag, count) in fields {
            if self.has(flag) {
                *count += 1;
            }
        }
    }
}
