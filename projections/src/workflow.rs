//! The supervision workflow (预警纠错) after a card is raised: acknowledgement, correction
//! orders (督办) with their report-backs (回告) and verification, escalation; bad ratings'
//! verification, rectification and call-back (差评整改); complaints (投诉).
//!
//! Everything here is a fold over the log like the deadlines. The workflow's state lives on
//! the case ([`Flow`]); its time-driven rules are derived from that state and the calendar
//! when asked ([`CaseState::flow_thresholds`]), never stored as timers, so a view at any
//! instant, a replay and a restart agree, and a calendar amendment re-derives them. Each is
//! raised once — per card, per order round, per rating, per complaint — and the alerts
//! themselves say whether it was: a threshold is live while no alert of its rule about the
//! same thing has been raised since its round began.

use std::sync::Arc;

use chrono::NaiveDate;
use jiancha_events::{EventData, Finding, RatingVerdict, Severity};
use serde::{Deserialize, Serialize};

use crate::case::{About, Alert, CaseState, Ctx, Step};
use crate::instant::{date_of, end_of};
use crate::ledger::Measure;
use crate::limits::Limit;
use crate::{parse_alert_id, Millis, Projections, Rule};

/// The workflow state of one case: the cards acted on, the counted rating, the complaints.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flow {
    /// Cards a supervisor ordered corrected or a unit reported on, in order of the first act.
    pub cards: Vec<CardFlow>,
    /// The counted rating (一事一评: the first within the window).
    pub rating: Option<RatingFlow>,
    /// The complaints, numbered from 1.
    pub complaints: Vec<ComplaintFlow>,
    /// The cards an event recorded on a later day than it occurred raised (rule, number, the
    /// recording instant): they were issued when recorded, and the unit's day to acknowledge
    /// one runs from then, not from the instant the card is dated.
    #[serde(default)]
    pub late_issued: Vec<(Rule, u16, Millis)>,
}

impl Flow {
    /// Whether anything waits on an act (a report-back, a verification, a rectification, a
    /// complaint's acceptance or answer): the clock may still raise an alert about it.
    pub fn waits(&self) -> bool {
        let order_waits = self
            .cards
            .iter()
            .any(|c| c.order.is_some() && !c.closed && c.reported_on.is_none());
        let rating_waits = self.rating.as_ref().is_some_and(|r| {
            r.is_bad_open()
                && match r.verdict {
                    None => true,
                    Some((RatingVerdict::Valid, _)) => r.rectified_on.is_none(),
                    Some(_) => false,
                }
        });
        let complaint_waits = self.complaints.iter().any(|c| {
            (c.accepted.is_none() && c.rejected_on.is_none())
                || (c.accepted.is_some() && c.answered.is_none())
        });
        order_waits || rating_waits || complaint_waits
    }
}

/// One card's correction: its order (督办), the current round's report-back, its close.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardFlow {
    /// The card's rule.
    pub rule: Rule,
    /// The card's number.
    pub n: u16,
    /// The card's org, charged with the correction.
    pub org: Arc<str>,
    /// The order, once a supervisor gave one.
    pub order: Option<Order>,
    /// The date of the current round's report-back, while it awaits verification or after.
    #[serde(with = "crate::shared::option_date")]
    pub reported_on: Option<NaiveDate>,
    /// Verified and accepted: the card is closed.
    pub closed: bool,
    /// For a condition's card (a deadline, a stall, an overlong suspension): when the fold first
    /// saw its condition end, the end of the episode the card covers. An order keeps the card
    /// open past it and a verification may close the card before it: a crossing of the rule's
    /// limit after it is a new one, carded on its own; one before it is the same episode.
    pub condition_ended_at: Option<Millis>,
}

/// A correction order and its current round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    /// The instant of the first order (the ledger's month for the order's measures).
    pub first_at: Millis,
    /// The position of the first order.
    pub first_position: u64,
    /// Working days allowed for each round.
    pub days: u32,
    /// 1 for the first order, 2 after a rejected report-back, …
    pub round: u16,
    /// When the current round began: the order, or the rejection.
    pub round_at: Millis,
    /// Its business date.
    #[serde(with = "crate::shared::date")]
    pub round_on: NaiveDate,
}

/// The counted rating of a case and its rectification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RatingFlow {
    /// 1 to 5.
    pub score: u8,
    /// When it was given.
    pub at: Millis,
    /// Its business date.
    #[serde(with = "crate::shared::date")]
    pub on: NaiveDate,
    /// Its position.
    pub position: u64,
    /// The org it counts for.
    pub org: Arc<str>,
    /// The center's verdict on a bad rating, and its date.
    pub verdict: Option<(RatingVerdict, NaiveDate)>,
    /// The date the unit reported the rectification.
    #[serde(with = "crate::shared::option_date")]
    pub rectified_on: Option<NaiveDate>,
    /// The call-back's score.
    pub callback: Option<u8>,
    /// The position of the upheld appeal (naming the case) that removed the rating: its
    /// workflow ended there.
    #[serde(default)]
    pub appealed: Option<u64>,
}

impl RatingFlow {
    fn is_bad(&self) -> bool {
        self.score <= 2
    }

    /// A bad rating whose workflow is still open: not removed by an appeal.
    fn is_bad_open(&self) -> bool {
        self.is_bad() && self.appealed.is_none()
    }
}

/// One complaint and its handling.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComplaintFlow {
    /// When it was made.
    pub at: Millis,
    /// Its business date.
    #[serde(with = "crate::shared::date")]
    pub on: NaiveDate,
    /// Its position.
    pub position: u64,
    /// What it is about.
    pub category: String,
    /// The case's accountable org when it was made.
    pub org: Arc<str>,
    /// Accepted: the date and the org that answers it.
    pub accepted: Option<(NaiveDate, Arc<str>)>,
    /// Rejected: the date.
    #[serde(with = "crate::shared::option_date")]
    pub rejected_on: Option<NaiveDate>,
    /// Answered: the finding and the date.
    pub answered: Option<(Finding, NaiveDate)>,
}

