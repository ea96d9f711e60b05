//! The procurement kind (政府采购, 工程建设招投标): a project's facts from its stream
//! (`proc-<id>`), the monitoring points raised by its events, and the ones the clock raises.
//!
//! Days: the laws' "日" are natural days and "工作日" working days; each rule says which
//! ([`ProcRule::unit`]). A natural-day period whose last day is a rest day ends on the next
//! working day (Civil Code art. 203, [`jiancha_calendar::Calendar::add_natural_days`]); a
//! count of days on sale or of publicity counts its first day. A clock rule fires at the end
//! (24:00 +08:00) of the last day allowed.
//!
//! Time-driven rules are counted: the k-th alert of a rule is the k-th lateness, in the order
//! of the instants they fell due (an enquiry answered in time is no lateness). The rules of a
//! procurement round (the clarification, confirmation and result) count from the round: a
//! `Retendered` starts a new one.

pub mod report;
pub mod rules;
pub mod view;

#[cfg(test)]
mod tests;

#[cfg(test)]
mod prop_tests;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{Datelike, NaiveDate};
use jiancha_events::procurement::{BondKind, ExpertSelection, Method, Regime, ThresholdDefined};
use jiancha_events::stream::org_is_under;
use jiancha_events::EventData;
use serde::{Deserialize, Serialize};

use super::{Kind, KindState};
use crate::case::{Alert, CaseState, Ctx, Status, Step};
use crate::instant::{self, date_of, end_of, Millis};
use crate::ledger::Measure;
use crate::Rule;
pub use rules::{ProcRule, PROC_RULES};

/// The procurement kind.
#[derive(Debug, Clone, Copy)]
pub struct Procurement;

/// One document, objection, enquiry or complaint with its answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filed {
    /// Its id within the project.
    pub id: String,
    /// The business date it was filed.
    #[serde(with = "crate::shared::date")]
    pub on: NaiveDate,
    /// The business date of its first answer (or decision).
    #[serde(with = "crate::shared::option_date")]
    pub answered_on: Option<NaiveDate>,
}

/// The facts of one procurement round: from the documents to the result. `Retendered` starts
/// a new round.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Round {
    /// The instant and date the documents were first issued.
    pub issued: Option<(Millis, NaiveDate)>,
    /// The last day the documents are on sale.
    #[serde(with = "crate::shared::option_date")]
    pub on_sale_until: Option<NaiveDate>,
    /// The bid (response) deadline in force.
    pub deadline: Option<Millis>,
    /// The instants of the clarifications that may affect preparation.
    pub clarifications: Vec<Millis>,
    /// The opening: instant and bidders.
    pub opened: Option<(Millis, u32)>,
    /// The evaluation report's date and ranking.
    pub report: Option<(NaiveDate, Vec<String>)>,
    /// The date the result was confirmed.
    #[serde(with = "crate::shared::option_date")]
    pub confirmed_on: Option<NaiveDate>,
    /// The publicity of the candidates: first and last day.
    pub publicized: Option<(NaiveDate, NaiveDate)>,
    /// The date the result was announced.
    #[serde(with = "crate::shared::option_date")]
    pub published_on: Option<NaiveDate>,
}

/// The award notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Award {
    /// Its date.
    #[serde(with = "crate::shared::date")]
    pub on: NaiveDate,
    /// The winner.
    pub winner: String,
    /// The winner's rank.
    pub rank: u32,
    /// The awarded amount, in cents.
    pub amount_cents: u64,
    /// Given with no reason (a state-funded award to other than the first-ranked needs one).
    pub unexplained: bool,
}

