//! Every event the log can hold, as typed Rust: catalog, calendar, case and supervision facts.
//!
//! Events are named in the past tense and are a permanent wire format. The `data` of each type
//! is a struct with `deny_unknown_fields`, so a misspelt field is an error naming it rather than
//! a silently dropped fact. Rules that only make sense over a case's history (a skipped step, a
//! second correction request) are not checked here: supervision must see what departments
//! really did, so such events are recorded and raise alerts downstream.

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::procurement::*;
use crate::stream::StreamKind;
use crate::time::Timestamp;

/// How a case reached the service network.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// At a window of the district center or a town center.
    Window,
    /// Through the online hall (网上办事大厅).
    Online,
    /// Filed by a village point's agent (代办员) on the citizen's behalf.
    Agent,
    /// At a self-service terminal.
    SelfService,
}

impl Channel {
    /// The wire name of the channel.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Window => "window",
            Channel::Online => "online",
            Channel::Agent => "agent",
            Channel::SelfService => "self_service",
        }
    }
}

/// The decision on an application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The licence is granted.
    Approved,
    /// The application is refused.
    Denied,
}

/// How grave an alert is: a prompt (预警提示), or a card's colour.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// 预警提示: a prompt before a limit expires; not a card, and no points of its own.
    Warning,
    /// 黄牌: a yellow card.
    Yellow,
    /// 红牌: a red card.
    Red,
}

impl Severity {
    /// The wire name of the severity.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Yellow => "yellow",
            Severity::Red => "red",
        }
    }

    /// The severity of a wire name.
    pub fn parse(text: &str) -> Option<Severity> {
        [Severity::Warning, Severity::Yellow, Severity::Red]
            .into_iter()
            .find(|s| s.as_str() == text)
    }

    /// Whether alerts of this severity are cards (yellow or red).
    pub fn is_card(self) -> bool {
        self != Severity::Warning
    }
}

/// When an item's promised-limit warning fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum WarningThreshold {
    /// When this many working days or fewer are left on the promised limit.
    DaysLeft(u32),
    /// When this share of the promised limit, in percent, has been used.
    ShareUsedPercent(u32),
}

/// What a calendar amendment declares for one date of a jurisdiction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AmendmentKind {
    /// A statutory or local holiday: a rest day.
    Holiday,
    /// A rest day that is not a holiday itself (in lieu, or an emergency closure).
    RestDay,
    /// A weekend day made a working day (调休上班日).
    Workday,
    /// The whole year of `date` is now declared: its days are no longer provisional.
    YearDeclared,
}

/// 事项定义: an approval item of the catalog. A redefinition applies to cases accepted after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemDefined {
    /// The item's code, unique in the catalog.
    pub code: String,
    /// The item's name.
    pub name: String,
    /// The org that handles the item.
    pub org: String,
    /// 法定时限, in working days.
    pub statutory_days: u32,
    /// 承诺时限, in working days.
    pub promised_days: u32,
    /// The fee standard, in cents (分).
    pub fee_cents: u64,
    /// The procedure's steps (环节), in order.
    pub steps: Vec<String>,
    /// The materials an application must include.
    pub required_materials: Vec<String>,
    /// Whether the item is handled in the district center (进驻).
    pub in_center: bool,
    /// When the promised-limit warning fires; the engine's default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<WarningThreshold>,
    /// The most working days the one lawful extension may add (Art. 42: 10, or 15 for joint
    /// handling); 10 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_extension_days: Option<u32>,
    /// The working days a suspension is expected to take when its `Suspended` event does not
    /// say (`expected_days`); 30 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspension_expected_days: Option<u32>,
}

/// The extension cap when an item does not set `max_extension_days` (Art. 42).
pub const DEFAULT_MAX_EXTENSION_DAYS: u32 = 10;

/// A suspension's expected working days when neither the event nor the item says.
pub const DEFAULT_SUSPENSION_EXPECTED_DAYS: u32 = 30;

impl ItemDefined {
    /// The extension cap of the item (Art. 42).
    pub fn max_extension_days(&self) -> u32 {
        self.max_extension_days
            .unwrap_or(DEFAULT_MAX_EXTENSION_DAYS)
    }

    /// The expected working days of a suspension that does not say.
    pub fn suspension_expected_days(&self) -> u32 {
        self.suspension_expected_days
            .unwrap_or(DEFAULT_SUSPENSION_EXPECTED_DAYS)
    }
}

/// What kind of unit an org is, for its display.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum OrgKind {
    /// 区: the district itself.
    District,
    /// 政务服务中心: the district's or a town's service center.
    Center,
    /// 部门: a department (organ) handling items.
    Department,
    /// 窗口: a window of a center.
    Window,
    /// 镇街: a town or subdistrict.
    Town,
    /// 村居: a village or community point.
    Village,
    /// 督查: the supervision office.
    Supervision,
}

impl OrgKind {
    /// Every kind, in declaration order.
    pub const ALL: [OrgKind; 7] = [
        OrgKind::District,
        OrgKind::Center,
        OrgKind::Department,
        OrgKind::Window,
        OrgKind::Town,
        OrgKind::Village,
        OrgKind::Supervision,
    ];

