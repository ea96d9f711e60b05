//! One procurement project's acts, from registration to closing: a clean project follows the
//! law with margins, and each violation drawn for it changes one act (or leaves it out, for a
//! time-driven lateness that never ends). Every day count goes through the calendar, in the
//! unit its rule states: natural days (日, with the Civil Code art. 203 roll-forward) or
//! working days (工作日).

use chrono::{Datelike, Days as ChronoDays, NaiveDate};
use jiancha_calendar::Calendar;
use jiancha_events::procurement::{
    AwardNoticeIssued, AwardReported, BidDeadlineSet, BidsOpened, BondKind, BondTaken,
    CandidatesPublicized, Clarified, ComplaintDecided, ComplaintFiled, ContractFiled,
    ContractPublished, ContractSigned, DocumentsIssued, EnquiryAnswered, EnquiryFiled,
    EvaluationReported, ExpertSelection, ExpertsDrawn, Method, ObjectionAnswered, ObjectionFiled,
    ProcurementClosed, ProcurementRegistered, Regime, ResultConfirmed, ResultPublished,
    SupplementalContract,
};
use jiancha_events::EventData;

use super::heads::Head;
use super::{Drawn as _, Rule};
use crate::rng::Rng;
use crate::SimError;

// Lawful variations, per project where they can happen. They raise nothing, so they are not
// rates of their own.
/// A tender clarification at least 16 days before the deadline.
const CLARIFICATION: f64 = 0.3;
/// A tender clarification late enough that the deadline is postponed.
const POSTPONEMENT: f64 = 0.1;
/// An objection to a construction tender's documents, answered within 3 days.
const OBJECTION: f64 = 0.15;
/// Experts designated, with an approval.
const DESIGNATED_WITH_APPROVAL: f64 = 0.02;
/// A performance bond of at most 10% of the contract.
const PERFORMANCE_BOND: f64 = 0.5;
/// One supplemental contract of 3 to 9%.
const SUPPLEMENT: f64 = 0.1;
/// An enquiry (government), answered in 2 to 5 working days.
const ENQUIRY: f64 = 0.05;
/// A complaint, decided in 10 to 25 working days.
const COMPLAINT: f64 = 0.02;
/// A time-driven lateness is an act that never comes in this share of cases.
const NEVER: f64 = 0.25;

/// The seconds after midnight of a time of day.
const fn hm(hours: u32, minutes: u32) -> u32 {
    (hours * 60 + minutes) * 60
}

/// One act before it is placed in the stream: its date, its time (seconds after midnight),
/// who acted and what happened.
#[derive(Debug, Clone)]
pub(crate) struct Act {
    pub(crate) date: NaiveDate,
    pub(crate) seconds: u32,
    pub(crate) actor: String,
    pub(crate) data: EventData,
}

/// What a project's planner draws from and writes to.
pub(crate) struct Planner<'a> {
    pub(crate) cal: &'a Calendar,
    pub(crate) rng: &'a mut Rng,
    pub(crate) head: &'a Head,
    /// The violations drawn for the project (bits of [`Rule`]).
    pub(crate) drawn: u32,
    /// The violations its acts show.
    pub(crate) shown: u32,
    pub(crate) acts: Vec<Act>,
    pub(crate) buyer: String,
    pub(crate) suppliers: Vec<String>,
    /// Candidates in the evaluation report.
    pub(crate) ranked: usize,
}