/// A time-driven workflow rule's threshold: the rule, what it is about, when it fires, the org
/// charged, and the instant its round began (an alert about the same
/// thing raised since then means it fired already).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FlowThreshold {
    pub(crate) rule: Rule,
    pub(crate) about: About,
    pub(crate) at: Millis,
    pub(crate) org: Arc<str>,
    pub(crate) since: Millis,
}

/// A ledger count a workflow act makes: the measure, the org and the instant whose month it
/// counts in, and its points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// What it counts.
    pub measure: Measure,
    /// The org it counts for.
    pub org: Arc<str>,
    /// The instant whose month it counts in.
    pub at: Millis,
}

/// The org a complaint of `category` goes to when its acceptance names none: conduct of the
/// approval and of the service to the service center, fees and misconduct to the supervision
/// bureau.
pub fn default_route(district: &str, category: &str) -> String {
    let to_bureau = ["收费", "吃拿卡要", "fee", "fees", "misconduct"]
        .iter()
        .any(|c| category.contains(c));
    if to_bureau {
        format!("{district}/supervision")
    } else {
        format!("{district}/center")
    }
}

/// The district of an org path: its first segment.
pub fn district_of(org: &str) -> &str {
    org.split('/').next().unwrap_or(org)
}

/// The org a correction overdue goes to: the parent of the card's org (the org itself at the
/// top).
pub fn parent_of(org: &str) -> &str {
    org.rsplit_once('/').map_or(org, |(parent, _)| parent)
}

/// When a workflow `limit` of working days counted from `from` ends (the end of its last
/// day), judged by the limits in force while it runs (`limits.rs`).
fn limit_end(ctx: &Ctx<'_>, limit: Limit, from: NaiveDate) -> Option<Millis> {
    ctx.limits.end(ctx.config, limit, |days| {
        add_days(ctx, from, days).map(end_of)
    })
}

fn add_days(ctx: &Ctx<'_>, from: NaiveDate, days: u32) -> Option<NaiveDate> {
    ctx.calendar
        .add_working_days(from, days)
        .ok()
        .map(|d| d.date)
}

impl CaseState {
    fn flow_mut(&mut self) -> &mut Flow {
        self.flow.get_or_insert_with(Box::default)
    }

    pub(crate) fn card_flow(&self, rule: Rule, n: u16) -> Option<&CardFlow> {
        self.flow
            .as_ref()?
            .cards
            .iter()
            .find(|c| c.rule == rule && c.n == n)
    }

    /// When a card was issued: when raised, or when the event that raised it was recorded on a
    /// later day.
    pub(crate) fn issued_at(&self, a: &Alert) -> Millis {
        self.flow
            .as_ref()
            .and_then(|f| {
                f.late_issued
                    .iter()
                    .find(|(rule, n, _)| *rule == a.rule && *n == a.n)
            })
            .map_or(a.raised_at, |(_, _, at)| (*at).max(a.raised_at))
    }

    /// Keeps the issue instant of a card an event recorded on a later day raised.
    pub(crate) fn note_late_issue(&mut self, a: &Alert, recorded_at: Millis) {
        if a.rule.needs_acknowledgement() && date_of(recorded_at) > date_of(a.raised_at) {
            self.flow_mut().late_issued.push((a.rule, a.n, recorded_at));
        }
    }

    /// Whether an alert of `rule` about `about` was raised at or after `since`.
    fn raised_about(&self, rule: Rule, about: About, since: Millis) -> bool {
        self.alerts
            .iter()
            .any(|a| a.rule == rule && a.about == Some(about) && a.raised_at >= since)
    }

