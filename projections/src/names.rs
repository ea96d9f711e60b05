//! Display names in Chinese and English: the one source of the names people read for rule
//! codes, case statuses, severities, channels and event types. The CLI's tables and the
//! 监察建议书 read them here; the dashboard's tables (`crates/server/assets/dashboard.js`) are
//! held to the same wording by a test in the server crate. Names are for people only: the
//! machine formats (JSON, CSV, JSONL) keep the codes.

use crate::kinds::procurement::rules::ProcRuleInfo as _;
use jiancha_events::{Channel, Severity};

use crate::case::Status;
use crate::rules::Rule;

/// A language people read the output in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Lang {
    /// 简体中文.
    Zh,
    /// English (also the fallback for every locale that is not Chinese).
    #[default]
    En,
}

impl Lang {
    /// Both languages.
    pub const ALL: [Lang; 2] = [Lang::Zh, Lang::En];

    /// The language's code: `zh` or `en`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    /// The language of a code (`zh`, `en`, any case).
    pub fn parse(text: &str) -> Option<Lang> {
        Lang::ALL
            .into_iter()
            .find(|l| l.code().eq_ignore_ascii_case(text))
    }

    /// The language of a POSIX locale value (`zh_CN.UTF-8`, `en_US`, `C`): Chinese for a value
    /// starting with `zh`, English otherwise.
    pub fn of_locale(value: &str) -> Lang {
        if value.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("zh")) {
            Lang::Zh
        } else {
            Lang::En
        }
    }

    /// The language of the environment's locale variables, given as read (the caller reads the
    /// environment): the first of `LC_ALL`, `LC_MESSAGES`, `LANG` that is set and not empty
    /// decides, as POSIX orders them; none decides English.
    pub fn from_locale_vars(
        lc_all: Option<&str>,
        lc_messages: Option<&str>,
        lang: Option<&str>,
    ) -> Lang {
        [lc_all, lc_messages, lang]
            .into_iter()
            .flatten()
            .find(|v| !v.is_empty())
            .map_or(Lang::En, Lang::of_locale)
    }

    /// Picks the text of this language from a pair.
    pub fn pick<T>(self, zh: T, en: T) -> T {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }
}

impl Rule {
    /// The rule's display name (the dashboard's wording).
    pub fn name(self, lang: Lang) -> &'static str {
        let (zh, en) = rule_names(self);
        lang.pick(zh, en)
    }
}

/// A rule's Chinese and English names.
fn rule_names(rule: Rule) -> (&'static str, &'static str) {
    match rule {
        Rule::PromisedWarning => ("承诺时限预警", "Promised limit near"),
        Rule::PromisedOverdue => ("超承诺时限", "Past promised limit"),
        Rule::StatutoryOverdue => ("超法定时限", "Past statutory limit"),
        Rule::CorrectionRepeated => ("多次补正", "Repeated correction"),
        Rule::CorrectionLate => ("补正告知超期", "Late intake answer"),
        Rule::MaterialsIncomplete => ("材料不全受理", "Accepted incomplete"),
        Rule::StepSkipped => ("程序环节缺失", "Step skipped"),
        Rule::NoDecision => ("无决定办结", "No decision"),
        Rule::SuspensionUnlawful => ("违规暂停", "Unlawful suspension"),
        Rule::FeeMismatch => ("收费不符", "Fee mismatch"),
        Rule::ExtensionExcessive => ("违规延期", "Excessive extension"),
        Rule::Stalled => ("案件停滞", "Stalled"),
        Rule::RatingBad => ("差评", "Bad rating"),
        Rule::DataBackdated => ("补录倒签", "Back-dated entry"),
        Rule::AcceptanceLate => ("补正后受理超期", "Late acceptance after supplements"),
        Rule::LimitsOverridden => ("擅自延长时限", "Limits lengthened at acceptance"),
        Rule::ItemUnknown => ("事项未登记", "Item not in the catalog"),
        Rule::NoAcceptance => ("未受理即办结", "Concluded without acceptance"),
        Rule::AfterConclusion => ("办结后操作", "Action after the end"),
        Rule::SuspensionOverlong => ("暂停超期", "Suspension overran its notice"),
        Rule::Unacknowledged => ("未及时签收", "Not acknowledged in time"),
        Rule::CorrectionOverdue => ("督办逾期未回告", "Correction not reported back"),
        Rule::Escalated => ("督办升级", "Escalated"),
        Rule::NotifyFailed => ("推送失败", "Notification failed"),
        Rule::RatingUnverified => ("差评未及时核实", "Bad rating not verified"),
        Rule::RectificationOverdue => ("差评整改逾期", "Rectification overdue"),
        Rule::RatingDuplicate => ("重复评价", "Repeated rating"),
        Rule::ComplaintAcceptanceLate => ("投诉受理超时", "Complaint not accepted in time"),
        Rule::ComplaintReplyLate => ("投诉答复超时", "Complaint not answered in time"),
        Rule::RatingDefaulted => ("默认评价", "Default rating"),
        Rule::Procurement(r) => r.names(),
    }
}