    /// The wire name of the kind.
    pub fn as_str(self) -> &'static str {
        match self {
            OrgKind::District => "district",
            OrgKind::Center => "center",
            OrgKind::Department => "department",
            OrgKind::Window => "window",
            OrgKind::Town => "town",
            OrgKind::Village => "village",
            OrgKind::Supervision => "supervision",
        }
    }

    /// The kind of a wire name.
    pub fn parse(text: &str) -> Option<OrgKind> {
        OrgKind::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// 机构定义: an org's display name. A redefinition renames it (the latest wins); an org without
/// one is shown by its path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OrgDefined {
    /// The org's path (`jiangjin/center/dept-07`).
    pub path: String,
    /// Its name (区市场监管局).
    pub name: String,
    /// What kind of unit it is.
    pub kind: OrgKind,
}

/// 督办时限设定: the district's limits of the 预警纠错 workflow, from this event on. Each field
/// given replaces the limit in force (the built-in default until a first definition); a field
/// left out keeps it. It takes effect when it is recorded (never back-dated, never history). A
/// limit that ran out before the change stays where it was; one still running is counted under
/// the new limits (and comes due no earlier than the change).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkflowLimitsDefined {
    /// Working days after a red card is raised within which its unit acknowledges it
    /// (`supervision.unacknowledged`; default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ack_days: Option<u32>,
    /// Natural days after the conclusion date during which a rating counts (default 7).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating_window_days: Option<u32>,
    /// Working days the center has to verify a bad rating (`rating.unverified`; default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating_verify_days: Option<u32>,
    /// Working days after a valid verdict within which a bad rating is rectified
    /// (`rating.rectification.overdue`; default 5; localities use 5, 7 or 15).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rectify_days: Option<u32>,
    /// Working days to accept or reject a complaint (`complaint.acceptance.late`; default 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub complaint_accept_days: Option<u32>,
    /// Working days after acceptance to answer a complaint (`complaint.reply.late`; default
    /// 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub complaint_reply_days: Option<u32>,
}

impl WorkflowLimitsDefined {
    /// The most days a limit may be: a quarter's working days.
    pub const DAYS_MAX: u32 = 60;

    /// Every field by its wire name, with its value if given.
    pub fn fields(&self) -> [(&'static str, Option<u32>); 6] {
        [
            ("ack_days", self.ack_days),
            ("rating_window_days", self.rating_window_days),
            ("rating_verify_days", self.rating_verify_days),
            ("rectify_days", self.rectify_days),
            ("complaint_accept_days", self.complaint_accept_days),
            ("complaint_reply_days", self.complaint_reply_days),
        ]
    }

    fn check(&self) -> Result<(), DataError> {
        let fields = self.fields();
        if fields.iter().all(|(_, v)| v.is_none()) {
            return Err(DataError::new(
                "data",
                "names no limit: give at least one of ack_days, rating_window_days, \
                 rating_verify_days, rectify_days, complaint_accept_days, complaint_reply_days",
            ));
        }
        for (name, value) in fields {
            if let Some(v) = value {
                if !(1..=Self::DAYS_MAX).contains(&v) {
                    return Err(DataError::new(
                        format!("data.{name}"),
                        format!("must be 1 to {}, got {v}", Self::DAYS_MAX),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// A holiday declaration or amendment beyond the built-in calendar data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarAmended {
    /// `national`, or an org-like path whose calendar inherits from its prefixes.
    pub jurisdiction: String,
    /// The day declared.
    pub date: NaiveDate,
    /// What the day becomes.
    pub kind: AmendmentKind,
    /// The notice or reason, as a clerk would cite it.
    pub reason: String,
}

/// 申请: an application arrived.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Submitted {
    /// The item code applied for.
    pub item: String,
    /// How the application arrived.
    pub channel: Channel,
    /// The materials handed in.
    pub materials: Vec<String>,
}

/// 补正告知: the organ asks for missing materials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CorrectionRequested {
    /// Everything missing (一次性告知: all at once).
    pub missing: Vec<String>,
}

/// 补正: the applicant supplies materials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MaterialsSupplemented {
    /// The materials supplied.
    pub materials: Vec<String>,
}

/// 受理: the application is accepted; the clock starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct Accepted {
    /// A promised limit for this case, overriding the item's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promised_days: Option<u32>,
    /// A statutory limit for this case, overriding the item's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statutory_days: Option<u32>,
}

/// 不予受理: the application is refused at intake.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectedAtIntake {
    /// The reason told to the applicant.
    pub reason: String,
}

/// 流转: the case moves to another org (village → town → district department).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Transferred {
    /// The receiving org.
    pub to_org: String,
    /// Why it moves.
    pub reason: String,
}

/// A step (环节) of the item's procedure is done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StepCompleted {
    /// The step's name, as in the item's `steps`.
    pub step: String,
}

/// The clock pauses (Art. 45 periods are not counted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Suspended {
    /// The reason; lawful ones are Art. 45's closed list, anything else is recorded and flagged.
    pub reason: String,
    /// The written notice to the applicant of the time needed; absent when none was given.
    #[serde(default)]
    pub notice: Option<String>,
    /// The working days the applicant was told the suspension takes (schema 2); absent in
    /// older events, when the item's default applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_days: Option<u32>,
}

/// Art. 45's closed list of periods not counted in the limit: each reason's code (as written
/// in `Suspended.reason`) and its name. Any other reason is recorded and flagged.
pub const LAWFUL_SUSPENSIONS: [(&str, &str); 8] = [
    ("hearing", "听证"),
    ("bidding", "招标"),
    ("auction", "拍卖"),
    ("inspection", "检验"),
    ("testing", "检测"),
    ("quarantine", "检疫"),
    ("appraisal", "鉴定"),
    ("expert_review", "专家评审"),
];

