//! A case's processing, from acceptance to conclusion: transfer to the handling department,
//! the item's steps, a suspension, extensions, the fee, the decision and the conclusion.
//!
//! Scheduling happens in *counted* working days since the clock started (the acceptance day,
//! or the submission day after a late first answer), the unit limits are measured in. The
//! conclusion's counted day is chosen first, from the case's fate, so that "on time", "late"
//! and "past the statutory limit" come out as planned under DESIGN.md's rules: limits count
//! working days after the start, suspended days (after the suspension day up to and including
//! the resumption day) are not counted, and extensions add their days to both limits. Where
//! the rules leave room for two readings (whether an unlawful suspension or an excessive
//! extension still stops or extends the clock), the conclusion is placed so that both readings
//! agree on the case's outcome. What the summary records is not the plan but where the events
//! landed, judged by those rules (`settle`); the two differ only when a late first answer
//! leaves no room to finish on time.

use crate::case::{Builder, Fate};
use crate::names::{EXTENSION_REASONS, FEES_CENTS, LAWFUL_SUSPENSIONS, UNLAWFUL_SUSPENSIONS};
use crate::plan::{Actor, Payload, TransferReason};
use crate::summary::Mark;

/// A planned suspension.
#[derive(Debug, Clone, Copy)]
struct Suspension {
    reason: u8,
    notice_days: u8,
    /// Working days until the resumption.
    gap: u32,
    lawful: bool,
}

/// A planned extension.
#[derive(Debug, Clone, Copy)]
struct Extension {
    days: u32,
    /// Placed after the promised due date (an excessive extension).
    after_due: bool,
    marks: u32,
}

/// What an action is, for scheduling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Transfer,
    Plain,
    Suspend,
    Resume,
    Extend { after_due: bool, days: u32 },
}

#[derive(Debug, Clone, Copy)]
struct Action {
    kind: Kind,
    actor: Actor,
    payload: Payload,
    marks: u32,
}

