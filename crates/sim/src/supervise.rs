//! The supervision workflow (预警纠错) a case draws once its own events are planned: the red
//! cards its events raise are acknowledged by the unit, some ordered corrected by the
//! supervision bureau (督办), reported back (回告) and verified (核查); a bad rating is verified
//! by the service center, rectified and called back; a complaint is accepted or rejected and
//! answered; a few rated cases are rated twice.
//!
//! The cards are predicted from the case as planned, not found by folding it: each red rule
//! of a case's own events is raised by one event the plan knows (an acceptance of an unknown
//! item, an unlawful suspension, a wrong fee, the decision or conclusion after a skipped step,
//! a conclusion without a decision or acceptance), and the deadline cards by the due dates
//! `process` placed. An act is never entered before the card it names could be raised: not
//! before the raising event or the day after the due date, nor before any case event that
//! happened earlier has been entered. Only the case's first card of each rule is named
//! (`<case>/<rule>/1`), which exists whenever the rule fired at all.
//!
//! The acts draw from their own random stream, so a case's own events are the same whatever
//! the workflow's rates.

use jiancha_events::RatingVerdict;

use crate::case::Builder;
use crate::days::{at, split, Instant, CLOSE_SECONDS, DAY_SECONDS, OPEN_SECONDS};
use crate::names::{CENTER_COMPLAINT_CATEGORIES, COMPLAINT_CATEGORIES};
use crate::plan::{Actor, Payload, Planned};
use crate::rng::{Purpose, Rng};
use crate::summary::Mark;

/// The red rules a case's own events raise, as alert ids name them; `card` in a payload
/// indexes this table.
pub(crate) const CARD_RULES: [&str; 8] = [
    "intake.item.unknown",
    "suspension.unlawful",
    "fee.mismatch",
    "procedure.step.skipped",
    "procedure.no_decision",
    "procedure.no_acceptance",
    "deadline.promised.overdue",
    "deadline.statutory.overdue",
];

const ITEM_UNKNOWN: u8 = 0;
const SUSPENSION_UNLAWFUL: u8 = 1;
const FEE_MISMATCH: u8 = 2;
const STEP_SKIPPED: u8 = 3;
const NO_DECISION: u8 = 4;
const NO_ACCEPTANCE: u8 = 5;
const PROMISED_OVERDUE: u8 = 6;
const STATUTORY_OVERDUE: u8 = 7;

/// Working days a correction order allows, at least and at most.
const ORDER_DAYS: (u32, u32) = (3, 5);

/// Report-backs of one order, the last always accepted.
const ROUNDS_MAX: u32 = 3;

/// Working days within which a bad rating is rectified.
const RECTIFY_DAYS: u32 = 5;

/// Working days within which a complaint is accepted or rejected.
const ACCEPT_DAYS: u32 = 5;

/// Working days after its acceptance within which a complaint is answered.
const REPLY_DAYS: u32 = 10;

/// Natural days after the conclusion during which a rating counts (一事一评).
const RATING_WINDOW_DAYS: u32 = 7;

/// Inspectors of the supervision bureau, and staff of the service center, who act.
const INSPECTORS: u32 = 3;
const STAFF: u32 = 4;

/// The acts being planned for one case.
struct Acts<'a> {
    rng: Rng,
    days: &'a crate::days::Days,
    out: Vec<Planned>,
}

impl Acts<'_> {
    /// An instant in working hours `lo..=hi` working days after `after` (0: later that day,
    /// or the next working day when it has ended), strictly after it.
    fn after(&mut self, after: Instant, (lo, hi): (u32, u32)) -> Instant {
        let (day, seconds) = split(after);
        let mut target = self.days.nth_after(day, self.rng.range(lo, hi));
        if !self.days.is_workday(target) {
            target = self.days.nth_after(target, 1);
        }
        let from = if target == day {
            seconds.max(OPEN_SECONDS)
        } else {
            OPEN_SECONDS
        };
        if from + 60 >= CLOSE_SECONDS {
            target = self.days.nth_after(target, 1);
            return at(target, OPEN_SECONDS + self.rng.below(3600) as i64);
        }
        let room = (CLOSE_SECONDS - from - 60) as u64;
        at(target, from + 60 + self.rng.below(room) as i64)
    }

    fn push(&mut self, occurred: Instant, actor: Actor, org: u32, payload: Payload) {
        self.out.push(Planned {
            occurred,
            entered: occurred,
            actor,
            org,
            payload,
            version: 0,
        });
    }

    /// On time within `days`, or 1 to 3 working days past them.
    fn delay(&mut self, late: bool, days: u32) -> (u32, u32) {
        if late {
            (days + 1, days + 3)
        } else {
            (0, days)
        }
    }
}