/// Whether a suspension reason is on Art. 45's closed list.
pub fn is_lawful_suspension(reason: &str) -> bool {
    LAWFUL_SUSPENSIONS.iter().any(|(code, _)| *code == reason)
}

/// The clock resumes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct Resumed {}

/// 延期: the limits are extended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Extended {
    /// Working days added to both limits.
    pub days: u32,
    /// Who approved it (the organ head).
    pub approved_by: String,
    /// The reason told to the applicant.
    pub reason: String,
}

/// A fee was charged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FeeCharged {
    /// The amount, in cents (分).
    pub amount_cents: u64,
}

/// 决定: the decision is made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Decided {
    /// Approved or denied.
    pub outcome: Outcome,
}

/// 办结: the case is concluded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct Concluded {}

/// 撤回: the applicant withdraws.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Withdrawn {
    /// The applicant's reason.
    pub reason: String,
}

/// 好差评: the applicant rates the service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rated {
    /// 5 非常满意, 4 满意, 3 基本满意, 2 不满意, 1 非常不满意.
    pub score: u8,
}

/// 投诉: the applicant complains.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Complained {
    /// What the complaint is about.
    pub category: String,
}

/// The engine delivered a card; the official act, and the guard against issuing twice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CardIssued {
    /// The case stream the card concerns.
    pub case: String,
    /// The alert rule code, e.g. `deadline.promised.overdue`.
    pub rule: String,
    /// Yellow or red.
    pub severity: Severity,
    /// The threshold instant the card is for.
    pub due: Timestamp,
}

/// The responsible org acknowledged an alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertAcknowledged {
    /// The alert's id.
    pub alert: String,
    /// A remark, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The threshold instant of the card it names (the card's `raised_at`), written by the
    /// server: the act keeps naming that card under a build whose rules number the case's cards
    /// otherwise. Absent in acts written before the field, which name the card by number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_at: Option<Timestamp>,
}

/// 纠错督办: the supervision bureau orders a correction within a number of working days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CorrectionOrdered {
    /// The case stream.
    pub case: String,
    /// The alert that prompted the order.
    pub alert: String,
    /// Working days allowed for the correction.
    pub days: u32,
    /// The threshold instant of the card it names (the card's `raised_at`), written by the
    /// server: the act keeps naming that card under a build whose rules number the case's cards
    /// otherwise. Absent in acts written before the field, which name the card by number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_at: Option<Timestamp>,
}

/// 回告: the org reports the correction done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CorrectionCompleted {
    /// The case stream.
    pub case: String,
    /// The alert the correction answers.
    pub alert: String,
    /// The org's report, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<String>,
    /// The threshold instant of the card it names (the card's `raised_at`), written by the
    /// server: the act keeps naming that card under a build whose rules number the case's cards
    /// otherwise. Absent in acts written before the field, which name the card by number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_at: Option<Timestamp>,
}

/// 免责: the case leaves the assessment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Exempted {
    /// The case stream.
    pub case: String,
    /// Why it is exempted.
    pub reason: String,
}

/// 申诉成立: an appeal against a ledger entry is upheld; the entry is reversed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AppealUpheld {
    /// The ledger entry's id.
    pub entry: String,
    /// The case the entry belongs to. `POST /appeals` always names it; the case then sees the
    /// appeal (an upheld appeal of a rating closes the rating's whole workflow). An appeal
    /// without it (written before the field existed) reverses ledger entries only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case: Option<String>,
    /// Why the appeal was upheld.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// 历史补录: a declared import of history. Events at positions `from_position` to
/// `to_position` (inclusive; the declaration's own position among them) were entered after the
/// fact on purpose: they raise no `data.backdated` and count at their `occurred_at` — the
/// events of cases (and projects) whose first event lies inside a historical import; an event of
/// a case entered live counts as a late entry even inside one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HistoryImported {
    /// The first position covered (the declaration itself).
    pub from_position: u64,
    /// The last position covered.
    pub to_position: u64,
    /// Why the history was entered late.
    pub reason: String,
}

/// 考核期关账: an assessment period is closed. Its report as it stood is fixed by `digest`
/// (SHA-256 of the canonical JSON report), folded up to `position` and evaluated at the
/// event's `occurred_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PeriodClosed {
    /// The period, as `YYYY-MM` (or a quarter, half-year or year label).
    pub period: String,
    /// SHA-256 of the canonical report, hex.
    pub digest: String,
    /// The last position the closed report covers.
    pub position: u64,
    /// The closed report itself, as compact JSON (`period` and `rows`): the figures as they
    /// were closed, kept in the log so that they stay readable when a later build computes the
    /// period otherwise. Its pretty form (`jiancha report --format json`) hashes to `digest`.
    /// Absent from closes written before it was kept, and when it would not fit in an event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<String>,
}

/// A card the live engine delivered that the log, folded again, no longer raises (a later
/// back-dated event showed the condition never arose); the board, the alert list and the
/// ledger drop it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CardWithdrawn {
    /// The case stream.
    pub case: String,
    /// The alert id the card was issued for (`<case>/<rule>/<n>`).
    pub card: String,
    /// Why it is withdrawn.
    pub reason: String,
}

