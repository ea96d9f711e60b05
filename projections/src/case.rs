//! One case's state: the facts its events established, and the alerts raised on it. Due dates
//! are not stored but derived from the facts and the calendar when asked, so a calendar
//! amendment re-derives them without touching the state.
//!
//! Time-driven rules are folded "advance, then apply": before an event at instant `t` is
//! applied, every threshold the case crossed up to `t` raises its alert (dated at the
//! threshold); after it, every condition the event ended closes its alert (dated `t`). The
//! same [`CaseState::pending`] tells a view at any later `now` what the fold would raise, so
//! live, replayed and restarted evaluations agree.

use std::sync::Arc;

use chrono::NaiveDate;
use jiancha_calendar::{Calendar, Due, LAST_DATE};
use jiancha_events::{Channel, EventData, ItemDefined, WarningThreshold};
use serde::{Deserialize, Serialize};

use crate::instant::{date_of, end_of, Millis};
use crate::rules::{AlertConfig, Rule};

/// Where a case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Status {
    /// Submitted, not yet accepted or refused.
    Submitted,
    /// Accepted, the clock running.
    Running,
    /// Accepted, the clock paused.
    Suspended,
    /// Concluded (办结).
    Concluded,
    /// Withdrawn by the applicant.
    Withdrawn,
    /// Refused at intake (不予受理).
    Rejected,
}

impl Status {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Submitted => "submitted",
            Status::Running => "running",
            Status::Suspended => "suspended",
            Status::Concluded => "concluded",
            Status::Withdrawn => "withdrawn",
            Status::Rejected => "rejected",
        }
    }

    /// Whether the case is still open (submitted, running or suspended).
    pub fn is_open(self) -> bool {
        matches!(
            self,
            Status::Submitted | Status::Running | Status::Suspended
        )
    }
}

/// An alert on a case. Its id is `<case>/<rule code>/<n>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    /// The rule.
    pub rule: Rule,
    /// 1 for the case's first alert of this rule, 2 for the next, …
    pub n: u16,
    /// When it was raised: the event's instant, or the threshold instant for time rules.
    pub raised_at: Millis,
    /// When it closed, if it has.
    pub closed_at: Option<Millis>,
    /// The event that raised it, or for a time rule the event whose state set the threshold.
    pub raised_by: u64,
    /// The event that closed it.
    pub closed_by: Option<u64>,
    /// The accountable org when it was raised.
    #[serde(with = "crate::shared::string")]
    pub org: Arc<str>,
    /// Whether a `CardIssued` recorded its delivery.
    pub delivered: bool,
    /// Whether the org acknowledged it.
    pub acknowledged: bool,
    /// When it was first acknowledged (a view at an earlier instant shows it unacknowledged).
    pub acknowledged_at: Option<Millis>,
    /// For a workflow alert (预警纠错): the card, rating or complaint it is about.
    pub about: Option<About>,
}

impl Alert {
    /// For an escalated alert, the org it is escalated to (told, and shown it) beside its
    /// `org`: a correction overdue goes to the parent of the card's org, an escalation to the
    /// district's supervision bureau. Derived from the rule and the org, so not stored.
    pub fn escalated_to(&self) -> Option<String> {
        match self.rule {
            Rule::CorrectionOverdue => Some(crate::workflow::parent_of(&self.org).to_owned()),
            Rule::Escalated => Some(format!(
                "{}/supervision",
                crate::workflow::district_of(&self.org)
            )),
            _ => None,
        }
    }
}

/// What a workflow alert is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum About {
    /// A card of the same case: its rule and number (`<case>/<rule>/<n>`).
    Card(Rule, u16),
    /// The case's counted rating (`<case>/rating`).
    Rating,
    /// A complaint of the case by number (`<case>/complaint/<n>`).
    Complaint(u16),
}

impl About {
    /// The id of what it is about, on case `case`.
    pub fn id(self, case: &str) -> String {
        match self {
            About::Card(rule, n) => format!("{case}/{}/{n}", rule.code()),
            About::Rating => format!("{case}/rating"),
            About::Complaint(n) => format!("{case}/complaint/{n}"),
        }
    }
}

/// The facts of an acceptance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acceptance {
    /// When.
    pub at: Millis,
    /// Its business date.
    #[serde(with = "crate::shared::date")]
    pub on: NaiveDate,
    /// Its position.
    pub position: u64,
    /// The accepting org.
    #[serde(with = "crate::shared::string")]
    pub org: Arc<str>,
    /// Deemed by a late notice and not (yet) accepted in form: the case answers to its
    /// submitting org until an acceptance or a conclusion names another (the store's rule).
    #[serde(default)]
    pub deemed: bool,
}

/// A lawful suspension (Art. 45): the days after `from` up to and including `to` are not
/// counted. Unlawful ones are not kept: they stop nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suspension {
    /// The suspension date.
    #[serde(with = "crate::shared::date")]
    pub from: NaiveDate,
    /// The resumption (or conclusion) date, once known.
    #[serde(with = "crate::shared::option_date")]
    pub to: Option<NaiveDate>,
    /// The working days the applicant was told it takes.
    pub expected_days: u32,
    /// The instant the case resumed (`Resumed`), once it did: a deadline that fell on the
    /// suspension's own day is passed, for the clock, no earlier than it.
    pub resumed_at: Option<Millis>,
}