impl Planner<'_> {
    fn has(&self, rule: Rule) -> bool {
        self.drawn & rule.bit() != 0
    }

    fn show(&mut self, rule: Rule) {
        self.shown |= rule.bit();
    }

    fn act(&mut self, date: NaiveDate, seconds: u32, actor: &str, data: EventData) {
        self.acts.push(Act {
            date,
            seconds,
            actor: actor.to_owned(),
            data,
        });
    }

    fn buy(&mut self, date: NaiveDate, seconds: u32, data: EventData) {
        let buyer = self.buyer.clone();
        self.act(date, seconds, &buyer, data);
    }

    /// The `n`-th working day after `from`.
    fn wd(&self, from: NaiveDate, n: u32) -> Result<NaiveDate, SimError> {
        self.cal
            .add_working_days(from, n)
            .map(|d| d.date)
            .map_err(|_| SimError::OutOfCalendar { date: from })
    }

    /// The last day of `n` natural days after `from`, rolled forward to a working day.
    fn nd(&self, from: NaiveDate, n: u32) -> Result<NaiveDate, SimError> {
        self.cal
            .add_natural_days(from, n)
            .map(|d| d.date)
            .map_err(|_| SimError::OutOfCalendar { date: from })
    }

    /// `wd` of a random `lo..=hi` working days.
    fn wd_r(&mut self, from: NaiveDate, lo: u32, hi: u32) -> Result<NaiveDate, SimError> {
        let n = self.rng.range(lo, hi);
        self.wd(from, n)
    }

    /// `nd` of a random `lo..=hi` natural days.
    fn nd_r(&mut self, from: NaiveDate, lo: u32, hi: u32) -> Result<NaiveDate, SimError> {
        let n = self.rng.range(lo, hi);
        self.nd(from, n)
    }

    fn working(&self, date: NaiveDate) -> bool {
        self.cal.is_workday(date).unwrap_or(false)
    }

    /// The first working day on or after `date`.
    fn on_or_after(&self, date: NaiveDate) -> Result<NaiveDate, SimError> {
        if self.working(date) {
            Ok(date)
        } else {
            self.wd(date, 1)
        }
    }

    /// The first working day on or after `target` that is past the last day of `n` natural
    /// days after `from`: a lateness however a holiday moves that last day (art. 203).
    fn after_natural(
        &self,
        from: NaiveDate,
        n: u32,
        target: NaiveDate,
    ) -> Result<NaiveDate, SimError> {
        let last = self.nd(from, n)?;
        let day = self.on_or_after(target)?;
        if day > last {
            Ok(day)
        } else {
            self.wd(last, 1)
        }
    }

    /// A time in the morning office hours, on a 5-minute grid.
    fn morning(&mut self) -> u32 {
        hm(9, 30) + self.rng.range(0, 18) * 300
    }

    fn minutes(&mut self, lo: u32, hi: u32) -> u32 {
        self.rng.range(lo, hi) * 60
    }

    fn pct(&mut self, amount: u64, lo: u32, hi: u32, per: u64) -> u64 {
        amount / per * u64::from(self.rng.range(lo, hi))
    }
}

/// The deadline and documents of a project: (issue date, deadline date, deadline time).
struct Bidding {
    issue: NaiveDate,
    deadline: NaiveDate,
    time: u32,
}

/// Plans every act of a project into `p.acts` (unsorted).
pub(crate) fn plan(p: &mut Planner<'_>) -> Result<(), SimError> {
    let head = p.head;
    let registered = head.registered;
    let registration = ProcurementRegistered {
        project: head.name.clone(),
        regime: head.regime,
        method: head.method,
        category: head.category.to_owned(),
        budget_cents: head.budget_cents,
        purchaser_org: head.purchaser.clone(),
        state_funded: head.state_funded,
    };
    p.buy(
        registered,
        head.seconds,
        EventData::ProcurementRegistered(registration),
    );
    let bidding = documents(p)?;
    side_acts_before_deadline(p, &bidding)?;
    let report = evaluation(p, &bidding)?;
    let Some(award) = result(p, report)? else {
        return Ok(());
    };
    let mut last = award.0;
    let contract = contract(p, &award)?;
    if let Some(date) = contract.1 {
        last = last.max(date);
    }
    let (disputes_done, date) = disputes(p, &award)?;
    last = last.max(date);
    if contract.0 && disputes_done {
        let close = p.wd_r(last, 5, 20)?;
        p.buy(
            close,
            hm(10, 0),
            EventData::ProcurementClosed(ProcurementClosed {}),
        );
    }
    Ok(())
}