    /// The workflow's thresholds that have not fired, for the state as it is, with `extra`
    /// alerts (raised by the clock but not yet folded in) counted as raised cards.
    pub(crate) fn flow_thresholds(&self, ctx: &Ctx<'_>, extra: &[Alert]) -> Vec<FlowThreshold> {
        let mut out = Vec::new();
        if self.exempted {
            return out;
        }
        // Red cards wait for their unit's acknowledgement.
        for a in self.alerts.iter().chain(extra) {
            if !a.rule.needs_acknowledgement() || a.acknowledged || a.closed_at.is_some() {
                continue;
            }
            let about = About::Card(a.rule, a.n);
            let reported = self
                .card_flow(a.rule, a.n)
                .is_some_and(|c| c.reported_on.is_some() || c.closed);
            if reported || self.raised_about(Rule::Unacknowledged, about, Millis::MIN) {
                continue;
            }
            if let Some(end) = limit_end(ctx, Limit::Ack, date_of(self.issued_at(a))) {
                out.push(FlowThreshold {
                    rule: Rule::Unacknowledged,
                    about,
                    at: end,
                    org: a.org.clone(),
                    since: Millis::MIN,
                });
            }
        }
        if self.awaits_default_rating(ctx.config) {
            if let Some(at) = self.rating_window_end(ctx) {
                out.push(FlowThreshold {
                    rule: Rule::RatingDefaulted,
                    about: About::Rating,
                    at,
                    org: self.org().clone(),
                    since: Millis::MIN,
                });
            }
        }
        let Some(flow) = self.flow.as_deref() else {
            return out;
        };
        for c in &flow.cards {
            let Some(order) = &c.order else { continue };
            if c.closed || c.reported_on.is_some() {
                continue;
            }
            let about = About::Card(c.rule, c.n);
            let Some(due) = add_days(ctx, order.round_on, order.days) else {
                continue;
            };
            if !self.raised_about(Rule::CorrectionOverdue, about, order.round_at) {
                out.push(FlowThreshold {
                    rule: Rule::CorrectionOverdue,
                    about,
                    at: end_of(due).max(order.round_at),
                    org: c.org.clone(),
                    since: order.round_at,
                });
            }
            if !self.raised_about(Rule::Escalated, about, order.round_at) {
                if let Some(again) = add_days(ctx, due, order.days) {
                    out.push(FlowThreshold {
                        rule: Rule::Escalated,
                        about,
                        at: end_of(again).max(order.round_at),
                        org: c.org.clone(),
                        since: order.round_at,
                    });
                }
            }
        }
        if let Some(r) = flow.rating.as_ref().filter(|r| r.is_bad_open()) {
            match r.verdict {
                None if !self.raised_about(Rule::RatingUnverified, About::Rating, r.at) => {
                    if let Some(end) = limit_end(ctx, Limit::RatingVerify, r.on) {
                        out.push(FlowThreshold {
                            rule: Rule::RatingUnverified,
                            about: About::Rating,
                            at: end,
                            org: r.org.clone(),
                            since: r.at,
                        });
                    }
                }
                Some((RatingVerdict::Valid, on))
                    if r.rectified_on.is_none()
                        && !self.raised_about(Rule::RectificationOverdue, About::Rating, r.at) =>
                {
                    if let Some(end) = limit_end(ctx, Limit::Rectify, on) {
                        out.push(FlowThreshold {
                            rule: Rule::RectificationOverdue,
                            about: About::Rating,
                            at: end,
                            org: r.org.clone(),
                            since: r.at,
                        });
                    }
                }
                _ => {}
            }
        }
        for (i, c) in flow.complaints.iter().enumerate() {
            let about = About::Complaint(i as u16 + 1);
            let decided = c.accepted.is_some() || c.rejected_on.is_some();
            if !decided && !self.raised_about(Rule::ComplaintAcceptanceLate, about, c.at) {
                if let Some(end) = limit_end(ctx, Limit::ComplaintAccept, c.on) {
                    out.push(FlowThreshold {
                        rule: Rule::ComplaintAcceptanceLate,
                        about,
                        at: end,
                        org: c.org.clone(),
                        since: c.at,
                    });
                }
            }
            if let (Some((on, route)), None) = (&c.accepted, &c.answered) {
                if !self.raised_about(Rule::ComplaintReplyLate, about, c.at) {
                    if let Some(end) = limit_end(ctx, Limit::ComplaintReply, *on) {
                        out.push(FlowThreshold {
                            rule: Rule::ComplaintReplyLate,
                            about,
                            at: end,
                            org: route.clone(),
                            since: c.at,
                        });
                    }
                }
            }
        }
        out
    }

    /// Whether the clock can still raise an alert on the case: it is open, or its workflow
    /// may have a threshold ([`CaseState::may_flow`]).
    pub fn is_active(&self, config: &crate::AlertConfig) -> bool {
        self.status.is_open()
            || self.may_flow(config, &[])
            || (!self.exempted && self.kind.as_deref().is_some_and(|k| k.waits()))
    }

    /// Whether a default rating is still to come: the scoring gives one, the case concluded
    /// and counts no rating, and none was given yet.
    pub(crate) fn awaits_default_rating(&self, config: &crate::AlertConfig) -> bool {
        config.default_rating.is_some()
            && self.kind.is_none()
            && self.status == crate::Status::Concluded
            && !self.exempted
            && self.flow.as_ref().is_none_or(|f| f.rating.is_none())
            && !self.alerts.iter().any(|a| a.rule == Rule::RatingDefaulted)
    }

    /// The instant the rating window closes: the end of the `rating_window_days`-th natural
    /// day after the conclusion date.
    fn rating_window_end(&self, ctx: &Ctx<'_>) -> Option<Millis> {
        let (_, on, _) = self.concluded?;
        ctx.limits.end(ctx.config, Limit::RatingWindow, |days| {
            let last = on.checked_add_days(chrono::Days::new(u64::from(days)))?;
            Some(end_of(last))
        })
    }

    /// The alerts of the workflow's thresholds up to `t`, given the case's alerts raised by the
    /// clock up to `t` (`extra`, not yet folded in).
    pub(crate) fn flow_pending(&self, ctx: &Ctx<'_>, t: Millis, extra: &[Alert]) -> Vec<Alert> {
        self.flow_thresholds(ctx, extra)
            .into_iter()
            .filter(|th| th.at <= t)
            .map(|th| Alert {
                rule: th.rule,
                n: 0,
                raised_at: th.at,
                // A default rating is a record, not a condition: closed as it is given.
                closed_at: (th.rule == Rule::RatingDefaulted).then_some(th.at),
                raised_by: self.last_position,
                closed_by: None,
                org: th.org,
                delivered: false,
                acknowledged: false,
                acknowledged_at: None,
                about: Some(th.about),
            })
            .collect()
    }