/// 核查: a supervisor verifies a report-back (回告). Accepted, the card closes; rejected, the
/// correction order runs again, its `days` counted from the rejection date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CorrectionVerified {
    /// The case stream.
    pub case: String,
    /// The alert the report-back answered.
    pub alert: String,
    /// Whether the correction is accepted.
    pub accepted: bool,
    /// The supervisor's remark, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The threshold instant of the card it names (the card's `raised_at`), written by the
    /// server: the act keeps naming that card under a build whose rules number the case's cards
    /// otherwise. Absent in acts written before the field, which name the card by number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_at: Option<Timestamp>,
}

/// What the service center found a bad rating to be.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RatingVerdict {
    /// 属实: the complaint in the rating holds; it must be rectified.
    Valid,
    /// 误评: the citizen rated by mistake.
    Mistaken,
    /// 恶意: a malicious rating.
    Malicious,
}

impl RatingVerdict {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            RatingVerdict::Valid => "valid",
            RatingVerdict::Mistaken => "mistaken",
            RatingVerdict::Malicious => "malicious",
        }
    }
}

/// 差评核实: the center verifies the counted bad rating of a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RatingVerified {
    /// The case stream.
    pub case: String,
    /// What the rating was found to be.
    pub verdict: RatingVerdict,
    /// The center's remark, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// 差评整改: the unit reports the bad rating rectified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RatingRectified {
    /// The case stream.
    pub case: String,
    /// The unit's report.
    pub report: String,
}

/// 回访: the citizen's second evaluation after a rectification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RatingCallback {
    /// The case stream.
    pub case: String,
    /// 1 to 5, as a rating.
    pub score: u8,
}

/// 投诉受理: a complaint is accepted and routed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ComplaintAccepted {
    /// The complaint's id, `<case>/complaint/<n>`.
    pub complaint: String,
    /// The org that answers it; the category's default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route_to: Option<String>,
}

/// 投诉不予受理: a complaint is rejected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ComplaintRejected {
    /// The complaint's id, `<case>/complaint/<n>`.
    pub complaint: String,
    /// Why, as told to the complainant.
    pub reason: String,
}

/// What the answer to a complaint found.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Finding {
    /// 属实: the complaint is upheld.
    Upheld,
    /// 不属实: the complaint is not upheld.
    NotUpheld,
}

impl Finding {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Finding::Upheld => "upheld",
            Finding::NotUpheld => "not_upheld",
        }
    }
}

/// 投诉答复: the complainant is answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ComplaintAnswered {
    /// The complaint's id, `<case>/complaint/<n>`.
    pub complaint: String,
    /// What the handling found.
    pub finding: Finding,
    /// The reply told to the complainant.
    pub reply: String,
}

/// 推送: a notification was delivered (any 2xx from the recipient's webhook).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NotificationSent {
    /// The notification's id, `<alert id>/<recipient name>`.
    pub notification: String,
    /// The recipient's name (in the notification configuration).
    pub recipient: String,
    /// How many attempts it took.
    pub attempts: u32,
}

/// 推送失败: a notification could not be delivered after its last attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NotificationFailed {
    /// The notification's id, `<alert id>/<recipient name>`.
    pub notification: String,
    /// The recipient's name.
    pub recipient: String,
    /// The last attempt's error.
    pub error: String,
}

/// Why an event's `data` was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct DataError {
    /// The offending field, as a dotted path starting at `data` (or `type`).
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl DataError {
    pub(crate) fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        DataError {
            field: field.into(),
            message: message.into(),
        }
    }
}

macro_rules! vocabulary {
    ($( $name:ident => $kind:ident, schema $schema:literal; )*) => {
        /// One event's payload, tagged by its type name.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum EventData {
            $(
                #[doc = concat!("A [`", stringify!($name), "`] event.")]
                $name($name),
            )*
        }

        /// Every event type name, in the vocabulary's order.
        pub const EVENT_TYPES: &[&str] = &[$(stringify!($name)),*];

        impl EventData {
            /// The event's type name, as written in the `type` field.
            pub fn type_name(&self) -> &'static str {
                match self { $(EventData::$name(_) => stringify!($name),)* }
            }

            /// The kind of stream the event belongs to.
            pub fn stream_kind(&self) -> StreamKind {
                match self { $(EventData::$name(_) => StreamKind::$kind,)* }
            }

            /// The canonical JSON text of the data (struct field order, compact).
            pub fn to_json(&self) -> String {
                let text = match self {
                    $(EventData::$name(d) => serde_json::to_string(d),)*
                };
                // Serialising these plain structs cannot fail: no maps with non-string keys.
                text.unwrap_or_else(|_| String::from("{}"))
            }

            /// Decodes a current-schema `data` value of the named type.
            pub fn decode(type_name: &str, value: serde_json::Value) -> Result<Self, DataError> {
                let data = match type_name {
                    $(stringify!($name) => EventData::$name(decode_as::<$name>(value)?),)*
                    other => return Err(unknown_type(other)),
                };
                data.check()?;
                Ok(data)
            }
        }

        impl EventData {
            /// Decodes current-schema `data` straight from its JSON text (no intermediate
            /// value): the fast path of reading and importing.
            pub fn decode_str(type_name: &str, text: &str) -> Result<Self, DataError> {
                let data = match type_name {
                    $(stringify!($name) => EventData::$name(decode_text_as::<$name>(text)?),)*
                    other => return Err(unknown_type(other)),
                };
                data.check()?;
                Ok(data)
            }
        }

        /// The current schema version of a type, or `None` for an unknown type.
        pub fn current_schema(type_name: &str) -> Option<u32> {
            match type_name { $(stringify!($name) => Some($schema),)* _ => None }
        }

        /// The JSON Schema of a type's current-schema `data`, or `None` for an unknown type:
        /// a reference into `generator`'s definitions, where the type's own schema (with its
        /// doc comments as descriptions) and those of the enums it uses are added.
        pub fn data_schema(
            generator: &mut schemars::SchemaGenerator,
            type_name: &str,
        ) -> Option<schemars::Schema> {
            match type_name {
                $(stringify!($name) => Some(generator.subschema_for::<$name>()),)*
                _ => None,
            }
        }

        /// The stream kind a type belongs to, or `None` for an unknown type.
        pub fn stream_kind_of(type_name: &str) -> Option<StreamKind> {
            match type_name { $(stringify!($name) => Some(StreamKind::$kind),)* _ => None }
        }
    };
}