/// Documents issued, their sale and the deadline (window by method).
fn documents(p: &mut Planner<'_>) -> Result<Bidding, SimError> {
    let issue = p.wd_r(p.head.registered, 1, 5)?;
    let short = if p.has(Rule::WindowShort) {
        match p.head.method {
            m if m.is_tender() => short_natural(p, issue, 12, 17, 20)?,
            Method::CompetitiveConsultation => short_natural(p, issue, 5, 8, 10)?,
            Method::SingleSource => Some(p.wd_r(issue, 2, 3)?),
            _ => Some(p.wd_r(issue, 1, 2)?),
        }
    } else {
        None
    };
    let deadline = match (p.head.method, short) {
        (_, Some(deadline)) => {
            p.show(Rule::WindowShort);
            deadline
        }
        (m, None) if m.is_tender() => p.nd_r(issue, 21, 28)?,
        (Method::CompetitiveConsultation, None) => p.nd_r(issue, 11, 15)?,
        (Method::SingleSource, None) => p.wd_r(issue, 6, 8)?,
        (_, None) => p.wd_r(issue, 4, 6)?,
    };
    if short.is_none() {
        // Drawn but impossible (see `short_natural`): the window is lawful.
        p.drawn &= !Rule::WindowShort.bit();
    }
    let on_sale_until = if p.has(Rule::SaleShort) {
        p.show(Rule::SaleShort);
        issue + ChronoDays::new(u64::from(p.rng.range(2, 3)))
    } else {
        p.wd_r(issue, 6, 7)?
    };
    let issued_at = p.morning();
    p.buy(
        issue,
        issued_at,
        EventData::DocumentsIssued(DocumentsIssued { on_sale_until }),
    );
    let time = [hm(9, 30), hm(10, 0), hm(14, 30)][p.rng.index(3)];
    let at = super::timestamp(deadline, time)?;
    p.buy(
        issue,
        issued_at + 300,
        EventData::BidDeadlineSet(BidDeadlineSet { at }),
    );
    Ok(Bidding {
        issue,
        deadline,
        time,
    })
}

/// A deadline on the last working day at most `lo..=hi` natural days after `issue`, before
/// the lawful minimum of `minimum` natural days however a holiday moves its last day: `None`
/// when no working day after the issue comes before it (documents issued on the last
/// working day before a long holiday whose end is the minimum's last day).
fn short_natural(
    p: &mut Planner<'_>,
    issue: NaiveDate,
    lo: u32,
    hi: u32,
    minimum: u32,
) -> Result<Option<NaiveDate>, SimError> {
    let earliest = p.nd(issue, minimum)?;
    let days = u64::from(p.rng.range(lo, hi));
    let mut day = (issue + ChronoDays::new(days)).min(earliest.pred_opt().unwrap_or(earliest));
    while day > issue {
        if p.working(day) {
            return Ok(Some(day));
        }
        match day.pred_opt() {
            Some(d) => day = d,
            None => break,
        }
    }
    Ok(None)
}

/// Clarifications, objections and the bid bond, between the documents and the deadline. A
/// postponement moves `bidding.deadline`.
fn side_acts_before_deadline(p: &mut Planner<'_>, bidding: &Bidding) -> Result<(), SimError> {
    let tender = p.head.method.is_tender();
    if tender {
        clarification(p, bidding)?;
    }
    if p.head.regime == Regime::Construction && tender {
        objection(p, bidding)?;
    }
    if tender || p.head.method == Method::CompetitiveConsultation {
        let day_before = previous_workday(p, bidding.deadline).max(bidding.issue);
        let excessive = p.has(Rule::BondExcessive) && p.rng.chance(0.5);
        let amount_cents = if excessive {
            p.show(Rule::BondExcessive);
            p.pct(p.head.budget_cents, 25, 50, 1000)
        } else {
            p.pct(p.head.budget_cents, 5, 20, 1000)
        };
        let data = EventData::BondTaken(BondTaken {
            kind: BondKind::Bid,
            amount_cents,
        });
        p.buy(day_before, hm(15, 0), data);
        if excessive {
            // The performance bond, if any, stays lawful: one excessive bond per project.
            p.drawn &= !Rule::BondExcessive.bit();
            p.shown |= Rule::BondExcessive.bit();
        }
    }
    Ok(())
}

fn previous_workday(p: &Planner<'_>, date: NaiveDate) -> NaiveDate {
    let mut day = date;
    for _ in 0..30 {
        match day.pred_opt() {
            Some(d) => day = d,
            None => return date,
        }
        if p.working(day) {
            return day;
        }
    }
    date
}

/// A random working day in `from..=to`, if there is one.
fn workday_between(p: &mut Planner<'_>, from: NaiveDate, to: NaiveDate) -> Option<NaiveDate> {
    let span = (to - from).num_days();
    if span < 0 {
        return None;
    }
    let days: Vec<NaiveDate> = (0..=span)
        .filter_map(|d| from.checked_add_days(ChronoDays::new(d as u64)))
        .filter(|&d| p.working(d))
        .collect();
    days.get(p.rng.index(days.len())).copied()
}

