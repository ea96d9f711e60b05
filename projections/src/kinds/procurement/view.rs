//! A procurement project's state at an instant, as `jiancha case show proc-…` and
//! `GET /api/v1/cases/proc-…` print it: its facts, the round's windows, every due date a clock
//! rule counts to with the kind of days it counts in, the bonds, award and contract, the
//! objections, enquiries and complaints with their answers, and the alerts at the instant.
//! Field names are a contract; lists keep the project's order (items in the order filed).

use chrono::NaiveDate;
use jiancha_events::procurement::{BondKind, Method, Regime};
use serde::Serialize;

use super::{natural, working, Filed, ProcRule, Project};
use crate::case::{CaseState, Ctx};
use crate::instant::{date_of, end_of, format, Millis};
use crate::kinds::KindState;
use crate::{AlertView, Projections};

/// The kind of days a period counts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DayUnit {
    /// Natural days (日); a last day falling on a rest day moves to the next working day.
    Natural,
    /// Working days (工作日).
    Working,
}

/// A due date a rule counts to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[schemars(rename = "ProjectDeadline")]
pub struct Deadline {
    /// What is due: earliest_bid_deadline, documents_on_sale, clarification, publicity_start,
    /// confirmation, result, contract, contract_publish, contract_file.
    pub what: &'static str,
    /// The rule code that watches it.
    pub rule: &'static str,
    /// The last day allowed (for `earliest_bid_deadline`, `documents_on_sale` and
    /// `clarification`: the earliest day the act may fall on).
    pub due_on: NaiveDate,
    /// How many days the period has.
    pub days: u32,
    /// natural or working.
    pub unit: DayUnit,
    /// The day the act was done, when it was.
    pub done_on: Option<NaiveDate>,
    /// Whether the act kept the date: null while it may still do so at the instant.
    pub met: Option<bool>,
}

/// An objection, enquiry or complaint with its answer and due date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[schemars(rename = "ProjectItem")]
pub struct FiledView {
    /// Its id within the project.
    pub id: String,
    /// The business date it was filed.
    pub filed_on: NaiveDate,
    /// The last day of its answer (decision).
    pub due_on: Option<NaiveDate>,
    /// How many days the answer has.
    pub days: u32,
    /// natural or working.
    pub unit: DayUnit,
    /// The business date of its first answer (decision).
    pub answered_on: Option<NaiveDate>,
    /// Whether it was answered by its due date: null while it may still be.
    pub met: Option<bool>,
}

/// The current round's facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[schemars(rename = "ProjectRound")]
pub struct RoundView {
    /// When the documents were first issued.
    pub issued_at: Option<String>,
    /// The business date of the issue.
    pub issued_on: Option<NaiveDate>,
    /// The last day the documents are on sale.
    pub on_sale_until: Option<NaiveDate>,
    /// The bid (response) deadline in force.
    pub bid_deadline: Option<String>,
    /// The clarifications that may affect preparation, in order.
    pub clarifications: Vec<String>,
    /// When the bids were opened.
    pub opened_at: Option<String>,
    /// How many bidders the opening had.
    pub bidders: Option<u32>,
    /// The evaluation report's date.
    pub reported_on: Option<NaiveDate>,
    /// The evaluation report's ranking.
    pub ranking: Vec<String>,
    /// The date the result was confirmed.
    pub confirmed_on: Option<NaiveDate>,
    /// The first day of the candidates' publicity.
    pub publicized_from: Option<NaiveDate>,
    /// The last day of the candidates' publicity.
    pub publicized_until: Option<NaiveDate>,
    /// The date the result was announced.
    pub published_on: Option<NaiveDate>,
}

/// The award notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[schemars(rename = "ProjectAward")]
pub struct AwardView {
    /// Its date.
    pub on: NaiveDate,
    /// The winner.
    pub winner: String,
    /// The winner's rank.
    pub rank: u32,
    /// The awarded amount, in cents.
    pub amount_cents: u64,
    /// The date it was reported to the supervising department.
    pub reported_on: Option<NaiveDate>,
}

