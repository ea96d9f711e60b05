//! One case's life, planned at its arrival: where it is filed and handled, its intake
//! (correction requests, acceptance or refusal), its processing (see `process`), its rating
//! and complaint, a withdrawal, the times of day, and back-dated entry.
//!
//! Planning works in working-day offsets from the submission day first and assigns times of
//! day last, so that every rule about limits is a comparison of small integers.

use jiancha_events::Channel;

use crate::catalog::Item;
use crate::days::{at, split, Instant, CLOSE_SECONDS, OPEN_SECONDS};
use crate::district::OrgId;
use crate::names::{COMPLAINT_CATEGORIES, REJECTION_REASONS, WITHDRAWAL_REASONS};
use crate::plan::{Actor, CasePlan, Draft, Payload, Planned, TransferReason};
use crate::rng::{Purpose, Rng};
use crate::summary::Mark;
use crate::world::World;

/// Events of one day that get random times; a longer group (none is planned) is spaced by
/// minutes instead.
const GROUP_TIMES_MAX: usize = 16;

/// An event entered more than this long after it occurred is back-dated (`data.backdated`),
/// and a conclusion so entered counts at the date it was entered.
const BACKDATE_TOLERANCE_SECONDS: i64 = 48 * 3600;

/// Working days within which an intake answer is timely (Art. 32).
const ANSWER_DAYS: u32 = 5;

/// Working days after the last supplement that a late answer to it comes: always past
/// [`ANSWER_DAYS`].
const LATE_SUPPLEMENT_ANSWER_DAYS: (u32, u32) = (ANSWER_DAYS + 1, ANSWER_DAYS + 3);

/// The conclusion counted and the limits it is judged against, in counted working days since
/// the clock started (the conclusion in half days, see `process::settle`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Outcome {
    pub(crate) end_half: u32,
    pub(crate) promised: u32,
    pub(crate) statutory: u32,
}

/// The exclusive fates of a case, drawn once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fate {
    Normal,
    Rejected,
    Withdrawn,
    Late,
    Overrun,
}

/// Where a case is filed, accepted and handled, and by whom.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Route {
    pub(crate) channel: Channel,
    pub(crate) submit_org: OrgId,
    /// The applicant as the log names them: `citizen`, or the agent who files for them.
    pub(crate) applicant: Actor,
    /// Where a village point forwards an agent's case before intake.
    pub(crate) forward_to: Option<OrgId>,
    /// The window that answers the application (a town's or the department's).
    pub(crate) intake: OrgId,
    pub(crate) intake_clerk: u32,
    /// The department window that handles the case; a town intake transfers it here.
    pub(crate) handling: OrgId,
    pub(crate) handling_clerk: u32,
    pub(crate) head: u32,
}

/// Plans one case. `drafts` is a scratch buffer; the result's events are in stream order.
pub(crate) fn plan_case(
    world: &World,
    ordinal: u64,
    arrival: Instant,
    channel: Channel,
    drafts: &mut Vec<Draft>,
    events: Vec<Planned>,
) -> (CasePlan, u32) {
    let mut rng = Rng::new(world.seed, Purpose::Case, ordinal);
    let item_index = world.catalog.pick(&mut rng);
    let item = world.catalog.item(item_index);
    let route = route(world, &mut rng, channel, item);
    drafts.clear();
    let mut builder = Builder {
        world,
        rng,
        item,
        route,
        arrival,
        drafts,
        unknown: false,
        unaccepted: false,
        outcome: None,
        dues: None,
    };
    builder.plan();
    let mut plan = CasePlan {
        ordinal,
        year: world.days.year(split(arrival).0),
        number: 0,
        item: item_index,
        unknown_item: builder.unknown,
        head: route.head,
        events,
    };
    let marks = builder.finish(&mut plan.events);
    let backdated = builder.enter(&mut plan.events);
    let outcome = builder.judge(&plan.events);
    let unknown = if builder.unknown {
        Mark::UNKNOWN_ITEM
    } else {
        0
    };
    let marks = marks | backdated | outcome | unknown;
    builder.supervise(ordinal, &mut plan.events, marks);
    (plan, marks)
}