    /// A rating: the first until the end of the window's 7th natural day after the conclusion
    /// counts (一事一评), one given before the conclusion included; a later one is recorded,
    /// not counted, and flagged (`rating.duplicate`); one after the window is recorded and not
    /// counted.
    pub(crate) fn rate(&mut self, ctx: &Ctx<'_>, step: &Step<'_>, score: u8) {
        if self.flow.as_ref().is_some_and(|f| f.rating.is_some()) {
            self.raise(Rule::RatingDuplicate, step);
            // A record, not a condition: closed as it is raised.
            if let Some(a) = self
                .alerts
                .last_mut()
                .filter(|a| a.rule == Rule::RatingDuplicate && a.closed_at.is_none())
            {
                a.closed_at = Some(a.raised_at);
                a.closed_by = Some(step.position);
            }
            return;
        }
        if self
            .rating_window_end(ctx)
            .is_some_and(|end| step.at >= end)
        {
            return;
        }
        let org = match (&self.accepted, step.org) {
            (None, Some(org)) if !self.no_acceptance => org.clone(),
            _ => self.org().clone(),
        };
        self.flow_mut().rating = Some(RatingFlow {
            score,
            at: step.at,
            on: step.on,
            position: step.position,
            org,
            verdict: None,
            rectified_on: None,
            callback: None,
            appealed: None,
        });
        if score <= 2 {
            self.raise(Rule::RatingBad, step);
        }
    }

    /// Whether the rating at `position` is the counted one.
    pub fn rating_counted(&self, position: u64) -> bool {
        self.flow
            .as_ref()
            .and_then(|f| f.rating.as_ref())
            .is_some_and(|r| r.position == position)
    }

    /// A complaint: numbered from 1 on the case.
    pub(crate) fn complain(&mut self, step: &Step<'_>, category: &str) {
        let org = match (&self.accepted, step.org) {
            (None, Some(org)) if !self.no_acceptance => org.clone(),
            _ => self.org().clone(),
        };
        self.flow_mut().complaints.push(ComplaintFlow {
            at: step.at,
            on: step.on,
            position: step.position,
            category: category.to_owned(),
            org,
            accepted: None,
            rejected_on: None,
            answered: None,
        });
    }

    /// The card an act names: its rule and the fold's number for it. With the card's threshold
    /// instant (`card_at`, written by the server), the alert of that rule raised then, whatever
    /// number the fold gives it (`None` when the fold raised none then); without it, the id's
    /// number.
    pub(crate) fn act_card(
        &self,
        alert_id: &str,
        card_at: Option<&jiancha_events::Timestamp>,
    ) -> Option<(Rule, u16)> {
        let (_, rule, n) = parse_alert_id(alert_id)?;
        let Some(at) = card_at.map(crate::instant::millis) else {
            return Some((rule, n));
        };
        self.alerts
            .iter()
            .find(|a| a.rule == rule && a.raised_at == at)
            .map(|a| (rule, a.n))
    }

    /// The workflow of the card `(rule, n)`, begun if need be; `None` when the case has no such
    /// card.
    fn card_flow_of(&mut self, (rule, n): (Rule, u16)) -> Option<&mut CardFlow> {
        let (org, closed_at) = self
            .alerts
            .iter()
            .find(|x| x.rule == rule && x.n == n)
            .map(|x| (x.org.clone(), x.closed_at))?;
        let flow = self.flow_mut();
        let i = match flow.cards.iter().position(|c| c.rule == rule && c.n == n) {
            Some(i) => i,
            None => {
                flow.cards.push(CardFlow {
                    rule,
                    n,
                    org,
                    order: None,
                    reported_on: None,
                    closed: false,
                    // A condition card already closed closed with its condition.
                    condition_ended_at: closed_at.filter(|_| rule.closes_with_condition()),
                });
                flow.cards.len() - 1
            }
        };
        flow.cards.get_mut(i)
    }

    /// Closes the open workflow alerts about `about` of the given rules.
    fn close_about(&mut self, about: About, rules: &[Rule], position: u64) {
        let t = self.cursor;
        for a in &mut self.alerts {
            if a.about == Some(about) && rules.contains(&a.rule) && a.closed_at.is_none() {
                a.closed_at = Some(t);
                a.closed_by = Some(position);
            }
        }
    }