/// The display name of a rule code; an unknown code (from a newer log) is shown as itself.
pub fn rule_name(code: &str, lang: Lang) -> &str {
    Rule::from_code(code).map_or(code, |r| r.name(lang))
}

/// The display name of a case status.
pub fn status_name(status: Status, lang: Lang) -> &'static str {
    match status {
        Status::Submitted => lang.pick("已申请", "submitted"),
        Status::Running => lang.pick("办理中", "running"),
        Status::Suspended => lang.pick("暂停", "suspended"),
        Status::Concluded => lang.pick("已办结", "concluded"),
        Status::Withdrawn => lang.pick("已撤回", "withdrawn"),
        Status::Rejected => lang.pick("不予受理", "rejected"),
    }
}

/// The display name of a status's wire name (`running`, …); an unknown one is shown as itself.
pub fn status_code_name(code: &str, lang: Lang) -> &str {
    crate::caselist::parse_status(code).map_or(code, |s| status_name(s, lang))
}

/// The display name of a severity: a prompt (预警提示) or a card's colour.
pub fn severity_name(severity: Severity, lang: Lang) -> &'static str {
    match severity {
        Severity::Warning => lang.pick("预警提示", "warning"),
        Severity::Yellow => lang.pick("黄牌", "yellow"),
        Severity::Red => lang.pick("红牌", "red"),
    }
}

/// The display name of a severity's wire name; an unknown one is shown as itself.
pub fn severity_code_name(code: &str, lang: Lang) -> &str {
    Severity::parse(code).map_or(code, |s| severity_name(s, lang))
}

/// The display name of a channel's wire name (`window`, …); an unknown one is shown as itself.
pub fn channel_name(code: &str, lang: Lang) -> &str {
    let channel = [
        Channel::Window,
        Channel::Online,
        Channel::Agent,
        Channel::SelfService,
    ]
    .into_iter()
    .find(|c| c.as_str() == code);
    match channel {
        Some(Channel::Window) => lang.pick("窗口", "window"),
        Some(Channel::Online) => lang.pick("网上办理", "online"),
        Some(Channel::Agent) => lang.pick("代办", "agent"),
        Some(Channel::SelfService) => lang.pick("自助终端", "self-service"),
        None => code,
    }
}