/// What a project's events established.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Project {
    /// The project's name.
    pub project: String,
    /// The law it is procured under.
    pub regime: Regime,
    /// How it is procured.
    pub method: Method,
    /// The category.
    pub category: String,
    /// The budget, in cents.
    pub budget_cents: u64,
    /// Whether state-funded.
    pub state_funded: bool,
    /// The open-tender threshold of its purchaser and category when registered, if defined.
    pub threshold_cents: Option<u64>,
    /// The registration date.
    #[serde(with = "crate::shared::date")]
    pub registered_on: NaiveDate,
    /// The current round.
    pub round: Round,
    /// How many times it was tendered again.
    pub retenders: u16,
    /// Alerts of the round rules raised before the current round, per rule.
    pub bases: Vec<(ProcRule, u16)>,
    /// The award notice (the first).
    pub award: Option<Award>,
    /// The contract (the first signed): date and amount.
    pub contract: Option<(NaiveDate, u64)>,
    /// The date the contract was announced.
    #[serde(with = "crate::shared::option_date")]
    pub contract_published_on: Option<NaiveDate>,
    /// The date the contract was filed.
    #[serde(with = "crate::shared::option_date")]
    pub contract_filed_on: Option<NaiveDate>,
    /// The date the award was reported to the supervising department.
    #[serde(with = "crate::shared::option_date")]
    pub award_reported_on: Option<NaiveDate>,
    /// Supplemental contracts so far, in cents.
    pub supplements_cents: u64,
    /// The instant of the latest supplemental contract (the deviation a contract entered after
    /// its supplements shows is dated no earlier).
    #[serde(default)]
    pub supplemented_at: Option<crate::Millis>,
    /// A deviation found by the event being folded, dated later than the event itself (taken
    /// by the fold as it raises the card).
    #[serde(skip)]
    pub deviation_at: Option<crate::Millis>,
    /// Bonds taken: kind and amount.
    pub bonds: Vec<(BondKind, u64)>,
    /// Objections (异议).
    pub objections: Vec<Filed>,
    /// Enquiries (质疑).
    pub enquiries: Vec<Filed>,
    /// Complaints (投诉).
    pub complaints: Vec<Filed>,
    /// The date the project closed.
    #[serde(with = "crate::shared::option_date")]
    pub closed_on: Option<NaiveDate>,
}

/// The procurement kind's shared state: the open-tender thresholds and, for `proc.split`, the
/// sums of non-open purchases per purchaser, category and budget year.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Book {
    /// Thresholds by (jurisdiction, category), in cents.
    pub thresholds: BTreeMap<(String, String), u64>,
    /// Budgets of non-open projects by (purchaser, category, year), in cents, with the latest
    /// instant one of them was registered at.
    pub non_open: BTreeMap<(String, String, i32), (u64, Millis)>,
}

impl Book {
    /// Takes in a `ThresholdDefined`: it applies from its position on.
    pub fn define(&mut self, t: &ThresholdDefined) {
        self.thresholds.insert(
            (t.jurisdiction.clone(), t.category.clone()),
            t.open_tender_cents,
        );
    }

    /// The open-tender threshold for a purchaser and category: the most specific jurisdiction
    /// (the longest org path prefix of the purchaser, else `national`) that defines one.
    pub fn threshold(&self, purchaser: &str, category: &str) -> Option<u64> {
        self.thresholds
            .iter()
            .filter(|((j, c), _)| c == category && (j == "national" || org_is_under(purchaser, j)))
            .max_by_key(|((j, _), _)| if j == "national" { 0 } else { j.len() + 1 })
            .map(|(_, cents)| *cents)
    }
}

/// The round rules: counted from the current round.
const ROUND_RULES: [ProcRule; 6] = [
    ProcRule::WindowShort,
    ProcRule::SaleShort,
    ProcRule::ClarificationLate,
    ProcRule::PublicityShort,
    ProcRule::ConfirmationLate,
    ProcRule::ResultLate,
];

/// The clock rules, in the order their alerts are listed at one instant.
const CLOCK_RULES: [ProcRule; 10] = [
    ProcRule::ClarificationLate,
    ProcRule::ObjectionLate,
    ProcRule::PublicityShort,
    ProcRule::ConfirmationLate,
    ProcRule::ResultLate,
    ProcRule::ContractLate,
    ProcRule::ContractUnpublished,
    ProcRule::ContractUnfiled,
    ProcRule::EnquiryLate,
    ProcRule::ComplaintLate,
];

impl Kind for Procurement {
    type Book = Book;
    const PREFIX: &'static str = jiancha_events::stream::PROJECT_STREAM_PREFIX;
    const NAME: &'static str = "procurement";
    const OPENING_COUNTS: &'static [Measure] = &[Measure::ProcProjects];