/// The contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[schemars(rename = "ProjectContract")]
pub struct ContractView {
    /// The date it was signed.
    pub signed_on: NaiveDate,
    /// Its amount, in cents.
    pub amount_cents: u64,
    /// The date it was announced.
    pub published_on: Option<NaiveDate>,
    /// The date it was filed.
    pub filed_on: Option<NaiveDate>,
    /// Supplemental contracts so far, in cents.
    pub supplements_cents: u64,
}

/// A bond taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[schemars(rename = "ProjectBond")]
pub struct BondView {
    /// bid or performance.
    pub kind: &'static str,
    /// Its amount, in cents.
    pub amount_cents: u64,
}

/// A procurement project at an instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct ProjectView {
    /// The project stream (`proc-…`).
    pub stream: String,
    /// The case kind: `procurement`.
    pub kind: &'static str,
    /// The project's name.
    pub project: String,
    /// government or construction.
    pub regime: &'static str,
    /// open_tender, invited_tender, competitive_negotiation, inquiry,
    /// competitive_consultation or single_source.
    pub method: &'static str,
    /// The procurement category.
    pub category: String,
    /// The budget, in cents.
    pub budget_cents: u64,
    /// Whether state-funded.
    pub state_funded: bool,
    /// The open-tender threshold in force when registered, in cents.
    pub threshold_cents: Option<u64>,
    /// The purchaser org.
    pub org: String,
    /// The org's name, when an `OrgDefined` names it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org_name: Option<String>,
    /// running or closed.
    pub status: &'static str,
    /// The registration date.
    pub registered_on: NaiveDate,
    /// How many times it was tendered again.
    pub retenders: u16,
    /// The current round.
    pub round: RoundView,
    /// The due dates the rules count to, in the order of the procedure.
    pub deadlines: Vec<Deadline>,
    /// The bonds taken, in order.
    pub bonds: Vec<BondView>,
    /// The award notice.
    pub award: Option<AwardView>,
    /// The contract.
    pub contract: Option<ContractView>,
    /// Objections (异议), in the order filed.
    pub objections: Vec<FiledView>,
    /// Enquiries (质疑), in the order filed.
    pub enquiries: Vec<FiledView>,
    /// Complaints (投诉), in the order filed.
    pub complaints: Vec<FiledView>,
    /// The date the project closed.
    pub closed_on: Option<NaiveDate>,
    /// The project's alerts at the instant, as `jiancha alerts` lists them.
    pub alerts: Vec<AlertView>,
    /// The instant of evaluation.
    pub now: String,
}

impl Projections {
    /// A procurement project's state at `now`; `None` for a stream that is not a known project.
    pub fn project_view(&self, stream: &str, now: Millis) -> Option<ProjectView> {
        let case = self.projects.get(stream)?;
        let Some(KindState::Procurement(p)) = case.kind.as_deref() else {
            return None;
        };
        let mut view = self.with_ctx(case, |ctx| ProjectView::new(stream, case, p, ctx, now));
        view.org_name = self.catalog.org_name(&view.org).map(str::to_owned);
        view.alerts = self.case_alerts(stream, case, now);
        Some(view)
    }
}

/// Whether an act due by `due` kept it at `now`: yes when done by then, no when done later or
/// not done by the end of the day, open otherwise.
fn met(due: NaiveDate, done: Option<NaiveDate>, now: Millis) -> Option<bool> {
    match done {
        Some(d) => Some(d <= due),
        None if end_of(due) < now => Some(false),
        None => None,
    }
}

/// The last day `days` after `from` in `unit`.
fn add(ctx: &Ctx<'_>, from: NaiveDate, days: u32, unit: DayUnit) -> Option<NaiveDate> {
    match unit {
        DayUnit::Natural => natural(ctx, from, days),
        DayUnit::Working => working(ctx, from, days),
    }
}

