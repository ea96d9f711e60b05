//! Supervision acts in the fold: a delivered card, the workflow's acts (an acknowledgement, a
//! correction order, a report-back and its verification, a rating's verification,
//! rectification and call-back, a complaint's acceptance, rejection and answer), a failed
//! notification and an exemption act on the case they name.

use std::sync::Arc;

use jiancha_events::{EventData, StoredEvent};

use crate::case::{About, Ctx};
use crate::fold::diff;
use crate::instant::date_of;
use crate::workflow::district_of;
use crate::{instant, parse_alert_id, Applied, Projections, CARD_ID_PREFIX};

impl Projections {
    pub(crate) fn apply_supervision(&mut self, event: &StoredEvent) -> Applied {
        let Some(case_stream) = event.data.concerns_case().map(str::to_owned) else {
            return Applied::default();
        };
        let calendar = self.calendar_for_case(&case_stream);
        let config = self.config;
        let limits = self.limits.clone();
        let generation = self.generation();
        let Some(case) = self.map_of_mut(&case_stream).get_mut(case_stream.as_str()) else {
            return Applied::default();
        };
        let ctx = Ctx {
            calendar: &calendar,
            config: &config,
            limits: &limits,
            generation,
        };
        let at = instant::millis(&event.occurred_at);
        let before = case.alerts.len();
        case.advance(&ctx, at);
        let mut outcomes = Vec::new();
        match &event.data {
            EventData::CardIssued(c) => {
                let (due, n) = (instant::millis(&c.due), card_alert_number(&event.id));
                // The engine's card id names the alert; a card from elsewhere is matched by
                // its rule and threshold instant.
                let found = match n {
                    Some(n) => case
                        .alerts
                        .iter_mut()
                        .find(|a| a.rule.code() == c.rule && a.n == n),
                    None => case
                        .alerts
                        .iter_mut()
                        .find(|a| a.rule.code() == c.rule && a.raised_at == due && !a.delivered),
                };
                if let Some(a) = found {
                    a.delivered = true;
                }
            }
            EventData::Exempted(_) => {
                case.exempted = true;
                case.close_all(event.position);
            }
            EventData::NotificationFailed(f) => {
                // `<case>/<rule>/<n>/<recipient>`: the alert the notice was about.
                let mut parts = f.notification.splitn(4, '/');
                let (_, rule, n) = (parts.next(), parts.next(), parts.next());
                let alert = format!("{case_stream}/{}/{}", rule.unwrap_or(""), n.unwrap_or(""));
                let about = parse_alert_id(&alert).map(|(_, rule, n)| About::Card(rule, n));
                let supervision: Arc<str> =
                    Arc::from(format!("{}/supervision", district_of(case.org())).as_str());
                let alert = crate::case::Alert {
                    rule: crate::Rule::NotifyFailed,
                    n: case.count(crate::Rule::NotifyFailed) + 1,
                    raised_at: at,
                    closed_at: None,
                    raised_by: event.position,
                    closed_by: None,
                    org: supervision,
                    delivered: false,
                    acknowledged: false,
                    acknowledged_at: None,
                    about,
                };
                case.alerts.push(alert);
            }
            data => {
                outcomes = case.apply_act(&ctx, data, (at, date_of(at), event.position));
            }
        }
        case.settle(&ctx, event.position);
        let map = self.map_of(&case_stream);
        let Some((key, case)) = map.get_key_value(case_stream.as_str()) else {
            return Applied::default();
        };
        let key = Some(key.clone());
        let mut applied = diff(key.clone(), before, &case.alerts, event.position);
        applied.case = key;
        applied.outcomes = outcomes;
        applied
    }

    /// The calendar of a case's accountable org.
    fn calendar_for_case(&mut self, stream: &str) -> jiancha_calendar::Calendar {
        let org = self.case(stream).map(|c| c.org().clone());
        match org {
            Some(org) => self.calendars.for_org(&org),
            None => self.calendars.for_org(jiancha_calendar::NATIONAL),
        }
    }
}

/// The alert number a card's event id names, if it is an engine card id.
fn card_alert_number(event_id: &str) -> Option<u16> {
    let alert = event_id.strip_prefix(CARD_ID_PREFIX)?;
    let alert = alert.split_once('@').map_or(alert, |(a, _)| a);
    parse_alert_id(alert).map(|(_, _, n)| n)
}