    fn open(step: &Step<'_>, book: &mut Book) -> Option<CaseState> {
        let EventData::ProcurementRegistered(r) = step.data else {
            return None;
        };
        let purchaser: Arc<str> = Arc::from(r.purchaser_org.as_str());
        let threshold = book.threshold(&r.purchaser_org, &r.category);
        let mut case = CaseState::submitted(
            &Step {
                org: Some(&purchaser),
                ..*step
            },
            Arc::from(r.category.as_str()),
            None,
            jiancha_events::Channel::Window,
            &[],
        );
        case.status = Status::Running;
        case.kind = Some(Box::new(KindState::Procurement(Project {
            project: r.project.clone(),
            regime: r.regime,
            method: r.method,
            category: r.category.clone(),
            budget_cents: r.budget_cents,
            state_funded: r.state_funded,
            threshold_cents: threshold,
            registered_on: step.on,
            round: Round::default(),
            retenders: 0,
            bases: Vec::new(),
            award: None,
            contract: None,
            contract_published_on: None,
            contract_filed_on: None,
            award_reported_on: None,
            supplements_cents: 0,
            supplemented_at: None,
            deviation_at: None,
            bonds: Vec::new(),
            objections: Vec::new(),
            enquiries: Vec::new(),
            complaints: Vec::new(),
            closed_on: None,
        })));
        // 化整为零: the pieces under the threshold bought by other methods than open tender, by
        // one purchaser, in one category and budget year, that reach the threshold together.
        // (A purchase at or over the threshold is no piece of a split, whatever its method.)
        if let Some(t) = threshold.filter(|t| r.method != Method::OpenTender && r.budget_cents < *t)
        {
            let key = (r.purchaser_org.clone(), r.category.clone(), step.on.year());
            let (sum, latest) = book.non_open.entry(key).or_insert((0, Millis::MIN));
            let before = *latest;
            *sum = sum.saturating_add(r.budget_cents);
            *latest = before.max(step.at);
            if *sum >= t {
                // The split exists once its last piece is registered: a piece entered after a
                // later one carries the card from that later instant, not from its own.
                let at = before.max(step.at);
                let alert = case.alert(Rule::Procurement(ProcRule::Split), at, step.position);
                case.alerts.push(alert);
            }
        }
        Some(case)
    }

    fn apply(
        case: &mut CaseState,
        _book: &mut Book,
        ctx: &Ctx<'_>,
        step: &Step<'_>,
    ) -> Vec<Measure> {
        let Some(KindState::Procurement(p)) = case.kind.as_deref_mut() else {
            return Vec::new();
        };
        let (awarded, signed) = (p.award.is_some(), p.contract.is_some());
        let raised = p.apply(case_counts(&case.alerts), ctx, step);
        let deviation_at = p.deviation_at.take();
        let mut counted = Vec::new();
        if !awarded && p.award.is_some() {
            counted.push(Measure::ProcAwards);
        }
        // Signed within 30 natural days of the award: after it, never before (a contract
        // before its award is not on time, whatever the order the two were entered in).
        let on_time = |p: &Project| {
            let Some(award) = p.award.as_ref() else {
                return false;
            };
            let last = natural(ctx, award.on, 30);
            p.contract
                .is_some_and(|(on, _)| award.on <= on && last.is_some_and(|last| on <= last))
        };
        if !signed && p.contract.is_some() {
            counted.push(Measure::ProcContracts);
            if on_time(p) {
                counted.push(Measure::ProcContractsOnTime);
            }
        } else if signed && !awarded && p.award.is_some() && on_time(p) {
            // A contract entered before the award it followed: on time once the award is known,
            // counted in the contract's month beside the contract (`contract_on`).
            counted.push(Measure::ProcContractsOnTime);
        }
        if matches!(step.data, EventData::ProcurementClosed(_)) {
            case.status = Status::Concluded;
            case.concluded = Some((step.at, step.on, step.position));
        }
        case.last_position = step.position;
        case.last_action_on = step.on;
        for rule in raised {
            case.raise(Rule::Procurement(rule), step);
        }
        if let Some(at) = deviation_at {
            case.raise_at(Rule::Procurement(ProcRule::ContractDeviation), at, step);
        }
        counted
    }
}

/// The date of a project's contract, which its contract measures count in.
pub(crate) fn contract_on(case: &CaseState) -> Option<NaiveDate> {
    match case.kind.as_deref() {
        Some(KindState::Procurement(p)) => p.contract.map(|(on, _)| on),
        _ => None,
    }
}

