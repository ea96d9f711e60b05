//! The procurement and tendering vocabulary (政府采购, 工程建设招投标): the catalog's open-tender
//! thresholds and the events of a procurement project's stream (`proc-<id>`), in the order a
//! project normally takes. `occurred_at` is when the act happened; dates in the data are the
//! business dates the act names (a sale's last day, a publicity's last day).

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::time::Timestamp;
use crate::vocab::{non_empty, DataError};

/// The law a project is procured under.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Regime {
    /// Government procurement (政府采购法 and its implementing regulation).
    Government,
    /// Construction tendering (招标投标法 and its implementing regulation).
    Construction,
}

impl Regime {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Regime::Government => "government",
            Regime::Construction => "construction",
        }
    }
}

/// How a project is procured.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// 公开招标: open tender.
    OpenTender,
    /// 邀请招标: invited tender.
    InvitedTender,
    /// 竞争性谈判: competitive negotiation.
    CompetitiveNegotiation,
    /// 询价: request for quotations.
    Inquiry,
    /// 竞争性磋商: competitive consultation.
    CompetitiveConsultation,
    /// 单一来源: single source.
    SingleSource,
}

impl Method {
    /// Every method, in declaration order.
    pub const ALL: [Method; 6] = [
        Method::OpenTender,
        Method::InvitedTender,
        Method::CompetitiveNegotiation,
        Method::Inquiry,
        Method::CompetitiveConsultation,
        Method::SingleSource,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::OpenTender => "open_tender",
            Method::InvitedTender => "invited_tender",
            Method::CompetitiveNegotiation => "competitive_negotiation",
            Method::Inquiry => "inquiry",
            Method::CompetitiveConsultation => "competitive_consultation",
            Method::SingleSource => "single_source",
        }
    }

    /// Whether the method is a tender (open or invited): bids, an opening, a bid deadline.
    pub fn is_tender(self) -> bool {
        matches!(self, Method::OpenTender | Method::InvitedTender)
    }
}

/// How the evaluation experts were chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExpertSelection {
    /// Drawn at random from the expert database.
    Random,
    /// Designated by the purchaser (lawful only with an approval).
    Designated,
}

/// Which bond.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BondKind {
    /// 投标保证金: at most 2% of the budget (or estimated price).
    Bid,
    /// 履约保证金: at most 10% of the contract amount.
    Performance,
}

/// 公开招标数额标准: the open-tender threshold of a category in a jurisdiction. The most specific
/// jurisdiction (the longest org path prefix of the purchaser) applies; a redefinition replaces
/// the amount from its position on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ThresholdDefined {
    /// An org path prefix (`jiangjin`), or `national`.
    pub jurisdiction: String,
    /// The procurement category (品目), e.g. `goods`, `services`, `works`, or a finer code.
    pub category: String,
    /// The amount from which open tender is required, in cents (分).
    pub open_tender_cents: u64,
}

/// 项目登记: a procurement project is registered; it opens the project's stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProcurementRegistered {
    /// The project's name.
    pub project: String,
    /// The law it is procured under.
    pub regime: Regime,
    /// How it is procured.
    pub method: Method,
    /// The procurement category (品目).
    pub category: String,
    /// The budget (or estimated price), in cents (分).
    pub budget_cents: u64,
    /// The purchasing org (采购人 or 招标人), accountable for the project.
    pub purchaser_org: String,
    /// Whether the project is state-funded (国有资金占控股或者主导地位).
    pub state_funded: bool,
}

/// 发出采购文件: the procurement (tender) documents are first issued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DocumentsIssued {
    /// The last day the documents are on sale (available).
    pub on_sale_until: NaiveDate,
}

/// 澄清或者修改: a clarification or change of the documents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Clarified {
    /// Whether it may affect the preparation of bids (or responses).
    pub affects_preparation: bool,
}

/// 投标截止时间: the bid (or response) deadline; a later one is a postponement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BidDeadlineSet {
    /// The deadline.
    pub at: Timestamp,
}

/// 异议: an objection to the tender documents (construction).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ObjectionFiled {
    /// The objection's id within the project.
    pub objection: String,
}

/// 异议答复: an objection answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ObjectionAnswered {
    /// The objection's id within the project.
    pub objection: String,
}