fn clarification(p: &mut Planner<'_>, bidding: &Bidding) -> Result<(), SimError> {
    let first = p.wd(bidding.issue, 1)?;
    if p.has(Rule::ClarificationLate) {
        // 3 to 10 days before the deadline, and no postponement.
        let back = u64::from(p.rng.range(3, 10));
        let target = bidding.deadline - ChronoDays::new(back);
        let before = bidding.deadline - ChronoDays::new(1);
        // Over a long holiday, the last working day before the deadline.
        let day = workday_between(p, target.max(first), before)
            .unwrap_or_else(|| previous_workday(p, bidding.deadline).max(first));
        let at = p.morning();
        p.buy(
            day,
            at,
            EventData::Clarified(Clarified {
                affects_preparation: true,
            }),
        );
        p.show(Rule::ClarificationLate);
        return Ok(());
    }
    if !p.rng.chance(CLARIFICATION) {
        return Ok(());
    }
    // At least 16 days before the deadline, when the window leaves room.
    let latest = bidding.deadline - ChronoDays::new(16);
    let Some(day) = workday_between(p, first, latest) else {
        return Ok(());
    };
    let affects = p.rng.chance(0.5);
    let at = p.morning();
    let data = EventData::Clarified(Clarified {
        affects_preparation: affects,
    });
    p.buy(day, at, data);
    Ok(())
}

/// A postponement: a clarification affecting preparation late in the window, with the deadline
/// moved at least 17 days past it. Returns the new deadline.
fn postpone(
    p: &mut Planner<'_>,
    bidding_issue: NaiveDate,
    deadline: NaiveDate,
    time: u32,
) -> Result<Option<NaiveDate>, SimError> {
    // A postponement would lengthen a window drawn short.
    let drawn_late = p.has(Rule::ClarificationLate) || p.has(Rule::WindowShort);
    if !p.head.method.is_tender() || drawn_late || !p.rng.chance(POSTPONEMENT) {
        return Ok(None);
    }
    let target = deadline - ChronoDays::new(u64::from(p.rng.range(5, 10)));
    let first = p.wd(bidding_issue, 1)?;
    let Some(day) = workday_between(p, target.max(first), deadline - ChronoDays::new(1)) else {
        return Ok(None);
    };
    let moved = p.nd_r(day, 17, 21)?;
    let at = p.morning();
    p.buy(
        day,
        at,
        EventData::Clarified(Clarified {
            affects_preparation: true,
        }),
    );
    let new_at = super::timestamp(moved, time)?;
    p.buy(
        day,
        at + 300,
        EventData::BidDeadlineSet(BidDeadlineSet { at: new_at }),
    );
    Ok(Some(moved))
}

fn objection(p: &mut Planner<'_>, bidding: &Bidding) -> Result<(), SimError> {
    let late = p.has(Rule::ObjectionLate);
    if !late && !p.rng.chance(OBJECTION) {
        return Ok(());
    }
    let first = p.wd(bidding.issue, 1)?;
    let latest = bidding.deadline - ChronoDays::new(10);
    let Some(filed) = workday_between(p, first, latest) else {
        return Ok(());
    };
    let answered = if late {
        let days = u64::from(p.rng.range(5, 8));
        p.after_natural(filed, 3, filed + ChronoDays::new(days))?
    } else {
        // The last working day within 3 days, or the same day.
        (1..=3u64)
            .rev()
            .map(|d| filed + ChronoDays::new(d))
            .find(|&d| p.working(d))
            .unwrap_or(filed)
    };
    let supplier = format!("supplier-{}", p.rng.range(1, 9));
    let id = "obj-1".to_owned();
    let at = p.morning();
    p.act(
        filed,
        at,
        &supplier,
        EventData::ObjectionFiled(ObjectionFiled {
            objection: id.clone(),
        }),
    );
    let answer_at = if answered == filed {
        hm(16, 0)
    } else {
        p.morning()
    };
    p.buy(
        answered,
        answer_at,
        EventData::ObjectionAnswered(ObjectionAnswered { objection: id }),
    );
    if late {
        p.show(Rule::ObjectionLate);
    }
    Ok(())
}