/// What a case's events established.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseState {
    /// The item code applied for.
    #[serde(with = "crate::shared::string")]
    pub item: Arc<str>,
    /// The item's definition: current at submission, then the one in force at acceptance.
    #[serde(with = "crate::shared::option_def")]
    pub def: Option<Arc<ItemDefined>>,
    /// How it arrived.
    pub channel: Channel,
    /// Where it stands.
    pub status: Status,
    /// The org of the submission.
    #[serde(with = "crate::shared::string")]
    pub submitted_org: Arc<str>,
    /// When it was submitted.
    pub submitted_at: Millis,
    /// The submission's business date.
    #[serde(with = "crate::shared::date")]
    pub submitted_on: NaiveDate,
    /// The date of the first answer (correction request, acceptance or refusal).
    #[serde(with = "crate::shared::option_date")]
    pub first_answer_on: Option<NaiveDate>,
    /// Correction requests so far.
    pub corrections: u16,
    /// The date of the last supplement after a correction request, while the answer to it
    /// (an acceptance or a refusal) is outstanding or once it came.
    #[serde(with = "crate::shared::option_date")]
    pub supplemented_on: Option<NaiveDate>,
    /// The acceptance, once accepted.
    pub accepted: Option<Acceptance>,
    /// The last transfer's target.
    #[serde(with = "crate::shared::option_string")]
    pub transferred_to: Option<Arc<str>>,
    /// Promised and statutory limits before extensions.
    pub limits: Option<(u32, u32)>,
    /// Working days added by extensions.
    pub extension_days: u32,
    /// Extensions so far.
    pub extensions: u16,
    /// Lawful suspensions, in order.
    pub suspensions: Vec<Suspension>,
    /// Whether the last suspension was lawful (`None` before any).
    pub suspension_lawful: Option<bool>,
    /// Materials handed in before acceptance (dropped once accepted).
    pub materials: Vec<String>,
    /// Steps completed, in order (dropped once checked).
    pub steps: Vec<String>,
    /// Whether the steps were checked (at the decision or conclusion).
    pub steps_checked: bool,
    /// Whether a decision was recorded.
    pub decided: bool,
    /// The conclusion: instant, business date, position. A conclusion entered after the fact
    /// counts at the instant and date it was recorded (see `concluded_claimed_on`).
    #[serde(with = "crate::shared::concluded")]
    pub concluded: Option<(Millis, NaiveDate, u64)>,
    /// The date a conclusion entered after the fact claimed, when it counts at its recorded
    /// date instead.
    #[serde(with = "crate::shared::option_date")]
    pub concluded_claimed_on: Option<NaiveDate>,
    /// Concluded without ever being accepted: deemed accepted on the submission date.
    pub no_acceptance: bool,
    /// Deemed accepted on the submission date by a late first answer that asked for
    /// corrections (Art. 32: 逾期不告知的，自收到申请材料之日起即为受理): the clock runs from
    /// the submission date while the department awaits the supplements.
    #[serde(default)]
    pub late_notice: bool,
    /// The item is not in the catalog: no due dates, and never on time.
    pub unmonitored: bool,
    /// The org that concluded a case never accepted (accountable for it from then on).
    #[serde(with = "crate::shared::option_string")]
    pub concluded_org: Option<Arc<str>>,
    /// The business date the case left the clock without a conclusion (withdrawn).
    #[serde(with = "crate::shared::option_date")]
    pub ended_on: Option<NaiveDate>,
    /// The business date of the latest action.
    #[serde(with = "crate::shared::date")]
    pub last_action_on: NaiveDate,
    /// The latest instant the case has been advanced to.
    pub cursor: Millis,
    /// The latest position applied to the case.
    pub last_position: u64,
    /// Whether the case was exempted from the assessment.
    pub exempted: bool,
    /// Every alert raised on the case, in order.
    pub alerts: Vec<Alert>,
    /// The case's sequence number: 0 for the first case submitted, 1 for the next, …
    pub seq: u32,
    /// The supervision workflow on the case (orders, the counted rating, complaints), once
    /// anything happened in it.
    pub flow: Option<Box<crate::workflow::Flow>>,
    /// The facts of a case of another kind than approval (a procurement project); `None` for
    /// an approval case, whose facts are the fields above.
    pub kind: Option<Box<crate::kinds::KindState>>,
    /// Caches for the fold, valid for one calendar generation, and where the case stands in
    /// the projections' watched sets (not kept in snapshots).
    #[serde(skip)]
    pub cache: FoldCache,
}

/// What the fold remembers between events to skip the calendar when nothing can be due: the
/// next threshold instant and the deadline instants (`Millis::MAX` for none), valid while the
/// calendar generation matches; and, whatever the generation, where the case stands in the
/// watched sets (two flags in what would be padding, so a running case carries no more).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FoldCache {
    generation: u64,
    next_at: Millis,
    deadlines: [Millis; 3],
    next_valid: bool,
    deadlines_valid: bool,
    pub(crate) place: crate::watch::Place,
}

impl FoldCache {
    /// Whether the cached next threshold is at or before `now`; `None` when the cache cannot
    /// tell (not yet computed).
    pub fn next_valid_before(&self, now: Millis, generation: u64) -> Option<bool> {
        (self.next_valid && self.generation == generation).then_some(self.next_at <= now)
    }
}

impl Default for FoldCache {
    fn default() -> Self {
        FoldCache {
            generation: 0,
            next_at: Millis::MAX,
            deadlines: [Millis::MAX; 3],
            next_valid: false,
            deadlines_valid: false,
            place: crate::watch::Place::default(),
        }
    }
}

/// What the fold of one case needs besides the event.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    /// The calendar of the case's org.
    pub calendar: &'a Calendar,
    /// The thresholds.
    pub config: &'a AlertConfig,
    /// The workflow's limits the log defined over time (the workflow's thresholds follow them).
    pub limits: &'a crate::limits::Limits,
    /// How many calendar amendments and limit definitions the context reflects (invalidates
    /// cached thresholds).
    pub generation: u64,
}

/// One case event as the case fold sees it.
#[derive(Debug, Clone, Copy)]
pub struct Step<'a> {
    /// The event's position.
    pub position: u64,
    /// Its instant (business time).
    pub at: Millis,
    /// Its business date.
    pub on: NaiveDate,
    /// The acting org, for the events that record it (a submission, an acceptance).
    pub org: Option<&'a Arc<str>>,
    /// The payload.
    pub data: &'a EventData,
    /// When the writer recorded it.
    pub recorded_at: Millis,
    /// Whether it lies inside a declared historical import (`HistoryImported`): entered late
    /// on purpose, it counts at its own instant and is not back-dated.
    pub historical: bool,
    /// The instant an as-of fold answers for (`Millis::MAX` otherwise): a late entry recorded
    /// after it has raised nothing for being late yet.
    pub known_by: Millis,
}

impl Step<'_> {
    /// Whether it was recorded longer after it occurred than the tolerance (体外循环) and is
    /// not part of a declared historical import.
    pub fn backdated(&self, config: &AlertConfig) -> bool {
        let tolerance = i64::from(config.backdate_tolerance_hours) * 3_600_000;
        !self.historical && self.recorded_at.saturating_sub(self.at) > tolerance
    }
}

/// The time-driven thresholds of a case: at most one per time rule, kept inline (the fold
/// computes them after every event, so they should cost no allocation).
#[derive(Debug, Clone, Copy)]
pub struct Thresholds {
    items: [(Rule, Millis); THRESHOLDS_MAX],
    len: usize,
}