    /// Applies a supervision act on the case at `at` (its business date `on`), after the case
    /// was advanced to it; returns the ledger counts it makes.
    pub(crate) fn apply_act(
        &mut self,
        ctx: &Ctx<'_>,
        data: &EventData,
        (at, on, position): (Millis, NaiveDate, u64),
    ) -> Vec<Outcome> {
        let mut out = Vec::new();
        match data {
            EventData::AlertAcknowledged(a) => {
                if let Some((rule, n)) = self.act_card(&a.alert, a.card_at.as_ref()) {
                    if let Some(alert) = self.alerts.iter_mut().find(|x| x.rule == rule && x.n == n)
                    {
                        alert.acknowledged = true;
                        alert.acknowledged_at.get_or_insert(at);
                    }
                    self.close_about(About::Card(rule, n), &[Rule::Unacknowledged], position);
                }
            }
            EventData::CorrectionOrdered(o) => {
                // An order on a card already closed (its condition ended, or an exemption) is
                // recorded and changes nothing: there is nothing left to correct. Closed when
                // the order is folded, as the server judges it: an order dated before the close
                // but entered after it would leave the card closed and its order running.
                let Some((rule, n)) = self.act_card(&o.alert, o.card_at.as_ref()) else {
                    return out;
                };
                let closed_before = self
                    .alerts
                    .iter()
                    .any(|x| x.rule == rule && x.n == n && x.closed_at.is_some());
                // 督办 follows a card: an order on a prompt (预警提示) changes nothing, as the
                // server refuses it.
                let prompt = rule.severity() == Severity::Warning;
                // A card about another card (an order gone overdue, escalated, unacknowledged)
                // is corrected with that card: an order on it would count a second order of
                // one correction.
                let about_card = self.alerts.iter().any(|x| {
                    x.rule == rule && x.n == n && matches!(x.about, Some(About::Card(..)))
                });
                if closed_before || prompt || about_card {
                    return out;
                }
                let Some(card) = self.card_flow_of((rule, n)) else {
                    return out;
                };
                // A second order on an ordered card changes nothing (it would push the order's
                // due date back): a rejected report-back orders it again. The server refuses
                // both; through `import` they are recorded and change nothing.
                if card.closed || card.order.is_some() {
                    return out;
                }
                card.reported_on = None;
                card.order = Some(Order {
                    first_at: at,
                    first_position: position,
                    days: o.days,
                    round: 1,
                    round_at: at,
                    round_on: on,
                });
                out.push(Outcome {
                    measure: Measure::Ordered,
                    org: card.org.clone(),
                    at,
                });
            }
            EventData::CorrectionCompleted(c) => {
                let mut reported = None;
                let card = self.act_card(&c.alert, c.card_at.as_ref());
                if let Some(card) = card.and_then(|card| self.card_flow_of(card)) {
                    if !card.closed {
                        card.reported_on = Some(on);
                        reported = Some((card.rule, card.n));
                    }
                }
                // The unit answered the card: it no longer waits for an acknowledgement.
                if let Some((rule, n)) = reported {
                    self.close_about(About::Card(rule, n), &[Rule::Unacknowledged], position);
                }
            }
            EventData::CorrectionVerified(v) => {
                let Some((rule, n)) = self.act_card(&v.alert, v.card_at.as_ref()) else {
                    return out;
                };
                if !self.alerts.iter().any(|x| x.rule == rule && x.n == n) {
                    return out;
                }
                let Some(card) = self.flow.as_mut().and_then(|f| {
                    f.cards
                        .iter_mut()
                        .find(|c| c.rule == rule && c.n == n && !c.closed)
                }) else {
                    return out;
                };
                let Some(reported_on) = card.reported_on else {
                    return out;
                };
                if v.accepted {
                    card.closed = true;
                    if let Some(order) = &card.order {
                        let in_time = add_days(ctx, order.round_on, order.days)
                            .is_some_and(|due| reported_on <= due);
                        if in_time {
                            out.push(Outcome {
                                measure: Measure::CorrectedOnTime,
                                org: card.org.clone(),
                                at: order.first_at,
                            });
                        }
                    }
                    let about = About::Card(rule, n);
                    self.close_about(
                        about,
                        &[
                            Rule::Unacknowledged,
                            Rule::CorrectionOverdue,
                            Rule::Escalated,
                        ],
                        position,
                    );
                    let t = self.cursor;
                    if let Some(a) = self
                        .alerts
                        .iter_mut()
                        .find(|a| a.rule == rule && a.n == n && a.closed_at.is_none())
                    {
                        a.closed_at = Some(t);
                        a.closed_by = Some(position);
                    }
                } else {
                    // Rejected: awaiting a new report-back; an order runs again from today.
                    card.reported_on = None;
                    if let Some(order) = card.order.as_mut() {
                        order.round = order.round.saturating_add(1);
                        order.round_at = at;
                        order.round_on = on;
                    }
                }
            }
            EventData::AppealUpheld(a) => self.appeal(&a.entry, position),
            EventData::RatingVerified(v) => {
                if let Some(r) = self.flow.as_mut().and_then(|f| f.rating.as_mut()) {
                    if r.is_bad_open() && r.verdict.is_none() {
                        r.verdict = Some((v.verdict, on));
                        let valid = v.verdict == RatingVerdict::Valid;
                        if valid {
                            out.push(Outcome {
                                measure: Measure::BadValid,
                                org: r.org.clone(),
                                at: r.at,
                            });
                        }
                        self.close_about(About::Rating, &[Rule::RatingUnverified], position);
                        // Nothing to rectify: the bad-rating card's condition ended (its ledger
                        // entry stays unless an appeal is upheld).
                        if !valid {
                            self.close_rating_card(position);
                        }
                    }
                }
            }
            EventData::RatingRectified(_) => {
                if let Some(r) = self.flow.as_mut().and_then(|f| f.rating.as_mut()) {
                    if let (Some((RatingVerdict::Valid, verified_on)), None, None) =
                        (r.verdict, r.rectified_on, r.appealed)
                    {
                        r.rectified_on = Some(on);
                        let in_time =
                            limit_end(ctx, Limit::Rectify, verified_on).is_some_and(|due| at < due);
                        if in_time {
                            out.push(Outcome {
                                measure: Measure::RectifiedOnTime,
                                org: r.org.clone(),
                                at: r.at,
                            });
                        }
                        self.close_about(About::Rating, &[Rule::RectificationOverdue], position);
                    }
                }
            }
            EventData::RatingCallback(c) => {
                if let Some(r) = self.flow.as_mut().and_then(|f| f.rating.as_mut()) {
                    if r.rectified_on.is_some() && r.callback.is_none() && r.appealed.is_none() {
                        r.callback = Some(c.score);
                        if c.score >= 4 {
                            out.push(Outcome {
                                measure: Measure::CallbackSatisfied,
                                org: r.org.clone(),
                                at: r.at,
                            });
                        }
                        // The call-back ends the rectification: the bad-rating card closes.
                        self.close_rating_card(position);
                    }
                }
            }
            EventData::ComplaintAccepted(c) => {
                if let Some(i) = self.complaint_index(&c.complaint) {
                    let district = district_of(self.org()).to_owned();
                    if let Some(flow) = self.flow.as_mut() {
                        let comp = &mut flow.complaints[i];
                        if comp.accepted.is_none() && comp.rejected_on.is_none() {
                            let route = c
                                .route_to
                                .clone()
                                .unwrap_or_else(|| default_route(&district, &comp.category));
                            comp.accepted = Some((on, Arc::from(route.as_str())));
                        }
                    }
                    let about = About::Complaint(i as u16 + 1);
                    self.close_about(about, &[Rule::ComplaintAcceptanceLate], position);
                }
            }
            EventData::ComplaintRejected(c) => {
                if let Some(i) = self.complaint_index(&c.complaint) {
                    if let Some(flow) = self.flow.as_mut() {
                        let comp = &mut flow.complaints[i];
                        if comp.accepted.is_none() && comp.rejected_on.is_none() {
                            comp.rejected_on = Some(on);
                        }
                    }
                    let about = About::Complaint(i as u16 + 1);
                    self.close_about(about, &[Rule::ComplaintAcceptanceLate], position);
                }
            }
            EventData::ComplaintAnswered(c) => {
                if let Some(i) = self.complaint_index(&c.complaint) {
                    if let Some(flow) = self.flow.as_mut() {
                        let comp = &mut flow.complaints[i];
                        if comp.accepted.is_some() && comp.answered.is_none() {
                            comp.answered = Some((c.finding, on));
                            if c.finding == Finding::Upheld {
                                out.push(Outcome {
                                    measure: Measure::ComplaintsUpheld,
                                    org: comp.org.clone(),
                                    at: comp.at,
                                });
                            }
                        }
                    }
                    let about = About::Complaint(i as u16 + 1);
                    self.close_about(about, &[Rule::ComplaintReplyLate], position);
                }
            }
            _ => {}
        }
        out
    }