fn route(world: &World, rng: &mut Rng, channel: Channel, item: &Item) -> Route {
    let district = &world.district;
    let dept = &district.departments[(item.dept as usize).min(district.departments.len() - 1)];
    let handling = pick(rng, &dept.windows, dept.org);
    let town = &district.towns[rng.index(district.towns.len())];
    let town_window = pick(rng, &town.windows, town.org);
    let (submit_org, applicant, forward_to, intake) = match channel {
        Channel::Window if rng.chance(0.6) => (handling, Actor::Citizen, None, handling),
        Channel::Window => (town_window, Actor::Citizen, None, town_window),
        Channel::Online => (dept.org, Actor::Citizen, None, handling),
        Channel::SelfService if rng.chance(0.5) => {
            (district.center, Actor::Citizen, None, handling)
        }
        Channel::SelfService => (town.org, Actor::Citizen, None, town_window),
        Channel::Agent => {
            let village = district.villages.get(rng.index(district.villages.len()));
            match village {
                Some(&(village, town_index, agent)) => {
                    let town = district.towns.get(town_index as usize).unwrap_or(town);
                    let intake = if rng.chance(0.7) {
                        pick(rng, &town.windows, town.org)
                    } else {
                        handling
                    };
                    (village, Actor::Agent(agent), Some(intake), intake)
                }
                // No village points: the applicant comes to the window instead.
                None => (handling, Actor::Citizen, None, handling),
            }
        }
    };
    Route {
        channel,
        submit_org,
        applicant,
        forward_to,
        intake,
        intake_clerk: district.clerk(rng, intake),
        handling,
        handling_clerk: district.clerk(rng, handling),
        head: dept.head,
    }
}

fn pick(rng: &mut Rng, ids: &[OrgId], fallback: OrgId) -> OrgId {
    ids.get(rng.index(ids.len())).copied().unwrap_or(fallback)
}

/// The state of one case's planning.
pub(crate) struct Builder<'a> {
    pub(crate) world: &'a World,
    pub(crate) rng: Rng,
    pub(crate) item: &'a Item,
    pub(crate) route: Route,
    pub(crate) arrival: Instant,
    /// The events planned so far; after `finish`, one per planned event, in order.
    pub(crate) drafts: &'a mut Vec<Draft>,
    /// The application names an item the catalog does not define.
    pub(crate) unknown: bool,
    /// The case is handled and concluded without an acceptance.
    pub(crate) unaccepted: bool,
    /// Set by `process`: where the conclusion stands, unless the item is unknown.
    pub(crate) outcome: Option<Outcome>,
    /// Set by `process`: the promised and statutory due dates, in working days after the
    /// submission day, as the deadline rules v2 place them.
    pub(crate) dues: Option<(u32, u32)>,
}