/// Experts, opening and the evaluation report (after a postponement, if one comes). Returns
/// the report's date and time.
fn evaluation(p: &mut Planner<'_>, bidding: &Bidding) -> Result<(NaiveDate, u32), SimError> {
    let mut deadline = bidding.deadline;
    if let Some(moved) = postpone(p, bidding.issue, deadline, bidding.time)? {
        deadline = moved;
    }
    let single = p.head.method == Method::SingleSource;
    if !single {
        experts(p, deadline);
    }
    let bidders = if single {
        1
    } else if p.head.method.is_tender() && p.has(Rule::BiddersFew) {
        // Shown by the award, which may never come.
        2
    } else if p.head.method.is_tender() {
        p.rng.range(3, 8)
    } else {
        p.rng.range(3, 5)
    };
    let mut opened = bidding.time;
    if p.has(Rule::OpeningMismatch) {
        opened += p.minutes(20, 60);
        p.show(Rule::OpeningMismatch);
    }
    p.buy(
        deadline,
        opened,
        EventData::BidsOpened(BidsOpened { bidders }),
    );
    p.ranked = (bidders as usize).min(3);
    let ranking: Vec<String> = p.suppliers.iter().take(p.ranked).cloned().collect();
    let reported = opened + p.minutes(60, 80);
    p.buy(
        deadline,
        reported,
        EventData::EvaluationReported(EvaluationReported { ranking }),
    );
    Ok((deadline, reported))
}

fn experts(p: &mut Planner<'_>, deadline: NaiveDate) {
    let (method, members, experts, approval) = if p.has(Rule::ExpertsDesignated) {
        p.show(Rule::ExpertsDesignated);
        match p.rng.below(3) {
            0 => (ExpertSelection::Designated, 5, 4, None),
            1 => (ExpertSelection::Random, 6, 5, None),
            _ => (ExpertSelection::Random, 5, 3, None),
        }
    } else {
        let members = if p.rng.chance(0.7) { 5 } else { 7 };
        let experts = if members == 5 {
            p.rng.range(4, 5)
        } else {
            p.rng.range(5, 7)
        };
        if p.rng.chance(DESIGNATED_WITH_APPROVAL) {
            let approval = format!("江财采函〔{}〕{}号", deadline.year(), p.rng.range(1, 99));
            (
                ExpertSelection::Designated,
                members,
                experts,
                Some(approval),
            )
        } else {
            (ExpertSelection::Random, members, experts, None)
        }
    };
    let data = EventData::ExpertsDrawn(ExpertsDrawn {
        method,
        members,
        experts,
        approval,
    });
    p.buy(deadline, hm(9, 0), data);
}

/// Publicity (construction), confirmation, announcement and the award notice. Returns the
/// award's date and amount, or `None` when an act never comes.
fn result(
    p: &mut Planner<'_>,
    (report, reported_at): (NaiveDate, u32),
) -> Result<Option<(NaiveDate, u64)>, SimError> {
    let mut confirm = p.wd_r(report, 1, 3)?;
    if p.head.regime == Regime::Construction {
        let until = if p.has(Rule::PublicityShort) {
            p.show(Rule::PublicityShort);
            report + ChronoDays::new(1)
        } else {
            p.nd(report, 3)?
        };
        let data = EventData::CandidatesPublicized(CandidatesPublicized { until });
        p.buy(report, reported_at + 600, data);
        // After the publicity, still within 5 working days of the report.
        confirm = p.wd(until.max(report), 1)?.min(p.wd(report, 4)?);
    }
    if p.has(Rule::ConfirmationLate) {
        if p.rng.chance(NEVER) {
            p.show(Rule::ConfirmationLate);
            return Ok(None);
        }
        confirm = p.wd_r(report, 7, 10)?;
        p.show(Rule::ConfirmationLate);
    }
    let confirmed_at = p.morning();
    p.buy(
        confirm,
        confirmed_at,
        EventData::ResultConfirmed(ResultConfirmed {}),
    );
    let (published, published_at) = if p.has(Rule::ResultLate) {
        p.show(Rule::ResultLate);
        if p.rng.chance(NEVER) {
            return Ok(None);
        }
        (p.wd_r(confirm, 4, 6)?, p.morning())
    } else if p.rng.chance(0.5) {
        (confirm, confirmed_at + p.minutes(60, 120))
    } else {
        (p.wd(confirm, 1)?, p.morning())
    };
    p.buy(
        published,
        published_at,
        EventData::ResultPublished(ResultPublished {}),
    );
    let amount_cents = award(p, published, published_at)?;
    Ok(Some((published, amount_cents)))
}