/// The most time-driven thresholds one case can have at once.
const THRESHOLDS_MAX: usize = 7;

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            items: [(Rule::Stalled, 0); THRESHOLDS_MAX],
            len: 0,
        }
    }
}

impl Thresholds {
    fn push(&mut self, item: (Rule, Millis)) {
        if let Some(slot) = self.items.get_mut(self.len) {
            *slot = item;
            self.len += 1;
        }
    }
}

impl std::ops::Deref for Thresholds {
    type Target = [(Rule, Millis)];

    fn deref(&self) -> &Self::Target {
        &self.items[..self.len]
    }
}

impl IntoIterator for Thresholds {
    type Item = (Rule, Millis);
    type IntoIter = std::iter::Take<std::array::IntoIter<(Rule, Millis), THRESHOLDS_MAX>>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter().take(self.len)
    }
}

/// The due date of a limit of `days` from `start`, the `skipped` days not counted.
fn due_from(
    ctx: &Ctx<'_>,
    start: NaiveDate,
    skipped: &[(NaiveDate, NaiveDate)],
    days: u32,
) -> Option<Due> {
    let due = ctx
        .calendar
        .add_working_days_skipping(start, days, skipped)
        .ok()?;
    // While a lawful suspension is open the due dates are open unless they had already
    // passed when it began: one falling on the suspension's own day had not (it ends at 24:00).
    let open_since = skipped
        .iter()
        .find(|(_, last)| *last == LAST_DATE)
        .and_then(|(first, _)| first.pred_opt());
    match open_since {
        Some(suspended_on) if due.date >= suspended_on => None,
        _ => Some(due),
    }
}

/// Whether the item's steps, each at its first completion, were completed exactly in the
/// item's order: the distinct completed steps that belong to the item, in the order first
/// completed, are the item's steps. Steps outside the item and repeats are ignored.
fn steps_in_order(completed: &[String], item_steps: &[String]) -> bool {
    // The first `matched` item steps were completed in order so far.
    let mut matched = 0;
    for s in completed {
        let (done, rest) = item_steps.split_at(matched);
        if done.contains(s) {
            continue;
        }
        match rest.iter().position(|d| d == s) {
            Some(0) => matched += 1,
            // A step of the item completed before an earlier one: never in order.
            Some(_) => return false,
            None => {}
        }
    }
    matched == item_steps.len()
}

impl CaseState {
    /// A case from its `Submitted` event.
    pub fn submitted(
        step: &Step<'_>,
        item: Arc<str>,
        def: Option<Arc<ItemDefined>>,
        channel: Channel,
        materials: &[String],
    ) -> Self {
        CaseState {
            item,
            def,
            channel,
            status: Status::Submitted,
            submitted_org: step.org.cloned().unwrap_or_default(),
            submitted_at: step.at,
            submitted_on: step.on,
            first_answer_on: None,
            corrections: 0,
            supplemented_on: None,
            accepted: None,
            transferred_to: None,
            limits: None,
            extension_days: 0,
            extensions: 0,
            suspensions: Vec::new(),
            suspension_lawful: None,
            materials: materials.to_vec(),
            steps: Vec::new(),
            steps_checked: false,
            decided: false,
            concluded: None,
            concluded_claimed_on: None,
            no_acceptance: false,
            late_notice: false,
            unmonitored: false,
            concluded_org: None,
            ended_on: None,
            last_action_on: step.on,
            cursor: step.at,
            last_position: step.position,
            exempted: false,
            alerts: Vec::new(),
            seq: 0,
            flow: None,
            kind: None,
            cache: FoldCache::default(),
        }
    }

    /// The org accountable for the case now: the last transfer's target, else the accepting
    /// org, else the submitting one.
    pub fn org(&self) -> &Arc<str> {
        match &self.transferred_to {
            Some(to) => to,
            None => self.org_before_transfers(),
        }
    }

    /// The org accountable for the case before any transfer: the accepting org, else the
    /// concluding one (a case never accepted), else the submitting one.
    pub fn org_before_transfers(&self) -> &Arc<str> {
        match (&self.accepted, &self.concluded_org) {
            (Some(a), _) => &a.org,
            (None, Some(org)) => org,
            (None, None) => &self.submitted_org,
        }
    }

    /// The day the clock starts (Art. 32): the acceptance date, except the submission date
    /// when the first answer came more than `answer_days` working days after it or the case was
    /// concluded without an acceptance, and the last supplement's date when the answer to the
    /// supplements came more than `answer_days` working days after them.
    pub fn clock_start_on(&self, ctx: &Ctx<'_>) -> Option<NaiveDate> {
        if self.no_acceptance {
            return Some(self.submitted_on);
        }
        let accepted = self.accepted.as_ref()?;
        Some(match self.deemed_accepted_on(ctx) {
            Some(on) => on,
            None => accepted.on,
        })
    }

    /// Whether more than `answer_days` working days lie between `from` and `to`.
    fn late_answer(ctx: &Ctx<'_>, from: NaiveDate, to: NaiveDate) -> bool {
        ctx.calendar
            .working_days_between(from, to)
            .is_ok_and(|c| c.days > ctx.config.answer_days)
    }

    /// Whether the first answer to the submission came late (Art. 32).
    fn first_answer_late(&self, ctx: &Ctx<'_>) -> bool {
        self.first_answer_on
            .is_some_and(|answer| Self::late_answer(ctx, self.submitted_on, answer))
    }

    /// The date the case counts as accepted on by law, when that is not the acceptance date:
    /// the submission date after a late first answer, or the last supplement's date after a
    /// late answer to the supplements.
    pub fn deemed_accepted_on(&self, ctx: &Ctx<'_>) -> Option<NaiveDate> {
        let accepted = self.accepted.as_ref()?;
        if self.first_answer_late(ctx) {
            return Some(self.submitted_on);
        }
        let supplied = self.supplemented_on?;
        Self::late_answer(ctx, supplied, accepted.on).then_some(supplied)
    }

    /// Whether the case counts as accepted before its acceptance date (Art. 32).
    pub fn deemed_accepted(&self, ctx: &Ctx<'_>) -> bool {
        self.deemed_accepted_on(ctx).is_some()
    }

    /// Promised and statutory limits, extensions included.
    pub fn limits_days(&self) -> Option<(u32, u32)> {
        let (p, s) = self.limits?;
        Some((
            p.saturating_add(self.extension_days),
            s.saturating_add(self.extension_days),
        ))
    }