impl Builder<'_> {
    /// Plans everything from acceptance (at `accepted`, an offset from submission) to the
    /// conclusion; returns the conclusion's offset.
    pub(crate) fn process(&mut self, fate: Fate, accepted: u32, deemed: bool) -> u32 {
        let (promised, statutory) = (self.item.promised_days, self.item.statutory_days);
        // The clock's start, as an offset from submission: deemed acceptance starts it on
        // the submission day itself.
        let start = if deemed { 0 } else { accepted };
        let first = accepted - start;
        let suspension = self.suspension();
        let extensions = self.extensions(fate, first <= promised);
        let extended: u32 = extensions.iter().map(|e| e.days).sum();
        let excessive = extensions
            .iter()
            .any(|e| e.marks & Mark::EXCESSIVE_EXTENSION != 0);
        let margin = suspension.filter(|s| !s.lawful).map_or(0, |s| s.gap);
        let window = Window {
            first,
            promised,
            statutory,
            extended,
            margin,
            excessive,
            lawful_extension: !extensions.is_empty() && !excessive,
        };
        let end = self.conclusion(fate, &window);
        let (mut actions, concluded_marks) = self.actions(suspension, &extensions);
        let days = self.schedule(&actions, (first, end), promised, margin);
        let end_half = settle(&mut actions, &days, end, promised);
        let handling = self.route.handling;
        let mut shift = 0;
        for (action, &day) in actions.iter().zip(&days) {
            if action.kind == Kind::Resume {
                shift = suspension.map_or(0, |s| s.gap);
            }
            let org = if action.kind == Kind::Transfer {
                self.route.intake
            } else {
                handling
            };
            self.push(
                start + day + shift,
                action.actor,
                org,
                action.payload,
                action.marks,
            );
        }
        let outcome = if end_half > 2 * (statutory + extended) {
            Mark::STATUTORY_OVERRUN
        } else if end_half > 2 * (promised + extended) {
            Mark::LATE_CONCLUSION
        } else {
            0
        };
        let concluded = start + end + shift;
        let marks = outcome | Mark::CONCLUDED | concluded_marks;
        let clerk = Actor::Clerk(self.route.handling_clerk);
        self.push(concluded, clerk, handling, Payload::Concluded, marks);
        concluded
    }

    fn suspension(&mut self) -> Option<Suspension> {
        let world = self.world;
        let rates = &world.rates;
        if self.rng.chance(rates.unlawful_suspension) {
            let gap = self.rng.range(2, 8);
            // Half pause for a reason outside Art. 45, half give a lawful reason but no notice.
            let (reason, notice) = if self.rng.chance(0.5) {
                let index = self.rng.index(UNLAWFUL_SUSPENSIONS.len());
                (
                    (LAWFUL_SUSPENSIONS.len() + index) as u8,
                    self.rng.chance(0.5),
                )
            } else {
                (self.rng.index(LAWFUL_SUSPENSIONS.len()) as u8, false)
            };
            let notice_days = if notice { gap as u8 } else { 0 };
            return Some(Suspension {
                reason,
                notice_days,
                gap,
                lawful: false,
            });
        }
        if self.rng.chance(rates.lawful_suspension) {
            let gap = self.rng.range(2, 10);
            let reason = self.rng.index(LAWFUL_SUSPENSIONS.len()) as u8;
            return Some(Suspension {
                reason,
                notice_days: gap as u8,
                gap,
                lawful: true,
            });
        }
        None
    }

    /// Lawful: one extension of at most 10 days before the due date. Excessive: more than
    /// 10 days, a second one, or one after the due date (only where the case runs late).
    fn extensions(&mut self, fate: Fate, before_due_possible: bool) -> Vec<Extension> {
        let world = self.world;
        let rates = &world.rates;
        let excessive = self.rng.chance(rates.excessive_extension);
        let lawful = self.rng.chance(rates.extension);
        let runs_late = matches!(fate, Fate::Late | Fate::Overrun) || !before_due_possible;
        let lawful_one = |days| Extension {
            days,
            after_due: false,
            marks: Mark::LAWFUL_EXTENSION,
        };
        if excessive {
            let mut variant = self.rng.below(3);
            if !before_due_possible {
                variant = 2;
            } else if variant == 2 && !runs_late {
                variant = 0;
            }
            let marks = Mark::EXCESSIVE_EXTENSION;
            return match variant {
                0 => vec![Extension {
                    days: [15, 20, 30][self.rng.index(3)],
                    after_due: false,
                    marks,
                }],
                1 => vec![
                    lawful_one(self.rng.range(5, 10)),
                    Extension {
                        days: self.rng.range(3, 10),
                        after_due: false,
                        marks,
                    },
                ],
                _ => vec![Extension {
                    days: self.rng.range(5, 10),
                    after_due: true,
                    marks,
                }],
            };
        }
        if lawful && before_due_possible {
            return vec![lawful_one(self.rng.range(3, 10))];
        }
        Vec::new()
    }

    /// The counted day of the conclusion, from the case's fate.
    fn conclusion(&mut self, fate: Fate, w: &Window) -> u32 {
        let (first, p, s, ext) = (w.first, w.promised, w.statutory, w.extended);
        match fate {
            Fate::Overrun => first.max(s + ext + 1) + self.rng.range(0, 7),
            Fate::Late => {
                let lo = first.max(p + ext + 1);
                // Late under every reading: past the promise even with the extension, within
                // the statutory limit even without an excessive extension or the suspension.
                let hi = if w.excessive { s } else { s + ext }.saturating_sub(w.margin);
                if hi < lo {
                    lo
                } else {
                    self.rng.range(lo, hi.min(lo + 5))
                }
            }
            Fate::Normal | Fate::Withdrawn | Fate::Rejected => {
                // A lawful extension is asked for because it is needed: the case uses it.
                let preferred = if w.lawful_extension {
                    (first.max(p + 1), p + ext)
                } else {
                    (first, p)
                };
                let fallback = (first, if w.excessive { p } else { p + ext });
                for (lo, hi) in [preferred, fallback] {
                    let hi = hi.saturating_sub(w.margin);
                    if lo <= hi {
                        let share = (self.rng.unit() + self.rng.unit()) / 2.0;
                        return lo + (f64::from(hi - lo) * share).round() as u32;
                    }
                }
                first
            }
        }
    }

    /// The actions between acceptance and conclusion, in order, and the marks of the
    /// conclusion itself.
    fn actions(
        &mut self,
        suspension: Option<Suspension>,
        extensions: &[Extension],
    ) -> (Vec<Action>, u32) {
        let clerk = Actor::Clerk(self.route.handling_clerk);
        let mut actions = Vec::with_capacity(self.item.steps.len() + 8);
        let omitted = self.steps(&mut actions);
        let mut suspended_at = None;
        if let Some(s) = suspension {
            let at = (1 + self.rng.index(actions.len().max(1))).min(actions.len());
            let marks = if s.lawful {
                Mark::LAWFUL_SUSPENSION
            } else {
                Mark::UNLAWFUL_SUSPENSION
            };
            let suspended = Payload::Suspended {
                reason: s.reason,
                notice_days: s.notice_days,
            };
            actions.insert(at, plain(Kind::Suspend, clerk, suspended, marks));
            actions.insert(at + 1, plain(Kind::Resume, clerk, Payload::Resumed, 0));
            suspended_at = Some(at);
        }
        let mut earliest = 0;
        for e in extensions {
            // Lawful extensions come before a suspension, after-due ones after its
            // resumption: then neither can land on a resumption day, where a due date that
            // fell on the suspension day has already passed (see `settle`).
            let (lo, hi) = match (suspended_at, e.after_due) {
                (Some(s), false) => (earliest, s),
                (Some(s), true) => (earliest.max(s + 2), actions.len()),
                (None, _) => (earliest, actions.len()),
            };
            let lo = lo.min(hi);
            let at = lo + self.rng.index(hi - lo + 1);
            let reason = self.rng.index(EXTENSION_REASONS.len()) as u8;
            let payload = Payload::Extended {
                days: e.days.min(u32::from(u8::MAX)) as u8,
                reason,
            };
            let kind = Kind::Extend {
                after_due: e.after_due,
                days: e.days,
            };
            actions.insert(at, plain(kind, clerk, payload, e.marks));
            earliest = at + 1;
            if let Some(s) = suspended_at.as_mut().filter(|s| at <= **s) {
                *s += 1;
            }
        }
        if self.route.intake != self.route.handling {
            let transfer = Payload::Transferred {
                to: self.route.handling,
                reason: TransferReason::Town,
            };
            let intake_clerk = Actor::Clerk(self.route.intake_clerk);
            actions.insert(0, plain(Kind::Transfer, intake_clerk, transfer, 0));
        }
        let concluded_marks = self.fee_and_decision(&mut actions, omitted);
        (actions, concluded_marks)
    }

    /// The item's steps, in order, or with one skipped or two swapped. The first step out of
    /// order carries the mark; returns whether the last step was left out (the decision or
    /// the conclusion then shows it).
    fn steps(&mut self, actions: &mut Vec<Action>) -> bool {
        let clerk = Actor::Clerk(self.route.handling_clerk);
        let count = self.item.steps.len().min(8);
        let mut order: Vec<u8> = (0..count as u8).collect();
        let mut deviates = None;
        let mut last_omitted = false;
        if self.rng.chance(self.world.rates.skipped_step) && count >= 2 {
            if self.rng.chance(0.3) {
                let k = self.rng.index(count - 1);
                order.swap(k, k + 1);
                deviates = Some(k);
            } else {
                let k = self.rng.index(count);
                order.remove(k);
                deviates = Some(k);
                last_omitted = k == count - 1;
            }
        }
        for (position, &step) in order.iter().enumerate() {
            let marks = if deviates == Some(position) {
                Mark::SKIPPED_STEP
            } else {
                0
            };
            let done = Payload::StepCompleted { step };
            actions.push(plain(Kind::Plain, clerk, done, marks));
        }
        last_omitted
    }

    /// The fee (when the item has one, or when one is wrongly charged) and the decision.
    fn fee_and_decision(&mut self, actions: &mut Vec<Action>, omitted: bool) -> u32 {
        let world = self.world;
        let rates = &world.rates;
        let clerk = Actor::Clerk(self.route.handling_clerk);
        let fee = self.item.fee_cents;
        if self.rng.chance(rates.wrong_fee) {
            let amount_cents = match fee {
                0 => FEES_CENTS[self.rng.index(FEES_CENTS.len())],
                _ => [fee * 2, fee / 2, fee + 1000][self.rng.index(3)],
            };
            let charged = Payload::FeeCharged { amount_cents };
            actions.push(plain(Kind::Plain, clerk, charged, Mark::WRONG_FEE));
        } else if fee > 0 {
            let charged = Payload::FeeCharged { amount_cents: fee };
            actions.push(plain(Kind::Plain, clerk, charged, 0));
        }
        let skipped = if omitted { Mark::SKIPPED_STEP } else { 0 };
        let (no_decision, denied) = (
            self.rng.chance(rates.no_decision),
            self.rng.chance(rates.denied),
        );
        if no_decision {
            return Mark::NO_DECISION | skipped;
        }
        let marks = skipped | if denied { Mark::DENIED } else { 0 };
        let decided = Payload::Decided { approved: !denied };
        let head = Actor::Head(self.route.head);
        actions.push(plain(Kind::Plain, head, decided, marks));
        0
    }

    /// Counted days for each action, nondecreasing, from `first` to `end`: spread at random,
    /// then bent to the rules — a town's transfer within a day of acceptance, a resumption
    /// counted on its suspension's day, lawful extensions before the due date and the
    /// excessive kind after it. `margin` keeps lawful extensions before the due date even if
    /// an unlawful suspension's days were counted.
    fn schedule(
        &mut self,
        actions: &[Action],
        (first, end): (u32, u32),
        promised: u32,
        margin: u32,
    ) -> Vec<u32> {
        let mut days: Vec<u32> = actions.iter().map(|_| self.rng.range(first, end)).collect();
        days.sort_unstable();
        // A suspension counted on the conclusion's own day would put the conclusion half a
        // day past a limit ending that day (see `settle`): suspend a day earlier instead.
        let suspend = actions.iter().position(|a| a.kind == Kind::Suspend);
        if let Some(s) = suspend.filter(|&s| days[s] == end && end > first) {
            days[..=s + 1]
                .iter_mut()
                .for_each(|d| *d = (*d).min(end - 1));
        }
        if let (Some(action), Some(day)) = (actions.first(), days.first_mut()) {
            if action.kind == Kind::Transfer {
                *day = (*day).min(first + 1);
            }
        }
        let mut prior = 0;
        for (i, action) in actions.iter().enumerate() {
            match action.kind {
                Kind::Resume if i > 0 => days[i] = days[i - 1],
                Kind::Extend {
                    after_due: false,
                    days: added,
                } => {
                    let limit = (promised + prior).saturating_sub(margin).max(first);
                    days[..=i].iter_mut().for_each(|d| *d = (*d).min(limit));
                    prior += added;
                }
                Kind::Extend {
                    after_due: true,
                    days: added,
                } => {
                    let floor = (promised + prior + 1).min(end);
                    days[i..].iter_mut().for_each(|d| *d = (*d).max(floor));
                    prior += added;
                }
                _ => {}
            }
        }
        days
    }
}