vocabulary! {
    ItemDefined => Catalog, schema 2;
    OrgDefined => Catalog, schema 1;
    CalendarAmended => Calendar, schema 1;
    Submitted => Case, schema 1;
    CorrectionRequested => Case, schema 1;
    MaterialsSupplemented => Case, schema 1;
    Accepted => Case, schema 1;
    RejectedAtIntake => Case, schema 1;
    Transferred => Case, schema 1;
    StepCompleted => Case, schema 1;
    Suspended => Case, schema 2;
    Resumed => Case, schema 1;
    Extended => Case, schema 1;
    FeeCharged => Case, schema 1;
    Decided => Case, schema 1;
    Concluded => Case, schema 1;
    Withdrawn => Case, schema 1;
    Rated => Case, schema 1;
    Complained => Case, schema 1;
    CardIssued => Supervision, schema 1;
    AlertAcknowledged => Supervision, schema 1;
    CorrectionOrdered => Supervision, schema 1;
    CorrectionCompleted => Supervision, schema 1;
    Exempted => Supervision, schema 1;
    AppealUpheld => Supervision, schema 1;
    HistoryImported => Supervision, schema 1;
    PeriodClosed => Supervision, schema 1;
    CardWithdrawn => Supervision, schema 1;
    CorrectionVerified => Supervision, schema 1;
    RatingVerified => Supervision, schema 1;
    RatingRectified => Supervision, schema 1;
    RatingCallback => Supervision, schema 1;
    ComplaintAccepted => Supervision, schema 1;
    ComplaintRejected => Supervision, schema 1;
    ComplaintAnswered => Supervision, schema 1;
    NotificationSent => Supervision, schema 1;
    NotificationFailed => Supervision, schema 1;
    ThresholdDefined => Catalog, schema 1;
    WorkflowLimitsDefined => Catalog, schema 1;
    ProcurementRegistered => Procurement, schema 1;
    DocumentsIssued => Procurement, schema 1;
    Clarified => Procurement, schema 1;
    BidDeadlineSet => Procurement, schema 1;
    ObjectionFiled => Procurement, schema 1;
    ObjectionAnswered => Procurement, schema 1;
    BidsOpened => Procurement, schema 1;
    ExpertsDrawn => Procurement, schema 1;
    EvaluationReported => Procurement, schema 1;
    ResultConfirmed => Procurement, schema 1;
    CandidatesPublicized => Procurement, schema 1;
    ResultPublished => Procurement, schema 1;
    AwardNoticeIssued => Procurement, schema 1;
    ContractSigned => Procurement, schema 1;
    ContractPublished => Procurement, schema 1;
    ContractFiled => Procurement, schema 1;
    AwardReported => Procurement, schema 1;
    SupplementalContract => Procurement, schema 1;
    BondTaken => Procurement, schema 1;
    EnquiryFiled => Procurement, schema 1;
    EnquiryAnswered => Procurement, schema 1;
    ComplaintFiled => Procurement, schema 1;
    ComplaintDecided => Procurement, schema 1;
    Retendered => Procurement, schema 1;
    ProcurementClosed => Procurement, schema 1;
}

fn unknown_type(name: &str) -> DataError {
    DataError::new("type", format!("unknown event type {name:?}"))
}

fn decode_as<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> Result<T, DataError> {
    if !value.is_object() {
        return Err(DataError::new("data", "must be a JSON object"));
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        data_error_from_serde(&path, &inner)
    })
}

fn decode_text_as<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, DataError> {
    if !text.trim_start().starts_with('{') {
        return Err(DataError::new("data", "must be a JSON object"));
    }
    // The plain parse first; a failure is parsed again with its path tracked for the message.
    if let Ok(value) = serde_json::from_str::<T>(text) {
        return Ok(value);
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            // The path names where; serde's place is within `data`, not the line.
            let message = inner.to_string();
            return DataError::new(
                data_path(&path),
                format!("malformed JSON: {}", without_place(&message)),
            );
        }
        data_error_from_serde(&path, &inner.to_string())
    })?;
    de.end()
        .map_err(|e| DataError::new("data", format!("trailing characters: {e}")))?;
    Ok(value)
}

/// serde's message without its ` at line L column C`: a place within `data`'s own text, which a
/// reader would take for a place within the line (the field's path names where).
fn without_place(message: &str) -> &str {
    let Some((head, place)) = message.rsplit_once(" at line ") else {
        return message;
    };
    let is_place = place.split_once(" column ").is_some_and(|(l, c)| {
        !l.is_empty()
            && !c.is_empty()
            && l.bytes().all(|b| b.is_ascii_digit())
            && c.bytes().all(|b| b.is_ascii_digit())
    });
    if is_place {
        head
    } else {
        message
    }
}

