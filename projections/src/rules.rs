//! The alert rules: their stable codes, severities, and how each one closes; and the
//! configurable thresholds behind the time-driven ones.

use crate::kinds::procurement::rules::ProcRuleInfo as _;
use jiancha_events::{Severity, WarningThreshold};

pub use crate::kinds::procurement::rules::ProcRule;
use serde::{Deserialize, Serialize};

/// An alert rule. The codes are a contract with the API and reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Rule {
    /// Running with little left on the promised limit.
    PromisedWarning,
    /// Running past the promised due date.
    PromisedOverdue,
    /// Running past the statutory due date.
    StatutoryOverdue,
    /// A second correction request (the one-time notice broken).
    CorrectionRepeated,
    /// The first answer came more than 5 working days after submission.
    CorrectionLate,
    /// Accepted while required materials were missing.
    MaterialsIncomplete,
    /// Decided or concluded without the item's steps, or with steps out of order.
    StepSkipped,
    /// Concluded without a decision.
    NoDecision,
    /// Suspended for a reason outside Art. 45, or without a written notice.
    SuspensionUnlawful,
    /// A charge that differs from the item's fee standard.
    FeeMismatch,
    /// Extended more than once, by too many days, or after the due date.
    ExtensionExcessive,
    /// Running with no action for 5 working days.
    Stalled,
    /// Rated 1 or 2 (差评).
    RatingBad,
    /// Recorded long after it occurred: work done outside the system (体外循环).
    DataBackdated,
    /// No answer within 5 working days after the supplements arrived (Art. 32).
    AcceptanceLate,
    /// The acceptance asked for a limit longer than the item's; capped at the item's.
    LimitsOverridden,
    /// A case for an item the catalog does not define: it cannot be monitored.
    ItemUnknown,
    /// Concluded without ever being accepted.
    NoAcceptance,
    /// A case event after the case ended (concluded, withdrawn or refused).
    AfterConclusion,
    /// A lawful suspension past the working days told to the applicant.
    SuspensionOverlong,
    /// A red card not acknowledged within `ack_days` working days of being raised.
    Unacknowledged,
    /// A correction order (督办) with no report-back by its due date.
    CorrectionOverdue,
    /// Still no report-back when the order's days have run out a second time: escalated to
    /// the district supervision bureau.
    Escalated,
    /// A notification could not be delivered after its last attempt.
    NotifyFailed,
    /// A bad rating not verified by the center within `rating_verify_days` working days.
    RatingUnverified,
    /// A valid bad rating not rectified within `rectify_days` working days of verification.
    RectificationOverdue,
    /// A second rating of a case (一事一评): recorded, not counted.
    RatingDuplicate,
    /// A complaint neither accepted nor rejected within `complaint_accept_days` working days.
    ComplaintAcceptanceLate,
    /// An accepted complaint not answered within `complaint_reply_days` working days.
    ComplaintReplyLate,
    /// The rating window closed unrated and the scoring gives a default rating (a prompt: the
    /// default counts as the case's rating).
    RatingDefaulted,
    /// A procurement monitoring point (`proc.*`), owned by the procurement kind.
    Procurement(ProcRule),
}

/// Every rule, in the order alerts raised at the same instant are listed: the approval
/// rules, then each other kind's.
pub const RULES: [Rule; 49] = [
    Rule::CorrectionLate,
    Rule::CorrectionRepeated,
    Rule::AcceptanceLate,
    Rule::ItemUnknown,
    Rule::LimitsOverridden,
    Rule::MaterialsIncomplete,
    Rule::SuspensionUnlawful,
    Rule::SuspensionOverlong,
    Rule::ExtensionExcessive,
    Rule::FeeMismatch,
    Rule::StepSkipped,
    Rule::NoDecision,
    Rule::NoAcceptance,
    Rule::AfterConclusion,
    Rule::PromisedWarning,
    Rule::PromisedOverdue,
    Rule::StatutoryOverdue,
    Rule::Stalled,
    Rule::RatingBad,
    Rule::DataBackdated,
    Rule::Unacknowledged,
    Rule::CorrectionOverdue,
    Rule::Escalated,
    Rule::NotifyFailed,
    Rule::RatingDuplicate,
    Rule::RatingUnverified,
    Rule::RectificationOverdue,
    Rule::ComplaintAcceptanceLate,
    Rule::ComplaintReplyLate,
    Rule::RatingDefaulted,
    Rule::Procurement(ProcRule::Split),
    Rule::Procurement(ProcRule::SaleShort),
    Rule::Procurement(ProcRule::WindowShort),
    Rule::Procurement(ProcRule::ClarificationLate),
    Rule::Procurement(ProcRule::ObjectionLate),
    Rule::Procurement(ProcRule::OpeningMismatch),
    Rule::Procurement(ProcRule::ExpertsDesignated),
    Rule::Procurement(ProcRule::ConfirmationLate),
    Rule::Procurement(ProcRule::PublicityShort),
    Rule::Procurement(ProcRule::ResultLate),
    Rule::Procurement(ProcRule::BiddersFew),
    Rule::Procurement(ProcRule::AwardNotFirst),
    Rule::Procurement(ProcRule::ContractLate),
    Rule::Procurement(ProcRule::ContractDeviation),
    Rule::Procurement(ProcRule::ContractUnpublished),
    Rule::Procurement(ProcRule::ContractUnfiled),
    Rule::Procurement(ProcRule::BondExcessive),
    Rule::Procurement(ProcRule::EnquiryLate),
    Rule::Procurement(ProcRule::ComplaintLate),
];