impl ProjectView {
    fn new(stream: &str, case: &CaseState, p: &Project, ctx: &Ctx<'_>, now: Millis) -> Self {
        let round = &p.round;
        ProjectView {
            stream: stream.to_owned(),
            kind: "procurement",
            project: p.project.clone(),
            regime: p.regime.as_str(),
            method: p.method.as_str(),
            category: p.category.clone(),
            budget_cents: p.budget_cents,
            state_funded: p.state_funded,
            threshold_cents: p.threshold_cents,
            org: case.org().to_string(),
            org_name: None,
            status: if p.closed_on.is_some() {
                "closed"
            } else {
                "running"
            },
            registered_on: p.registered_on,
            retenders: p.retenders,
            round: RoundView {
                issued_at: round.issued.map(|(at, _)| format(at)),
                issued_on: round.issued.map(|(_, on)| on),
                on_sale_until: round.on_sale_until,
                bid_deadline: round.deadline.map(format),
                clarifications: round.clarifications.iter().map(|c| format(*c)).collect(),
                opened_at: round.opened.map(|(at, _)| format(at)),
                bidders: round.opened.map(|(_, n)| n),
                reported_on: round.report.as_ref().map(|(on, _)| *on),
                ranking: round
                    .report
                    .as_ref()
                    .map(|(_, r)| r.clone())
                    .unwrap_or_default(),
                confirmed_on: round.confirmed_on,
                publicized_from: round.publicized.map(|(from, _)| from),
                publicized_until: round.publicized.map(|(_, until)| until),
                published_on: round.published_on,
            },
            deadlines: deadlines(p, ctx, now),
            bonds: p
                .bonds
                .iter()
                .map(|(kind, amount_cents)| BondView {
                    kind: match kind {
                        BondKind::Bid => "bid",
                        BondKind::Performance => "performance",
                    },
                    amount_cents: *amount_cents,
                })
                .collect(),
            award: p.award.as_ref().map(|a| AwardView {
                on: a.on,
                winner: a.winner.clone(),
                rank: a.rank,
                amount_cents: a.amount_cents,
                reported_on: p.award_reported_on,
            }),
            contract: p.contract.map(|(signed_on, amount_cents)| ContractView {
                signed_on,
                amount_cents,
                published_on: p.contract_published_on,
                filed_on: p.contract_filed_on,
                supplements_cents: p.supplements_cents,
            }),
            objections: filed(&p.objections, ctx, 3, DayUnit::Natural, now),
            enquiries: filed(&p.enquiries, ctx, 7, DayUnit::Working, now),
            complaints: filed(&p.complaints, ctx, 30, DayUnit::Working, now),
            closed_on: p.closed_on,
            alerts: Vec::new(),
            now: format(now),
        }
    }
}

/// Items with their due dates (`proc.objection.late`, `proc.enquiry.late`,
/// `proc.complaint.late`).
fn filed(items: &[Filed], ctx: &Ctx<'_>, days: u32, unit: DayUnit, now: Millis) -> Vec<FiledView> {
    items
        .iter()
        .map(|i| {
            let due_on = add(ctx, i.on, days, unit);
            FiledView {
                id: i.id.clone(),
                filed_on: i.on,
                due_on,
                days,
                unit,
                answered_on: i.answered_on,
                met: due_on.and_then(|due| met(due, i.answered_on, now)),
            }
        })
        .collect()
}

/// The earliest lawful bid deadline's period: its days and unit, as
/// [`Project::earliest_deadline`] counts them.
fn window(p: &Project) -> Option<(u32, DayUnit)> {
    match p.method {
        Method::OpenTender | Method::InvitedTender => Some((20, DayUnit::Natural)),
        Method::CompetitiveConsultation => Some((10, DayUnit::Natural)),
        Method::CompetitiveNegotiation | Method::Inquiry => Some((3, DayUnit::Working)),
        Method::SingleSource => {
            let above = p.threshold_cents.is_some_and(|t| p.budget_cents >= t);
            above.then_some((5, DayUnit::Working))
        }
    }
}