/// The award notice, and its report to the supervising department (construction). Returns
/// the awarded amount.
fn award(p: &mut Planner<'_>, published: NaiveDate, published_at: u32) -> Result<u64, SimError> {
    let amount_cents = p.pct(p.head.budget_cents, 85, 99, 100) / 100 * 100;
    if p.head.method.is_tender() && p.has(Rule::BiddersFew) {
        p.show(Rule::BiddersFew);
    }
    let not_first = p.has(Rule::AwardNotFirst) && p.head.state_funded && p.ranked >= 2;
    let (winner, rank) = if not_first {
        p.show(Rule::AwardNotFirst);
        (p.suppliers.get(1).cloned().unwrap_or_default(), 2)
    } else {
        (p.suppliers.first().cloned().unwrap_or_default(), 1)
    };
    let data = EventData::AwardNoticeIssued(AwardNoticeIssued {
        winner,
        rank,
        amount_cents,
        reason: None,
    });
    p.buy(published, published_at + 1800, data);
    if p.head.regime == Regime::Construction {
        let latest = published + ChronoDays::new(15);
        let mut reported = p.wd_r(published, 2, 6)?;
        if reported > latest {
            reported = p.wd(published, 1)?;
        }
        let at = p.morning();
        p.buy(reported, at, EventData::AwardReported(AwardReported {}));
    }
    Ok(amount_cents)
}

/// The contract, its announcement, filing, bond and supplements. Returns whether the project
/// can close and the last date it used.
fn contract(
    p: &mut Planner<'_>,
    &(award, amount): &(NaiveDate, u64),
) -> Result<(bool, Option<NaiveDate>), SimError> {
    let signed = if p.has(Rule::ContractLate) {
        p.show(Rule::ContractLate);
        if p.rng.chance(NEVER) {
            return Ok((false, None));
        }
        let days = u64::from(p.rng.range(33, 40));
        p.after_natural(award, 30, award + ChronoDays::new(days))?
    } else {
        let day = p.wd_r(award, 3, 12)?;
        if day > award + ChronoDays::new(25) {
            p.wd(award, 2)?
        } else {
            day
        }
    };
    let deviation = p.has(Rule::ContractDeviation);
    let amended = deviation && p.rng.chance(0.5);
    let contract_cents = if amended {
        amount + p.pct(amount, 2, 8, 100)
    } else {
        amount
    };
    let signed_at = hm(10, 0) + p.minutes(0, 60);
    p.buy(
        signed,
        signed_at,
        EventData::ContractSigned(ContractSigned {
            amount_cents: contract_cents,
        }),
    );
    let mut last = signed;
    if p.has(Rule::BondExcessive) || p.rng.chance(PERFORMANCE_BOND) {
        let amount_cents = if p.has(Rule::BondExcessive) {
            p.show(Rule::BondExcessive);
            p.pct(contract_cents, 12, 20, 100)
        } else {
            p.pct(contract_cents, 2, 10, 100)
        };
        let data = EventData::BondTaken(BondTaken {
            kind: BondKind::Performance,
            amount_cents,
        });
        p.buy(signed, signed_at + 1800, data);
    }
    last = last.max(publish_and_file(p, signed, signed_at)?);
    let supplements: Vec<u32> = if deviation && !amended {
        vec![p.rng.range(6, 10), p.rng.range(6, 10)]
    } else if p.rng.chance(SUPPLEMENT) {
        vec![p.rng.range(3, 9)]
    } else {
        Vec::new()
    };
    if deviation {
        p.show(Rule::ContractDeviation);
    }
    let mut day = signed;
    for percent in supplements {
        day = p.wd_r(day, 20, 60)?;
        let amount_cents = contract_cents / 100 * u64::from(percent);
        let at = p.morning();
        let data = EventData::SupplementalContract(SupplementalContract { amount_cents });
        p.buy(day, at, data);
        last = last.max(day);
    }
    Ok((true, Some(last)))
}