impl Builder<'_> {
    pub(crate) fn push(
        &mut self,
        offset: u32,
        actor: Actor,
        org: OrgId,
        payload: Payload,
        marks: u32,
    ) {
        self.drafts.push(Draft {
            offset,
            actor,
            org,
            payload,
            marks,
        });
    }

    fn plan(&mut self) {
        let fate = self.fate();
        let rates = &self.world.rates;
        let (unknown, unaccepted, after) = (
            self.rng.chance(rates.unknown_item),
            self.rng.chance(rates.no_acceptance),
            self.rng.chance(rates.after_conclusion),
        );
        self.unknown = unknown;
        // Only a case that goes on to its conclusion can be concluded unaccepted; one at a
        // time with an unknown item, whose limits could not be told apart from no acceptance.
        self.unaccepted =
            unaccepted && !unknown && matches!(fate, Fate::Normal | Fate::Late | Fate::Overrun);
        match self.intake(fate) {
            Some((accepted, start)) => {
                let concluded = self.process(fate, accepted, start);
                if fate == Fate::Withdrawn {
                    self.withdraw();
                }
                if after {
                    self.after_end();
                }
                if fate != Fate::Withdrawn {
                    self.feedback(concluded, false);
                }
            }
            None => {
                let answered = self.drafts.last().map_or(0, |d| d.offset);
                if after {
                    self.after_end();
                }
                self.feedback(answered, true);
            }
        }
    }

    /// A step recorded after the case ended (the end is the last draft so far).
    fn after_end(&mut self) {
        let Some(end) = self.drafts.last().copied() else {
            return;
        };
        let step = self.item.steps.len().clamp(1, 8) as u8 - 1;
        let offset = end.offset + self.rng.range(0, 2);
        let clerk = Actor::Clerk(self.route.handling_clerk);
        let done = Payload::StepCompleted { step };
        self.push(offset, clerk, end.org, done, Mark::AFTER_CONCLUSION);
    }

    /// One uniform draw over the exclusive fates.
    fn fate(&mut self) -> Fate {
        let world = self.world;
        let rates = &world.rates;
        let mut u = self.rng.unit();
        for (rate, fate) in [
            (rates.rejected_at_intake, Fate::Rejected),
            (rates.withdrawn, Fate::Withdrawn),
            (rates.late_conclusion, Fate::Late),
            (rates.statutory_overrun, Fate::Overrun),
        ] {
            if u < rate {
                return fate;
            }
            u -= rate;
        }
        Fate::Normal
    }

    /// Submission to acceptance or refusal. Returns the acceptance's offset (for a case never
    /// accepted, the day handling begins) and the offset the clock starts from: the
    /// acceptance, the submission day after a late first answer or for a case never accepted,
    /// or the last supplement when the answer to it came late. `None` for a refusal.
    fn intake(&mut self, fate: Fate) -> Option<(u32, u32)> {
        let world = self.world;
        let rates = &world.rates;
        let (repeated, correction, late, incomplete) = (
            self.rng.chance(rates.repeated_correction),
            self.rng.chance(rates.correction),
            self.rng.chance(rates.late_first_answer),
            self.rng.chance(rates.accepted_incomplete),
        );
        let (late_supplement, overridden) = (
            self.rng.chance(rates.late_supplement_answer),
            self.rng.chance(rates.limits_override),
        );
        // A case never accepted gets no intake answer at all; an unknown item has no list of
        // materials to be incomplete against, nor limits to lengthen.
        let answered = !self.unaccepted;
        let (repeated, correction, late) = (
            repeated && answered,
            (correction || repeated) && answered,
            late && answered,
        );
        let incomplete = incomplete && !correction && fate != Fate::Rejected && !self.unknown;
        let late_supplement = late_supplement && correction && !late;
        let missing = self.missing(repeated, correction || incomplete);
        let route = self.route;
        let submitted = Payload::Submitted {
            channel: route.channel,
            materials: self.item.all_materials() & !(missing.0 | missing.1),
        };
        self.push(0, route.applicant, route.submit_org, submitted, 0);
        let ready = self.forward();
        let first = if late {
            ready.max(ANSWER_DAYS) + self.rng.range(1, 3)
        } else {
            ready + self.answer_delay()
        };
        let late_mark = if late { Mark::LATE_FIRST_ANSWER } else { 0 };
        let (answer, answer_marks, supplied) = if correction {
            let timely = if late { 0 } else { Mark::CORRECTION_TIMELY };
            let (supplied, answer) =
                self.corrections(first, missing, late_mark | timely, late_supplement);
            let marks = if late_supplement {
                Mark::ACCEPTANCE_LATE
            } else {
                0
            };
            (answer, marks, supplied)
        } else {
            (first, late_mark, first)
        };
        if fate == Fate::Rejected {
            let reason = self.rng.index(REJECTION_REASONS.len()) as u8;
            let refused = Payload::RejectedAtIntake { reason };
            self.answer(answer, refused, answer_marks | Mark::REJECTED);
            return None;
        }
        if self.unaccepted {
            return Some((answer, 0));
        }
        let incomplete_mark = if incomplete {
            Mark::ACCEPTED_INCOMPLETE
        } else {
            0
        };
        let accepted = self.acceptance(overridden && !self.unknown);
        let marks = answer_marks | incomplete_mark | Mark::ACCEPTED;
        self.answer(answer, accepted.0, marks | accepted.1);
        let start = if late {
            0
        } else if late_supplement {
            supplied
        } else {
            answer
        };
        Some((answer, start))
    }

    /// The acceptance, asking for longer limits than the item's when `overridden`.
    fn acceptance(&mut self, overridden: bool) -> (Payload, u32) {
        if !overridden {
            let plain = Payload::Accepted {
                promised_extra: 0,
                statutory_extra: 0,
            };
            return (plain, 0);
        }
        let promised_extra = self.rng.range(1, 5) as u8;
        let statutory_extra = if self.rng.chance(0.5) {
            self.rng.range(1, 10) as u8
        } else {
            0
        };
        let payload = Payload::Accepted {
            promised_extra,
            statutory_extra,
        };
        (payload, Mark::LIMITS_OVERRIDDEN)
    }

    /// A correction request at `first` naming `missing.0`, the supplement, and when
    /// `missing.1` is not empty a second request and supplement (within 5 working days of
    /// the first supplement, so the unit is never waiting on the first one that long).
    /// Returns the offsets of the last supplement and of the answer to it, which comes more
    /// than 5 working days later when `late`.
    fn corrections(
        &mut self,
        first: u32,
        missing: (u8, u8),
        first_marks: u32,
        late: bool,
    ) -> (u32, u32) {
        let asked = Payload::CorrectionRequested { missing: missing.0 };
        self.answer(first, asked, first_marks);
        let mut supplied = self.supplement(first, missing.0, 4);
        if missing.1 != 0 {
            let second = supplied + self.rng.range(0, 2);
            let asked = Payload::CorrectionRequested { missing: missing.1 };
            self.answer(second, asked, Mark::REPEATED_CORRECTION);
            supplied = self.supplement(second, missing.1, 3);
        }
        let (lo, hi) = if late {
            LATE_SUPPLEMENT_ANSWER_DAYS
        } else {
            (0, 1)
        };
        (supplied, supplied + self.rng.range(lo, hi))
    }

    /// An act of the intake window's clerk.
    fn answer(&mut self, offset: u32, payload: Payload, marks: u32) {
        let route = self.route;
        self.push(
            offset,
            Actor::Clerk(route.intake_clerk),
            route.intake,
            payload,
            marks,
        );
    }

    /// The materials missing at submission: what the first request (or an incomplete
    /// acceptance) names, and what a second request names. Each request names one or two.
    fn missing(&mut self, repeated: bool, any: bool) -> (u8, u8) {
        if !any {
            return (0, 0);
        }
        let count = self.item.materials.len() as u64;
        let first = self.rng.below(count) as u8;
        let mut first_mask = 1u8 << first;
        let second = (first as u64 + 1 + self.rng.below(count - 1)) % count;
        if repeated {
            return (first_mask, 1u8 << second);
        }
        // Sometimes two are missing, but an application is never handed in empty.
        if count > 2 && self.rng.chance(0.3) {
            first_mask |= 1u8 << second;
        }
        (first_mask, 0)
    }

    /// An agent's case goes from the village point to its intake window; returns the first
    /// offset at which the intake window can answer.
    fn forward(&mut self) -> u32 {
        let route = self.route;
        let (day, seconds) = split(self.arrival);
        let opening = if self.world.days.is_workday(day) {
            0
        } else {
            1
        };
        let Some(to) = route.forward_to else {
            return opening;
        };
        // Filed late in the afternoon, the case is forwarded the next working day.
        let offset = opening.max(u32::from(seconds > 15 * 3600));
        let transfer = Payload::Transferred {
            to,
            reason: TransferReason::Agent,
        };
        self.push(offset, route.applicant, route.submit_org, transfer, 0);
        offset
    }

    /// Working days a lawful first answer takes, by channel: windows answer on the spot.
    fn answer_delay(&mut self) -> u32 {
        match self.route.channel {
            Channel::Window if self.rng.chance(0.8) => 0,
            Channel::Window | Channel::SelfService => self.rng.range(0, 1),
            Channel::Online | Channel::Agent => self.rng.range(0, 2),
        }
    }

    /// The applicant supplies what was asked for, 1 to `within` working days later; returns
    /// the day it arrives.
    fn supplement(&mut self, asked: u32, materials: u8, within: u32) -> u32 {
        let offset = asked + self.rng.range(1, within);
        let route = self.route;
        let supplied = Payload::MaterialsSupplemented { materials };
        self.push(offset, route.applicant, route.submit_org, supplied, 0);
        offset
    }

    /// Cuts the planned case at a random event and records the withdrawal in its place.
    fn withdraw(&mut self) {
        let len = self.drafts.len() as u32;
        let mut cut = self.rng.range(1, len.saturating_sub(1)) as usize;
        // Never between a pair of extensions: the pair is one excessive extension, and its
        // first half alone would pass for a lawful one.
        let mut extensions = (0..self.drafts.len())
            .filter(|&i| matches!(self.drafts[i].payload, Payload::Extended { .. }));
        if let (Some(first), Some(second)) = (extensions.next(), extensions.next()) {
            if first < cut && cut <= second {
                cut = first;
            }
        }
        let Some(next) = self.drafts.get(cut).copied() else {
            return;
        };
        self.drafts.truncate(cut);
        let reason = self.rng.index(WITHDRAWAL_REASONS.len()) as u8;
        let withdrawn = Payload::Withdrawn { reason };
        // Withdrawn on the day a late answer to the supplements would have come, the case
        // was still waiting for it past the limit.
        let waited = next.marks & Mark::ACCEPTANCE_LATE;
        self.push(
            next.offset,
            Actor::Citizen,
            next.org,
            withdrawn,
            Mark::WITHDRAWN | waited,
        );
    }

    /// The applicant's rating and complaint after a conclusion or a refusal.
    fn feedback(&mut self, ended: u32, refused: bool) {
        let world = self.world;
        let rates = &world.rates;
        let org = self.drafts.last().map_or(self.route.intake, |d| d.org);
        let rated_rate = if refused {
            rates.rated / 2.0
        } else {
            rates.rated
        };
        let (bad, rated, complaint) = (
            self.rng.chance(rates.bad_rating),
            self.rng.chance(rated_rate),
            self.rng.chance(rates.complaint),
        );
        let mut offset = ended;
        if bad || rated {
            offset += self.rng.range(0, 2);
            let score = if bad {
                self.rng.range(1, 2) as u8
            } else if refused {
                [3, 4, 5][self.rng.index(3)]
            } else {
                [5, 5, 5, 4, 5, 4, 5, 3, 5, 4, 5, 5, 4, 5, 5, 5][self.rng.index(16)]
            };
            let marks = Mark::RATED | if bad { Mark::BAD_RATING } else { 0 };
            self.push(offset, Actor::Citizen, org, Payload::Rated { score }, marks);
        }
        if complaint {
            offset += self.rng.range(1, 10);
            let category = self.rng.index(COMPLAINT_CATEGORIES.len()) as u8;
            let complained = Payload::Complained { category };
            self.push(offset, Actor::Citizen, org, complained, Mark::COMPLAINT);
        }
    }

    /// Entry instants. A back-dated case (体外循环) has a run of its events entered together,
    /// 2 to 7 working days after the first of them happened; sometimes the whole case, from
    /// its submission. A back-dated conclusion is entered 3 to 6 working days after it
    /// happened, with what follows it. Extensions are never entered late (their lawfulness
    /// would then turn on the entry date). Entries stay in stream order. Returns the
    /// back-dated mark, if any.
    fn enter(&mut self, events: &mut [Planned]) -> u32 {
        let rates = &self.world.rates;
        let (backdated, conclusion) = (
            self.rng.chance(rates.backdated),
            self.rng.chance(rates.backdated_conclusion),
        );
        let len = events.len() as u32;
        let after_extensions = events
            .iter()
            .rposition(|e| matches!(e.payload, Payload::Extended { .. }))
            .map_or(0, |i| i as u32 + 1);
        let run = if backdated && len >= 2 {
            let from = if after_extensions == 0 && self.rng.chance(0.2) {
                0
            } else {
                self.rng.range(after_extensions.max(1), len - 1)
            };
            Some((from as usize, self.rng.range(2, 7)))
        } else if conclusion {
            let concluded = events.iter().position(|e| e.payload == Payload::Concluded);
            concluded.map(|from| (from, self.rng.range(3, 6)))
        } else {
            None
        };
        let Some((from, lag)) = run else {
            return 0;
        };
        let days = &self.world.days;
        let (day, _) = split(events[from].occurred);
        let entry_day = days.nth_after(day, lag);
        let spread = (CLOSE_SECONDS - OPEN_SECONDS) as u64;
        let mut entered = at(entry_day, OPEN_SECONDS + self.rng.below(spread) as i64);
        for event in &mut events[from..] {
            event.entered = event.occurred.max(entered);
            entered = event.entered + 1 + self.rng.below(30) as i64;
        }
        Mark::BACKDATED
    }

    /// The outcome marks, from where the conclusion was entered: one entered more than 48
    /// hours after it happened counts at its entry date, that many working days later.
    fn judge(&self, events: &[Planned]) -> u32 {
        let Some(concluded) = events.iter().find(|e| e.payload == Payload::Concluded) else {
            return 0;
        };
        let (backdated, lag) =
            if concluded.entered - concluded.occurred > BACKDATE_TOLERANCE_SECONDS {
                let (from, to) = (split(concluded.occurred).0, split(concluded.entered).0);
                (
                    Mark::BACKDATED_CONCLUSION,
                    self.world.days.between(from, to),
                )
            } else {
                (0, 0)
            };
        let Some(o) = self.outcome else {
            return backdated;
        };
        let end_half = if lag > 0 {
            2 * (o.end_half / 2 + lag)
        } else {
            o.end_half
        };
        backdated
            | if end_half > 2 * o.statutory {
                Mark::STATUTORY_OVERRUN
            } else if end_half > 2 * o.promised {
                Mark::LATE_CONCLUSION
            } else {
                0
            }
    }

    /// Times of day; returns the union of the events' marks. Events of one working day are
    /// spread over what is left of it, in order; the first event keeps its arrival time.
    fn finish(&mut self, events: &mut Vec<Planned>) -> u32 {
        events.clear();
        let (submitted_day, _) = split(self.arrival);
        let mut marks = 0;
        let mut last = self.arrival - 1;
        let mut i = 0;
        while let Some(first) = self.drafts.get(i) {
            // Offsets never go backwards (the plan guarantees it; taking the running maximum
            // keeps the stream ordered even if it did not).
            let offset = first
                .offset
                .max(self.drafts[..i].last().map_or(0, |d| d.offset));
            let group = 1 + self.drafts[i + 1..]
                .iter()
                .take_while(|d| d.offset <= offset)
                .count();
            let day = self.world.days.nth_after(submitted_day, offset);
            let (last_day, last_seconds) = split(last);
            let from = if last_day == day {
                last_seconds
            } else {
                OPEN_SECONDS - 1
            };
            // Random times over the rest of the working day, sorted: a clerk's day has no
            // fixed rhythm. Groups longer than the buffer (never planned) follow a minute apart.
            let mut times = [0i64; GROUP_TIMES_MAX];
            let drawn = group.min(GROUP_TIMES_MAX);
            let room = (CLOSE_SECONDS - from).max(1) as u64;
            for time in &mut times[..drawn] {
                *time = from + 1 + self.rng.below(room) as i64;
            }
            times[..drawn].sort_unstable();
            for q in 0..group {
                let mut draft = self.drafts[i + q];
                let planned = match times.get(q) {
                    _ if i + q == 0 => self.arrival,
                    Some(&seconds) if q < drawn => at(day, seconds),
                    _ => last + 60,
                };
                let occurred = planned.max(last + 1);
                draft.offset = offset;
                self.drafts[i + q] = draft;
                marks |= draft.marks;
                events.push(Planned {
                    occurred,
                    entered: occurred,
                    actor: draft.actor,
                    org: draft.org,
                    payload: draft.payload,
                    version: (i + q + 1) as u32,
                });
                last = occurred;
            }
            i += group;
        }
        marks
    }
}