/// Marks each extension lawful or excessive by where it actually landed, and returns the
/// conclusion's position, in half counted days.
///
/// Half days settle the one case counted days cannot: the days after a suspension up to its
/// resumption have the suspension day's count, yet the calendar puts them after it. A due
/// date that falls on the suspension day has passed by the resumption, so an action on or
/// after the resumption at that same count sits half a day later than the count says.
fn settle(actions: &mut [Action], days: &[u32], end: u32, promised: u32) -> u32 {
    let suspended = actions
        .iter()
        .zip(days)
        .find(|(a, _)| a.kind == Kind::Suspend)
        .map(|(_, &d)| d);
    let half = |day: u32, resumed: bool| 2 * day + u32::from(resumed && Some(day) == suspended);
    let (mut resumed, mut prior, mut count) = (false, 0, 0);
    for (action, &day) in actions.iter_mut().zip(days) {
        resumed |= action.kind == Kind::Resume;
        if let Kind::Extend { days: added, .. } = action.kind {
            let late = half(day, resumed) > 2 * (promised + prior);
            action.marks = if count > 0 || added > 10 || late {
                Mark::EXCESSIVE_EXTENSION
            } else {
                Mark::LAWFUL_EXTENSION
            };
            prior += added;
            count += 1;
        }
    }
    half(end, resumed)
}

fn plain(kind: Kind, actor: Actor, payload: Payload, marks: u32) -> Action {
    Action {
        kind,
        actor,
        payload,
        marks,
    }
}

/// The limits a conclusion is placed against, in counted working days.
#[derive(Debug)]
struct Window {
    first: u32,
    promised: u32,
    statutory: u32,
    extended: u32,
    margin: u32,
    excessive: bool,
    lawful_extension: bool,
}
