//! Supervision acts in the fold: a delivered card, an acknowledgement, a correction reported
//! back and an exemption act on the alerts of the case they name.

use jiancha_events::{EventData, StoredEvent};

use crate::case::Ctx;
use crate::fold::diff;
use crate::{instant, parse_alert_id, Applied, Millis, Projections, Rule, CARD_ID_PREFIX};

impl Projections {
    pub(crate) fn apply_supervision(&mut self, event: &StoredEvent) -> Applied {
        let (case_stream, action) = match &event.data {
            EventData::CardIssued(c) => (
                c.case.clone(),
                Supervise::Delivered(
                    c.rule.clone(),
                    instant::millis(&c.due),
                    card_alert_number(&event.id),
                ),
            ),
            EventData::AlertAcknowledged(a) => match parse_alert_id(&a.alert) {
                Some((case, rule, n)) => (case, Supervise::Acknowledged(rule, n)),
                None => return Applied::default(),
            },
            EventData::CorrectionCompleted(c) => match parse_alert_id(&c.alert) {
                Some((_, rule, n)) => (c.case.clone(), Supervise::Corrected(rule, n)),
                None => return Applied::default(),
            },
            EventData::Exempted(e) => (e.case.clone(), Supervise::Exempted),
            _ => return Applied::default(),
        };
        let calendar = self.calendar_for_case(&case_stream);
        let config = self.config;
        let generation = self.generation();
        let Some(case) = self.cases.get_mut(case_stream.as_str()) else {
            return Applied::default();
        };
        let ctx = Ctx {
            calendar: &calendar,
            config: &config,
            generation,
        };
        let before = case.alerts.len();
        case.advance(&ctx, instant::millis(&event.occurred_at));
        match action {
            Supervise::Delivered(rule, due, n) => {
                // The engine's card id names the alert; a card from elsewhere is matched by
                // its rule and threshold instant.
                let found = match n {
                    Some(n) => case
                        .alerts
                        .iter_mut()
                        .find(|a| a.rule.code() == rule && a.n == n),
                    None => case
                        .alerts
                        .iter_mut()
                        .find(|a| a.rule.code() == rule && a.raised_at == due && !a.delivered),
                };
                if let Some(a) = found {
                    a.delivered = true;
                }
            }
            Supervise::Acknowledged(rule, n) => {
                if let Some(a) = case.alerts.iter_mut().find(|a| a.rule == rule && a.n == n) {
                    a.acknowledged = true;
                }
            }
            Supervise::Corrected(rule, n) => case.close_corrected(rule, n, event.position),
            Supervise::Exempted => {
                case.exempted = true;
                case.close_all(event.position);
            }
        }
        case.settle(&ctx, event.position);
        let key = self
            .cases
            .get_key_value(case_stream.as_str())
            .map(|(k, _)| k.clone());
        let mut applied = diff(
            key,
            before,
            &self.cases[case_stream.as_str()].alerts,
            event.position,
        );
        applied.case = self
            .cases
            .get_key_value(case_stream.as_str())
            .map(|(k, _)| k.clone());
        applied
    }

    /// The calendar of a case's accountable org.
    fn calendar_for_case(&mut self, stream: &str) -> jiancha_calendar::Calendar {
        let org = self.cases.get(stream).map(|c| c.org().clone());
        match org {
            Some(org) => self.calendars.for_org(&org),
            None => self.calendars.for_org(jiancha_calendar::NATIONAL),
        }
    }
}

enum Supervise {
    Delivered(String, Millis, Option<u16>),
    Acknowledged(Rule, u16),
    Corrected(Rule, u16),
    Exempted,
}

/// The alert number a card's event id names, if it is an engine card id.
fn card_alert_number(event_id: &str) -> Option<u16> {
    let alert = event_id.strip_prefix(CARD_ID_PREFIX)?;
    let alert = alert.split_once('@').map_or(alert, |(a, _)| a);
    parse_alert_id(alert).map(|(_, _, n)| n)
}