impl Rule {
    /// The stable rule code.
    pub fn code(self) -> &'static str {
        match self {
            Rule::PromisedWarning => "deadline.promised.warning",
            Rule::PromisedOverdue => "deadline.promised.overdue",
            Rule::StatutoryOverdue => "deadline.statutory.overdue",
            Rule::CorrectionRepeated => "intake.correction.repeated",
            Rule::CorrectionLate => "intake.correction.late",
            Rule::MaterialsIncomplete => "intake.materials.incomplete",
            Rule::StepSkipped => "procedure.step.skipped",
            Rule::NoDecision => "procedure.no_decision",
            Rule::SuspensionUnlawful => "suspension.unlawful",
            Rule::FeeMismatch => "fee.mismatch",
            Rule::ExtensionExcessive => "extension.excessive",
            Rule::Stalled => "case.stalled",
            Rule::RatingBad => "rating.bad",
            Rule::DataBackdated => "data.backdated",
            Rule::AcceptanceLate => "intake.acceptance.late",
            Rule::LimitsOverridden => "intake.limits.overridden",
            Rule::ItemUnknown => "intake.item.unknown",
            Rule::NoAcceptance => "procedure.no_acceptance",
            Rule::AfterConclusion => "procedure.after_conclusion",
            Rule::SuspensionOverlong => "suspension.overlong",
            Rule::Unacknowledged => "supervision.unacknowledged",
            Rule::CorrectionOverdue => "supervision.correction.overdue",
            Rule::Escalated => "supervision.escalated",
            Rule::NotifyFailed => "supervision.notify.failed",
            Rule::RatingUnverified => "rating.unverified",
            Rule::RectificationOverdue => "rating.rectification.overdue",
            Rule::RatingDuplicate => "rating.duplicate",
            Rule::ComplaintAcceptanceLate => "complaint.acceptance.late",
            Rule::ComplaintReplyLate => "complaint.reply.late",
            Rule::RatingDefaulted => "rating.defaulted",
            Rule::Procurement(r) => r.code(),
        }
    }

    /// The rule of a code.
    pub fn from_code(code: &str) -> Option<Rule> {
        RULES.into_iter().find(|r| r.code() == code)
    }

    /// The alert's severity: a prompt (`warning`) or a card's colour.
    pub fn severity(self) -> Severity {
        match self {
            Rule::Procurement(r) => r.severity(),
            Rule::PromisedWarning | Rule::RatingDuplicate | Rule::RatingDefaulted => {
                Severity::Warning
            }
            Rule::CorrectionOverdue
            | Rule::Escalated
            | Rule::RectificationOverdue
            | Rule::ComplaintReplyLate => Severity::Red,
            Rule::PromisedOverdue
            | Rule::StatutoryOverdue
            | Rule::StepSkipped
            | Rule::NoDecision
            | Rule::SuspensionUnlawful
            | Rule::FeeMismatch
            | Rule::ItemUnknown
            | Rule::NoAcceptance => Severity::Red,
            _ => Severity::Yellow,
        }
    }

    /// Whether the alert describes a condition that can end by itself (it closes when the
    /// condition ends: the case concludes, an extension moves the due date, an action ends a
    /// stall, a resumption ends an overlong suspension) rather than a violation that stays
    /// until corrected (回告) or exempted.
    pub fn closes_with_condition(self) -> bool {
        matches!(
            self,
            Rule::PromisedWarning
                | Rule::PromisedOverdue
                | Rule::StatutoryOverdue
                | Rule::Stalled
                | Rule::SuspensionOverlong
        )
    }

    /// Whether the rule is raised by the clock passing a threshold, with no new event.
    pub fn is_time_driven(self) -> bool {
        matches!(
            self,
            Rule::PromisedWarning
                | Rule::PromisedOverdue
                | Rule::StatutoryOverdue
                | Rule::Stalled
                | Rule::CorrectionLate
                | Rule::AcceptanceLate
                | Rule::SuspensionOverlong
        ) || self.is_timer()
            || matches!(self, Rule::Procurement(r) if r.is_time_driven())
    }

    /// Whether the rule belongs to the supervision workflow (预警纠错) and is raised once by a
    /// timer the workflow set — an acknowledgement, a correction order, a rating's
    /// verification or rectification, a complaint's acceptance or reply running out — rather
    /// than by a case's deadlines.
    pub fn is_timer(self) -> bool {
        matches!(
            self,
            Rule::Unacknowledged
                | Rule::CorrectionOverdue
                | Rule::Escalated
                | Rule::RatingUnverified
                | Rule::RectificationOverdue
                | Rule::ComplaintAcceptanceLate
                | Rule::ComplaintReplyLate
                | Rule::RatingDefaulted
        )
    }

    /// Whether a red card of this rule must be acknowledged by its unit
    /// (`supervision.unacknowledged` otherwise): every red card but the workflow's own.
    pub fn needs_acknowledgement(self) -> bool {
        self.severity() == Severity::Red && !self.is_timer()
    }
}