    /// The days not counted: after each suspension date up to and including its resumption.
    /// A suspension still open counts as running to the calendar's end, so a due date that
    /// falls before it stays known and one after it is open.
    fn skipped(&self) -> Vec<(NaiveDate, NaiveDate)> {
        let mut out = Vec::with_capacity(self.suspensions.len());
        for s in &self.suspensions {
            let Some(first) = s.from.succ_opt() else {
                continue;
            };
            let last = s.to.unwrap_or(LAST_DATE);
            if first <= last {
                out.push((first, last));
            }
        }
        out
    }

    /// The due date of a limit of `days`: `None` before acceptance, while it depends on an
    /// open suspension, or beyond the calendar.
    pub fn due(&self, ctx: &Ctx<'_>, days: u32) -> Option<Due> {
        let start = self.clock_start_on(ctx)?;
        due_from(ctx, start, &self.skipped(), days)
    }

    /// Promised and statutory due dates.
    pub fn dues(&self, ctx: &Ctx<'_>) -> (Option<Due>, Option<Due>) {
        let (Some((p, s)), Some(start)) = (self.limits_days(), self.clock_start_on(ctx)) else {
            return (None, None);
        };
        let skipped = self.skipped();
        (
            due_from(ctx, start, &skipped, p),
            due_from(ctx, start, &skipped, s),
        )
    }

    /// Working days used by `on` (the day itself counted), suspensions excluded; with the
    /// conclusion (or withdrawal) date as the end once the case left the clock.
    pub fn used_days(&self, ctx: &Ctx<'_>, on: NaiveDate) -> Option<u32> {
        let start = self.clock_start_on(ctx)?;
        let end = self
            .concluded
            .map(|(_, d, _)| d)
            .or(self.ended_on)
            .map_or(on, |d| d.min(on));
        let skipped: Vec<_> = self
            .skipped()
            .into_iter()
            .map(|(a, b)| (a, b.min(end.max(a))))
            .collect();
        ctx.calendar
            .working_days_between_skipping(start, end, &skipped)
            .ok()
            .map(|c| c.days)
    }

    /// The instants at which the time-driven rules fire for the state as it is, with the
    /// running-since instant as the earliest.
    pub fn thresholds(&self, ctx: &Ctx<'_>) -> Thresholds {
        let mut out = Thresholds::default();
        // Another kind's clock is its own (see `pending`).
        if self.exempted || self.kind.is_some() {
            return out;
        }
        if self.status == Status::Submitted && self.first_answer_on.is_none() {
            if let Ok(d) = ctx
                .calendar
                .add_working_days(self.submitted_on, ctx.config.answer_days)
            {
                out.push((Rule::CorrectionLate, end_of(d.date)));
            }
        }
        if let Some(at) = self.acceptance_late_at(ctx) {
            out.push((Rule::AcceptanceLate, at));
        }
        let (Some(acc), Some((p, _))) = (&self.accepted, self.limits_days()) else {
            return out;
        };
        if !matches!(self.status, Status::Running | Status::Suspended) {
            return out;
        }
        let since = acc.at;
        let c = self.cache;
        let deadlines = if c.deadlines_valid && c.generation == ctx.generation {
            c.deadlines
        } else {
            self.deadline_instants(ctx, p)
        };
        let rules = [
            Rule::PromisedWarning,
            Rule::PromisedOverdue,
            Rule::StatutoryOverdue,
        ];
        for (rule, at) in rules.into_iter().zip(deadlines) {
            if at != Millis::MAX {
                out.push((rule, at.max(since)));
            }
        }
        if self.status == Status::Running {
            if let Ok(d) = ctx
                .calendar
                .add_working_days(self.last_action_on, ctx.config.stall_days)
            {
                out.push((Rule::Stalled, end_of(d.date).max(since)));
            }
        }
        if let Some(s) = self.suspensions.last().filter(|s| s.to.is_none()) {
            if let Ok(d) = ctx.calendar.add_working_days(s.from, s.expected_days) {
                out.push((Rule::SuspensionOverlong, end_of(d.date).max(since)));
            }
        }
        out
    }

    /// When the answer to the supplements becomes late (Art. 32): the end of the
    /// `answer_days`-th working day after the last supplement, while the case awaits it after
    /// a timely correction request.
    fn acceptance_late_at(&self, ctx: &Ctx<'_>) -> Option<Millis> {
        if self.status != Status::Submitted || self.first_answer_late(ctx) {
            return None;
        }
        let supplied = self.supplemented_on?;
        let d = ctx
            .calendar
            .add_working_days(supplied, ctx.config.answer_days)
            .ok()?;
        Some(end_of(d.date))
    }

    /// The warning, promised-overdue and statutory-overdue instants (before clamping to the
    /// acceptance), which change only with the acceptance, suspensions, extensions and the
    /// calendar.
    fn deadline_instants(&self, ctx: &Ctx<'_>, promised_days: u32) -> [Millis; 3] {
        let Some(start) = self.clock_start_on(ctx) else {
            return [Millis::MAX; 3];
        };
        let p = promised_days;
        let skipped = self.skipped();
        let warning = self
            .def
            .as_ref()
            .and_then(|d| d.warning)
            .unwrap_or(ctx.config.warning);
        let warn_used = match warning {
            WarningThreshold::DaysLeft(k) => p.saturating_sub(k),
            WarningThreshold::ShareUsedPercent(pct) => (u64::from(p) * u64::from(pct))
                .div_ceil(100)
                .min(u64::from(p)) as u32,
        };
        // The prompt comes when the day on which `warn_used` working days are used ends: for a
        // limit of N with one day left, at the end of the (N-1)-th working day — for a 1-day
        // limit at the end of the start day, so a case finished that day is never prompted.
        let warn = due_from(ctx, start, &skipped, warn_used).map(|d| end_of(d.date));
        let statutory_days = self.limits_days().map_or(p, |l| l.1);
        let promised = due_from(ctx, start, &skipped, p).map(|d| end_of(d.date));
        let statutory = due_from(ctx, start, &skipped, statutory_days).map(|d| end_of(d.date));
        [warn, promised, statutory].map(|at| self.after_resumption(at.unwrap_or(Millis::MAX)))
    }

    /// A threshold that passed while the case was lawfully suspended (a limit ending on the
    /// suspension's own day) is passed for the clock when the case resumed: the alerts the
    /// table raises on a running case are never dated inside a suspension.
    fn after_resumption(&self, at: Millis) -> Millis {
        self.suspensions
            .iter()
            .filter_map(|s| s.resumed_at.map(|r| (crate::instant::start_of(s.from), r)))
            .find(|(from, resumed)| *from < at && at < *resumed)
            .map_or(at, |(_, resumed)| resumed)
    }

