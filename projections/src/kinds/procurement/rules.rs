//! The procurement monitoring points (`proc.*`): codes, severities, units and legal bases.

pub use jiancha_events::procurement::{ProcRule, PROC_RULE_CODES};
use jiancha_events::Severity;

/// Every procurement rule, in the order alerts raised at the same instant are listed.
pub const PROC_RULES: [ProcRule; 19] = [
    ProcRule::Split,
    ProcRule::SaleShort,
    ProcRule::WindowShort,
    ProcRule::ClarificationLate,
    ProcRule::ObjectionLate,
    ProcRule::OpeningMismatch,
    ProcRule::ExpertsDesignated,
    ProcRule::ConfirmationLate,
    ProcRule::PublicityShort,
    ProcRule::ResultLate,
    ProcRule::BiddersFew,
    ProcRule::AwardNotFirst,
    ProcRule::ContractLate,
    ProcRule::ContractDeviation,
    ProcRule::ContractUnpublished,
    ProcRule::ContractUnfiled,
    ProcRule::BondExcessive,
    ProcRule::EnquiryLate,
    ProcRule::ComplaintLate,
];

/// The Government Procurement Law and its implementing regulation, as the bases cite them.
const GPL: &str = "《中华人民共和国政府采购法》";
const GPR: &str = "《中华人民共和国政府采购法实施条例》";
const TBL: &str = "《中华人民共和国招标投标法》";
const TBR: &str = "《中华人民共和国招标投标法实施条例》";
const CIVIL: &str = "《中华人民共和国民法典》第二百零一条、第二百零三条";

/// What each procurement rule means to the projections: its card's colour, whether the clock
/// raises it, the kind of days it counts, its legal basis and the reference's sentences.
pub trait ProcRuleInfo: Copy {
    /// The card's colour.
    fn severity(self) -> Severity;
    /// Whether the clock raises it (a time passing with an act missing), with no new event.
    fn is_time_driven(self) -> bool;
    /// The kind of days the rule counts in.
    fn unit(self) -> &'static str;
    /// The legal basis.
    fn legal_basis(self) -> String;
    /// When the alert is raised, for the rule reference.
    fn fires_when(self) -> &'static str;
    /// The event types whose facts the rule reads.
    fn fed_by(self) -> &'static [&'static str];
    /// The display names: Chinese, English.
    fn names(self) -> (&'static str, &'static str);
}

impl ProcRuleInfo for ProcRule {
    /// The card's colour.
    fn severity(self) -> Severity {
        match self {
            ProcRule::SaleShort
            | ProcRule::ObjectionLate
            | ProcRule::ConfirmationLate
            | ProcRule::ResultLate
            | ProcRule::ContractUnpublished
            | ProcRule::ContractUnfiled
            | ProcRule::BondExcessive
            | ProcRule::EnquiryLate => Severity::Yellow,
            _ => Severity::Red,
        }
    }

    /// Whether the clock raises it (a time passing with an act missing), with no new event.
    fn is_time_driven(self) -> bool {
        matches!(
            self,
            ProcRule::ClarificationLate
                | ProcRule::ObjectionLate
                | ProcRule::ConfirmationLate
                | ProcRule::ResultLate
                | ProcRule::ContractLate
                | ProcRule::ContractUnpublished
                | ProcRule::ContractUnfiled
                | ProcRule::EnquiryLate
                | ProcRule::ComplaintLate
        )
    }