/// The field a serde path names within `data` (`data.materials[0]`, or `data` itself).
fn data_path(path: &str) -> String {
    if path == "." || path.is_empty() {
        "data".to_owned()
    } else {
        format!("data.{path}")
    }
}

/// Turns serde's message into `field: what`, naming a missing or unknown field itself.
fn data_error_from_serde(path: &str, message: &str) -> DataError {
    let message = without_place(message);
    let base = data_path(path);
    for (marker, what) in [
        ("missing field `", "missing"),
        ("unknown field `", "unknown field"),
    ] {
        if let Some(rest) = message.strip_prefix(marker) {
            let name = rest.split('`').next().unwrap_or_default();
            let detail = if what == "unknown field" {
                message
                    .split_once(", expected")
                    .map(|(_, e)| format!("unknown field (expected{e})"))
            } else {
                None
            };
            let field = if base.ends_with(&format!(".{name}")) {
                base
            } else {
                format!("{base}.{name}")
            };
            return DataError::new(field, detail.unwrap_or_else(|| what.into()));
        }
    }
    DataError::new(base, message)
}

impl EventData {
    /// The case stream a supervision event names: the `case` of a card, correction order or
    /// exemption, the case part of an acknowledged alert's id (`<case>/<rule>/<n>`; case ids
    /// hold no `/`). The SQL stores index the same expression, so this is what they find.
    pub fn concerns_case(&self) -> Option<&str> {
        match self {
            EventData::CardIssued(c) => Some(&c.case),
            EventData::CorrectionOrdered(c) => Some(&c.case),
            EventData::CorrectionCompleted(c) => Some(&c.case),
            EventData::Exempted(e) => Some(&e.case),
            EventData::AppealUpheld(a) => a.case.as_deref(),
            EventData::CardWithdrawn(c) => Some(&c.case),
            EventData::AlertAcknowledged(a) => a.alert.split_once('/').map(|(case, _)| case),
            EventData::CorrectionVerified(c) => Some(&c.case),
            EventData::RatingVerified(r) => Some(&r.case),
            EventData::RatingRectified(r) => Some(&r.case),
            EventData::RatingCallback(r) => Some(&r.case),
            EventData::ComplaintAccepted(c) => c.complaint.split_once('/').map(|(case, _)| case),
            EventData::ComplaintRejected(c) => c.complaint.split_once('/').map(|(case, _)| case),
            EventData::ComplaintAnswered(c) => c.complaint.split_once('/').map(|(case, _)| case),
            EventData::NotificationSent(n) => n.notification.split_once('/').map(|(case, _)| case),
            EventData::NotificationFailed(n) => {
                n.notification.split_once('/').map(|(case, _)| case)
            }
            _ => None,
        }
    }
}

impl EventData {
    /// Checks what the types alone cannot say: ranges, non-empty names, valid org paths.
    pub fn check(&self) -> Result<(), DataError> {
        match self {
            EventData::ItemDefined(d) => check_item(d),
            EventData::OrgDefined(d) => {
                crate::stream::check_org("data.path", &d.path)?;
                non_empty("data.name", &d.name)
            }
            EventData::CalendarAmended(d) => non_empty("data.jurisdiction", &d.jurisdiction),
            EventData::WorkflowLimitsDefined(d) => d.check(),
            EventData::Submitted(d) => non_empty("data.item", &d.item),
            EventData::Transferred(d) => crate::stream::check_org("data.to_org", &d.to_org),
            EventData::StepCompleted(d) => non_empty("data.step", &d.step),
            EventData::Extended(d) if d.days == 0 => {
                Err(DataError::new("data.days", "must be at least 1"))
            }
            EventData::Rated(d) if !(1..=5).contains(&d.score) => Err(DataError::new(
                "data.score",
                format!(
                    "must be 1 to 5 (5 非常满意 … 1 非常不满意), got {}",
                    d.score
                ),
            )),
            EventData::CardIssued(d) => crate::stream::StreamName::parse(&d.case)
                .map(|_| ())
                .map_err(|m| DataError::new("data.case", m.to_string())),
            EventData::CorrectionOrdered(d) if d.days == 0 => {
                Err(DataError::new("data.days", "must be at least 1"))
            }
            EventData::Exempted(d) => non_empty("data.case", &d.case),
            EventData::AppealUpheld(d) => {
                non_empty("data.entry", &d.entry)?;
                match &d.case {
                    Some(case) => non_empty("data.case", case),
                    None => Ok(()),
                }
            }
            EventData::Suspended(d) if d.expected_days == Some(0) => {
                Err(DataError::new("data.expected_days", "must be at least 1"))
            }
            EventData::HistoryImported(d) if d.to_position < d.from_position => Err(
                DataError::new("data.to_position", "must not be before from_position"),
            ),
            EventData::PeriodClosed(d) => {
                check_digest(&d.digest)?;
                d.report
                    .as_deref()
                    .map_or(Ok(()), |r| check_kept_report(r, &d.period))
            }
            EventData::CardWithdrawn(d) => non_empty("data.card", &d.card),
            EventData::CorrectionVerified(d) => non_empty("data.alert", &d.alert),
            EventData::RatingVerified(d) => non_empty("data.case", &d.case),
            EventData::RatingRectified(d) => non_empty("data.report", &d.report),
            EventData::RatingCallback(d) if !(1..=5).contains(&d.score) => Err(DataError::new(
                "data.score",
                format!("must be 1 to 5, got {}", d.score),
            )),
            EventData::ComplaintAccepted(d) => check_complaint_id(&d.complaint).and_then(|()| {
                d.route_to
                    .as_deref()
                    .map_or(Ok(()), |org| crate::stream::check_org("data.route_to", org))
            }),
            EventData::ComplaintRejected(d) => {
                check_complaint_id(&d.complaint)?;
                non_empty("data.reason", &d.reason)
            }
            EventData::ComplaintAnswered(d) => {
                check_complaint_id(&d.complaint)?;
                non_empty("data.reply", &d.reply)
            }
            EventData::NotificationSent(d) => non_empty("data.notification", &d.notification),
            EventData::NotificationFailed(d) => non_empty("data.notification", &d.notification),
            data => crate::procurement::check(data),
        }
    }
}