    pub(crate) fn count(&self, rule: Rule) -> u16 {
        self.alerts.iter().filter(|a| a.rule == rule).count() as u16
    }

    /// The alerts the clock raises between the case's cursor and `t`, in order, numbered as
    /// the fold would number them: the deadlines' and, after them, the workflow's (which may
    /// be about a card the deadlines raise in the same stretch).
    pub fn pending(&self, ctx: &Ctx<'_>, t: Millis) -> Vec<Alert> {
        let mut out: Vec<Alert> = Vec::new();
        for (rule, at) in self.thresholds(ctx) {
            if at > t {
                continue;
            }
            if !self.is_raised(rule, at) {
                out.push(self.alert(rule, at, self.last_position));
            }
        }
        if let (Some(kind), false) = (self.kind.as_deref(), self.exempted) {
            out.extend(kind.pending(self, ctx, t));
        }
        if self.may_flow(ctx.config, &out) {
            let flow = self.flow_pending(ctx, t, &out);
            out.extend(flow);
        }
        out.sort_by_key(|a| (a.raised_at, a.rule, a.about));
        // Numbered per rule after the case's own alerts, in the order raised.
        for i in 0..out.len() {
            let rule = out[i].rule;
            let earlier = out[..i].iter().filter(|a| a.rule == rule).count() as u16;
            out[i].n = self.count(rule) + earlier + 1;
        }
        out
    }

    /// Whether the workflow may have a threshold: a red card open and unacknowledged (among
    /// the case's alerts and `extra`), or a workflow item still waiting on an act. Cheap, and
    /// without the calendar: what keeps a case in view once it ended.
    pub fn may_flow(&self, config: &AlertConfig, extra: &[Alert]) -> bool {
        if self.exempted {
            return false;
        }
        if self.awaits_default_rating(config) {
            return true;
        }
        let unacknowledged =
            |a: &Alert| a.rule.needs_acknowledgement() && !a.acknowledged && a.closed_at.is_none();
        if self.flow.as_ref().is_some_and(|f| f.waits()) {
            return true;
        }
        self.alerts.iter().chain(extra).any(|a| {
            unacknowledged(a)
                && !self.alerts.iter().any(|u| {
                    u.rule == Rule::Unacknowledged && u.about == Some(About::Card(a.rule, a.n))
                })
        })
    }

    pub(crate) fn alert(&self, rule: Rule, at: Millis, by: u64) -> Alert {
        Alert {
            rule,
            n: self.count(rule) + 1,
            raised_at: at,
            closed_at: None,
            raised_by: by,
            closed_by: None,
            org: self.org().clone(),
            delivered: false,
            acknowledged: false,
            acknowledged_at: None,
            about: None,
        }
    }

    /// Raises what the clock raised up to `t` and moves the cursor there.
    pub fn advance(&mut self, ctx: &Ctx<'_>, t: Millis) {
        let c = self.cache;
        if !(c.next_valid && c.generation == ctx.generation && c.next_at > t) {
            let pending = self.pending(ctx, t);
            self.alerts.extend(pending);
        }
        self.cursor = self.cursor.max(t);
    }

    /// After an event: closes the conditions it ended and caches the next threshold, so the
    /// next [`CaseState::advance`] can skip the calendar when nothing is due.
    pub fn settle(&mut self, ctx: &Ctx<'_>, position: u64) {
        if self.cache.generation != ctx.generation {
            self.cache = FoldCache {
                generation: ctx.generation,
                place: self.cache.place,
                ..FoldCache::default()
            };
        }
        // Only a case on the clock uses its deadlines (see `thresholds`).
        let on_clock = matches!(self.status, Status::Running | Status::Suspended);
        if on_clock && !self.cache.deadlines_valid {
            if let Some((p, _)) = self.limits_days() {
                self.cache.deadlines = self.deadline_instants(ctx, p);
                self.cache.deadlines_valid = true;
            }
        }
        let thresholds = self.thresholds(ctx);
        self.close_ended_with(&thresholds, position);
        let mut next = thresholds
            .iter()
            .filter(|(rule, at)| !self.is_raised(*rule, *at))
            .map(|(_, at)| *at)
            .min()
            .unwrap_or(Millis::MAX);
        if let (Some(kind), false) = (self.kind.as_deref(), self.exempted) {
            next = next.min(kind.next_at(self, ctx));
        }
        if self.may_flow(ctx.config, &[]) {
            if let Some(at) = self.flow_thresholds(ctx, &[]).iter().map(|t| t.at).min() {
                next = next.min(at);
            }
        }
        self.cache.next_at = next;
        self.cache.next_valid = true;
    }

    /// Whether the crossing of `rule`'s threshold at `at` has its alert. For a condition: a
    /// card raised at or after that instant, or one raised before it whose episode — the
    /// condition holding without a break the fold saw — still ran at that instant (one card
    /// per episode: a verification that closes an ordered card while the case is still overdue
    /// leaves the episode running, and a threshold moved within it by a calendar amendment is
    /// no new crossing, as for a unit with no order; an ordered card kept open after its
    /// condition ended covers no later crossing). Otherwise any alert of the rule.
    fn is_raised(&self, rule: Rule, at: Millis) -> bool {
        if rule.closes_with_condition() {
            self.alerts.iter().any(|a| {
                a.rule == rule
                    && (a.raised_at >= at || self.episode_end(a).is_none_or(|end| at < end))
            })
        } else {
            self.count(rule) > 0
        }
    }

    /// When the episode of the condition card `a` ended, as the fold saw it; `None` while it
    /// runs. A card with a workflow (ordered, reported back, verified) keeps the instant in its
    /// workflow, since its order keeps it open past its condition and its verification may
    /// close it before; any other card closes with its condition.
    fn episode_end(&self, a: &Alert) -> Option<Millis> {
        match self.card_flow(a.rule, a.n) {
            Some(c) => c.condition_ended_at,
            None => a.closed_at,
        }
    }

    /// Raises an event-driven alert at the step.
    pub(crate) fn raise(&mut self, rule: Rule, step: &Step<'_>) {
        self.raise_at(rule, step.at, step);
    }