/// The Chinese name of an event type (`Submitted` → 申请); `其他` for a type this version does
/// not know.
pub fn event_zh(kind: &str) -> &'static str {
    match kind {
        "ItemDefined" => "事项定义",
        "OrgDefined" => "机构定义",
        "CalendarAmended" => "日历调整",
        "Submitted" => "申请",
        "CorrectionRequested" => "补正告知",
        "MaterialsSupplemented" => "补正材料",
        "Accepted" => "受理",
        "RejectedAtIntake" => "不予受理",
        "Transferred" => "移交",
        "StepCompleted" => "环节办结",
        "Suspended" => "暂停",
        "Resumed" => "恢复",
        "Extended" => "延期",
        "FeeCharged" => "收费",
        "Decided" => "作出决定",
        "Concluded" => "办结",
        "Withdrawn" => "撤回",
        "Rated" => "评价",
        "Complained" => "投诉",
        "CardIssued" => "发牌",
        "AlertAcknowledged" => "签收",
        "CorrectionOrdered" => "督办",
        "CorrectionCompleted" => "回告",
        "Exempted" => "免责",
        "AppealUpheld" => "申诉成立",
        "HistoryImported" => "历史补录",
        "PeriodClosed" => "考核关账",
        "CardWithdrawn" => "撤牌",
        "CorrectionVerified" => "核查",
        "RatingVerified" => "差评核实",
        "RatingRectified" => "差评整改",
        "RatingCallback" => "回访",
        "ComplaintAccepted" => "投诉受理",
        "ComplaintRejected" => "投诉不予受理",
        "ComplaintAnswered" => "投诉答复",
        "NotificationSent" => "推送",
        "NotificationFailed" => "推送失败",
        "ThresholdDefined" => "公开招标数额标准",
        "WorkflowLimitsDefined" => "督办时限设定",
        "ProcurementRegistered" => "采购项目登记",
        "DocumentsIssued" => "发出采购文件",
        "Clarified" => "澄清修改",
        "BidDeadlineSet" => "投标截止时间",
        "ObjectionFiled" => "提出异议",
        "ObjectionAnswered" => "异议答复",
        "BidsOpened" => "开标",
        "ExpertsDrawn" => "抽取评审专家",
        "EvaluationReported" => "评审报告",
        "ResultConfirmed" => "确认采购结果",
        "CandidatesPublicized" => "中标候选人公示",
        "ResultPublished" => "结果公告",
        "AwardNoticeIssued" => "中标通知书",
        "ContractSigned" => "签订合同",
        "ContractPublished" => "合同公告",
        "ContractFiled" => "合同备案",
        "AwardReported" => "书面报告",
        "SupplementalContract" => "补充合同",
        "BondTaken" => "收取保证金",
        "EnquiryFiled" => "提出质疑",
        "EnquiryAnswered" => "质疑答复",
        "ComplaintFiled" => "采购投诉",
        "ComplaintDecided" => "投诉处理决定",
        "Retendered" => "重新招标",
        "ProcurementClosed" => "项目结束",
        _ => "其他",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::RULES;

    #[test]
    fn the_locale_follows_posix_precedence() {
        assert_eq!(Lang::from_locale_vars(None, None, None), Lang::En);
        assert_eq!(
            Lang::from_locale_vars(None, None, Some("zh_CN.UTF-8")),
            Lang::Zh
        );
        assert_eq!(
            Lang::from_locale_vars(None, None, Some("C.UTF-8")),
            Lang::En
        );
        assert_eq!(
            Lang::from_locale_vars(Some("en_US.UTF-8"), None, Some("zh_CN.UTF-8")),
            Lang::En,
            "LC_ALL overrides LANG"
        );
        assert_eq!(
            Lang::from_locale_vars(None, Some("zh_TW"), Some("en_GB")),
            Lang::Zh,
            "LC_MESSAGES overrides LANG"
        );
        assert_eq!(
            Lang::from_locale_vars(Some(""), None, Some("zh_CN")),
            Lang::Zh,
            "an empty variable is unset"
        );
        assert_eq!(Lang::parse("ZH"), Some(Lang::Zh));
        assert_eq!(Lang::parse("fr"), None);
    }

    #[test]
    fn every_rule_has_two_distinct_names() {
        let mut seen = std::collections::BTreeSet::new();
        for rule in RULES {
            for lang in Lang::ALL {
                let name = rule.name(lang);
                assert!(!name.is_empty(), "{rule:?}");
                assert!(seen.insert((lang, name)), "{name} names two rules");
            }
            assert_eq!(rule_name(rule.code(), Lang::Zh), rule.name(Lang::Zh));
        }
        assert_eq!(rule_name("some.new.rule", Lang::Zh), "some.new.rule");
    }
}