/// The Administrative Licensing Law, as the legal basis cites it.
pub const LICENSING_LAW: &str = "《中华人民共和国行政许可法》";

/// The State Council's opinion on the rating system (好差评), as the legal basis cites it.
pub const RATINGS_OPINION: &str =
    "《国务院办公厅关于建立政务服务“好差评”制度提高政务服务水平的意见》（国办发〔2019〕51号）";

impl Rule {
    /// The legal basis of the rule: the article of the Administrative Licensing Law
    /// (行政许可法) or the document it enforces. The 监察建议书 and `docs/rules.md` cite it;
    /// the notice replaces a workflow rule's basis by the correction order itself.
    pub fn legal_basis(self) -> String {
        let law = LICENSING_LAW;
        match self {
            Rule::Procurement(r) => r.legal_basis(),
            Rule::FeeMismatch => format!("{law}第五十八条、第五十九条"),
            Rule::PromisedWarning
            | Rule::PromisedOverdue
            | Rule::StatutoryOverdue
            | Rule::ExtensionExcessive
            | Rule::Stalled => format!("{law}第四十二条"),
            Rule::CorrectionRepeated
            | Rule::CorrectionLate
            | Rule::MaterialsIncomplete
            | Rule::AcceptanceLate
            | Rule::LimitsOverridden
            | Rule::ItemUnknown => format!("{law}第三十二条"),
            Rule::SuspensionUnlawful | Rule::SuspensionOverlong => format!("{law}第四十五条"),
            Rule::StepSkipped | Rule::NoDecision | Rule::NoAcceptance | Rule::AfterConclusion => {
                format!("{law}第三十四条、第三十七条")
            }
            Rule::DataBackdated => format!("{law}第六十条；本地行政审批电子监察办法"),
            Rule::RatingBad
            | Rule::RatingUnverified
            | Rule::RectificationOverdue
            | Rule::RatingDuplicate
            | Rule::ComplaintAcceptanceLate
            | Rule::ComplaintReplyLate
            | Rule::RatingDefaulted => RATINGS_OPINION.to_owned(),
            Rule::Unacknowledged
            | Rule::CorrectionOverdue
            | Rule::Escalated
            | Rule::NotifyFailed => {
                "本机关的督办通知及其回告期限；本地行政审批电子监察办法".to_owned()
            }
        }
    }

