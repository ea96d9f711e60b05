//! A case (or the whole district) as of an instant: the one place that says what an instant
//! given by a user means, which events count then, and what a case looked like — its state,
//! its alerts and its history with the changes each event caused. The CLI, the server and the
//! benchmarks call this; it does no I/O and reads no clock, so the caller passes the events
//! (a case's context, as the store's `read_case_context` gives them, or the whole log) and the
//! instant.
//!
//! Two filters: *occurred by* (business time: what `case show --now T` counts, see
//! [`occurred_by`]) and *known by* (also recorded by then: what the log showed at that instant,
//! what `history --as-of T` counts).

use chrono::{DateTime, NaiveDate};
use jiancha_events::StoredEvent;
use serde::Serialize;

use crate::instant::{self, Millis};
use crate::{Alert, AlertConfig, AlertView, CaseView, Projections, Scoring};

pub use crate::instant::occurred_by;

/// An instant a user gave that cannot be read, or that no answer could be judged at. The
/// caller names the parameter (a flag, a query field) in front of this text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InstantError {
    /// Neither an RFC 3339 instant with offset nor a date: the user writes one.
    #[error(
        "{text:?} is neither an RFC 3339 instant with offset (2026-03-31T17:00:00+08:00) nor a date (2026-03-31)"
    )]
    Unreadable {
        /// The text as given.
        text: String,
    },
    /// On a date in China outside the dates the working-day calendar covers: no deadline can
    /// be judged then; the user gives an instant within them.
    #[error(
        "{text:?} falls on {date} in China, outside {first} to {last}, the dates the working-day calendar covers",
        first = jiancha_calendar::FIRST_DATE,
        last = jiancha_calendar::LAST_DATE
    )]
    OutOfRange {
        /// The text as given.
        text: String,
        /// Its date in China.
        date: NaiveDate,
    },
}

/// Parses an instant as users give it: an RFC 3339 instant with its offset, or a date meaning
/// the end of that day (24:00, +08:00); either within the dates the calendar covers (from the
/// first instant of its first day to the end of its last).
pub fn parse_instant(text: &str) -> Result<Millis, InstantError> {
    let (at, date) = if let Ok(ts) = DateTime::parse_from_rfc3339(text) {
        (
            ts.timestamp_millis(),
            instant::date_of(ts.timestamp_millis()),
        )
    } else if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        (instant::end_of(date), date)
    } else {
        return Err(InstantError::Unreadable {
            text: text.to_owned(),
        });
    };
    let first = instant::start_of(jiancha_calendar::FIRST_DATE);
    let last = instant::end_of(jiancha_calendar::LAST_DATE);
    if (first..=last).contains(&at) {
        return Ok(at);
    }
    Err(InstantError::OutOfRange {
        text: text.to_owned(),
        date,
    })
}

/// Whether an event had been recorded and had occurred by `as_of`: what the log showed then.
pub fn known_by(event: &StoredEvent, as_of: Millis) -> bool {
    occurred_by(event, as_of) && event.recorded_at.timestamp_millis() <= as_of
}

/// Folds the events (in position order) that occurred by `now` into `projections`: a case's
/// context gives the projections one case needs, the whole log the district's.
///
/// An ending entered after the fact (a conclusion, withdrawal or transfer recorded beyond the
/// tolerance, outside a declared historical import) counts when it was recorded, so it counts
/// by `now` only once recorded: before that, the case was running, as the log then showed.
/// Another event that occurred by `now` counts at its own instant, whenever entered; what its
/// late entry raised (data.backdated, a card's issue) came when it was entered.
pub fn fold_occurred<'a>(
    mut projections: Projections,
    events: impl IntoIterator<Item = &'a StoredEvent>,
    now: Millis,
) -> Projections {
    // What an event entered after `now` raised for being entered late (data.backdated) had
    // not happened by then: the fold is told the instant it answers for.
    let known_by = projections.known_by.replace(now);
    for event in events {
        if occurred_by(event, now) && !projections.ends_after(event, now) {
            projections.apply(event);
        }
    }
    projections.known_by = known_by;
    projections
}

/// A case's view at `now` from its context events (those that occurred by then count).
pub fn case_view(
    config: AlertConfig,
    case: &str,
    context: &[StoredEvent],
    now: Millis,
) -> Option<CaseView> {
    fold_occurred(Projections::new(config), context, now).case_view(case, now)
}