/// How many alerts of each procurement rule a case has.
fn case_counts(alerts: &[Alert]) -> BTreeMap<ProcRule, u16> {
    let mut out = BTreeMap::new();
    for a in alerts {
        if let Rule::Procurement(r) = a.rule {
            *out.entry(r).or_insert(0) += 1;
        }
    }
    out
}

/// The `days`-th natural day after `from`, rolled to a working day (art. 203).
fn natural(ctx: &Ctx<'_>, from: NaiveDate, days: u32) -> Option<NaiveDate> {
    ctx.calendar
        .add_natural_days(from, days)
        .ok()
        .map(|d| d.date)
}

/// The `days`-th working day after `from`.
fn working(ctx: &Ctx<'_>, from: NaiveDate, days: u32) -> Option<NaiveDate> {
    ctx.calendar
        .add_working_days(from, days)
        .ok()
        .map(|d| d.date)
}

/// The minute of an instant (bids open at the deadline's minute).
fn minute(at: Millis) -> Millis {
    at.div_euclid(60_000)
}

impl Project {
    /// Alerts of a round rule raised in the current round, given the case's counts.
    fn in_round(&self, counts: &BTreeMap<ProcRule, u16>, rule: ProcRule) -> u16 {
        let all = counts.get(&rule).copied().unwrap_or(0);
        let base = self
            .bases
            .iter()
            .find(|(r, _)| *r == rule)
            .map_or(0, |(_, n)| *n);
        all.saturating_sub(base)
    }