    /// An upheld appeal naming this case: when it names the counted rating (one of its entries,
    /// or its `rating.bad` card, all caused by the `Rated` event), the rating is removed and its
    /// whole workflow ends: the cards about it close and the clock raises nothing more about it
    /// (the ledger reverses what it counted). Any other entry's appeal touches the ledger alone.
    fn appeal(&mut self, entry: &str, position: u64) {
        let Ok(id) = jiancha_events::EntryId::parse(entry) else {
            return;
        };
        let Some(r) = self.flow.as_mut().and_then(|f| f.rating.as_mut()) else {
            return;
        };
        if r.position != id.position || r.appealed.is_some() {
            return;
        }
        let names_rating = match Measure::parse(id.measure) {
            Some(m) if m.is_rating() => true,
            // The `rating.bad` card's entry: the ledger numbers an event's yellow entries in
            // the order the case raised its cards.
            Some(Measure::Yellow) => {
                let rating = r.position;
                self.alerts
                    .iter()
                    .filter(|a| a.raised_by == rating && a.rule.severity() == Severity::Yellow)
                    .zip(1u16..)
                    .any(|(a, n)| a.rule == Rule::RatingBad && n == id.n)
            }
            _ => false,
        };
        let Some(r) = self.flow.as_mut().and_then(|f| f.rating.as_mut()) else {
            return;
        };
        if !names_rating {
            return;
        }
        r.appealed = Some(position);
        let rules = [
            Rule::RatingUnverified,
            Rule::RectificationOverdue,
            Rule::RatingBad,
        ];
        let t = self.cursor;
        // The rating's cards, and what the workflow raised about them (an order's overdue or
        // escalation, a missing acknowledgement): their conditions ended with the rating.
        let cards: Vec<(Rule, u16)> = self
            .alerts
            .iter()
            .filter(|a| {
                rules.contains(&a.rule)
                    && (a.about == Some(About::Rating) || a.rule == Rule::RatingBad)
            })
            .map(|a| (a.rule, a.n))
            .collect();
        for a in &mut self.alerts {
            let of_rating = cards.contains(&(a.rule, a.n))
                || matches!(a.about, Some(About::Card(rule, n)) if cards.contains(&(rule, n)));
            if of_rating && a.closed_at.is_none() {
                a.closed_at = Some(t);
                a.closed_by = Some(position);
            }
        }
        // Their correction orders end too: the clock raises nothing more about them.
        if let Some(flow) = self.flow.as_mut() {
            for c in flow
                .cards
                .iter_mut()
                .filter(|c| cards.contains(&(c.rule, c.n)))
            {
                c.closed = true;
            }
        }
    }

    /// Closes the counted rating's `rating.bad` card, if open.
    fn close_rating_card(&mut self, position: u64) {
        let t = self.cursor;
        if let Some(a) = self
            .alerts
            .iter_mut()
            .find(|a| a.rule == Rule::RatingBad && a.closed_at.is_none())
        {
            a.closed_at = Some(t);
            a.closed_by = Some(position);
        }
    }

    /// The index of a complaint id's complaint on this case.
    fn complaint_index(&self, id: &str) -> Option<usize> {
        let (_, n) = jiancha_events::parse_complaint_id(id)?;
        let i = usize::from(n).checked_sub(1)?;
        self.flow
            .as_ref()
            .filter(|f| i < f.complaints.len())
            .map(|_| i)
    }
}

/// A correction order (督办) as the board shows it at an instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderView {
    /// The card's alert id, `<case>/<rule>/<n>`.
    pub card: String,
    /// The case stream.
    pub case: String,
    /// The card's rule code.
    pub rule: &'static str,
    /// The card's org (charged with the correction).
    pub org: String,
    /// The org's name, when an `OrgDefined` names it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org_name: Option<String>,
    /// The date of the first order.
    #[serde(with = "crate::shared::date")]
    pub ordered_on: NaiveDate,
    /// Working days allowed for each round.
    pub days: u32,
    /// The current round's due date for the report-back.
    #[serde(with = "crate::shared::option_date")]
    pub due_on: Option<NaiveDate>,
    /// 1 for the first order, 2 after the first rejected report-back, …
    pub round: u16,
    /// `ordered` (awaiting the report-back), `reported` (awaiting verification) or `closed`.
    pub state: &'static str,
    /// The date of the current round's report-back, if any.
    #[serde(with = "crate::shared::option_date")]
    pub reported_on: Option<NaiveDate>,
    /// Past its due date with no report-back at the instant of evaluation.
    pub overdue: bool,
    /// The org it is escalated to, once escalated (the latest escalation at the instant).
    pub escalated_to: Option<String>,
    /// The name of the org it is escalated to, when an `OrgDefined` names it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub escalated_to_name: Option<String>,
}

