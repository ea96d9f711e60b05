//! A case's processing, from acceptance to conclusion: transfer to the handling department,
//! the item's steps, a suspension, extensions, the fee, the decision and the conclusion.
//!
//! Scheduling happens in *counted* working days since the clock started (the acceptance day,
//! or the submission day after a late first answer), the unit limits are measured in. The
//! conclusion's counted day is chosen first, from the case's fate, so that "on time", "late"
//! and "past the statutory limit" come out as planned under the deadline rules (v2): limits
//! count working days after the start, the days of a lawful suspension (after the suspension
//! day up to and including the resumption day) are not counted, and a lawful extension adds
//! its days to both limits (one otherwise lawful beyond the item's cap adds the cap). The
//! conclusion is placed so that the outcome is the same whether or not an unlawful suspension
//! stopped the clock and an excessive extension added its days (the rules before v2), so both
//! readings agree. What the summary records is not the plan but where the events landed,
//! judged by the v2 rules (`settle`, then `Builder::judge` for a conclusion entered late); the
//! two differ only when a late answer leaves no room to finish on time or the conclusion is
//! entered days after it happened.

use crate::case::{Builder, Fate, Outcome};
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
    /// Names its approver (an unapproved one is excessive).
    approved: bool,
    marks: u32,
}

/// What an action is, for scheduling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Transfer,
    Plain,
    Suspend,
    Resume,
    Extend {
        after_due: bool,
        days: u32,
        approved: bool,
    },
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
    /// conclusion, with the clock started at offset `start`; returns the conclusion's offset
    /// and leaves the conclusion's standing in `outcome`.
    pub(crate) fn process(&mut self, fate: Fate, accepted: u32, start: u32) -> u32 {
        let (promised, statutory) = (self.item.promised_days, self.item.statutory_days);
        let first = accepted - start;
        // A case never accepted is neither suspended nor extended: with no clock running
        // until its conclusion, nothing could be judged against one. A case of an unknown
        // item, unmonitored, is never lawfully suspended (whether an overlong one would
        // still be flagged is left open by the rules).
        let (unaccepted, unknown) = (self.unaccepted, self.unknown);
        let barred = |s: &Suspension| unaccepted || (unknown && s.lawful);
        let suspension = self.suspension().filter(|s| !barred(s));
        let extensions = self.extensions(fate, first <= promised);
        let extended: u32 = extensions.iter().map(|e| e.days).sum();
        let excessive = extensions
            .iter()
            .any(|e| e.marks & Mark::EXCESSIVE_EXTENSION != 0);
        let cap = self.item.extension_cap();
        // What the extensions add by the v2 rules, if they land as planned: only the first,
        // approved and before the due date, at most the cap.
        let counted = extensions
            .first()
            .filter(|e| e.approved && !e.after_due)
            .map_or(0, |e| e.days.min(cap));
        // The days of an unlawful suspension count: they must leave room for the fate.
        let room = match fate {
            Fate::Overrun => u32::MAX,
            Fate::Late => (statutory + counted).saturating_sub(first.max(promised + counted + 1)),
            Fate::Normal | Fate::Withdrawn | Fate::Rejected => promised.saturating_sub(first),
        };
        let suspension = suspension.and_then(|s| fit(s, room));
        let unlawful_gap = suspension.filter(|s| !s.lawful).map_or(0, |s| s.gap);
        let window = Window {
            first,
            promised,
            statutory,
            extended,
            counted,
            margin: unlawful_gap,
            excessive,
            lawful_extension: !extensions.is_empty() && !excessive,
        };
        let end = self.conclusion(fate, &window);
        let (mut actions, concluded_marks) = self.actions(suspension, &extensions);
        let days = self.schedule(&actions, (first, end), promised, unlawful_gap);
        let counting = Counting {
            promised,
            cap,
            unlawful_gap,
        };
        let (end_half, counted) = settle(&mut actions, &days, end, &counting);
        // The due dates on the calendar: the days after a lawful suspension's day up to its
        // resumption are not counted, so a due date after the suspension day moves by them.
        let suspended_on = actions
            .iter()
            .zip(&days)
            .find(|(a, _)| a.kind == Kind::Suspend)
            .map(|(_, &d)| d);
        let lawful_gap = suspension.filter(|s| s.lawful).map_or(0, |s| s.gap);
        let due = |limit: u32| {
            let moved = suspended_on.is_some_and(|on| limit > on);
            start + limit + if moved { lawful_gap } else { 0 }
        };
        self.dues = Some((due(promised + counted), due(statutory + counted)));
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
        self.outcome = (!self.unknown).then_some(Outcome {
            end_half,
            promised: promised + counted,
            statutory: statutory + counted,
        });
        let concluded = start + end + shift;
        let unaccepted = if self.unaccepted {
            Mark::NO_ACCEPTANCE
        } else {
            0
        };
        let marks = Mark::CONCLUDED | concluded_marks | unaccepted;
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
            // An overlong one takes 1 to 3 working days more than the notice told.
            let told = if self.rng.chance(rates.overlong_suspension) {
                gap - self.rng.range(1, (gap - 1).min(3))
            } else {
                gap
            };
            return Some(Suspension {
                reason,
                notice_days: told as u8,
                gap,
                lawful: true,
            });
        }
        None
    }

    /// Lawful: one approved extension within the item's cap before the due date. Excessive:
    /// beyond the cap, a second one, one without an approver, or one after the due date (only
    /// where the case runs late). An unknown item has no cap or due date to judge one by, and
    /// a case never accepted no running clock: such cases are never extended.
    fn extensions(&mut self, fate: Fate, before_due_possible: bool) -> Vec<Extension> {
        let world = self.world;
        let rates = &world.rates;
        let excessive = self.rng.chance(rates.excessive_extension);
        let lawful = self.rng.chance(rates.extension);
        if self.unknown || self.unaccepted {
            return Vec::new();
        }
        let runs_late = matches!(fate, Fate::Late | Fate::Overrun) || !before_due_possible;
        let cap = self.item.extension_cap();
        let one = |days, approved, after_due, marks| Extension {
            days,
            after_due,
            approved,
            marks,
        };
        let lawful_one = |days| one(days, true, false, Mark::LAWFUL_EXTENSION);
        if excessive {
            let mut variant = self.rng.below(4);
            if !before_due_possible {
                variant = 3;
            } else if variant == 3 && !runs_late {
                variant = 0;
            }
            let marks = Mark::EXCESSIVE_EXTENSION;
            return match variant {
                0 => vec![one(
                    cap + [5, 10, 20][self.rng.index(3)],
                    true,
                    false,
                    marks,
                )],
                1 => vec![
                    lawful_one(self.rng.range(5, 10)),
                    one(self.rng.range(3, 10), true, false, marks),
                ],
                2 => vec![one(self.rng.range(3, 10), false, false, marks)],
                _ => vec![one(self.rng.range(5, 10), true, true, marks)],
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
                // Late under every reading where there is room: past the promise even with
                // every extension's days, within the statutory limit even without an
                // excessive extension or the suspension. Else late by the v2 rules alone.
                let every = (
                    first.max(p + ext + 1),
                    if w.excessive { s } else { s + ext }.saturating_sub(w.margin),
                );
                let v2 = (
                    first.max(p + w.counted + 1),
                    (s + w.counted).saturating_sub(w.margin),
                );
                for (lo, hi) in [every, v2] {
                    if lo <= hi {
                        return self.rng.range(lo, hi.min(lo + 5));
                    }
                }
                v2.0
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
            let marks = match (s.lawful, u32::from(s.notice_days) < s.gap) {
                (true, true) => Mark::LAWFUL_SUSPENSION | Mark::OVERLONG_SUSPENSION,
                (true, false) => Mark::LAWFUL_SUSPENSION,
                (false, _) => Mark::UNLAWFUL_SUSPENSION,
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
                approved: e.approved,
            };
            let kind = Kind::Extend {
                after_due: e.after_due,
                days: e.days,
                approved: e.approved,
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
        // An unknown item has no procedure to deviate from.
        if self.rng.chance(self.world.rates.skipped_step) && count >= 2 && !self.unknown {
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
        // An unknown item has no fee standard to differ from.
        if self.rng.chance(rates.wrong_fee) && !self.unknown {
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
                    ..
                } => {
                    let limit = (promised + prior).saturating_sub(margin).max(first);
                    days[..=i].iter_mut().for_each(|d| *d = (*d).min(limit));
                    prior += added;
                }
                Kind::Extend {
                    after_due: true,
                    days: added,
                    ..
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

/// An unlawful suspension shortened to `room` working days (its notice, if any, saying so),
/// or none when there is no room; a lawful one as it is.
fn fit(mut s: Suspension, room: u32) -> Option<Suspension> {
    if s.lawful {
        return Some(s);
    }
    if room == 0 {
        return None;
    }
    s.gap = s.gap.min(room);
    if s.notice_days > 0 {
        s.notice_days = s.gap as u8;
    }
    Some(s)
}

/// What judging a case's extensions and conclusion needs besides the schedule.
struct Counting {
    /// The item's promised limit.
    promised: u32,
    /// The item's extension cap.
    cap: u32,
    /// The working days of an unlawful suspension, which count (0 without one).
    unlawful_gap: u32,
}

/// Marks each extension lawful or excessive by where it actually landed, and returns the
/// conclusion's position, in half counted days, and the days the extensions lawfully add.
///
/// Half days settle the one case counted days cannot: the days after a lawful suspension up to
/// its resumption have the suspension day's count, yet the calendar puts them after it. A due
/// date that falls on the suspension day has passed by the resumption, so an action on or
/// after the resumption at that same count sits half a day later than the count says. The
/// days of an unlawful suspension count: an action after its resumption is that many days
/// further on.
fn settle(actions: &mut [Action], days: &[u32], end: u32, counting: &Counting) -> (u32, u32) {
    let suspended = actions
        .iter()
        .zip(days)
        .find(|(a, _)| a.kind == Kind::Suspend)
        .map(|(_, &d)| d);
    let gap = counting.unlawful_gap;
    let half = |day: u32, resumed: bool| match (resumed, gap) {
        (true, 0) => 2 * day + u32::from(Some(day) == suspended),
        (true, gap) => 2 * (day + gap),
        (false, _) => 2 * day,
    };
    let (mut resumed, mut counted, mut count) = (false, 0, 0);
    for (action, &day) in actions.iter_mut().zip(days) {
        resumed |= action.kind == Kind::Resume;
        if let Kind::Extend {
            days: added,
            approved,
            ..
        } = action.kind
        {
            let late = half(day, resumed) > 2 * (counting.promised + counted);
            let otherwise_lawful = count == 0 && approved && !late;
            action.marks = if otherwise_lawful && added <= counting.cap {
                Mark::LAWFUL_EXTENSION
            } else {
                Mark::EXCESSIVE_EXTENSION
            };
            if otherwise_lawful {
                counted += added.min(counting.cap);
            }
            count += 1;
        }
    }
    (half(end, resumed), counted)
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
    /// The days the extensions add under every reading before v2.
    extended: u32,
    /// The days they add by the v2 rules.
    counted: u32,
    margin: u32,
    excessive: bool,
    lawful_extension: bool,
}
