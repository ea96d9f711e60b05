//! The views the CLI and the API print: a case's deadline state and an alert, evaluated at an
//! instant. Field names are a contract (`jiancha case show --format json`, `jiancha alerts`).

use chrono::NaiveDate;
use jiancha_calendar::Due;
use serde::Serialize;

use crate::case::{Alert, CaseState, Ctx, Status};
use crate::catalog::Catalog;
use crate::instant::{date_of, format, Millis};

/// A case's deadline state at an instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct CaseView {
    /// The case stream.
    pub stream: String,
    /// The item code.
    pub item: String,
    /// The item's name, when the catalog defines the item.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item_name: Option<String>,
    /// The accountable org.
    pub org: String,
    /// The org's name, when an `OrgDefined` names it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org_name: Option<String>,
    /// submitted, running, suspended, concluded, withdrawn or rejected.
    pub status: &'static str,
    /// The day the clock starts (the acceptance date, or the submission date when deemed
    /// accepted).
    pub clock_start_on: Option<NaiveDate>,
    /// The promised limit, extensions included.
    pub promised_limit_days: Option<u32>,
    /// The statutory limit, extensions included.
    pub statutory_limit_days: Option<u32>,
    /// The promised due date (null while a lawful suspension keeps it open, unless it had
    /// already passed; null for an item the catalog does not define).
    pub promised_due_on: Option<NaiveDate>,
    /// The statutory due date (null as `promised_due_on`).
    pub statutory_due_on: Option<NaiveDate>,
    /// Whether a due date relied on days no notice has settled yet.
    pub provisional: bool,
    /// Working days used by the evaluation date (or the conclusion date).
    pub used_days: Option<u32>,
    /// Working days left on the promised limit (negative when overdue).
    pub remaining_days: Option<i64>,
    /// The conclusion date: the date it counts at (its recorded date when it was entered
    /// after the fact).
    pub concluded_on: Option<NaiveDate>,
    /// The date a conclusion entered after the fact claimed, when it differs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concluded_claimed_on: Option<NaiveDate>,
    /// Concluded on or before the promised due date.
    pub on_time: Option<bool>,
    /// Concluded on or before the statutory due date.
    pub statutory_on_time: Option<bool>,
    /// Concluded before the promised due date.
    pub early: Option<bool>,
    /// The submission date.
    pub submitted_on: NaiveDate,
    /// The acceptance date.
    pub accepted_on: Option<NaiveDate>,
    /// Accepted earlier by law (Art. 32): the first answer came late (deemed accepted on the
    /// submission date), the answer to the supplements came late (on the last supplement's
    /// date), or the case was concluded without an acceptance (on the submission date).
    pub deemed_accepted: bool,
    /// Concluded without ever being accepted.
    pub no_acceptance: bool,
    /// Whether the last suspension was lawful (Art. 45: a reason on the closed list and a
    /// written notice); null before any. An unlawful one stops no clock.
    pub suspension_lawful: Option<bool>,
    /// The item is not in the catalog: no due dates, never on time.
    pub unmonitored: bool,
    /// How the case arrived.
    pub channel: &'static str,
    /// Extensions granted.
    pub extensions: u16,
    /// Whether the case was exempted from the assessment.
    pub exempted: bool,
    /// The instant of evaluation.
    pub now: String,
}

impl CaseView {
    /// Evaluates a case at `now`.
    pub fn new(stream: &str, case: &CaseState, ctx: &Ctx<'_>, now: Millis) -> Self {
        let today = date_of(now);
        let (promised, statutory) = case.dues(ctx);
        let shown = |due: Option<Due>| shown_due(case, due);
        let limits = case.limits_days();
        let used = case.used_days(ctx, today);
        let concluded_on = case.concluded.map(|(_, d, _)| d);
        let conclusion = Conclusion::new(case, promised, statutory);
        let provisional =
            promised.is_some_and(|d| d.provisional) || statutory.is_some_and(|d| d.provisional);
        CaseView {
            stream: stream.to_owned(),
            item: case.item.to_string(),
            item_name: None,
            org: case.org().to_string(),
            org_name: None,
            status: case.status.as_str(),
            clock_start_on: case.clock_start_on(ctx),
            promised_limit_days: limits.map(|l| l.0),
            statutory_limit_days: limits.map(|l| l.1),
            promised_due_on: shown(promised),
            statutory_due_on: shown(statutory),
            provisional,
            used_days: used,
            remaining_days: limits
                .zip(used)
                .map(|((p, _), u)| i64::from(p) - i64::from(u)),
            concluded_on,
            concluded_claimed_on: case.concluded_claimed_on,
            on_time: conclusion.on_time,
            statutory_on_time: conclusion.statutory_on_time,
            early: conclusion.early,
            submitted_on: case.submitted_on,
            accepted_on: case.accepted.as_ref().map(|a| a.on),
            deemed_accepted: case.no_acceptance
                || (case.accepted.is_some() && case.deemed_accepted(ctx)),
            no_acceptance: case.no_acceptance,
            suspension_lawful: case.suspension_lawful,
            unmonitored: case.unmonitored,
            channel: case.channel.as_str(),
            extensions: case.extensions,
            exempted: case.exempted,
            now: format(now),
        }
    }
}

