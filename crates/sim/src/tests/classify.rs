//! An independent reading of a generated file: re-derives from the events alone (and the
//! national calendar) how many cases show each variation and irregularity, the way a
//! supervision engine would, so the generator's [`CaseCounts`] can be checked against it.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use jiancha_calendar::Calendar;
use jiancha_events::{EventData, ItemDefined, NewEvent};

use crate::CaseCounts;

/// Counts over all cases, from the events of a whole run in file order (back-dating, which
/// the file alone cannot show, is not counted).
pub(super) fn classify(events: &[NewEvent]) -> CaseCounts {
    let mut total = CaseCounts::default();
    for counts in classify_cases(events).values() {
        let fields = [
            (&mut total.accepted, counts.accepted),
            (&mut total.concluded, counts.concluded),
            (&mut total.corrections_timely, counts.corrections_timely),
            (&mut total.late_first_answers, counts.late_first_answers),
            (&mut total.repeated_corrections, counts.repeated_corrections),
            (&mut total.accepted_incomplete, counts.accepted_incomplete),
            (&mut total.rejections_at_intake, counts.rejections_at_intake),
            (&mut total.withdrawals, counts.withdrawals),
            (&mut total.late_conclusions, counts.late_conclusions),
            (&mut total.statutory_overruns, counts.statutory_overruns),
            (&mut total.lawful_suspensions, counts.lawful_suspensions),
            (&mut total.unlawful_suspensions, counts.unlawful_suspensions),
            (&mut total.lawful_extensions, counts.lawful_extensions),
            (&mut total.excessive_extensions, counts.excessive_extensions),
            (&mut total.skipped_steps, counts.skipped_steps),
            (&mut total.wrong_fees, counts.wrong_fees),
            (&mut total.no_decisions, counts.no_decisions),
            (&mut total.denials, counts.denials),
            (&mut total.rated, counts.rated),
            (&mut total.bad_ratings, counts.bad_ratings),
            (&mut total.complaints, counts.complaints),
        ];
        for (sum, value) in fields {
            *sum += value;
        }
    }
    total
}

/// Counts of each case (0 or 1 per field), by stream.
pub(super) fn classify_cases(events: &[NewEvent]) -> BTreeMap<String, CaseCounts> {
    let mut items = BTreeMap::new();
    let mut cases: BTreeMap<&str, Vec<&NewEvent>> = BTreeMap::new();
    for event in events {
        match &event.data {
            EventData::ItemDefined(item) => {
                items.insert(item.code.clone(), item.clone());
            }
            _ => cases.entry(event.stream.as_str()).or_default().push(event),
        }
    }
    let calendar = Calendar::national();
    let mut by_case = BTreeMap::new();
    for (stream, case) in cases {
        let mut counts = CaseCounts::default();
        Case::read(&case, &items, &calendar).add_to(&mut counts);
        by_case.insert(stream.to_owned(), counts);
    }
    by_case
}

fn date(event: &NewEvent) -> NaiveDate {
    event.occurred_at.date_naive()
}

/// What one case shows.
#[derive(Default)]
struct Case {
    flags: BTreeMap<&'static str, bool>,
}

/// The state of reading one case's events in order.
struct Reader<'a> {
    case: Case,
    item: &'a ItemDefined,
    cal: &'a Calendar,
    submitted_on: NaiveDate,
    materials: Vec<&'a String>,
    corrections: u32,
    first_answer: Option<NaiveDate>,
    accepted_on: Option<NaiveDate>,
    concluded_on: Option<NaiveDate>,
    suspended_on: Option<NaiveDate>,
    skipped: Vec<(NaiveDate, NaiveDate)>,
    extensions: Vec<(NaiveDate, u32)>,
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

    fn read(events: &[&NewEvent], items: &BTreeMap<String, ItemDefined>, cal: &Calendar) -> Case {
        let EventData::Submitted(submitted) = &events[0].data else {
            panic!("{} does not start with Submitted", events[0].stream);
        };
        let mut reader = Reader {
            case: Case::default(),
            item: &items[&submitted.item],
            cal,
            submitted_on: date(events[0]),
            materials: submitted.materials.iter().collect(),
            corrections: 0,
            first_answer: None,
            accepted_on: None,
            concluded_on: None,
            suspended_on: None,
            skipped: Vec::new(),
            extensions: Vec::new(),
            steps_done: 0,
            decided: false,
        };
        for event in &events[1..] {
            reader.intake(event);
            reader.processing(event);
        }
        reader.finish()
    }
}

impl<'a> Reader<'a> {
    fn workdays_after_submission(&self, on: NaiveDate) -> u32 {
        self.cal
            .working_days_between(self.submitted_on, on)
            .unwrap()
            .days
    }