    /// The kind of days the rule counts in.
    fn unit(self) -> &'static str {
        match self {
            ProcRule::WindowShort => {
                "natural days for tenders (20) and consultation (10); working days for negotiation and inquiry (3) and single-source publicity (5)"
            }
            ProcRule::SaleShort => {
                "working days (government procurement), natural days (construction): 5, the first day counted"
            }
            ProcRule::ClarificationLate => "natural days (15)",
            ProcRule::ObjectionLate => "natural days (3)",
            ProcRule::PublicityShort => "natural days (3 of publicity, starting within 3)",
            ProcRule::ConfirmationLate => "working days (5)",
            ProcRule::ResultLate | ProcRule::ContractUnpublished => "working days (2)",
            ProcRule::ContractUnfiled | ProcRule::EnquiryLate => "working days (7)",
            ProcRule::ComplaintLate => "working days (30)",
            ProcRule::ContractLate => "natural days (30)",
            ProcRule::OpeningMismatch => "the minute of the bid deadline",
            ProcRule::BiddersFew
            | ProcRule::ExpertsDesignated
            | ProcRule::AwardNotFirst
            | ProcRule::ContractDeviation
            | ProcRule::BondExcessive
            | ProcRule::Split => "no period",
        }
    }

    /// The legal basis.
    fn legal_basis(self) -> String {
        match self {
            ProcRule::WindowShort => format!(
                "{GPL}第三十五条；{GPR}第三十八条；{TBL}第二十四条；《政府采购非招标采购方式管理办法》；{CIVIL}"
            ),
            ProcRule::SaleShort => format!("{GPR}第三十一条；{TBR}第十六条"),
            ProcRule::ClarificationLate => {
                format!("{GPR}第三十一条；{TBL}第二十三条；{TBR}第二十一条；{CIVIL}")
            }
            ProcRule::ObjectionLate => format!("{TBR}第二十二条；{CIVIL}"),
            ProcRule::OpeningMismatch => format!("{TBL}第三十四条"),
            ProcRule::BiddersFew => format!("{TBL}第二十八条；{TBR}第四十四条"),
            ProcRule::ExpertsDesignated => format!("{TBL}第三十七条；{TBR}第四十六条；{GPR}第三十九条"),
            ProcRule::ConfirmationLate | ProcRule::ResultLate => format!("{GPR}第四十三条"),
            ProcRule::PublicityShort => format!("{TBR}第五十四条；{CIVIL}"),
            ProcRule::AwardNotFirst => format!("{TBR}第五十五条"),
            ProcRule::ContractLate => format!("{GPL}第四十六条；{TBL}第四十六条；{CIVIL}"),
            ProcRule::ContractUnpublished => format!("{GPR}第五十条"),
            ProcRule::ContractUnfiled => format!("{GPL}第四十七条"),
            ProcRule::ContractDeviation => format!("{GPL}第四十九条；{TBL}第四十六条"),
            ProcRule::BondExcessive => format!("{GPR}第三十三条、第四十八条；{TBR}第二十六条、第五十八条"),
            ProcRule::Split => format!("{GPR}第二十八条"),
            ProcRule::EnquiryLate => format!("{GPL}第五十三条"),
            ProcRule::ComplaintLate => format!("{GPL}第五十六条；{TBR}第六十一条"),
        }
    }

    /// When the alert is raised, for the rule reference.
    fn fires_when(self) -> &'static str {
        match self {
            ProcRule::WindowShort => "A bid (response) deadline, set or documents issued, leaves a window shorter than the method's minimum: open and invited tender 20 natural days from the documents' first issue, competitive consultation 10 natural days, negotiation and inquiry 3 working days, single source above the open-tender threshold 5 working days of publicity. A natural-day minimum whose last day is a rest day ends on the next working day.",
            ProcRule::SaleShort => "DocumentsIssued with documents on sale fewer than 5 days, the issue day counted: working days in government procurement, natural days in construction tendering.",
            ProcRule::ClarificationLate => "The clock reaches a bid deadline that is earlier than 15 natural days after a clarification affecting preparation (Clarified affects_preparation) made before it: the deadline did not move.",
            ProcRule::ObjectionLate => "An objection (ObjectionFiled) not answered (ObjectionAnswered) by the end of the 3rd natural day after it was filed: raised by the clock.",
            ProcRule::OpeningMismatch => "BidsOpened at another minute than the bid deadline in force (or with no deadline set).",
            ProcRule::BiddersFew => "AwardNoticeIssued in an open or invited tender whose opening had fewer than 3 bidders (it must be tendered again); an award entered before its opening is judged when the opening is entered.",
            ProcRule::ExpertsDesignated => "ExpertsDrawn designated without an approval, or a committee under 5 members (3 outside tenders), even, or with experts under two thirds.",
            ProcRule::ConfirmationLate => "Government procurement: no ResultConfirmed by the end of the 5th working day after the evaluation report: raised by the clock.",
            ProcRule::PublicityShort => "Construction tendering: CandidatesPublicized for fewer than 3 natural days (the first day counted), or no publicity started by the end of the 3rd natural day after the evaluation report (raised by the clock then; a late start adds no second card in the round).",
            ProcRule::ResultLate => "Government procurement: no ResultPublished by the end of the 2nd working day after the confirmation: raised by the clock.",
            ProcRule::AwardNotFirst => "AwardNoticeIssued with no reason, in a state-funded project, to a rank other than 1 or to another candidate than the one the round's EvaluationReported ranks first (judged when both are known, in either order).",
            ProcRule::ContractLate => "No ContractSigned by the end of the 30th natural day after the award notice: raised by the clock.",
            ProcRule::ContractUnpublished => "Government procurement: no ContractPublished by the end of the 2nd working day after signing: raised by the clock.",
            ProcRule::ContractUnfiled => "Government procurement: no ContractFiled by the end of the 7th working day after signing: raised by the clock.",
            ProcRule::ContractDeviation => "ContractSigned for another amount than the award (judged when both are known, in either order), or SupplementalContract bringing the supplements above 10% of the contract (judged when both are known, in either order).",
            ProcRule::BondExcessive => "BondTaken: a bid bond above 2% of the budget, or a performance bond above 10% of the contract (of the award before the contract).",
            ProcRule::Split => "ProcurementRegistered by another method than open tender, itself under the open-tender threshold of the most specific jurisdiction (ThresholdDefined), when the purchaser's such projects under the threshold of the same category and calendar year reach it together (this one and every later one), dated when the last of them was registered (a piece entered after a later one carries the later instant).",
            ProcRule::EnquiryLate => "An enquiry (EnquiryFiled) not answered by the end of the 7th working day after it was filed: raised by the clock.",
            ProcRule::ComplaintLate => "A complaint (ComplaintFiled) not decided by the end of the 30th working day after it was filed: raised by the clock.",
        }
    }

    /// The event types whose facts the rule reads.
    fn fed_by(self) -> &'static [&'static str] {
        match self {
            ProcRule::WindowShort => &[
                "CalendarAmended",
                "ThresholdDefined",
                "ProcurementRegistered",
                "DocumentsIssued",
                "BidDeadlineSet",
                "Retendered",
            ],
            ProcRule::SaleShort => &[
                "CalendarAmended",
                "ProcurementRegistered",
                "DocumentsIssued",
            ],
            ProcRule::ClarificationLate => &["Clarified", "BidDeadlineSet", "Retendered"],
            ProcRule::ObjectionLate => &["CalendarAmended", "ObjectionFiled", "ObjectionAnswered"],
            ProcRule::OpeningMismatch => &["BidDeadlineSet", "BidsOpened"],
            ProcRule::BiddersFew => &["ProcurementRegistered", "BidsOpened", "AwardNoticeIssued"],
            ProcRule::ExpertsDesignated => &["ProcurementRegistered", "ExpertsDrawn"],
            ProcRule::ConfirmationLate => {
                &["CalendarAmended", "EvaluationReported", "ResultConfirmed"]
            }
            ProcRule::PublicityShort => &["EvaluationReported", "CandidatesPublicized"],
            ProcRule::ResultLate => &["CalendarAmended", "ResultConfirmed", "ResultPublished"],
            ProcRule::AwardNotFirst => &["ProcurementRegistered", "AwardNoticeIssued"],
            ProcRule::ContractLate => &["CalendarAmended", "AwardNoticeIssued", "ContractSigned"],
            ProcRule::ContractUnpublished => {
                &["CalendarAmended", "ContractSigned", "ContractPublished"]
            }
            ProcRule::ContractUnfiled => &["CalendarAmended", "ContractSigned", "ContractFiled"],
            ProcRule::ContractDeviation => &[
                "AwardNoticeIssued",
                "ContractSigned",
                "SupplementalContract",
            ],
            ProcRule::BondExcessive => &[
                "ProcurementRegistered",
                "AwardNoticeIssued",
                "ContractSigned",
                "BondTaken",
            ],
            ProcRule::Split => &["ThresholdDefined", "ProcurementRegistered"],
            ProcRule::EnquiryLate => &["CalendarAmended", "EnquiryFiled", "EnquiryAnswered"],
            ProcRule::ComplaintLate => &["CalendarAmended", "ComplaintFiled", "ComplaintDecided"],
        }
    }

    /// The display names: Chinese, English.
    fn names(self) -> (&'static str, &'static str) {
        match self {
            ProcRule::WindowShort => ("等标期不足", "Bid window too short"),
            ProcRule::SaleShort => ("文件发售期不足", "Documents on sale too briefly"),
            ProcRule::ClarificationLate => ("澄清修改过晚", "Clarification too late"),
            ProcRule::ObjectionLate => ("异议答复超期", "Objection answered late"),
            ProcRule::OpeningMismatch => ("开标时间不符", "Opening off the deadline"),
            ProcRule::BiddersFew => ("投标人不足三家", "Fewer than 3 bidders"),
            ProcRule::ExpertsDesignated => ("评标专家违规", "Experts not drawn lawfully"),
            ProcRule::ConfirmationLate => ("结果确认超期", "Result confirmed late"),
            ProcRule::PublicityShort => ("候选人公示不足", "Publicity too short"),
            ProcRule::ResultLate => ("结果公告超期", "Result announced late"),
            ProcRule::AwardNotFirst => ("未确定排名第一", "Award not to the first-ranked"),
            ProcRule::ContractLate => ("合同签订超期", "Contract late"),
            ProcRule::ContractUnpublished => ("合同未按时公告", "Contract not announced"),
            ProcRule::ContractUnfiled => ("合同未按时备案", "Contract not filed"),
            ProcRule::ContractDeviation => ("合同背离中标结果", "Contract deviates from award"),
            ProcRule::BondExcessive => ("保证金超标", "Bond too high"),
            ProcRule::Split => ("化整为零规避招标", "Split to avoid open tender"),
            ProcRule::EnquiryLate => ("质疑答复超期", "Enquiry answered late"),
            ProcRule::ComplaintLate => ("投诉处理超期", "Complaint decided late"),
        }
    }
}