    /// Raises an alert `step` caused, dated `at` (no earlier than the facts behind it).
    pub(crate) fn raise_at(&mut self, rule: Rule, at: Millis, step: &Step<'_>) {
        let alert = self.alert(rule, at, step.position);
        if !step.historical {
            self.note_late_issue(&alert, step.recorded_at);
        }
        self.keep_raised(alert, step.position);
    }

    /// Keeps an alert an event raised. An exempted case left the assessment and its cards were
    /// closed with it: what an event raises on it afterwards is recorded closed as raised, so
    /// that no card stays open that nobody may act on (and the ledger counts nothing of it).
    fn keep_raised(&mut self, mut alert: Alert, position: u64) {
        if self.exempted {
            alert.closed_at = Some(alert.raised_at);
            alert.closed_by = Some(position);
        }
        self.alerts.push(alert);
    }

    /// Closes every open condition alert whose condition no longer holds at the cursor.
    pub fn close_ended(&mut self, ctx: &Ctx<'_>, position: u64) {
        let thresholds = self.thresholds(ctx);
        self.close_ended_with(&thresholds, position);
    }

    fn close_ended_with(&mut self, thresholds: &[(Rule, Millis)], position: u64) {
        let t = self.cursor;
        let live = |rule: Rule| thresholds.iter().any(|(r, at)| *r == rule && *at <= t);
        // A card under a correction order stays open until its report-back is verified.
        let ordered: Vec<(Rule, u16)> = self.flow.as_ref().map_or_else(Vec::new, |f| {
            f.cards
                .iter()
                .filter(|c| c.order.is_some() && !c.closed)
                .map(|c| (c.rule, c.n))
                .collect()
        });
        let mut ended: Vec<About> = Vec::new();
        for a in &mut self.alerts {
            if a.closed_at.is_none()
                && a.rule.closes_with_condition()
                && !live(a.rule)
                && !ordered.contains(&(a.rule, a.n))
            {
                a.closed_at = Some(t);
                a.closed_by = Some(position);
                ended.push(About::Card(a.rule, a.n));
            }
        }
        // The end of each card's episode, kept in its workflow: an ordered card stays open past
        // it, and a verified one was closed before it.
        if let Some(flow) = self.flow.as_mut() {
            for c in flow.cards.iter_mut() {
                if c.rule.closes_with_condition() && !live(c.rule) {
                    c.condition_ended_at.get_or_insert(t);
                }
            }
        }
        // A card whose condition ended needs no acknowledgement any more.
        if !ended.is_empty() {
            for a in &mut self.alerts {
                let about_ended = a.about.is_some_and(|about| ended.contains(&about));
                if a.closed_at.is_none() && a.rule == Rule::Unacknowledged && about_ended {
                    a.closed_at = Some(t);
                    a.closed_by = Some(position);
                }
            }
        }
    }

    /// Closes every open alert (an exemption).
    pub fn close_all(&mut self, position: u64) {
        let t = self.cursor;
        for a in self.alerts.iter_mut().filter(|a| a.closed_at.is_none()) {
            a.closed_at = Some(t);
            a.closed_by = Some(position);
        }
    }

    /// The instant the case fold takes an event at: its own, except that a conclusion, a
    /// withdrawal or a transfer entered after the fact (outside a declared historical import)
    /// counts when it was recorded — the clock ran on until the system learned of it, so a
    /// back-dated ending cannot take a case out of a past month's overdue count, nor a
    /// back-dated transfer move that count or the cards raised meanwhile to another org.
    pub fn effective_at(step: &Step<'_>, config: &AlertConfig) -> Millis {
        match step.data {
            EventData::Concluded(_) | EventData::Withdrawn(_) | EventData::Transferred(_)
                if step.backdated(config) =>
            {
                step.recorded_at.max(step.at)
            }
            _ => step.at,
        }
    }

    /// Applies one case event (after [`CaseState::advance`] to [`CaseState::effective_at`]).
    pub fn apply(&mut self, ctx: &Ctx<'_>, step: &Step<'_>, current: Option<&Arc<ItemDefined>>) {
        let moves_deadlines = matches!(
            step.data,
            EventData::CorrectionRequested(_)
                | EventData::MaterialsSupplemented(_)
                | EventData::Accepted(_)
                | EventData::RejectedAtIntake(_)
                | EventData::Suspended(_)
                | EventData::Resumed(_)
                | EventData::Extended(_)
                | EventData::Transferred(_)
                | EventData::Concluded(_)
                | EventData::Withdrawn(_)
        );
        if moves_deadlines {
            self.cache.deadlines_valid = false;
        }
        self.check_backdated(ctx, step);
        if self.status.is_open() {
            self.apply_open(ctx, step, current);
            // A stall is the unit's: the applicant's rating, complaint or supplement of
            // materials is no action on the case, and ends no stall.
            if !matches!(
                step.data,
                EventData::Rated(_)
                    | EventData::Complained(_)
                    | EventData::MaterialsSupplemented(_)
            ) {
                self.last_action_on = self.last_action_on.max(step.on);
            }
        } else {
            self.apply_ended(ctx, step);
        }
        self.last_position = step.position;
        self.settle(ctx, step.position);
    }

    /// An event after the case ended: a rating or complaint counts; anything else is recorded,
    /// changes nothing, and is flagged once.
    fn apply_ended(&mut self, ctx: &Ctx<'_>, step: &Step<'_>) {
        match step.data {
            EventData::Rated(r) => self.rate(ctx, step, r.score),
            EventData::Complained(c) => self.complain(step, &c.category),
            _ => {
                if self.count(Rule::AfterConclusion) == 0 {
                    self.raise(Rule::AfterConclusion, step);
                }
            }
        }
    }