/// 开标: bids (or responses) opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BidsOpened {
    /// How many bidders (suppliers) bid.
    pub bidders: u32,
}

/// 评标委员会组建: the evaluation committee is formed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpertsDrawn {
    /// How the experts were chosen.
    pub method: ExpertSelection,
    /// The committee's members.
    pub members: u32,
    /// How many of them are experts (the others represent the purchaser).
    pub experts: u32,
    /// The approval of a designation, when one was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<String>,
}

/// 评审报告: the evaluation report, with the ranked candidates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EvaluationReported {
    /// The candidate suppliers, first-ranked first.
    pub ranking: Vec<String>,
}

/// 确认采购结果: the purchaser confirms the result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResultConfirmed {}

/// 中标候选人公示: the winning candidates are publicized until a date (construction).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CandidatesPublicized {
    /// The last day of the publicity.
    pub until: NaiveDate,
}

/// 公告采购结果: the result is announced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResultPublished {}

/// 中标（成交）通知书: the award notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AwardNoticeIssued {
    /// The winning supplier.
    pub winner: String,
    /// The winner's rank in the evaluation report, from 1.
    pub rank: u32,
    /// The awarded amount, in cents (分).
    pub amount_cents: u64,
    /// Why a candidate other than the first-ranked won, when one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// 签订合同: the contract is signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ContractSigned {
    /// The contract amount, in cents (分).
    pub amount_cents: u64,
}

/// 合同公告: the contract is announced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ContractPublished {}

/// 合同备案: the contract is filed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ContractFiled {}

/// 招标投标情况书面报告: the award reported to the supervising department (construction).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AwardReported {}

/// 补充合同: an additional purchase under the contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SupplementalContract {
    /// Its amount, in cents (分).
    pub amount_cents: u64,
}

/// 保证金: a bond taken from a bidder or the winner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BondTaken {
    /// Which bond.
    pub kind: BondKind,
    /// Its amount, in cents (分).
    pub amount_cents: u64,
}

/// 质疑: a supplier's enquiry (government procurement).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnquiryFiled {
    /// The enquiry's id within the project.
    pub enquiry: String,
}

/// 质疑答复: an enquiry answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnquiryAnswered {
    /// The enquiry's id within the project.
    pub enquiry: String,
}

/// 投诉: a complaint to the supervising department.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ComplaintFiled {
    /// The complaint's id within the project.
    pub complaint: String,
}

/// 投诉处理决定: a complaint decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ComplaintDecided {
    /// The complaint's id within the project.
    pub complaint: String,
}

/// 重新招标: the procurement starts again (too few bidders, a failed tender).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Retendered {
    /// Why.
    pub reason: String,
}

/// 项目结束: the project is closed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProcurementClosed {}

/// A procurement monitoring point (`proc.*`). The codes are a contract with the API, the reports
/// and the simulator's rates; what each rule means (severity, unit, legal basis) is the
/// projections' (`ProcRuleInfo`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ProcRule {
    /// A bid or response window shorter than its method's minimum.
    WindowShort,
    /// Documents on sale fewer than 5 days (working days in government procurement).
    SaleShort,
    /// A clarification affecting preparation less than 15 days before a deadline that did not
    /// move.
    ClarificationLate,
    /// An objection not answered within 3 days.
    ObjectionLate,
    /// Bids opened at another time than the deadline.
    OpeningMismatch,
    /// An award in a tender that had fewer than 3 bidders.
    BiddersFew,
    /// Experts not drawn at random without approval, or a committee too small, even, or with
    /// too few experts.
    ExpertsDesignated,
    /// The result not confirmed within 5 working days of the evaluation report.
    ConfirmationLate,
    /// Candidates publicized for fewer than 3 days, or starting late.
    PublicityShort,
    /// The result not announced within 2 working days of its confirmation.
    ResultLate,
    /// An award to other than the first-ranked candidate with no reason (state-funded).
    AwardNotFirst,
    /// No contract 30 days after the award notice.
    ContractLate,
    /// A contract not announced within 2 working days of signing.
    ContractUnpublished,
    /// A contract not filed within 7 working days of signing.
    ContractUnfiled,
    /// A contract amount that differs from the award, or supplements over 10%.
    ContractDeviation,
    /// A bid bond above 2% of the budget or a performance bond above 10% of the contract.
    BondExcessive,
    /// Purchases split to stay under the open-tender threshold (化整为零).
    Split,
    /// An enquiry (质疑) not answered within 7 working days.
    EnquiryLate,
    /// A complaint (投诉) not decided within 30 working days.
    ComplaintLate,
}