    /// Folds one event; returns the event-driven rules it breaks.
    fn apply(
        &mut self,
        counts: BTreeMap<ProcRule, u16>,
        ctx: &Ctx<'_>,
        step: &Step<'_>,
    ) -> Vec<ProcRule> {
        let mut out = Vec::new();
        let (at, on) = (step.at, step.on);
        match step.data {
            EventData::DocumentsIssued(d) => {
                if self.round.issued.is_none() {
                    self.round.issued = Some((at, on));
                    self.round.on_sale_until = Some(d.on_sale_until);
                    if self.sale_days(ctx, on, d.on_sale_until) < 5 {
                        out.push(ProcRule::SaleShort);
                    }
                }
                out.extend(self.window_short(&counts, ctx));
            }
            EventData::Clarified(c) if c.affects_preparation => {
                self.round.clarifications.push(at);
            }
            EventData::BidDeadlineSet(d) => {
                self.round.deadline = Some(instant::millis(&d.at));
                out.extend(self.window_short(&counts, ctx));
            }
            EventData::ObjectionFiled(o) => file(&mut self.objections, &o.objection, on),
            EventData::ObjectionAnswered(o) => answer(&mut self.objections, &o.objection, on),
            EventData::EnquiryFiled(e) => file(&mut self.enquiries, &e.enquiry, on),
            EventData::EnquiryAnswered(e) => answer(&mut self.enquiries, &e.enquiry, on),
            EventData::ComplaintFiled(c) => file(&mut self.complaints, &c.complaint, on),
            EventData::ComplaintDecided(c) => answer(&mut self.complaints, &c.complaint, on),
            EventData::BidsOpened(b) if self.round.opened.is_none() => {
                self.round.opened = Some((at, b.bidders));
                let on_time = self.round.deadline.is_some_and(|d| minute(d) == minute(at));
                if !on_time {
                    out.push(ProcRule::OpeningMismatch);
                }
                // An award entered before the opening it followed is judged now.
                if self.award.is_some() && self.few_bidders() {
                    out.push(ProcRule::BiddersFew);
                }
            }
            EventData::ExpertsDrawn(e) => {
                let least = if self.method.is_tender() { 5 } else { 3 };
                let designated = e.method == ExpertSelection::Designated
                    && e.approval.as_deref().is_none_or(|a| a.trim().is_empty());
                let small = e.members < least || e.members % 2 == 0;
                let few_experts = u64::from(e.experts) * 3 < u64::from(e.members) * 2;
                if designated || small || few_experts {
                    out.push(ProcRule::ExpertsDesignated);
                }
            }
            EventData::EvaluationReported(r) if self.round.report.is_none() => {
                self.round.report = Some((on, r.ranking.clone()));
                // An award entered before the report it followed is judged now.
                if let Some(a) = &self.award {
                    if self.not_first(a.rank, &a.winner, a.unexplained) {
                        out.push(ProcRule::AwardNotFirst);
                    }
                }
            }
            EventData::ResultConfirmed(_) => {
                self.round.confirmed_on.get_or_insert(on);
            }
            EventData::CandidatesPublicized(c) if self.round.publicized.is_none() => {
                self.round.publicized = Some((on, c.until));
                let days = (c.until - on).num_days() + 1;
                let late_start = self
                    .round
                    .report
                    .as_ref()
                    .and_then(|(reported, _)| natural(ctx, *reported, 3))
                    .is_some_and(|last| on > last);
                // One card a round: a start the clock already found late is not carded again.
                let carded = self.in_round(&counts, ProcRule::PublicityShort) > 0;
                if (days < 3 || late_start) && !carded {
                    out.push(ProcRule::PublicityShort);
                }
            }
            EventData::ResultPublished(_) => {
                self.round.published_on.get_or_insert(on);
            }
            EventData::AwardNoticeIssued(a) if self.award.is_none() => {
                let unexplained = a.reason.as_deref().is_none_or(|r| r.trim().is_empty());
                self.award = Some(Award {
                    on,
                    winner: a.winner.clone(),
                    rank: a.rank,
                    amount_cents: a.amount_cents,
                    unexplained,
                });
                if self.few_bidders() {
                    out.push(ProcRule::BiddersFew);
                }
                if self.not_first(a.rank, &a.winner, unexplained) {
                    out.push(ProcRule::AwardNotFirst);
                }
                // A contract entered before the award it followed is judged now.
                if self
                    .contract
                    .is_some_and(|(_, amount)| amount != a.amount_cents)
                {
                    out.push(ProcRule::ContractDeviation);
                }
            }
            EventData::ContractSigned(c) if self.contract.is_none() => {
                self.contract = Some((on, c.amount_cents));
                if self
                    .award
                    .as_ref()
                    .is_some_and(|a| a.amount_cents != c.amount_cents)
                {
                    out.push(ProcRule::ContractDeviation);
                }
                // Supplements entered before the contract they amend are judged now, as they
                // would have been after it: the same card, once, dated when both were so.
                if u128::from(self.supplements_cents) * 10 > u128::from(c.amount_cents) {
                    self.deviation_at = Some(step.at.max(self.supplemented_at.unwrap_or(step.at)));
                }
            }
            EventData::ContractPublished(_) => {
                self.contract_published_on.get_or_insert(on);
            }
            EventData::ContractFiled(_) => {
                self.contract_filed_on.get_or_insert(on);
            }
            EventData::AwardReported(_) => {
                self.award_reported_on.get_or_insert(on);
            }
            EventData::SupplementalContract(s) => {
                let before = self.supplements_cents;
                self.supplements_cents = before.saturating_add(s.amount_cents);
                self.supplemented_at =
                    Some(self.supplemented_at.map_or(step.at, |t| t.max(step.at)));
                if let Some((_, amount)) = self.contract {
                    let over = |sum: u64| u128::from(sum) * 10 > u128::from(amount);
                    if !over(before) && over(self.supplements_cents) {
                        out.push(ProcRule::ContractDeviation);
                    }
                }
            }
            EventData::BondTaken(b) => {
                self.bonds.push((b.kind, b.amount_cents));
                let (base, per_hundred) = match b.kind {
                    BondKind::Bid => (self.budget_cents, 2),
                    BondKind::Performance => {
                        let base = self
                            .contract
                            .map(|(_, amount)| amount)
                            .or(self.award.as_ref().map(|a| a.amount_cents))
                            .unwrap_or(self.budget_cents);
                        (base, 10)
                    }
                };
                if u128::from(b.amount_cents) * 100 > u128::from(base) * per_hundred {
                    out.push(ProcRule::BondExcessive);
                }
            }
            EventData::Retendered(_) => {
                self.bases = ROUND_RULES
                    .iter()
                    .map(|r| (*r, counts.get(r).copied().unwrap_or(0)))
                    .collect();
                self.round = Round::default();
                self.retenders = self.retenders.saturating_add(1);
            }
            EventData::ProcurementClosed(_) => {
                self.closed_on.get_or_insert(on);
            }
            _ => {}
        }
        out
    }