    fn apply_open(&mut self, ctx: &Ctx<'_>, step: &Step<'_>, current: Option<&Arc<ItemDefined>>) {
        match step.data {
            EventData::CorrectionRequested(_) => {
                let first = self.first_answer_on.is_none();
                self.answer(step);
                self.corrections += 1;
                // A new request asks again: the supplements before it are answered.
                self.supplemented_on = None;
                if self.corrections == 2 {
                    self.raise(Rule::CorrectionRepeated, step);
                }
                // A first answer past the answer days that asks for corrections is too late to
                // hold the clock: the case counts as accepted on its submission date.
                if first && self.status == Status::Submitted && self.first_answer_late(ctx) {
                    self.deem_accepted(step, current);
                }
            }
            EventData::MaterialsSupplemented(m) => {
                if self.status == Status::Submitted && self.corrections > 0 {
                    self.supplemented_on = Some(step.on);
                }
                self.materials.extend(m.materials.iter().cloned())
            }
            EventData::Accepted(a) if self.status == Status::Submitted => {
                self.accept(step, a, current)
            }
            // The formal acceptance of a case deemed accepted by a late notice: the clock
            // already runs from the submission date; a shorter limit it promises holds.
            EventData::Accepted(a) if self.late_notice && self.status.is_open() => {
                if let Some(limits) = self.limits_of(step, a) {
                    self.limits = Some(limits);
                }
                // The first acceptance in form takes the case, as a timely one would; a
                // threshold it brings forward (a shorter limit) is passed no earlier than it.
                if let Some(acc) = self.accepted.as_mut() {
                    acc.at = acc.at.max(step.at);
                    if let (true, Some(org)) = (acc.deemed, step.org) {
                        acc.org = org.clone();
                        acc.deemed = false;
                        self.transferred_to = None;
                    }
                }
                if self.materials_missing() {
                    self.raise(Rule::MaterialsIncomplete, step);
                }
                self.materials = Vec::new();
            }
            EventData::RejectedAtIntake(_)
                if self.status == Status::Submitted
                    || (self.late_notice && self.status.is_open()) =>
            {
                self.answer(step);
                if self.late_notice {
                    // The clock ran from the submission date: it stops at the refusal.
                    self.ended_on = Some(step.on);
                }
                self.status = Status::Rejected;
            }
            EventData::Transferred(t) => self.transferred_to = Some(Arc::from(t.to_org.as_str())),
            EventData::StepCompleted(s) => self.steps.push(s.step.clone()),
            EventData::Suspended(s) => self.suspend(step, s),
            EventData::Resumed(_) if self.status == Status::Suspended => {
                if let Some(last) = self.suspensions.last_mut() {
                    last.to = Some(step.on.max(last.from));
                    last.resumed_at = Some(step.at);
                }
                self.status = Status::Running;
            }
            EventData::Extended(e) => self.extend(ctx, step, e),
            EventData::FeeCharged(f) if self.fee_differs(f.amount_cents) => {
                self.raise(Rule::FeeMismatch, step);
            }
            EventData::Decided(_) => {
                self.check_steps(step);
                self.decided = true;
            }
            EventData::Concluded(_) => self.conclude(ctx, step),
            EventData::Withdrawn(_) => {
                self.status = Status::Withdrawn;
                self.ended_on = Some(date_of(Self::effective_at(step, ctx.config)).max(step.on));
            }
            EventData::Rated(r) => self.rate(ctx, step, r.score),
            EventData::Complained(c) => self.complain(step, &c.category),
            _ => {}
        }
    }

    /// 受理: the limits of the item in force, shortened (never lengthened) by the acceptance.
    fn accept(
        &mut self,
        step: &Step<'_>,
        a: &jiancha_events::Accepted,
        current: Option<&Arc<ItemDefined>>,
    ) {
        self.answer(step);
        self.def = current.cloned().or(self.def.take());
        self.limits = self.limits_of(step, a);
        self.start_clock(step, step.org.cloned().unwrap_or_default(), false);
        // Only transfers after acceptance move the accountability.
        self.transferred_to = None;
        if self.materials_missing() {
            self.raise(Rule::MaterialsIncomplete, step);
        }
        self.materials = Vec::new();
    }

    /// The limits of the item in force, shortened (never lengthened) by an acceptance: a longer
    /// override is capped and flagged. `None` for an item missing from the catalog.
    fn limits_of(&mut self, step: &Step<'_>, a: &jiancha_events::Accepted) -> Option<(u32, u32)> {
        let item = self.def.as_deref()?;
        let (p, s) = (item.promised_days, item.statutory_days);
        let asked_p = a.promised_days.unwrap_or(p);
        let asked_s = a.statutory_days.unwrap_or(s);
        if asked_p > p || asked_s > s {
            self.raise(Rule::LimitsOverridden, step);
        }
        let statutory = asked_s.min(s);
        Some((asked_p.min(p).min(statutory), statutory))
    }

    /// Deemed accepted by a late notice (Art. 32): accepted at the late answer, with the item's
    /// limits; the clock starts on the submission date ([`CaseState::deemed_accepted_on`]). The
    /// case answers to the org that holds it (its submitter, or the org a transfer sent it to)
    /// until it is accepted in form or concluded.
    fn deem_accepted(&mut self, step: &Step<'_>, current: Option<&Arc<ItemDefined>>) {
        self.def = current.cloned().or(self.def.take());
        self.limits = self
            .def
            .as_deref()
            .map(|d| (d.promised_days.min(d.statutory_days), d.statutory_days));
        let org = self.submitted_org.clone();
        self.start_clock(step, org, true);
        self.late_notice = true;
    }

    /// The acceptance (in form, or deemed) at `step`, answering to `org`: an item the catalog
    /// does not define leaves the case unmonitored.
    fn start_clock(&mut self, step: &Step<'_>, org: Arc<str>, deemed: bool) {
        if self.def.is_none() {
            self.unmonitored = true;
            self.raise(Rule::ItemUnknown, step);
        }
        self.accepted = Some(Acceptance {
            at: step.at,
            on: step.on,
            position: step.position,
            org,
            deemed,
        });
        self.status = Status::Running;
    }

    /// 延期 (Art. 42): the case's first extension, approved, on or before the promised due date
    /// (by its recorded date too, unless inside a historical import) while the case runs, adds
    /// its days up to the item's cap to both limits. Anything else is flagged and adds nothing
    /// beyond what a lawful one could: a lawful one beyond the cap adds the cap.
    fn extend(&mut self, ctx: &Ctx<'_>, step: &Step<'_>, e: &jiancha_events::Extended) {
        let cap = self
            .def
            .as_ref()
            .map_or(ctx.config.extension_days_max, |d| {
                d.max_extension_days
                    .unwrap_or(ctx.config.extension_days_max)
            });
        let running = matches!(self.status, Status::Running | Status::Suspended);
        let recorded_on = date_of(step.recorded_at);
        let in_time = match self.dues(ctx).0 {
            Some(due) => {
                step.on <= due.date && (recorded_on <= due.date || !step.backdated(ctx.config))
            }
            // Open while a lawful suspension runs: not passed.
            None => running && self.status == Status::Suspended,
        };
        let lawful = running && self.extensions == 0 && !e.approved_by.trim().is_empty() && in_time;
        self.extensions = self.extensions.saturating_add(1);
        if lawful {
            self.extension_days = self.extension_days.saturating_add(e.days.min(cap));
        }
        if !lawful || e.days > cap {
            self.raise(Rule::ExtensionExcessive, step);
        }
    }