/// One derived change.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    /// What changed: clock_started, promised_due, statutory_due, status, alert_raised,
    /// alert_closed, ledger_entry.
    pub change: &'static str,
    /// The old value, when something moved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// The new value.
    pub to: String,
    /// The position of the event that caused it.
    pub caused_by: u64,
}

/// One recorded event and what it caused.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    /// The event's position.
    pub position: u64,
    /// The event's type.
    #[serde(rename = "type")]
    pub event_type: &'static str,
    /// The event's stream.
    pub stream: String,
    /// When it occurred (RFC 3339).
    pub occurred_at: String,
    /// When it was recorded (RFC 3339).
    pub recorded_at: String,
    /// Who did it.
    pub actor: String,
    /// The org it was done in.
    pub org: String,
    /// The event's data.
    pub data: serde_json::Value,
    /// What it changed.
    pub derived: Vec<Change>,
}

/// A case's history as the log stood at an instant.
#[derive(Debug, Serialize)]
pub struct History {
    /// The case stream.
    pub case: String,
    /// The instant (RFC 3339, +08:00).
    pub as_of: String,
    /// The events known by then, with what each caused.
    pub events: Vec<Step>,
    /// Alerts the clock raised after the last event, by the instant.
    pub clock: Vec<Change>,
    /// The case at the instant, as `case show --now` prints it (absent for a project).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<CaseView>,
    /// A procurement project at the instant, as `case show proc-… --now` prints it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<crate::kinds::procurement::view::ProjectView>,
    /// The case's alerts at the instant, as `alerts --now` prints them.
    pub alerts: Vec<AlertView>,
}

/// A case's history from its context events (as `read_case_context` gives them): the ones
/// known by `as_of`, folded one by one; `None` when the case had not been submitted by then.
pub fn history(
    config: AlertConfig,
    case: &str,
    context: &[StoredEvent],
    as_of: Millis,
) -> Option<History> {
    let known: Vec<StoredEvent> = context
        .iter()
        .filter(|e| known_by(e, as_of))
        .cloned()
        .collect();
    build(config, case, &known, as_of)
}

fn due_changes(before: Option<&CaseView>, after: &CaseView, position: u64, out: &mut Vec<Change>) {
    let pairs = [
        (
            "clock_started",
            before.and_then(|b| b.clock_start_on),
            after.clock_start_on,
        ),
        (
            "promised_due",
            before.and_then(|b| b.promised_due_on),
            after.promised_due_on,
        ),
        (
            "statutory_due",
            before.and_then(|b| b.statutory_due_on),
            after.statutory_due_on,
        ),
    ];
    for (change, from, to) in pairs {
        if from != to {
            if let Some(to) = to {
                out.push(Change {
                    change,
                    from: from.map(|d| d.to_string()),
                    to: to.to_string(),
                    caused_by: position,
                });
            }
        }
    }
    let status_before = before.map(|b| b.status);
    if status_before != Some(after.status) {
        out.push(Change {
            change: "status",
            from: status_before.map(str::to_owned),
            to: after.status.to_owned(),
            caused_by: position,
        });
    }
}

fn alert_change(change: &'static str, case: &str, a: &Alert, position: u64) -> Change {
    let at = if change == "alert_raised" {
        a.raised_at
    } else {
        a.closed_at.unwrap_or(a.raised_at)
    };
    Change {
        change,
        from: None,
        to: format!(
            "{} ({}) at {}",
            crate::alert_id(case, a),
            a.rule.severity().as_str(),
            instant::format(at)
        ),
        caused_by: position,
    }
}