    /// Whether the round was opened with fewer than 3 bidders in a tender (an award then
    /// breaks `proc.bidders.few`).
    fn few_bidders(&self) -> bool {
        self.method.is_tender() && self.round.opened.is_some_and(|(_, bidders)| bidders < 3)
    }

    /// Whether an award to `winner`, announced as of `rank`, goes to other than the first-ranked
    /// candidate with no reason, in a state-funded project: its rank says so, or the round's
    /// evaluation report ranks another candidate first (the rank an award claims cannot hide
    /// the ranking it departs from).
    fn not_first(&self, rank: u32, winner: &str, unexplained: bool) -> bool {
        let first = self
            .round
            .report
            .as_ref()
            .and_then(|(_, ranking)| ranking.first());
        let other = rank > 1 || first.is_some_and(|f| f.trim() != winner.trim());
        self.state_funded && unexplained && other
    }

    /// Days the documents are on sale, the first day counted: working days in government
    /// procurement, natural days in construction tendering.
    fn sale_days(&self, ctx: &Ctx<'_>, from: NaiveDate, until: NaiveDate) -> i64 {
        match self.regime {
            Regime::Construction => (until - from).num_days() + 1,
            Regime::Government => from
                .pred_opt()
                .and_then(|day_before| ctx.calendar.working_days_between(day_before, until).ok())
                .map_or(0, |c| i64::from(c.days)),
        }
    }

    /// The earliest lawful bid (response) deadline date of the round, if the method has one.
    pub fn earliest_deadline(&self, ctx: &Ctx<'_>) -> Option<NaiveDate> {
        let (_, issued) = self.round.issued?;
        match self.method {
            Method::OpenTender | Method::InvitedTender => natural(ctx, issued, 20),
            Method::CompetitiveConsultation => natural(ctx, issued, 10),
            Method::CompetitiveNegotiation | Method::Inquiry => working(ctx, issued, 3),
            Method::SingleSource => {
                let above = self.threshold_cents.is_some_and(|t| self.budget_cents >= t);
                if above {
                    working(ctx, issued, 5)
                } else {
                    None
                }
            }
        }
    }

    /// `proc.window.short` when the round's window is short and not yet flagged this round.
    fn window_short(&self, counts: &BTreeMap<ProcRule, u16>, ctx: &Ctx<'_>) -> Option<ProcRule> {
        if self.in_round(counts, ProcRule::WindowShort) > 0 {
            return None;
        }
        let deadline = date_of(self.round.deadline?);
        let earliest = self.earliest_deadline(ctx)?;
        (deadline < earliest).then_some(ProcRule::WindowShort)
    }