/// Why a workflow act does not fit the state of what it names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActError {
    /// The case, alert, rating or complaint it names is not known.
    #[error("{field}: {what} is not known")]
    Unknown {
        /// The field naming it, e.g. `data.alert`.
        field: &'static str,
        /// What was looked for.
        what: String,
    },
    /// It is known, but not in a state the act applies to.
    #[error("{field}: {message}")]
    State {
        /// The field naming it.
        field: &'static str,
        /// What is wrong, and what state it is in.
        message: String,
    },
}

fn unknown(field: &'static str, what: &str) -> ActError {
    ActError::Unknown {
        field,
        what: what.to_owned(),
    }
}

fn state(field: &'static str, message: impl Into<String>) -> ActError {
    ActError::State {
        field,
        message: message.into(),
    }
}

impl Projections {
    /// The correction orders at `now`: open ones (overdue first, then by due date), then the
    /// closed ones, newest first.
    pub fn orders(&self, now: Millis) -> Vec<OrderView> {
        let mut out = Vec::new();
        for (stream, case) in self.cases() {
            let Some(flow) = case.flow.as_deref() else {
                continue;
            };
            if !flow.cards.iter().any(|c| c.order.is_some()) {
                continue;
            }
            let alerts = self.case_alerts(stream, case, now);
            let calendar = self.calendar_of(case);
            for c in &flow.cards {
                let Some(order) = &c.order else { continue };
                if order.first_at > now {
                    continue;
                }
                let due_on = calendar
                    .add_working_days(order.round_on, order.days)
                    .ok()
                    .map(|d| d.date);
                // An exempted case left the assessment: its orders are closed with it.
                let state = if c.closed || case.exempted {
                    "closed"
                } else if c.reported_on.is_some() {
                    "reported"
                } else {
                    "ordered"
                };
                let card = crate::case::About::Card(c.rule, c.n).id(stream);
                let escalated_to = alerts
                    .iter()
                    .filter(|a| a.about.as_deref() == Some(card.as_str()))
                    .filter_map(|a| a.escalated_to.clone())
                    .next_back();
                let escalated_to_name = escalated_to
                    .as_deref()
                    .and_then(|o| self.catalog.org_name(o))
                    .map(str::to_owned);
                out.push(OrderView {
                    card,
                    case: stream.to_owned(),
                    rule: c.rule.code(),
                    org: c.org.to_string(),
                    org_name: self.catalog.org_name(&c.org).map(str::to_owned),
                    ordered_on: date_of(order.first_at),
                    days: order.days,
                    due_on,
                    round: order.round,
                    state,
                    reported_on: c.reported_on,
                    overdue: state == "ordered" && due_on.is_some_and(|d| end_of(d) <= now),
                    escalated_to,
                    escalated_to_name,
                });
            }
        }
        out.sort_by(|a, b| {
            let rank = |o: &OrderView| (o.state == "closed", !o.overdue);
            rank(a)
                .cmp(&rank(b))
                .then_with(|| match (a.state, b.state) {
                    ("closed", "closed") => b.ordered_on.cmp(&a.ordered_on),
                    _ => a.due_on.cmp(&b.due_on),
                })
                .then_with(|| a.card.cmp(&b.card))
        });
        out
    }

    /// Whether a workflow act fits the state of what it names, as the log stands (alerts the
    /// clock raised by now included): [`Projections::check_act_at`] at the end of time.
    pub fn check_act(&self, data: &EventData) -> Result<(), ActError> {
        self.check_act_at(data, Millis::MAX)
    }