    /// Work done outside the system (体外循环): an event recorded longer after it occurred
    /// than the tolerance. A burst of catch-up entries shows up the same way, since its oldest
    /// entries lag the most. Raised once per case; it stays until corrected or exempted.
    fn check_backdated(&mut self, ctx: &Ctx<'_>, step: &Step<'_>) {
        self.check_backdated_config(ctx.config, step);
    }

    /// [`CaseState::check_backdated`] with the thresholds alone (a submission has no calendar
    /// context yet).
    pub(crate) fn check_backdated_config(&mut self, config: &AlertConfig, step: &Step<'_>) {
        if step.backdated(config)
            && step.recorded_at <= step.known_by
            && self.count(Rule::DataBackdated) == 0
        {
            let mut alert = self.alert(Rule::DataBackdated, step.recorded_at, step.position);
            alert.raised_at = step.recorded_at;
            self.keep_raised(alert, step.position);
        }
    }

    fn fee_differs(&self, amount_cents: u64) -> bool {
        self.def
            .as_ref()
            .is_some_and(|d| d.fee_cents != amount_cents)
    }

    fn answer(&mut self, step: &Step<'_>) {
        self.first_answer_on.get_or_insert(step.on);
    }

    fn materials_missing(&self) -> bool {
        self.def.as_ref().is_some_and(|d| {
            d.required_materials
                .iter()
                .any(|m| !self.materials.iter().any(|h| h == m))
        })
    }

    /// Art. 45: only a suspension for a reason on the closed list, with a written notice,
    /// stops the clock; any other is flagged and stops nothing.
    fn suspend(&mut self, step: &Step<'_>, s: &jiancha_events::Suspended) {
        let lawful = jiancha_events::vocab::is_lawful_suspension(&s.reason)
            && s.notice.as_deref().is_some_and(|n| !n.trim().is_empty());
        self.suspension_lawful = Some(lawful);
        if !lawful {
            self.raise(Rule::SuspensionUnlawful, step);
            return;
        }
        if self.status == Status::Running {
            let expected_days = s.expected_days.unwrap_or_else(|| {
                self.def
                    .as_ref()
                    .map_or(jiancha_events::DEFAULT_SUSPENSION_EXPECTED_DAYS, |d| {
                        d.suspension_expected_days()
                    })
            });
            self.suspensions.push(Suspension {
                from: step.on,
                to: None,
                expected_days,
                resumed_at: None,
            });
            self.status = Status::Suspended;
        }
    }

    fn check_steps(&mut self, step: &Step<'_>) {
        if self.steps_checked {
            return;
        }
        self.steps_checked = true;
        let Some(def) = self.def.as_deref() else {
            return;
        };
        if !steps_in_order(&self.steps, &def.steps) {
            self.raise(Rule::StepSkipped, step);
        }
        self.steps = Vec::new();
    }

    /// 办结, at [`CaseState::effective_at`]: a conclusion entered after the fact counts on
    /// its recorded date. A case never accepted is deemed accepted on its submission date, with
    /// the item's limits, and flagged.
    fn conclude(&mut self, ctx: &Ctx<'_>, step: &Step<'_>) {
        let at = Self::effective_at(step, ctx.config);
        let on = if at == step.at { step.on } else { date_of(at) };
        if on != step.on {
            self.concluded_claimed_on = Some(step.on);
        }
        // What the conclusion raises, it raises when it counts: entered late, when recorded.
        let effective = Step { at, on, ..*step };
        let step = &effective;
        if let Some(acc) = self.accepted.as_mut() {
            // A case deemed accepted and never accepted in form answers to the org that
            // concluded it, as a case never accepted does, and was concluded with no
            // `Accepted` at all (`procedure.no_acceptance`).
            if acc.deemed {
                if let Some(org) = step.org {
                    acc.org = org.clone();
                    self.transferred_to = None;
                }
                acc.deemed = false;
                self.no_acceptance = true;
                self.raise(Rule::NoAcceptance, step);
            }
            if !self.decided {
                self.raise(Rule::NoDecision, step);
            }
            self.check_steps(step);
        } else {
            self.no_acceptance = true;
            // The org that concluded it answers for it, as an accepting org would.
            if let Some(org) = step.org {
                self.concluded_org = Some(org.clone());
                self.transferred_to = None;
            }
            self.raise(Rule::NoAcceptance, step);
            match self.def.as_deref() {
                Some(item) => self.limits = Some((item.promised_days, item.statutory_days)),
                None => {
                    self.unmonitored = true;
                    self.raise(Rule::ItemUnknown, step);
                }
            }
        }
        if let Some(last) = self.suspensions.last_mut() {
            if last.to.is_none() {
                last.to = Some(on.max(last.from));
            }
        }
        self.concluded = Some((at, on, step.position));
        self.status = Status::Concluded;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same check by building the list: the distinct completed steps of the item, in order
    /// of first completion, compared with the item's steps.
    fn steps_in_order_by_list(completed: &[String], item_steps: &[String]) -> bool {
        let mut done: Vec<&str> = Vec::new();
        for s in completed {
            if item_steps.iter().any(|d| d == s) && !done.contains(&s.as_str()) {
                done.push(s);
            }
        }
        done.iter()
            .copied()
            .eq(item_steps.iter().map(String::as_str))
    }

    /// Every sequence of up to `len` steps named from `names`.
    fn sequences(names: &[&str], len: usize) -> Vec<Vec<String>> {
        let mut out = vec![Vec::new()];
        let mut last = vec![Vec::new()];
        for _ in 0..len {
            let mut next = Vec::new();
            for seq in &last {
                for n in names {
                    let mut s: Vec<String> = seq.clone();
                    s.push((*n).to_owned());
                    next.push(s);
                }
            }
            out.extend(next.iter().cloned());
            last = next;
        }
        out
    }

    #[test]
    fn the_step_order_check_agrees_with_the_list_comparison() {
        let items = sequences(&["a", "b", "c"], 3);
        let completed = sequences(&["a", "b", "c", "x"], 5);
        for item in &items {
            for done in &completed {
                assert_eq!(
                    steps_in_order(done, item),
                    steps_in_order_by_list(done, item),
                    "{done:?} against {item:?}"
                );
            }
        }
    }
}