impl Builder<'_> {
    /// Plans the workflow's acts on the case and merges them into `events` in entry order.
    /// `marks` are the case's marks.
    pub(crate) fn supervise(&mut self, ordinal: u64, events: &mut Vec<Planned>, marks: u32) {
        let world = self.world;
        let mut acts = Acts {
            rng: Rng::new(world.seed, Purpose::Supervision, ordinal),
            days: &world.days,
            out: Vec::new(),
        };
        // A deadline card closes when the case leaves the clock; nothing is ordered on it then.
        let ended = events
            .iter()
            .find(|e| matches!(e.payload, Payload::Concluded | Payload::Withdrawn { .. }))
            .map_or(Instant::MAX, |e| e.entered);
        for (card, raised) in self.cards(events, marks) {
            let open_until = if card >= PROMISED_OVERDUE {
                ended
            } else {
                Instant::MAX
            };
            self.card(&mut acts, card, settled(events, raised), open_until);
        }
        self.rating(&mut acts, events);
        self.complaint(&mut acts, events);
        self.duplicate_rating(&mut acts, events);
        if acts.out.is_empty() {
            return;
        }
        events.append(&mut acts.out);
        // Stable: case events keep their order and come first on a tie.
        events.sort_by_key(|e| e.entered);
        let mut n = 0;
        for e in events.iter_mut().filter(|e| e.payload.is_supervision()) {
            n += 1;
            e.version = n;
        }
    }

    /// The red cards the case's events raise, each with the earliest instant it exists.
    fn cards(&self, events: &[Planned], marks: u32) -> Vec<(u8, Instant)> {
        let mut cards = Vec::new();
        let accepted = marks & Mark::ACCEPTED != 0;
        // The steps are checked once, at the first decision or conclusion.
        let (mut skipped, mut checked) = (false, false);
        for (event, draft) in events.iter().zip(self.drafts.iter()) {
            let m = draft.marks;
            skipped |= m & Mark::SKIPPED_STEP != 0;
            match event.payload {
                Payload::Accepted { .. } if self.unknown => {
                    cards.push((ITEM_UNKNOWN, event.entered));
                }
                Payload::Suspended { .. } if m & Mark::UNLAWFUL_SUSPENSION != 0 => {
                    cards.push((SUSPENSION_UNLAWFUL, event.entered));
                }
                Payload::FeeCharged { .. } if m & Mark::WRONG_FEE != 0 => {
                    cards.push((FEE_MISMATCH, event.entered));
                }
                _ => {}
            }
            if matches!(event.payload, Payload::Decided { .. } | Payload::Concluded) && !checked {
                checked = true;
                if skipped {
                    cards.push((STEP_SKIPPED, event.entered));
                }
            }
            if event.payload == Payload::Concluded {
                if m & Mark::NO_DECISION != 0 && accepted {
                    cards.push((NO_DECISION, event.entered));
                }
                if m & Mark::NO_ACCEPTANCE != 0 {
                    cards.push((NO_ACCEPTANCE, event.entered));
                }
            }
        }
        let late = marks & (Mark::LATE_CONCLUSION | Mark::STATUTORY_OVERRUN) != 0;
        let submitted = split(self.arrival).0;
        if let (true, true, Some((promised, statutory))) = (accepted, late, self.dues) {
            // Past the due date from the end of it: the next working day.
            let day_after = |due: u32| at(self.world.days.nth_after(submitted, due + 1), 0);
            let acceptance = events
                .iter()
                .find(|e| matches!(e.payload, Payload::Accepted { .. }))
                .map_or(0, |e| e.entered);
            // A lawful suspension on the due day itself leaves that date open until the case
            // resumes: the card comes with the resumption.
            let lawful_on = events
                .iter()
                .zip(self.drafts.iter())
                .find(|(e, d)| {
                    matches!(e.payload, Payload::Suspended { .. })
                        && d.marks & Mark::UNLAWFUL_SUSPENSION == 0
                })
                .map(|(e, _)| split(e.occurred).0);
            // (Concluded while still suspended, it never ran past it: no card.)
            let resumed = events
                .iter()
                .find(|e| matches!(e.payload, Payload::Resumed))
                .map(|e| e.entered);
            let raised = |due: u32| {
                let on_due_day = lawful_on == Some(self.world.days.nth_after(submitted, due));
                let after = if on_due_day { resumed } else { Some(0) };
                after.map(|after| day_after(due).max(acceptance).max(after))
            };
            if let Some(at) = raised(promised) {
                cards.push((PROMISED_OVERDUE, at));
            }
            if marks & Mark::STATUTORY_OVERRUN != 0 {
                if let Some(at) = raised(statutory) {
                    cards.push((STATUTORY_OVERDUE, at));
                }
            }
        }
        cards
    }

    /// The unit acknowledges a card; the bureau may order it corrected, and then the unit
    /// reports back and the bureau verifies, until a report-back is accepted or none comes.
    /// A card that closes by itself at `open_until` is not ordered corrected after that.
    fn card(&self, acts: &mut Acts<'_>, card: u8, raised: Instant, open_until: Instant) {
        let rates = &self.world.rates;
        let route = self.route;
        let (unit, clerk) = (route.handling, Actor::Clerk(route.handling_clerk));
        let supervision = self.world.district.supervision;
        let late = acts.rng.chance(rates.late_acknowledgement);
        let window = if late {
            (2, 4)
        } else if split(raised).1 == 0 {
            // Raised at midnight (a due date passed): that working day is the one allowed.
            (0, 0)
        } else {
            (0, 1)
        };
        let acknowledged = acts.after(raised, window);
        acts.push(
            acknowledged,
            clerk,
            unit,
            Payload::AlertAcknowledged { card },
        );
        if !acts.rng.chance(rates.correction_order) {
            return;
        }
        let inspector = Actor::Inspector(acts.rng.range(1, INSPECTORS));
        let days = acts.rng.range(ORDER_DAYS.0, ORDER_DAYS.1);
        // The order follows a timely acknowledgement; a late one it does not wait for.
        let ordered = if late {
            acts.after(raised, (1, 3))
        } else {
            acts.after(acknowledged, (0, 2))
        };
        let order = Payload::CorrectionOrdered {
            card,
            days: days as u8,
        };
        if ordered >= open_until {
            return;
        }
        acts.push(ordered, inspector, supervision, order);
        let mut since = ordered;
        for round in 1..=ROUNDS_MAX {
            let u = acts.rng.unit();
            if round == 1 && u < rates.no_report_back {
                return;
            }
            let late = round == 1 && u < rates.no_report_back + rates.late_report_back;
            let window = acts.delay(late, days);
            let reported = acts.after(since, window);
            acts.push(reported, clerk, unit, Payload::CorrectionCompleted { card });
            let verified = acts.after(reported, (0, 2));
            let accepted = round == ROUNDS_MAX || !acts.rng.chance(rates.report_back_rejected);
            let verdict = Payload::CorrectionVerified { card, accepted };
            acts.push(verified, inspector, supervision, verdict);
            if accepted {
                return;
            }
            since = verified;
        }
    }

    /// A counted bad rating: verified by the center; a valid one rectified by the unit and
    /// called back.
    fn rating(&self, acts: &mut Acts<'_>, events: &[Planned]) {
        let Some(rated) = counted_rating(events) else {
            return;
        };
        let Payload::Rated { score } = rated.payload else {
            return;
        };
        if score > 2 {
            return;
        }
        let rates = &self.world.rates;
        let center = self.world.district.center;
        let staff = Actor::Staff(acts.rng.range(1, STAFF));
        let late = acts.rng.chance(rates.late_rating_verification);
        let window = if late { (2, 4) } else { (0, 1) };
        let verified = acts.after(rated.entered, window);
        let verdict = if acts.rng.chance(rates.bad_rating_valid) {
            RatingVerdict::Valid
        } else if acts.rng.chance(0.5) {
            RatingVerdict::Mistaken
        } else {
            RatingVerdict::Malicious
        };
        acts.push(verified, staff, center, Payload::RatingVerified { verdict });
        if verdict != RatingVerdict::Valid {
            return;
        }
        let late = acts.rng.chance(rates.late_rectification);
        let window = acts.delay(late, RECTIFY_DAYS);
        let rectified = acts.after(verified, window);
        let (unit, clerk) = (self.route.handling, Actor::Clerk(self.route.handling_clerk));
        acts.push(rectified, clerk, unit, Payload::RatingRectified);
        let score = if acts.rng.chance(rates.callback_satisfied) {
            acts.rng.range(4, 5)
        } else {
            acts.rng.range(1, 3)
        } as u8;
        let called = acts.after(rectified, (1, 3));
        acts.push(called, staff, center, Payload::RatingCallback { score });
    }

    /// The case's complaint: accepted (routed by its category) and answered, or rejected.
    fn complaint(&self, acts: &mut Acts<'_>, events: &[Planned]) {
        let Some((complained, category)) = events.iter().find_map(|e| match e.payload {
            Payload::Complained { category } => Some((e.entered, category)),
            _ => None,
        }) else {
            return;
        };
        let rates = &self.world.rates;
        let district = &self.world.district;
        let staff = Actor::Staff(acts.rng.range(1, STAFF));
        let late = acts.rng.chance(rates.late_complaint_acceptance);
        let window = acts.delay(late, ACCEPT_DAYS);
        let answered = acts.after(complained, window);
        if acts.rng.chance(rates.complaint_rejected) {
            let reason =
                acts.rng
                    .index(crate::names::COMPLAINT_REJECTION_REASONS.len()) as u8;
            let rejected = Payload::ComplaintRejected { reason };
            acts.push(answered, staff, district.center, rejected);
            return;
        }
        let to = if usize::from(category) < CENTER_COMPLAINT_CATEGORIES
            || usize::from(category) >= COMPLAINT_CATEGORIES.len()
        {
            district.center
        } else {
            district.supervision
        };
        acts.push(
            answered,
            staff,
            district.center,
            Payload::ComplaintAccepted { to },
        );
        let late = acts.rng.chance(rates.late_complaint_answer);
        let window = if late {
            (REPLY_DAYS + 1, REPLY_DAYS + 3)
        } else {
            (1, REPLY_DAYS)
        };
        let replied = acts.after(answered, window);
        let upheld = acts.rng.chance(rates.complaint_upheld);
        let actor = if to == district.center {
            staff
        } else {
            Actor::Inspector(acts.rng.range(1, INSPECTORS))
        };
        acts.push(replied, actor, to, Payload::ComplaintAnswered { upheld });
    }

    /// A second rating of a rated case, of the same kind as the first, after every event of
    /// the case's own stream.
    fn duplicate_rating(&self, acts: &mut Acts<'_>, events: &[Planned]) {
        let Some(first) = events
            .iter()
            .find(|e| matches!(e.payload, Payload::Rated { .. }))
        else {
            return;
        };
        let rates = &self.world.rates;
        if !acts.rng.chance(rates.duplicate_rating) {
            return;
        }
        let Payload::Rated { score } = first.payload else {
            return;
        };
        let score = if score <= 2 {
            acts.rng.range(1, 2)
        } else {
            acts.rng.range(3, 5)
        } as u8;
        let Some(last) = events.iter().rfind(|e| !e.payload.is_supervision()) else {
            return;
        };
        let version = events
            .iter()
            .filter(|e| !e.payload.is_supervision())
            .count() as u32
            + 1;
        let at = acts.after(first.entered.max(last.entered), (0, 2));
        acts.out.push(Planned {
            occurred: at,
            entered: at,
            actor: Actor::Citizen,
            org: first.org,
            payload: Payload::Rated { score },
            version,
        });
    }
}

/// The instant by which a card raised at `raised` exists for the log: no earlier than the
/// entry of any case event that happened by then (a back-dated run is folded when entered).
fn settled(events: &[Planned], raised: Instant) -> Instant {
    events
        .iter()
        .filter(|e| e.occurred <= raised)
        .map(|e| e.entered)
        .fold(raised, Instant::max)
}

/// The case's first rating, when it counts: the case was concluded, both were entered as
/// they happened, and the rating came within the rating window after the conclusion.
fn counted_rating(events: &[Planned]) -> Option<&Planned> {
    let concluded = events.iter().find(|e| e.payload == Payload::Concluded)?;
    let rated = events
        .iter()
        .find(|e| matches!(e.payload, Payload::Rated { .. }))?;
    let window = i64::from(RATING_WINDOW_DAYS) * DAY_SECONDS;
    let (concluded_day, rated_day) = (split(concluded.occurred).0, split(rated.occurred).0);
    let in_window =
        i64::from(rated_day) * DAY_SECONDS - i64::from(concluded_day) * DAY_SECONDS <= window;
    let as_happened = concluded.entered == concluded.occurred && rated.entered == rated.occurred;
    (in_window && as_happened && rated.occurred > concluded.occurred).then_some(rated)
}