    /// When the alert is raised, in a sentence for the rule reference.
    pub fn fires_when(self) -> &'static str {
        match self {
            Rule::Procurement(r) => r.fires_when(),
            Rule::PromisedWarning => "The clock reaches the item's warning threshold (by default when the working day on which 1 working day is left of the promised limit ends; `warning` of ItemDefined: `days_left` or `share_used_percent`).",
            Rule::PromisedOverdue => "A running case passes its promised due date (24:00 +08:00 of the last working day of the promised limit).",
            Rule::StatutoryOverdue => "A running case passes its statutory due date.",
            Rule::CorrectionRepeated => "A second CorrectionRequested on one case (the one-time notice, 一次性告知, broken).",
            Rule::CorrectionLate => "No first answer (Accepted, CorrectionRequested or RejectedAtIntake) within 5 working days (`answer_days`) of the submission: raised by the clock at the end of the 5th working day.",
            Rule::MaterialsIncomplete => "Accepted while materials the item requires were neither submitted nor supplemented.",
            Rule::StepSkipped => "Decided or Concluded without every step of the item, or with steps completed out of order.",
            Rule::NoDecision => "Concluded without a Decided.",
            Rule::SuspensionUnlawful => "Suspended for a reason outside Art. 45's closed list, or without a written notice.",
            Rule::FeeMismatch => "FeeCharged with an amount that differs from the item's `fee_cents`.",
            Rule::ExtensionExcessive => "An Extended that is not the case's first, adds more than the item's `max_extension_days`, names no approver or comes after the promised due date.",
            Rule::Stalled => "A running case with no action for 5 working days (`stall_days`); the applicant's rating, complaint or supplement of materials is no action.",
            Rule::RatingBad => "Rated 1 or 2 (差评) within the rating window.",
            Rule::DataBackdated => "An event recorded more than 48 hours (`backdate_tolerance_hours`) after its `occurred_at`, outside a declared historical import (体外循环).",
            Rule::AcceptanceLate => "After a timely correction request, no answer within 5 working days of the supplements (MaterialsSupplemented).",
            Rule::LimitsOverridden => "An Accepted that asks for a promised or statutory limit longer than the item's (capped at the item's).",
            Rule::ItemUnknown => "The clock would start (acceptance, or a conclusion without one) for an item the catalog does not define.",
            Rule::NoAcceptance => "Concluded without ever being accepted.",
            Rule::AfterConclusion => "A case event (other than a rating or complaint) after the case ended: concluded, withdrawn or refused.",
            Rule::SuspensionOverlong => "A lawful suspension runs past the working days told to the applicant (`expected_days`, or the item's `suspension_expected_days`).",
            Rule::Unacknowledged => "A red card of a case rule not acknowledged (AlertAcknowledged) within 1 working day (`ack_days`).",
            Rule::CorrectionOverdue => "A correction order (CorrectionOrdered) with no report-back (CorrectionCompleted) by its due date.",
            Rule::Escalated => "Still no report-back when the order's days have run out a second time: escalated to the district supervision bureau.",
            Rule::NotifyFailed => "A notification could not be delivered after its last attempt (NotificationFailed, written by the engine).",
            Rule::RatingUnverified => "A counted bad rating not verified (RatingVerified) within 1 working day (`rating_verify_days`).",
            Rule::RectificationOverdue => "A bad rating verified valid not rectified (RatingRectified) within 5 working days (`rectify_days`).",
            Rule::RatingDuplicate => "A second rating of one case (一事一评): recorded, not counted.",
            Rule::ComplaintAcceptanceLate => "A complaint neither accepted nor rejected within 5 working days (`complaint_accept_days`).",
            Rule::ComplaintReplyLate => "An accepted complaint not answered within 10 working days (`complaint_reply_days`).",
            Rule::RatingDefaulted => "The rating window (7 natural days after the conclusion date) closes unrated and the scoring scheme sets `default_rating`.",
        }
    }

    /// What closes the alert, in a sentence for the rule reference.
    pub fn closed_by(self) -> &'static str {
        match self {
            Rule::PromisedWarning | Rule::PromisedOverdue | Rule::StatutoryOverdue => "Closes when the case leaves the clock (concluded, withdrawn, rejected at intake, exempted) or a lawful extension moves the due date past the instant; an ordered card stays open until its correction is verified (CorrectionVerified accepted).",
            Rule::Stalled => "Closes with the next action on the case, or when the case leaves the clock.",
            Rule::SuspensionOverlong => "Closes with the resumption (Resumed), or when the case leaves the clock.",
            Rule::Unacknowledged => "Closes with the acknowledgement of the card (AlertAcknowledged) or its report-back.",
            Rule::CorrectionOverdue | Rule::Escalated => "Closes with the accepted verification of the report-back (CorrectionVerified accepted), or an exemption.",
            Rule::RatingUnverified => "Closes with the center's verification (RatingVerified), an exemption, or an upheld appeal of the rating (AppealUpheld naming the case), which also reverses its entry.",
            Rule::RectificationOverdue => "Closes with the unit's rectification report (RatingRectified), an exemption, or an upheld appeal of the rating (AppealUpheld naming the case), which also reverses its entry.",
            Rule::RatingBad => "Closes with the call-back after rectification (RatingCallback), a verdict of mistaken or malicious (RatingVerified), an exemption, or an upheld appeal of the rating (AppealUpheld naming the case); its ledger entries stay until an appeal is upheld.",
            Rule::ComplaintAcceptanceLate => "Closes when the complaint is accepted or rejected (ComplaintAccepted, ComplaintRejected).",
            Rule::ComplaintReplyLate => "Closes with the answer (ComplaintAnswered).",
            Rule::RatingDuplicate | Rule::RatingDefaulted => "Closed as it is raised: a record, not a condition.",
            Rule::NotifyFailed => "A record for the supervision bureau; closes with an exemption of the case.",
            _ => "A violation: stays open until a supervisor accepts the report-back of its correction (CorrectionOrdered, CorrectionCompleted, then CorrectionVerified accepted), or the case is exempted (Exempted).",
        }
    }

    /// The event types whose facts the rule reads (the clock raises the time-driven ones from
    /// the state these events set).
    pub fn fed_by(self) -> &'static [&'static str] {
        match self {
            Rule::Procurement(r) => r.fed_by(),
            Rule::PromisedWarning | Rule::PromisedOverdue | Rule::StatutoryOverdue => &[
                "ItemDefined",
                "CalendarAmended",
                "Submitted",
                "Accepted",
                "Suspended",
                "Resumed",
                "Extended",
                "Concluded",
                "Withdrawn",
                "RejectedAtIntake",
            ],
            Rule::CorrectionRepeated => &["CorrectionRequested"],
            Rule::CorrectionLate => &[
                "CalendarAmended",
                "Submitted",
                "Accepted",
                "CorrectionRequested",
                "RejectedAtIntake",
            ],
            Rule::MaterialsIncomplete => &[
                "ItemDefined",
                "Submitted",
                "MaterialsSupplemented",
                "Accepted",
            ],
            Rule::StepSkipped => &["ItemDefined", "StepCompleted", "Decided", "Concluded"],
            Rule::NoDecision => &["Decided", "Concluded"],
            Rule::SuspensionUnlawful => &["Suspended"],
            Rule::FeeMismatch => &["ItemDefined", "FeeCharged"],
            Rule::ExtensionExcessive => &["ItemDefined", "Extended"],
            Rule::Stalled => &[
                "CalendarAmended",
                "Accepted",
                "Transferred",
                "StepCompleted",
                "Suspended",
                "Resumed",
                "Extended",
                "FeeCharged",
                "Decided",
                "Concluded",
            ],
            Rule::RatingBad => &["Concluded", "Rated"],
            Rule::DataBackdated => &[
                "Submitted",
                "CorrectionRequested",
                "MaterialsSupplemented",
                "Accepted",
                "RejectedAtIntake",
                "Transferred",
                "StepCompleted",
                "Suspended",
                "Resumed",
                "Extended",
                "FeeCharged",
                "Decided",
                "Concluded",
                "Withdrawn",
                "Rated",
                "Complained",
                "HistoryImported",
            ],
            Rule::AcceptanceLate => &[
                "CalendarAmended",
                "CorrectionRequested",
                "MaterialsSupplemented",
                "Accepted",
                "RejectedAtIntake",
            ],
            Rule::LimitsOverridden => &["ItemDefined", "Accepted"],
            Rule::ItemUnknown => &["ItemDefined", "Submitted", "Accepted", "Concluded"],
            Rule::NoAcceptance => &["Accepted", "Concluded"],
            Rule::AfterConclusion => &["Concluded", "Withdrawn", "RejectedAtIntake"],
            Rule::SuspensionOverlong => &["ItemDefined", "CalendarAmended", "Suspended", "Resumed"],
            Rule::Unacknowledged => &["CardIssued", "AlertAcknowledged", "CorrectionCompleted"],
            Rule::CorrectionOverdue | Rule::Escalated => &[
                "CalendarAmended",
                "CorrectionOrdered",
                "CorrectionCompleted",
                "CorrectionVerified",
            ],
            Rule::NotifyFailed => &["NotificationFailed"],
            Rule::RatingUnverified => &["Rated", "RatingVerified"],
            Rule::RectificationOverdue => &["RatingVerified", "RatingRectified"],
            Rule::RatingDuplicate => &["Rated"],
            Rule::ComplaintAcceptanceLate => {
                &["Complained", "ComplaintAccepted", "ComplaintRejected"]
            }
            Rule::ComplaintReplyLate => &["ComplaintAccepted", "ComplaintAnswered"],
            Rule::RatingDefaulted => &["Concluded", "Rated"],
        }
    }
}