/// A due date as the views show it: while a lawful suspension runs, a due date after its
/// start is open (the suspension's end decides it, so `None`); one that had passed before it
/// stays.
pub(crate) fn shown_due(case: &CaseState, due: Option<Due>) -> Option<NaiveDate> {
    let open_from = match case.status {
        Status::Suspended => case.suspensions.last().map(|s| s.from),
        _ => None,
    };
    due.map(|d| d.date)
        .filter(|d| open_from.is_none_or(|from| *d <= from))
}

/// How a conclusion stands against the due dates; each `None` while the case is not
/// concluded or the due date is unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Conclusion {
    /// Concluded on or before the promised due date.
    pub(crate) on_time: Option<bool>,
    /// Concluded on or before the statutory due date.
    pub(crate) statutory_on_time: Option<bool>,
    /// Concluded before the promised due date.
    pub(crate) early: Option<bool>,
}

impl Conclusion {
    /// A case's conclusion against its promised and statutory due dates.
    pub(crate) fn new(case: &CaseState, promised: Option<Due>, statutory: Option<Due>) -> Self {
        let concluded_on = case.concluded.map(|(_, d, _)| d);
        let outcome = |due: Option<Due>, strict: bool| {
            let (c, d) = (concluded_on?, due?.date);
            Some(if strict { c < d } else { c <= d })
        };
        Conclusion {
            on_time: outcome(promised, false),
            statutory_on_time: outcome(statutory, false),
            early: outcome(promised, true),
        }
    }
}

/// An alert at an instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[schemars(rename = "Alert")]
pub struct AlertView {
    /// `<case>/<rule>/<n>`: stable across replays and restarts.
    pub id: String,
    /// The case stream.
    pub case: String,
    /// The rule code.
    pub rule: &'static str,
    /// warning (a prompt, not a card), yellow or red.
    pub severity: &'static str,
    /// When it was raised (the threshold instant for time rules).
    pub raised_at: String,
    /// When it closed, or null while open at the instant of evaluation.
    pub closed_at: Option<String>,
    /// The accountable org when it was raised.
    pub org: String,
    /// The org's name, when an `OrgDefined` names it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org_name: Option<String>,
    /// The name of the case's item, when the catalog defines it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item_name: Option<String>,
    /// The position of the event that raised it (for a time rule: whose state set the
    /// threshold).
    pub raised_by: u64,
    /// The position of the event that closed it.
    pub closed_by: Option<u64>,
    /// Whether a card for it was recorded (`CardIssued`).
    pub delivered: bool,
    /// Whether the org acknowledged it.
    pub acknowledged: bool,
    /// For a workflow alert (预警纠错): the id of the card, rating (`<case>/rating`) or
    /// complaint (`<case>/complaint/<n>`) it is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub about: Option<String>,
    /// For an escalated alert: the org it is escalated to, which is told and shown it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub escalated_to: Option<String>,
    #[serde(skip)]
    pub(crate) raised_at_ms: Millis,
}

impl AlertView {
    /// An alert as seen at `now`: a closing after `now` is not yet visible.
    pub fn new(case: &str, a: &Alert, now: Millis) -> Self {
        let closed = a.closed_at.filter(|c| *c <= now);
        AlertView {
            id: crate::alert_id(case, a),
            case: case.to_owned(),
            rule: a.rule.code(),
            severity: a.rule.severity().as_str(),
            raised_at: format(a.raised_at),
            closed_at: closed.map(format),
            org: a.org.to_string(),
            org_name: None,
            item_name: None,
            raised_by: a.raised_by,
            closed_by: closed.and(a.closed_by),
            delivered: a.delivered,
            acknowledged: a.acknowledged && a.acknowledged_at.is_none_or(|t| t <= now),
            about: a.about.map(|about| about.id(case)),
            escalated_to: a.escalated_to(),
            raised_at_ms: a.raised_at,
        }
    }

    /// The alert with the names the catalog gives its org and its case's item.
    pub fn named(mut self, catalog: &Catalog, item: &str) -> Self {
        self.org_name = catalog.org_name(&self.org).map(str::to_owned);
        self.item_name = catalog.item_name(item).map(str::to_owned);
        self
    }

    /// The instant it was raised.
    pub fn raised_at_millis(&self) -> Millis {
        self.raised_at_ms
    }

    /// Whether it is an alert of an org under `prefix` (segment-wise), or one escalated to an
    /// org under it: an escalated alert appears on the alert list and the board of the org it
    /// was escalated to as well as its own.
    pub fn concerns_org(&self, prefix: &str) -> bool {
        use jiancha_events::stream::org_is_under;
        org_is_under(&self.org, prefix)
            || self
                .escalated_to
                .as_deref()
                .is_some_and(|to| org_is_under(to, prefix))
    }

    /// Whether it is open at the instant of evaluation.
    pub fn is_open(&self) -> bool {
        self.closed_at.is_none()
    }
}