fn publish_and_file(
    p: &mut Planner<'_>,
    signed: NaiveDate,
    signed_at: u32,
) -> Result<NaiveDate, SimError> {
    let mut last = signed;
    let published = if p.has(Rule::ContractUnpublished) {
        p.show(Rule::ContractUnpublished);
        if p.rng.chance(NEVER) {
            None
        } else {
            Some((p.wd_r(signed, 4, 6)?, p.morning()))
        }
    } else if p.rng.chance(0.5) {
        Some((signed, signed_at + p.minutes(90, 180)))
    } else {
        Some((p.wd(signed, 1)?, p.morning()))
    };
    if let Some((date, at)) = published {
        p.buy(date, at, EventData::ContractPublished(ContractPublished {}));
        last = last.max(date);
    }
    let filed = if p.has(Rule::ContractUnfiled) {
        p.show(Rule::ContractUnfiled);
        if p.rng.chance(NEVER) {
            None
        } else {
            Some(p.wd_r(signed, 9, 12)?)
        }
    } else {
        Some(p.wd_r(signed, 1, 5)?)
    };
    if let Some(date) = filed {
        let at = p.morning();
        p.buy(date, at, EventData::ContractFiled(ContractFiled {}));
        last = last.max(date);
    }
    // Closing waits at least 10 working days after signing, past every contract deadline.
    Ok(last.max(p.wd(signed, 10)?))
}

/// An enquiry (质疑) or a complaint (投诉): filed by a supplier some working days after a date,
/// answered within its limit — or late, or never, when its rule is drawn.
struct Dispute {
    rule: Rule,
    id: &'static str,
    /// Working days after the date it follows that it is filed.
    filed_after: (u32, u32),
    /// Working days to the answer: in time, and late.
    answered: (u32, u32),
    late: (u32, u32),
    filed: fn(String) -> EventData,
    answer: fn(String) -> EventData,
    /// Who answers, when not the buyer.
    answerer: Option<&'static str>,
}

const ENQUIRY_DISPUTE: Dispute = Dispute {
    rule: Rule::EnquiryLate,
    id: "enq-1",
    filed_after: (1, 5),
    answered: (2, 5),
    late: (9, 12),
    filed: |enquiry| EventData::EnquiryFiled(EnquiryFiled { enquiry }),
    answer: |enquiry| EventData::EnquiryAnswered(EnquiryAnswered { enquiry }),
    answerer: None,
};

const COMPLAINT_DISPUTE: Dispute = Dispute {
    rule: Rule::ComplaintLate,
    id: "cmp-1",
    filed_after: (2, 6),
    answered: (10, 25),
    late: (32, 36),
    filed: |complaint| EventData::ComplaintFiled(ComplaintFiled { complaint }),
    answer: |complaint| EventData::ComplaintDecided(ComplaintDecided { complaint }),
    answerer: Some("finance-1"),
};

/// Files a dispute after `from`; returns whether it was answered and the last date used.
fn dispute(
    p: &mut Planner<'_>,
    from: NaiveDate,
    d: &Dispute,
) -> Result<(bool, NaiveDate), SimError> {
    let filed = p.wd_r(from, d.filed_after.0, d.filed_after.1)?;
    let actor = format!("supplier-{}", p.rng.range(1, 9));
    let at = p.morning();
    p.act(filed, at, &actor, (d.filed)(d.id.to_owned()));
    let answered = if p.has(d.rule) {
        p.show(d.rule);
        if p.rng.chance(NEVER) {
            return Ok((false, filed));
        }
        p.wd_r(filed, d.late.0, d.late.1)?
    } else {
        p.wd_r(filed, d.answered.0, d.answered.1)?
    };
    let at = p.morning();
    let answerer = d.answerer.map_or_else(|| p.buyer.clone(), str::to_owned);
    p.act(answered, at, &answerer, (d.answer)(d.id.to_owned()));
    Ok((true, answered))
}

/// Enquiries (government) and complaints after the award. Returns whether all were answered,
/// and the last date used.
fn disputes(
    p: &mut Planner<'_>,
    &(award, _): &(NaiveDate, u64),
) -> Result<(bool, NaiveDate), SimError> {
    let mut done = true;
    let mut last = award;
    let enquiry = p.has(Rule::EnquiryLate) || p.rng.chance(ENQUIRY);
    if p.head.regime == Regime::Government && enquiry {
        let (answered, date) = dispute(p, award, &ENQUIRY_DISPUTE)?;
        done &= answered;
        last = last.max(date);
    }
    if p.has(Rule::ComplaintLate) || p.rng.chance(COMPLAINT) {
        let (answered, date) = dispute(p, last, &COMPLAINT_DISPUTE)?;
        done &= answered;
        last = last.max(date);
    }
    Ok((done, last))
}