fn check_item(d: &ItemDefined) -> Result<(), DataError> {
    non_empty("data.code", &d.code)?;
    crate::stream::check_org("data.org", &d.org)?;
    if d.statutory_days == 0 {
        return Err(DataError::new("data.statutory_days", "must be at least 1"));
    }
    if d.promised_days == 0 || d.promised_days > d.statutory_days {
        return Err(DataError::new(
            "data.promised_days",
            format!(
                "must be 1 to statutory_days ({}), got {}",
                d.statutory_days, d.promised_days
            ),
        ));
    }
    Ok(())
}

/// The longest limit, in working days: about one year of working days. A statutory limit
/// beyond it is a typo (or an attempt to keep a case off the board), not a law.
pub const LIMIT_DAYS_MAX: u32 = 250;

/// An act naming both a case and one of its alerts (`<case>/<rule>/<n>`) names the alert of
/// that case: an order on another case's card would be charged to the wrong one.
fn check_alert_of_case(case: &str, alert: &str) -> Result<(), DataError> {
    match alert.rsplitn(3, '/').nth(2) {
        Some(of) if of == case => Ok(()),
        _ => Err(DataError::new(
            "data.alert",
            format!("{alert:?} is not an alert of {case:?} (an alert id is <case>/<rule>/<n>)"),
        )),
    }
}

impl EventData {
    /// The checks of a new event on its way into the log: [`EventData::check`] (which every
    /// stored event passed when it was written, and which decoding repeats) and the stricter
    /// rules of later versions, which events already in the log (or moved from another log)
    /// need not meet — a log written before them must always load: limits within 1 ..=
    /// [`LIMIT_DAYS_MAX`] working days, a promise no longer than the statutory limit, a
    /// calendar jurisdiction that is `national` or a clean org-like path, an appeal naming a
    /// card or rating entry by its stable id, a correction act's alert of the case it names,
    /// and none of the events only the commands and the engine write.
    pub fn check_append(&self) -> Result<(), DataError> {
        self.check()?;
        match self {
            EventData::ItemDefined(d) => check_item_append(d),
            EventData::OrgDefined(d) => check_shown_text("data.name", &d.name),
            EventData::Extended(d) => check_limit("data.days", d.days),
            EventData::Suspended(d) => match d.expected_days {
                Some(days) => check_limit("data.expected_days", days),
                None => Ok(()),
            },
            EventData::Accepted(d) => check_accepted(d),
            // An order's working days are bounded as an item's limits are.
            EventData::CorrectionOrdered(d) => {
                check_alert_of_case(&d.case, &d.alert)?;
                check_limit("data.days", d.days)
            }
            EventData::CorrectionCompleted(d) => check_alert_of_case(&d.case, &d.alert),
            EventData::CorrectionVerified(d) => check_alert_of_case(&d.case, &d.alert),
            EventData::CalendarAmended(d) => {
                crate::stream::check_org("data.jurisdiction", &d.jurisdiction)?;
                use crate::time::{FIRST_BUSINESS_DATE, LAST_BUSINESS_DATE};
                if (FIRST_BUSINESS_DATE..=LAST_BUSINESS_DATE).contains(&d.date) {
                    return Ok(());
                }
                Err(DataError::new(
                    "data.date",
                    format!(
                        "{} is outside {FIRST_BUSINESS_DATE} to {LAST_BUSINESS_DATE}, the dates \
                         the working-day calendar covers",
                        d.date
                    ),
                ))
            }
            // Written by the commands that own them, never taken from input: a declaration of
            // history or a period close made by hand could hide back-dating or forge figures.
            EventData::HistoryImported(_) => Err(DataError::new(
                "type",
                "HistoryImported is written by `jiancha import --historical` (or the historical \
                 flag of POST /events), not sent as an event",
            )),
            EventData::PeriodClosed(_) => Err(DataError::new(
                "type",
                "PeriodClosed is written by `jiancha report close` (or POST \
                 /api/v1/reports/close), not sent as an event",
            )),
            EventData::CardWithdrawn(_) => Err(DataError::new(
                "type",
                "CardWithdrawn is written by the engine, not sent as an event",
            )),
            EventData::NotificationSent(_) | EventData::NotificationFailed(_) => {
                Err(DataError::new(
                    "type",
                    "NotificationSent and NotificationFailed are written by the engine's \
                     notifier, not sent as events",
                ))
            }
            EventData::AppealUpheld(d) => crate::entry::EntryId::parse(&d.entry)
                .map(|_| ())
                .map_err(|m| DataError::new("data.entry", m.to_string())),
            _ => Ok(()),
        }
    }
}