/// The rule codes, in the order of [`ProcRule`]'s variants.
pub const PROC_RULE_CODES: [&str; 19] = [
    "proc.window.short",
    "proc.sale.short",
    "proc.clarification.late",
    "proc.objection.late",
    "proc.opening.mismatch",
    "proc.bidders.few",
    "proc.experts.designated",
    "proc.confirmation.late",
    "proc.publicity.short",
    "proc.result.late",
    "proc.award.not_first",
    "proc.contract.late",
    "proc.contract.unpublished",
    "proc.contract.unfiled",
    "proc.contract.deviation",
    "proc.bond.excessive",
    "proc.split",
    "proc.enquiry.late",
    "proc.complaint.late",
];

impl ProcRule {
    /// Every rule, in the order of its variants.
    pub const ALL: [ProcRule; 19] = [
        ProcRule::WindowShort,
        ProcRule::SaleShort,
        ProcRule::ClarificationLate,
        ProcRule::ObjectionLate,
        ProcRule::OpeningMismatch,
        ProcRule::BiddersFew,
        ProcRule::ExpertsDesignated,
        ProcRule::ConfirmationLate,
        ProcRule::PublicityShort,
        ProcRule::ResultLate,
        ProcRule::AwardNotFirst,
        ProcRule::ContractLate,
        ProcRule::ContractUnpublished,
        ProcRule::ContractUnfiled,
        ProcRule::ContractDeviation,
        ProcRule::BondExcessive,
        ProcRule::Split,
        ProcRule::EnquiryLate,
        ProcRule::ComplaintLate,
    ];

    /// The stable rule code.
    pub fn code(self) -> &'static str {
        PROC_RULE_CODES[self as usize]
    }
}

/// The checks of the procurement types that their fields' types alone cannot say.
pub(crate) fn check(data: &crate::EventData) -> Result<(), DataError> {
    use crate::EventData as E;
    match data {
        E::ThresholdDefined(d) => {
            if d.jurisdiction != "national" {
                crate::stream::check_org("data.jurisdiction", &d.jurisdiction)?;
            }
            non_empty("data.category", &d.category)
        }
        E::ProcurementRegistered(d) => {
            non_empty("data.project", &d.project)?;
            non_empty("data.category", &d.category)?;
            crate::stream::check_org("data.purchaser_org", &d.purchaser_org)
        }
        E::ObjectionFiled(d) => non_empty("data.objection", &d.objection),
        E::ObjectionAnswered(d) => non_empty("data.objection", &d.objection),
        E::ExpertsDrawn(d) => {
            if d.members == 0 {
                return Err(DataError::new("data.members", "must be at least 1"));
            }
            if d.experts > d.members {
                return Err(DataError::new(
                    "data.experts",
                    format!("must not exceed members ({}), got {}", d.members, d.experts),
                ));
            }
            Ok(())
        }
        E::EvaluationReported(d) => {
            if d.ranking.is_empty() {
                return Err(DataError::new(
                    "data.ranking",
                    "must name at least one supplier",
                ));
            }
            match d.ranking.iter().position(|s| s.trim().is_empty()) {
                Some(i) => Err(DataError::new(
                    format!("data.ranking[{i}]"),
                    "must not be empty",
                )),
                None => Ok(()),
            }
        }
        E::AwardNoticeIssued(d) => {
            non_empty("data.winner", &d.winner)?;
            if d.rank == 0 {
                return Err(DataError::new(
                    "data.rank",
                    "must be at least 1 (1 is the first-ranked)",
                ));
            }
            Ok(())
        }
        E::EnquiryFiled(d) => non_empty("data.enquiry", &d.enquiry),
        E::EnquiryAnswered(d) => non_empty("data.enquiry", &d.enquiry),
        E::ComplaintFiled(d) => non_empty("data.complaint", &d.complaint),
        E::ComplaintDecided(d) => non_empty("data.complaint", &d.complaint),
        E::Retendered(d) => non_empty("data.reason", &d.reason),
        _ => Ok(()),
    }
}