    /// Whether a workflow act (an acknowledgement, order, report-back, verification, rating or
    /// complaint act) fits the state of what it names at `now`: the alert exists (raised by
    /// `now`), an order's card is open, a verification has a report-back to verify, a rating
    /// act follows the one before it, a complaint is undecided or accepted and unanswered.
    pub fn check_act_at(&self, data: &EventData, now: Millis) -> Result<(), ActError> {
        // The card an act names: by its threshold instant when the act carries it (see
        // `act_card`), else by the id's number.
        let card = |field: &'static str,
                    id: &str,
                    card_at: Option<&jiancha_events::Timestamp>|
         -> Result<_, ActError> {
            let (case_id, rule, n) = parse_alert_id(id).ok_or_else(|| unknown(field, id))?;
            let case = self.case(&case_id).ok_or_else(|| unknown(field, id))?;
            // Out of the assessment: its cards are closed, with no next state.
            if case.exempted {
                return Err(state(
                    field,
                    format!("{id}: its case {case_id} was exempted from the assessment"),
                ));
            }
            let alert = self
                .case_alerts(&case_id, case, now)
                .into_iter()
                .find(|a| {
                    a.rule == rule.code()
                        && match card_at {
                            Some(at) => a.raised_at_millis() == crate::instant::millis(at),
                            None => a.id.ends_with(&format!("/{n}")),
                        }
                })
                .ok_or_else(|| unknown(field, id))?;
            let n = parse_alert_id(&alert.id).map_or(n, |(_, _, n)| n);
            Ok((case, rule, n, alert))
        };
        let rating = |case_id: &str| -> Result<_, ActError> {
            let case = self
                .case(case_id)
                .ok_or_else(|| unknown("data.case", case_id))?;
            case.flow
                .as_ref()
                .and_then(|f| f.rating.clone())
                .filter(RatingFlow::is_bad)
                .ok_or_else(|| state("data.case", format!("{case_id} has no counted bad rating")))
                .and_then(|r| match r.appealed {
                    Some(p) => Err(state(
                        "data.case",
                        format!("{case_id}'s rating was removed by the appeal at position {p}"),
                    )),
                    None => Ok(r),
                })
        };
        let complaint = |id: &str| -> Result<ComplaintFlow, ActError> {
            let (case_id, n) = jiancha_events::parse_complaint_id(id)
                .ok_or_else(|| unknown("data.complaint", id))?;
            self.case(case_id)
                .and_then(|c| c.flow.as_ref())
                .and_then(|f| f.complaints.get(usize::from(n).checked_sub(1)?))
                .cloned()
                .ok_or_else(|| unknown("data.complaint", id))
        };
        match data {
            EventData::AlertAcknowledged(a) => {
                card("data.alert", &a.alert, a.card_at.as_ref()).map(|_| ())
            }
            EventData::CorrectionOrdered(o) => {
                let (case, rule, n, alert) = card("data.alert", &o.alert, o.card_at.as_ref())?;
                if !alert.is_open() {
                    return Err(state("data.alert", format!("{} is closed", o.alert)));
                }
                // A card about another card is corrected with it (the fold ignores an order on
                // it, as a second order of one correction).
                if let Some(about) = alert
                    .about
                    .as_deref()
                    .filter(|about| parse_alert_id(about).is_some())
                {
                    return Err(state(
                        "data.alert",
                        format!(
                            "{} is about card {about}: order that card corrected",
                            o.alert
                        ),
                    ));
                }
                // 督办 follows a card; a prompt (预警提示) is none.
                if alert.severity == "warning" {
                    return Err(state(
                        "data.alert",
                        format!(
                            "{} is a prompt, not a card: only yellow and red cards are ordered corrected",
                            o.alert
                        ),
                    ));
                }
                match case.card_flow(rule, n) {
                    Some(c) if c.closed => {
                        Err(state("data.alert", format!("{} was verified", o.alert)))
                    }
                    // Ordered → reported → verified: a rejected report-back orders it again,
                    // never a second order (which would push its due date back).
                    Some(c) if c.order.is_some() => Err(state(
                        "data.alert",
                        format!(
                            "{} is under a correction order already: a rejected report-back orders it again",
                            o.alert
                        ),
                    )),
                    _ => Ok(()),
                }
            }
            EventData::CorrectionCompleted(c) => {
                let (case, rule, n, _) = card("data.alert", &c.alert, c.card_at.as_ref())?;
                match case.card_flow(rule, n) {
                    Some(f) if f.closed => Err(state(
                        "data.alert",
                        format!("{} was verified and closed", c.alert),
                    )),
                    Some(f) if f.reported_on.is_some() => Err(state(
                        "data.alert",
                        format!("{} awaits the verification of its report-back", c.alert),
                    )),
                    Some(f) if f.order.is_some() => Ok(()),
                    // A report-back answers an order (ordered → reported → verified).
                    _ => Err(state(
                        "data.alert",
                        format!("{} is under no correction order to report back on", c.alert),
                    )),
                }
            }
            EventData::CorrectionVerified(v) => {
                let (case, rule, n, _) = card("data.alert", &v.alert, v.card_at.as_ref())?;
                match case.card_flow(rule, n) {
                    Some(f) if f.closed => Err(state(
                        "data.alert",
                        format!("{} was verified already", v.alert),
                    )),
                    Some(f) if f.reported_on.is_some() => Ok(()),
                    _ => Err(state(
                        "data.alert",
                        format!("{} has no report-back to verify", v.alert),
                    )),
                }
            }
            EventData::RatingVerified(v) => match rating(&v.case)?.verdict {
                None => Ok(()),
                Some((verdict, _)) => Err(state(
                    "data.case",
                    format!("the rating was verified already ({})", verdict.as_str()),
                )),
            },
            EventData::RatingRectified(r) => {
                let flow = rating(&r.case)?;
                match (flow.verdict, flow.rectified_on) {
                    (Some((RatingVerdict::Valid, _)), None) => Ok(()),
                    (Some((RatingVerdict::Valid, _)), Some(_)) => {
                        Err(state("data.case", "the rating was rectified already"))
                    }
                    _ => Err(state(
                        "data.case",
                        "only a bad rating verified as valid is rectified",
                    )),
                }
            }
            EventData::RatingCallback(c) => {
                let flow = rating(&c.case)?;
                match (flow.rectified_on, flow.callback) {
                    (Some(_), None) => Ok(()),
                    (Some(_), Some(_)) => Err(state("data.case", "the call-back was made already")),
                    (None, _) => Err(state("data.case", "a call-back follows the rectification")),
                }
            }
            EventData::ComplaintAccepted(jiancha_events::ComplaintAccepted {
                complaint: id,
                ..
            })
            | EventData::ComplaintRejected(jiancha_events::ComplaintRejected {
                complaint: id,
                ..
            }) => {
                let c = complaint(id)?;
                if c.accepted.is_some() || c.rejected_on.is_some() {
                    return Err(state("data.complaint", format!("{id} was decided already")));
                }
                Ok(())
            }
            EventData::ComplaintAnswered(a) => {
                let c = complaint(&a.complaint)?;
                match (&c.accepted, &c.answered) {
                    (Some(_), None) => Ok(()),
                    (Some(_), Some(_)) => Err(state(
                        "data.complaint",
                        format!("{} was answered already", a.complaint),
                    )),
                    (None, _) => Err(state(
                        "data.complaint",
                        format!("{} is not accepted", a.complaint),
                    )),
                }
            }
            _ => Ok(()),
        }
    }
}