/// The thresholds of the time-driven and counting rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertConfig {
    /// When the promised-limit warning fires, unless the item says otherwise.
    pub warning: WarningThreshold,
    /// Working days without action before a running case counts as stalled.
    pub stall_days: u32,
    /// Working days after submission within which the first answer is due (Art. 32).
    pub answer_days: u32,
    /// The most working days one extension may add (Art. 42).
    pub extension_days_max: u32,
    /// How many hours after it occurred an event may be recorded before it counts as
    /// back-dated (`data.backdated`).
    pub backdate_tolerance_hours: u32,
    /// Working days after a red card is raised within which its unit must acknowledge it
    /// (`supervision.unacknowledged`).
    pub ack_days: u32,
    /// Natural days after the conclusion date during which a rating counts (一事一评).
    pub rating_window_days: u32,
    /// Working days the center has to verify a bad rating (`rating.unverified`).
    pub rating_verify_days: u32,
    /// Working days after a valid verdict within which a bad rating is rectified
    /// (`rating.rectification.overdue`).
    pub rectify_days: u32,
    /// Working days to accept or reject a complaint (`complaint.acceptance.late`).
    pub complaint_accept_days: u32,
    /// Working days after acceptance to answer a complaint (`complaint.reply.late`).
    pub complaint_reply_days: u32,
    /// The rating a concluded case gets when its window closes unrated (`rating.defaulted`);
    /// none by default. Set from the scoring scheme's `default_rating` when the projections
    /// keep a ledger.
    pub default_rating: Option<u8>,
}