/// Folds `events` (already filtered: every one counts) one by one, recording what each
/// changed, and evaluates the case at `as_of`.
pub fn build(
    config: AlertConfig,
    case: &str,
    events: &[StoredEvent],
    as_of: Millis,
) -> Option<History> {
    let mut p = Projections::new(config).with_ledger(Scoring::default());
    let mut steps = Vec::new();
    let mut before: Option<CaseView> = None;
    // A declared historical import is the case's history only when it holds one of the case's
    // events or the acts on it: the others (another org's, with their reasons) are folded, not
    // shown.
    let own: Vec<u64> = events
        .iter()
        .filter(|e| e.stream == case || e.data.concerns_case() == Some(case))
        .map(|e| e.position)
        .collect();
    for e in events {
        let entries_before = p.ledger().map_or(0, |l| l.len());
        let applied = p.apply(e);
        if let jiancha_events::EventData::HistoryImported(h) = &e.data {
            let range = h.from_position..=h.to_position;
            if !own.iter().any(|p| range.contains(p)) {
                continue;
            }
        }
        let mut derived = Vec::new();
        if applied.case.as_deref() == Some(case) {
            for a in &applied.raised {
                derived.push(alert_change("alert_raised", case, a, e.position));
            }
            for a in &applied.closed {
                derived.push(alert_change("alert_closed", case, a, e.position));
            }
            if let Some(after) = p.case_view(case, e.occurred_at.timestamp_millis()) {
                due_changes(before.as_ref(), &after, e.position, &mut derived);
                before = Some(after);
            }
        }
        let new_entries: Vec<crate::Entry> = p
            .ledger()
            .map(|l| l.entries().skip(entries_before).collect())
            .unwrap_or_default();
        for entry in &new_entries {
            let sign = if entry.amount < 0 { "-" } else { "+" };
            let to = format!(
                "{} {sign}{} {} {} {}",
                entry.key(),
                entry.measure.as_str(),
                entry.org,
                entry.month,
                entry.rule
            );
            derived.push(Change {
                change: "ledger_entry",
                from: None,
                to,
                caused_by: e.position,
            });
        }
        steps.push(Step {
            position: e.position,
            event_type: e.data.type_name(),
            stream: e.stream.clone(),
            occurred_at: jiancha_events::format_timestamp(&e.occurred_at),
            recorded_at: jiancha_events::format_timestamp(&e.recorded_at),
            actor: e.actor.clone(),
            org: e.org.clone(),
            data: serde_json::from_str(&e.data.to_json()).unwrap_or(serde_json::Value::Null),
            derived,
        });
    }
    let (state, project) = match p.case_view(case, as_of) {
        Some(view) => (Some(view), None),
        None => (None, Some(p.project_view(case, as_of)?)),
    };
    let last = events.last().map_or(0, |e| e.position);
    let clock = p
        .pending_alerts(case, as_of)
        .iter()
        .map(|a| Change {
            change: "alert_raised",
            from: None,
            to: format!("{} ({}) at {}", a.id, a.severity, a.raised_at),
            caused_by: last,
        })
        .collect();
    let alerts = p
        .case(case)
        .map(|c| p.case_alerts(case, c, as_of))
        .unwrap_or_default();
    Some(History {
        case: case.to_owned(),
        as_of: instant::format(as_of),
        events: steps,
        clock,
        state,
        project,
        alerts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: Millis = 86_400_000;

    #[test]
    fn instants_are_rfc3339_or_a_date_meaning_its_end() {
        assert_eq!(
            parse_instant("2026-03-31").map(instant::format),
            Ok("2026-04-01T00:00:00+08:00".to_owned())
        );
        assert_eq!(
            parse_instant("2026-03-31T09:00:00Z").map(instant::format),
            Ok("2026-03-31T17:00:00+08:00".to_owned())
        );
        let e = parse_instant("yesterday").unwrap_err();
        assert_eq!(
            e.to_string(),
            "\"yesterday\" is neither an RFC 3339 instant with offset \
             (2026-03-31T17:00:00+08:00) nor a date (2026-03-31)"
        );
    }

    /// "Occurred by" counts a late entry at its own date; "known by" only once it was recorded.
    /// A late ending is the exception: it counts from when it was recorded (the clock ran on
    /// until then), so before that the case is running in the view as in the history, and
    /// concluded in both after.
    #[test]
    fn a_late_ending_counts_in_the_view_and_the_history_when_recorded() {
        let text = include_str!("../testdata/scenarios/backdated_entry.jsonl");
        let (events, _) = crate::tests::scenario_events(text);
        let config = AlertConfig::default();
        let status = |v: Option<CaseView>| v.map(|v| v.status);
        let types = |h: &History| -> Vec<&str> {
            h.events
                .iter()
                .filter(|s| s.stream == "case-m")
                .map(|s| s.event_type)
                .collect()
        };
        let before = parse_instant("2026-06-05").unwrap();
        let after = parse_instant("2026-06-10").unwrap();
        assert_eq!(
            status(case_view(config, "case-m", &events, before)),
            Some("running")
        );
        // The decision, entered with it but not an ending, counts at its own instant; its late
        // entry (data.backdated) had raised nothing by then, nor by the eve of its entry.
        let decided = parse_instant("2026-06-03T15:30:00+08:00").unwrap();
        let backdated = |p: &Projections| {
            p.case("case-m").is_some_and(|c| {
                c.alerts
                    .iter()
                    .any(|a| a.rule == crate::Rule::DataBackdated)
            })
        };
        let folded = fold_occurred(Projections::new(config), &events, decided);
        assert!(folded.case("case-m").is_some_and(|c| c.decided));
        assert!(!backdated(&folded));
        assert!(!backdated(&fold_occurred(
            Projections::new(config),
            &events,
            parse_instant("2026-06-09T09:59:59+08:00").unwrap()
        )));
        assert!(backdated(&fold_occurred(
            Projections::new(config),
            &events,
            after
        )));
        let recorded = parse_instant("2026-06-09T10:00:00+08:00").unwrap();
        assert_eq!(
            status(case_view(config, "case-m", &events, recorded - 1)),
            Some("running")
        );
        assert_eq!(
            status(case_view(config, "case-m", &events, recorded)),
            Some("concluded")
        );
        let then = history(config, "case-m", &events, before).unwrap();
        assert_eq!(types(&then), ["Submitted", "Accepted"]);
        assert_eq!(then.state.as_ref().unwrap().status, "running");
        let later = history(config, "case-m", &events, after).unwrap();
        assert_eq!(
            types(&later),
            ["Submitted", "Accepted", "Decided", "Concluded"]
        );
        assert_eq!(later.state.as_ref().unwrap().status, "concluded");
        assert!(
            later.events.iter().any(|s| s
                .derived
                .iter()
                .any(|c| c.change == "status" && c.to == "concluded")),
            "{later:?}"
        );
        // Entered on 06-20 as history: judged at its own dates, unknown before it was entered.
        assert!(case_view(config, "case-h", &events, after).is_some());
        assert!(history(config, "case-h", &events, after).is_none());
        let declaration = events
            .iter()
            .find(|e| matches!(e.data, jiancha_events::EventData::HistoryImported(_)))
            .unwrap();
        // Recorded 2026-01-01: it governs any view, and is known from when it was recorded.
        let earlier = parse_instant("2025-12-30").unwrap();
        assert!(occurred_by(declaration, earlier) && !known_by(declaration, earlier));
        assert!(known_by(declaration, earlier + 2 * DAY));
    }

    /// An instant is read within the calendar's dates, from the first instant of 1990-01-01 to
    /// the end of 2100-12-31 (in China); outside them it is refused, naming the date, instead
    /// of answering for an instant no deadline can be judged at.
    #[test]
    fn an_instant_outside_the_calendar_is_refused() {
        for text in [
            "1990-01-01T00:00:00+08:00",
            "1989-12-31T16:00:00Z",
            "2100-12-31",
            "2101-01-01T00:00:00+08:00",
            "1989-12-31",
        ] {
            assert!(parse_instant(text).is_ok(), "{text}");
        }
        for (text, date) in [
            ("1989-12-31T23:59:59.999+08:00", "1989-12-31"),
            ("2101-01-01T00:00:00.001+08:00", "2101-01-01"),
            ("2101-01-01", "2101-01-01"),
            ("+262142-12-31", "+262142-12-31"),
            ("9999-12-31", "9999-12-31"),
            ("0001-01-01T00:00:00Z", "0001-01-01"),
        ] {
            let e = parse_instant(text).unwrap_err();
            assert!(
                matches!(&e, InstantError::OutOfRange { date: d, .. } if d.to_string() == date),
                "{text}: {e:?}"
            );
            assert!(
                e.to_string().contains("outside 1990-01-01 to 2100-12-31"),
                "{e}"
            );
        }
        assert!(matches!(
            parse_instant("yesterday"),
            Err(InstantError::Unreadable { .. })
        ));
    }
}