    /// The instants at which a clock rule's latenesses fall due, in order: one per item late
    /// or still waiting (an item answered by its last day is no lateness).
    pub fn dues(&self, rule: ProcRule, ctx: &Ctx<'_>) -> Vec<Millis> {
        let government = self.regime == Regime::Government;
        let late = |last: Option<NaiveDate>, done: Option<NaiveDate>| -> Option<Millis> {
            let last = last?;
            match done {
                Some(d) if d <= last => None,
                _ => Some(end_of(last)),
            }
        };
        let items = |filed: &[Filed], f: &dyn Fn(NaiveDate) -> Option<NaiveDate>| {
            let mut v: Vec<Millis> = filed
                .iter()
                .filter_map(|i| late(f(i.on), i.answered_on))
                .collect();
            v.sort_unstable();
            v
        };
        match rule {
            ProcRule::ClarificationLate => {
                let Some(deadline) = self.round.deadline else {
                    return Vec::new();
                };
                let deadline_on = date_of(deadline);
                let late = self.round.clarifications.iter().any(|c| {
                    *c < deadline
                        && natural(ctx, date_of(*c), 15).is_some_and(|least| deadline_on < least)
                });
                if late {
                    vec![deadline]
                } else {
                    Vec::new()
                }
            }
            ProcRule::ObjectionLate => items(&self.objections, &|on| natural(ctx, on, 3)),
            // Construction tendering: the candidates publicized within 3 natural days of the
            // report, or the clock cards the publicity that never started.
            ProcRule::PublicityShort if !government => {
                let last = self
                    .round
                    .report
                    .as_ref()
                    .and_then(|(on, _)| natural(ctx, *on, 3));
                late(last, self.round.publicized.map(|(from, _)| from))
                    .into_iter()
                    .collect()
            }
            ProcRule::EnquiryLate => items(&self.enquiries, &|on| working(ctx, on, 7)),
            ProcRule::ComplaintLate => items(&self.complaints, &|on| working(ctx, on, 30)),
            ProcRule::ConfirmationLate if government => {
                let last = self
                    .round
                    .report
                    .as_ref()
                    .and_then(|(on, _)| working(ctx, *on, 5));
                late(last, self.round.confirmed_on).into_iter().collect()
            }
            ProcRule::ResultLate if government => {
                let last = self.round.confirmed_on.and_then(|on| working(ctx, on, 2));
                late(last, self.round.published_on).into_iter().collect()
            }
            ProcRule::ContractLate => {
                let last = self.award.as_ref().and_then(|a| natural(ctx, a.on, 30));
                late(last, self.contract.map(|(on, _)| on))
                    .into_iter()
                    .collect()
            }
            ProcRule::ContractUnpublished if government => {
                let last = self.contract.and_then(|(on, _)| working(ctx, on, 2));
                late(last, self.contract_published_on).into_iter().collect()
            }
            ProcRule::ContractUnfiled if government => {
                let last = self.contract.and_then(|(on, _)| working(ctx, on, 7));
                late(last, self.contract_filed_on).into_iter().collect()
            }
            _ => Vec::new(),
        }
    }

    /// The clock's alerts on `case` up to `t` that the case does not hold yet.
    pub(crate) fn pending(&self, case: &CaseState, ctx: &Ctx<'_>, t: Millis) -> Vec<Alert> {
        let counts = case_counts(&case.alerts);
        let mut out = Vec::new();
        for rule in CLOCK_RULES {
            let raised = if ROUND_RULES.contains(&rule) {
                self.in_round(&counts, rule)
            } else {
                counts.get(&rule).copied().unwrap_or(0)
            };
            for at in self.dues(rule, ctx).into_iter().skip(usize::from(raised)) {
                if at <= t {
                    out.push(case.alert(Rule::Procurement(rule), at, case.last_position));
                }
            }
        }
        out
    }

    /// The next instant the clock raises an alert on `case`: `Millis::MAX` for none.
    pub(crate) fn next_at(&self, case: &CaseState, ctx: &Ctx<'_>) -> Millis {
        let counts = case_counts(&case.alerts);
        CLOCK_RULES
            .iter()
            .filter_map(|rule| {
                let raised = if ROUND_RULES.contains(rule) {
                    self.in_round(&counts, *rule)
                } else {
                    counts.get(rule).copied().unwrap_or(0)
                };
                self.dues(*rule, ctx).get(usize::from(raised)).copied()
            })
            .min()
            .unwrap_or(Millis::MAX)
    }

    /// Whether anything may still fall due: an item, a result or a contract still waiting.
    pub(crate) fn waits(&self) -> bool {
        let open = |v: &[Filed]| v.iter().any(|i| i.answered_on.is_none());
        let round = &self.round;
        open(&self.objections)
            || open(&self.enquiries)
            || open(&self.complaints)
            || (round.report.is_some() && round.confirmed_on.is_none())
            || (self.regime == Regime::Construction
                && round.report.is_some()
                && round.publicized.is_none())
            || (round.confirmed_on.is_some() && round.published_on.is_none())
            || (self.award.is_some() && self.contract.is_none())
            || (self.contract.is_some()
                && (self.contract_published_on.is_none() || self.contract_filed_on.is_none()))
    }
}

fn file(items: &mut Vec<Filed>, id: &str, on: NaiveDate) {
    if !items.iter().any(|i| i.id == id) {
        items.push(Filed {
            id: id.to_owned(),
            on,
            answered_on: None,
        });
    }
}

fn answer(items: &mut [Filed], id: &str, on: NaiveDate) {
    if let Some(i) = items.iter_mut().find(|i| i.id == id) {
        i.answered_on.get_or_insert(on);
    }
}