impl Default for AlertConfig {
    fn default() -> Self {
        AlertConfig {
            warning: WarningThreshold::DaysLeft(1),
            stall_days: 5,
            answer_days: 5,
            extension_days_max: 10,
            backdate_tolerance_hours: 48,
            ack_days: 1,
            rating_window_days: 7,
            rating_verify_days: 1,
            rectify_days: 5,
            complaint_accept_days: 5,
            complaint_reply_days: 10,
            default_rating: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_match_the_design_table() {
        for r in RULES {
            assert_eq!(Rule::from_code(r.code()), Some(r));
        }
        assert_eq!(Rule::from_code("nope"), None);
        let red: Vec<&str> = RULES
            .iter()
            .filter(|r| r.severity() == Severity::Red)
            .map(|r| r.code())
            .collect();
        assert_eq!(
            red,
            [
                "intake.item.unknown",
                "suspension.unlawful",
                "fee.mismatch",
                "procedure.step.skipped",
                "procedure.no_decision",
                "procedure.no_acceptance",
                "deadline.promised.overdue",
                "deadline.statutory.overdue",
                "supervision.correction.overdue",
                "supervision.escalated",
                "rating.rectification.overdue",
                "complaint.reply.late",
                "proc.split",
                "proc.window.short",
                "proc.clarification.late",
                "proc.opening.mismatch",
                "proc.experts.designated",
                "proc.publicity.short",
                "proc.bidders.few",
                "proc.award.not_first",
                "proc.contract.late",
                "proc.contract.deviation",
                "proc.complaint.late",
            ]
        );
        let warnings: Vec<&str> = RULES
            .iter()
            .filter(|r| r.severity() == Severity::Warning)
            .map(|r| r.code())
            .collect();
        assert_eq!(
            warnings,
            [
                "deadline.promised.warning",
                "rating.duplicate",
                "rating.defaulted"
            ]
        );
    }
}