/// The number of a complaint id `<case>/complaint/<n>` (n ≥ 1).
pub fn parse_complaint_id(id: &str) -> Option<(&str, u16)> {
    let (case, n) = id.rsplit_once("/complaint/")?;
    let n: u16 = n.parse().ok()?;
    (n >= 1 && !case.is_empty() && !case.contains('/')).then_some((case, n))
}

fn check_complaint_id(id: &str) -> Result<(), DataError> {
    match parse_complaint_id(id) {
        Some((case, _)) => crate::stream::StreamName::parse(case)
            .map(|_| ())
            .map_err(|m| DataError::new("data.complaint", m.to_string())),
        None => Err(DataError::new(
            "data.complaint",
            format!("must be a complaint id `<case>/complaint/<n>` (n from 1), got {id:?}"),
        )),
    }
}

/// A closed report kept in its close: a JSON object of the same period, with rows.
fn check_kept_report(text: &str, period: &str) -> Result<(), DataError> {
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| DataError::new("data.report", format!("not a JSON report: {e}")))?;
    match (value.get("period"), value.get("rows")) {
        (Some(serde_json::Value::String(p)), Some(serde_json::Value::Array(_))) if p == period => {
            Ok(())
        }
        (Some(serde_json::Value::String(p)), Some(serde_json::Value::Array(_))) => {
            Err(DataError::new(
                "data.report",
                format!("the report is of {p}, the close of {period}"),
            ))
        }
        _ => Err(DataError::new(
            "data.report",
            "a report is an object with `period` and `rows`",
        )),
    }
}

fn check_digest(digest: &str) -> Result<(), DataError> {
    digest
        .parse::<crate::Hash>()
        .map(|_| ())
        .map_err(|m| DataError::new("data.digest", m))
}

fn check_limit(field: &str, days: u32) -> Result<(), DataError> {
    if (1..=LIMIT_DAYS_MAX).contains(&days) {
        return Ok(());
    }
    Err(DataError::new(
        field,
        format!("must be 1 to {LIMIT_DAYS_MAX} working days, got {days}"),
    ))
}

/// An item's numbers within what a procedure can be, and its texts fit to show: a limit, cap or
/// share out of range would keep its cases off the board (an extension cap of four billion
/// days never comes due).
fn check_item_append(d: &ItemDefined) -> Result<(), DataError> {
    check_limit("data.statutory_days", d.statutory_days)?;
    check_shown_text("data.code", &d.code)?;
    if d.code.contains('/') || d.code.chars().count() > ITEM_CODE_CHARS_MAX {
        return Err(DataError::new(
            "data.code",
            format!("must be at most {ITEM_CODE_CHARS_MAX} characters, without '/'"),
        ));
    }
    check_shown_text("data.name", &d.name)?;
    if let Some(days) = d.max_extension_days {
        // 0: no extension for this item.
        if days > LIMIT_DAYS_MAX {
            return Err(DataError::new(
                "data.max_extension_days",
                format!("must be 0 to {LIMIT_DAYS_MAX} working days, got {days}"),
            ));
        }
    }
    if let Some(days) = d.suspension_expected_days {
        check_limit("data.suspension_expected_days", days)?;
    }
    match d.warning {
        Some(WarningThreshold::ShareUsedPercent(p)) if !(1..=100).contains(&p) => {
            return Err(DataError::new(
                "data.warning.share_used_percent",
                format!("must be 1 to 100, got {p}"),
            ))
        }
        Some(WarningThreshold::DaysLeft(n)) if n > LIMIT_DAYS_MAX => {
            return Err(DataError::new(
                "data.warning.days_left",
                format!("must be 0 to {LIMIT_DAYS_MAX} working days, got {n}"),
            ))
        }
        _ => {}
    }
    for (i, step) in d.steps.iter().enumerate() {
        non_empty(&format!("data.steps[{i}]"), step)?;
        check_shown_text(&format!("data.steps[{i}]"), step)?;
    }
    Ok(())
}

/// The most characters of an item code.
pub const ITEM_CODE_CHARS_MAX: usize = 64;

/// A text shown to people (a name, a code): no control characters and no bidirectional
/// overrides, which could make a shown name read as another.
fn check_shown_text(field: &str, text: &str) -> Result<(), DataError> {
    let bad = text
        .chars()
        .find(|c| c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'));
    match bad {
        Some(c) => Err(DataError::new(
            field,
            format!("contains the control character U+{:04X}", u32::from(c)),
        )),
        None => Ok(()),
    }
}

fn check_accepted(d: &Accepted) -> Result<(), DataError> {
    if let Some(days) = d.promised_days {
        check_limit("data.promised_days", days)?;
    }
    if let Some(days) = d.statutory_days {
        check_limit("data.statutory_days", days)?;
    }
    match (d.promised_days, d.statutory_days) {
        (Some(promised), Some(statutory)) if promised > statutory => Err(DataError::new(
            "data.promised_days",
            format!("must not exceed statutory_days ({statutory}), got {promised}"),
        )),
        _ => Ok(()),
    }
}

pub(crate) fn non_empty(field: &str, value: &str) -> Result<(), DataError> {
    if value.trim().is_empty() {
        Err(DataError::new(field, "must not be empty"))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests;