    fn intake(&mut self, event: &'a NewEvent) {
        let on = date(event);
        match &event.data {
            EventData::CorrectionRequested(_) => {
                self.corrections += 1;
                self.first_answer.get_or_insert(on);
                if self.corrections == 1 && self.workdays_after_submission(on) <= 5 {
                    self.case.set("corrections_timely");
                }
            }
            EventData::MaterialsSupplemented(m) => self.materials.extend(m.materials.iter()),
            EventData::Accepted(_) => {
                self.first_answer.get_or_insert(on);
                self.accepted_on = Some(on);
                self.case.set("accepted");
                let required = &self.item.required_materials;
                if required.iter().any(|r| !self.materials.contains(&r)) {
                    self.case.set("accepted_incomplete");
                }
            }
            EventData::RejectedAtIntake(_) => {
                self.first_answer.get_or_insert(on);
                self.case.set("rejections_at_intake");
            }
            EventData::Withdrawn(_) => self.case.set("withdrawals"),
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

    fn processing(&mut self, event: &NewEvent) {
        let on = date(event);
        let steps = &self.item.steps;
        match &event.data {
            EventData::StepCompleted(s) => {
                if steps.get(self.steps_done) != Some(&s.step) {
                    self.case.set("skipped_steps");
                }
                self.steps_done += 1;
            }
            EventData::Suspended(s) => {
                self.suspended_on = Some(on);
                if jiancha_events::vocab::is_lawful_suspension(&s.reason) && s.notice.is_some() {
                    self.case.set("lawful_suspensions");
                } else {
                    self.case.set("unlawful_suspensions");
                }
            }
            EventData::Resumed(_) => {
                let from = self.suspended_on.take().unwrap().succ_opt().unwrap();
                self.skipped.push((from, on));
            }
            EventData::Extended(e) => self.extensions.push((on, e.days)),
            EventData::FeeCharged(f) if f.amount_cents != self.item.fee_cents => {
                self.case.set("wrong_fees")
            }
            EventData::Decided(d) => {
                self.decided = true;
                if self.steps_done < steps.len() {
                    self.case.set("skipped_steps");
                }
                if d.outcome == jiancha_events::Outcome::Denied {
                    self.case.set("denials");
                }
            }
            EventData::Concluded(_) => {
                self.concluded_on = Some(on);
                self.case.set("concluded");
                if !self.decided {
                    self.case.set("no_decisions");
                    if self.steps_done < steps.len() {
                        self.case.set("skipped_steps");
                    }
                }
            }
            _ => {}
        }
    }

    /// What needs the whole case: late answers, due dates, extensions, the outcome.
    fn finish(mut self) -> Case {
        let late_answer = self
            .first_answer
            .is_some_and(|d| self.workdays_after_submission(d) > 5);
        if late_answer {
            self.case.set("late_first_answers");
        }
        if self.corrections >= 2 {
            self.case.set("repeated_corrections");
        }
        let Some(accepted_on) = self.accepted_on else {
            return self.case;
        };
        let start = if late_answer {
            self.submitted_on
        } else {
            accepted_on
        };
        let (cal, skipped) = (self.cal, &self.skipped);
        let due = |limit| {
            cal.add_working_days_skipping(start, limit, skipped)
                .unwrap()
                .date
        };
        let item = self.item;
        self.case
            .extensions(&self.extensions, item.promised_days, &due);
        let extended: u32 = self.extensions.iter().map(|e| e.1).sum();
        if let Some(concluded_on) = self.concluded_on {
            if concluded_on > due(item.statutory_days + extended) {
                self.case.set("statutory_overruns");
            } else if concluded_on > due(item.promised_days + extended) {
                self.case.set("late_conclusions");
            }
        }
        self.case
    }
}

impl Case {
    /// Lawful: one, of at most 10 days, on or before the due date it extends.
    fn extensions(
        &mut self,
        extensions: &[(NaiveDate, u32)],
        promised: u32,
        due: &dyn Fn(u32) -> NaiveDate,
    ) {
        let mut prior = 0;
        for (i, &(on, days)) in extensions.iter().enumerate() {
            if i > 0 || days > 10 || on > due(promised + prior) {
                self.set("excessive_extensions");
            }
            prior += days;
        }
        if !extensions.is_empty() && !self.has("excessive_extensions") {
            self.set("lawful_extensions");
        }
    }

    fn add_to(&self, counts: &mut CaseCounts) {
        let fields: [(&str, &mut u64); 21] = [
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
        ];
        for (flag, count) in fields {
            if self.has(flag) {
                *count += 1;
            }
        }
    }
}
