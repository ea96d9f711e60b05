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
use crate::{instant, parse_alert_id, Applied, Millis, Projections, CARD_ID_PREFIX};

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
        // An issued card no alert is (with its threshold), or a withdrawn one (without).
        let mut orphan: Option<(String, Option<Millis>)> = None;
        match &event.data {
            EventData::CardIssued(c) => {
                let (due, n) = (instant::millis(&c.due), card_alert_number(&event.id));
                // The card the issuer meant is the alert of its rule raised at its threshold
                // instant; an engine card id also names it by number (the same, under the
                // rules that issued it).
                let at_due = case
                    .alerts
                    .iter()
                    .position(|a| a.rule.code() == c.rule && a.raised_at == due && !a.delivered);
                let by_number = n.and_then(|n| {
                    case.alerts
                        .iter()
                        .position(|a| a.rule.code() == c.rule && a.n == n)
                });
                if let Some(i) = at_due.or(by_number) {
                    case.alerts[i].delivered = true;
                } else if let Some(id) = event.id.strip_prefix(CARD_ID_PREFIX) {
                    // Issued, but no alert of the fold is that card (a build whose rules no
                    // longer raise it, or an engine stopped before withdrawing it): the engine
                    // withdraws it at its next start.
                    let id = id.split('@').next().unwrap_or(id);
                    orphan = Some((id.to_owned(), Some(due)));
                }
            }
            EventData::CardWithdrawn(w) => orphan = Some((w.card.clone(), None)),
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
        match orphan {
            Some((id, Some(due))) => {
                self.orphans.insert(id, due);
            }
            Some((id, None)) => {
                self.orphans.remove(&id);
            }
            None => {}
        }
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