/// The due dates the rules count to, in the order of the procedure; a date is listed once
/// the fact it counts from is known.
fn deadlines(p: &Project, ctx: &Ctx<'_>, now: Millis) -> Vec<Deadline> {
    let government = p.regime == Regime::Government;
    let round = &p.round;
    let mut out = Vec::new();
    let issued_on = round.issued.map(|(_, on)| on);
    // Documents on sale at least 5 days, the issue day counted: the last day of the fifth.
    let (sale_unit, sale_from) = match p.regime {
        Regime::Government => (DayUnit::Working, issued_on.and_then(|d| d.pred_opt())),
        Regime::Construction => (DayUnit::Natural, issued_on.and_then(|d| d.pred_opt())),
    };
    let sale_due = sale_from.and_then(|f| match sale_unit {
        DayUnit::Working => working(ctx, f, 5),
        // Construction counts plain natural days on sale (no roll to a working day).
        DayUnit::Natural => f.checked_add_days(chrono::Days::new(5)),
    });
    if let Some(due_on) = sale_due {
        out.push(Deadline {
            what: "documents_on_sale",
            rule: ProcRule::SaleShort.code(),
            due_on,
            days: 5,
            unit: sale_unit,
            done_on: round.on_sale_until,
            met: round.on_sale_until.map(|d| d >= due_on),
        });
    }
    let mut push = |what: &'static str,
                    rule: ProcRule,
                    from: Option<NaiveDate>,
                    days: u32,
                    unit: DayUnit,
                    done_on: Option<NaiveDate>,
                    at_least: bool| {
        let Some(due_on) = from.and_then(|f| add(ctx, f, days, unit)) else {
            return;
        };
        let met = if at_least {
            done_on.map(|d| d >= due_on)
        } else {
            met(due_on, done_on, now)
        };
        out.push(Deadline {
            what,
            rule: rule.code(),
            due_on,
            days,
            unit,
            done_on,
            met,
        });
    };
    let deadline_on = round.deadline.map(date_of);
    if let Some((days, unit)) = window(p) {
        push(
            "earliest_bid_deadline",
            ProcRule::WindowShort,
            issued_on,
            days,
            unit,
            deadline_on,
            true,
        );
    }
    // A clarification affecting preparation: the deadline at least 15 natural days after it.
    let latest = round
        .clarifications
        .iter()
        .filter(|c| round.deadline.is_none_or(|d| **c < d))
        .max()
        .map(|c| date_of(*c));
    push(
        "clarification",
        ProcRule::ClarificationLate,
        latest,
        15,
        DayUnit::Natural,
        deadline_on,
        true,
    );
    let reported_on = round.report.as_ref().map(|(on, _)| *on);
    push(
        "publicity_start",
        ProcRule::PublicityShort,
        reported_on,
        3,
        DayUnit::Natural,
        round.publicized.map(|(from, _)| from),
        false,
    );
    if government {
        push(
            "confirmation",
            ProcRule::ConfirmationLate,
            reported_on,
            5,
            DayUnit::Working,
            round.confirmed_on,
            false,
        );
        push(
            "result",
            ProcRule::ResultLate,
            round.confirmed_on,
            2,
            DayUnit::Working,
            round.published_on,
            false,
        );
    }
    let signed_on = p.contract.map(|(on, _)| on);
    push(
        "contract",
        ProcRule::ContractLate,
        p.award.as_ref().map(|a| a.on),
        30,
        DayUnit::Natural,
        signed_on,
        false,
    );
    if government {
        push(
            "contract_publish",
            ProcRule::ContractUnpublished,
            signed_on,
            2,
            DayUnit::Working,
            p.contract_published_on,
            false,
        );
        push(
            "contract_file",
            ProcRule::ContractUnfiled,
            signed_on,
            7,
            DayUnit::Working,
            p.contract_filed_on,
            false,
        );
    }
    out
}

impl AlertView {
    /// The kind of case it is on: `procurement` (a `proc-…` project: its `proc.*` rules and
    /// the shared card lifecycle's, `supervision.unacknowledged` say) or `approval`.
    pub fn kind(&self) -> &'static str {
        crate::kinds::kind_of_stream(&self.case).unwrap_or("approval")
    }
}
