//! The simulator's supervision workflow (预警纠错): a few months of a district, folded with the
//! projections, names only cards the fold raised by the time each act is entered, only
//! complaints and bad ratings that exist, passes the append checks, shows each act at about
//! its configured rate, and imports through the real binary.

use std::collections::{BTreeMap, BTreeSet};

use jiancha_events::{format_timestamp, EventData, RatingVerdict, RawEvent, GENESIS_HASH};
use jiancha_projections::{parse_alert_id, AlertConfig, Projections};
use jiancha_sim::{Rates, SimConfig};

use crate::support::{jiancha, Workspace};

/// Rates high enough that a few months show every act often.
fn workflow_rates() -> Rates {
    Rates {
        late_conclusion: 0.08,
        statutory_overrun: 0.03,
        unlawful_suspension: 0.03,
        wrong_fee: 0.03,
        skipped_step: 0.03,
        no_decision: 0.02,
        unknown_item: 0.02,
        no_acceptance: 0.02,
        lawful_suspension: 0.08,
        backdated: 0.03,
        backdated_conclusion: 0.03,
        bad_rating: 0.08,
        complaint: 0.05,
        duplicate_rating: 0.05,
        ..Rates::default()
    }
}

fn config(seed: u64) -> SimConfig {
    SimConfig {
        rates: workflow_rates(),
        cases_per_workday: 40,
        ..SimConfig::new(2500, seed)
    }
}

/// Counts of what the log showed, by name.
type Tally = BTreeMap<&'static str, u64>;

/// Folds the generated run event by event and checks each act against the fold as it stands
/// when the act is entered; returns the tally.
fn fold_and_check(config: &SimConfig) -> Tally {
    let mut p = Projections::new(AlertConfig::default());
    let mut versions: BTreeMap<String, u64> = BTreeMap::new();
    let mut prev = GENESIS_HASH;
    let mut complaints: BTreeMap<String, u16> = BTreeMap::new();
    let mut bad: BTreeSet<String> = BTreeSet::new();
    let mut rated: BTreeSet<String> = BTreeSet::new();
    let mut tally = Tally::new();
    // Orders and verifications, which the fold does not advance a case to: checked at the end
    // against the instant each card was raised.
    let mut acts: Vec<(String, i64, String)> = Vec::new();
    let mut refusals: Vec<String> = Vec::new();
    for (i, sim) in jiancha_sim::events(config).unwrap().enumerate() {
        let sim = sim.unwrap();
        let event = &sim.event;
        event
            .data
            .check_append()
            .unwrap_or_else(|e| panic!("{}: {e}", event.id.as_deref().unwrap_or("?")));
        let version = versions
            .entry(event.stream.as_str().to_owned())
            .or_default();
        *version += 1;
        // Each act fits what it names as the log stands when it is entered.
        if event.stream.as_str() == jiancha_events::SUPERVISION_STREAM {
            let at = event.occurred_at.timestamp_millis();
            if let Err(e) = p.check_act_at(&event.data, at) {
                *tally.entry("refused").or_default() += 1;
                if refusals.len() < 10 {
                    refusals.push(format!("{}: {e}", event.id.as_deref().unwrap_or("?")));
                }
            }
        }
        let stamp = format_timestamp(&sim.entered_at);
        let raw = RawEvent::seal(event, i as u64 + 1, *version, &stamp, prev);
        prev = raw.hash;
        let stored = raw.to_stored(event.occurred_at, sim.entered_at, event.data.clone());
        p.apply(&stored);
        let case = stored.data.concerns_case().map(str::to_owned);
        let at = event.occurred_at.timestamp_millis();
        let id = event.id.clone().unwrap_or_default();
        match &event.data {
            EventData::Rated(r) => {
                let stream = event.stream.as_str().to_owned();
                if !rated.insert(stream.clone()) {
                    *tally.entry("duplicate_ratings").or_default() += 1;
                } else if r.score <= 2 {
                    bad.insert(stream);
                }
                *tally.entry("rated").or_default() += 1;
            }
            EventData::Complained(_) => {
                *complaints
                    .entry(event.stream.as_str().to_owned())
                    .or_default() += 1;
            }
            // The fold advances a case to an acknowledgement or a report-back: the card must
            // be raised by then.
            EventData::AlertAcknowledged(a) => {
                check_card(&p, &a.alert, None, &id);
                if !a.alert.contains("/deadline.") {
                    *tally.entry("event_card_acks").or_default() += 1;
                }
            }
            EventData::CorrectionCompleted(c) => check_card(&p, &c.alert, Some(&c.case), &id),
            EventData::CorrectionOrdered(o) => {
                assert_eq!(o.alert.split('/').next(), Some(o.case.as_str()), "{id}");
                if !o.alert.contains("/deadline.") {
                    *tally.entry("event_card_orders").or_default() += 1;
                }
                acts.push((o.alert.clone(), at, id.clone()));
            }
            EventData::CorrectionVerified(v) => {
                assert_eq!(v.alert.split('/').next(), Some(v.case.as_str()), "{id}");
                acts.push((v.alert.clone(), at, id.clone()));
                if !v.accepted {
                    *tally.entry("rejected_report_backs").or_default() += 1;
                }
            }
            EventData::RatingVerified(v) => {
                assert!(bad.contains(&v.case), "{id}: no bad rating on {}", v.case);
                if v.verdict == RatingVerdict::Valid {
                    *tally.entry("valid_ratings").or_default() += 1;
                }
            }
            EventData::RatingRectified(r) => assert!(bad.contains(&r.case), "{id}"),
            EventData::RatingCallback(r) => assert!(bad.contains(&r.case), "{id}"),
            EventData::ComplaintAccepted(c) => check_complaint(&complaints, &c.complaint, &id),
            EventData::ComplaintRejected(c) => check_complaint(&complaints, &c.complaint, &id),
            EventData::ComplaintAnswered(c) => {
                check_complaint(&complaints, &c.complaint, &id);
                if c.finding == jiancha_events::Finding::Upheld {
                    *tally.entry("upheld").or_default() += 1;
                }
            }
            _ => {}
        }
        if event.stream.as_str() == jiancha_events::SUPERVISION_STREAM {
            assert!(case.is_some(), "{id} names its case");
            *tally.entry(event.data.type_name()).or_default() += 1;
        }
    }
    for (alert, at, id) in &acts {
        let (stream, rule, n) = parse_alert_id(alert).unwrap_or_else(|| panic!("{id}: {alert}"));
        let raised = p.case(&stream).and_then(|c| {
            c.alerts
                .iter()
                .find(|a| a.rule == rule && a.n == n)
                .map(|a| a.raised_at)
        });
        assert!(
            raised.is_some_and(|r| r <= *at),
            "{id}: {alert} not raised by {at} (raised at {raised:?})"
        );
    }
    assert!(
        refusals.is_empty(),
        "{} acts refused, e.g.\n{}",
        tally.get("refused").unwrap_or(&0),
        refusals.join("\n")
    );
    tally.insert("bad_ratings", bad.len() as u64);
    tally.insert(
        "complaints",
        complaints.values().map(|&n| u64::from(n)).sum(),
    );
    tally
}

/// The alert names a card the fold has raised on its case by now.
fn check_card(p: &Projections, alert: &str, case: Option<&str>, id: &str) {
    let (stream, rule, n) = parse_alert_id(alert).unwrap_or_else(|| panic!("{id}: {alert}"));
    if let Some(case) = case {
        assert_eq!(case, stream, "{id}: the case and the alert agree");
    }
    let state = p
        .case(&stream)
        .unwrap_or_else(|| panic!("{id}: {stream} unknown"));
    assert!(
        state.alerts.iter().any(|a| a.rule == rule && a.n == n),
        "{id}: {alert} not raised by the fold; it raised {:?}",
        state
            .alerts
            .iter()
            .map(|a| (a.rule.code(), a.n, a.raised_at))
            .collect::<Vec<_>>()
    );
}

fn check_complaint(complaints: &BTreeMap<String, u16>, complaint: &str, id: &str) {
    let (case, n) = complaint
        .rsplit_once("/complaint/")
        .unwrap_or_else(|| panic!("{id}: {complaint}"));
    let n: u16 = n.parse().unwrap();
    assert!(
        complaints
            .get(case)
            .is_some_and(|&count| (1..=count).contains(&n)),
        "{id}: {complaint} names no complaint"
    );
}

/// `count / of` is within `slack` of `rate`.
fn near(what: &str, count: u64, of: u64, rate: f64, slack: f64) {
    assert!(of > 0, "{what}: nothing to measure");
    let share = count as f64 / of as f64;
    assert!(
        (share - rate).abs() <= slack,
        "{what}: {count} of {of} = {share:.3}, configured {rate}"
    );
}

#[test]
fn the_simulated_workflow_names_what_the_fold_raised_at_its_rates() {
    // The cards are predicted from each case's plan: other seeds must agree with the fold too.
    for seed in [1, 2] {
        fold_and_check(&config(seed));
    }
    let config = config(5);
    let t = fold_and_check(&config);
    let get = |k: &str| t.get(k).copied().unwrap_or(0);
    let rates = &config.rates;
    eprintln!("{t:?}");
    let acks = get("AlertAcknowledged");
    assert!(acks > 200, "{t:?}");
    // A deadline card closes with its case's conclusion, often before an order would come:
    // the rate holds for the cards of the case's events.
    near(
        "orders per card",
        get("event_card_orders"),
        get("event_card_acks"),
        rates.correction_order,
        0.08,
    );
    near(
        "verifications rejected",
        get("rejected_report_backs"),
        get("CorrectionVerified"),
        rates.report_back_rejected,
        0.06,
    );
    // An order is reported back at least once unless it never is.
    let unanswered = get("CorrectionOrdered")
        .saturating_sub(get("CorrectionCompleted") - get("rejected_report_backs"));
    near(
        "orders never reported back",
        unanswered,
        get("CorrectionOrdered"),
        rates.no_report_back,
        0.04,
    );
    assert!(get("bad_ratings") > 100, "{t:?}");
    // Nearly every bad rating counts (a few fall outside the rating window).
    near(
        "bad ratings verified",
        get("RatingVerified"),
        get("bad_ratings"),
        1.0,
        0.1,
    );
    near(
        "valid verdicts",
        get("valid_ratings"),
        get("RatingVerified"),
        rates.bad_rating_valid,
        0.1,
    );
    assert_eq!(get("RatingRectified"), get("valid_ratings"));
    assert_eq!(get("RatingCallback"), get("RatingRectified"));
    let answered = get("ComplaintAccepted") + get("ComplaintRejected");
    assert_eq!(answered, get("complaints"), "every complaint is answered");
    near(
        "complaints rejected",
        get("ComplaintRejected"),
        answered,
        rates.complaint_rejected,
        0.1,
    );
    assert_eq!(get("ComplaintAnswered"), get("ComplaintAccepted"));
    near(
        "complaints upheld",
        get("upheld"),
        get("ComplaintAnswered"),
        rates.complaint_upheld,
        0.15,
    );
    near(
        "second ratings",
        get("duplicate_ratings"),
        get("rated") - get("duplicate_ratings"),
        rates.duplicate_rating,
        0.02,
    );
}

/// The same seed and options give the same bytes, workflow included; the workflow's own rates
/// change nothing of the cases' events.
#[test]
fn the_simulated_workflow_is_deterministic() {
    let simulate = |rates: &str| {
        let ws = Workspace::new();
        let path = ws.write("rates.json", rates);
        let out = jiancha()
            .args(["simulate", "--cases", "600", "--seed", "4", "--rates"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let busy = r#"{"complaint": 0.1, "bad_rating": 0.1, "late_conclusion": 0.1}"#;
    let a = simulate(busy);
    assert_eq!(a, simulate(busy));
    assert!(a.contains("\"type\":\"CorrectionOrdered\""));
    let quiet = r#"{"complaint": 0.1, "bad_rating": 0.1, "late_conclusion": 0.1,
        "correction_order": 0, "duplicate_rating": 0}"#;
    let b = simulate(quiet);
    let cases = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| !l.starts_with("{\"stream\":\"supervision\""))
            .map(str::to_owned)
            .collect()
    };
    assert!(!b.contains("\"type\":\"CorrectionOrdered\""));
    // Only the second ratings, case events of the workflow, differ.
    let rated_twice = |l: &String| l.contains("\"type\":\"Rated\"");
    let (ca, cb) = (cases(&a), cases(&b));
    assert!(ca.len() > cb.len());
    assert!(ca.iter().filter(|l| !cb.contains(l)).all(rated_twice));
}

/// `jiancha simulate | jiancha import` on a fresh SQLite log takes every act.
#[test]
fn the_simulated_workflow_imports_through_the_binary() {
    let ws = Workspace::new();
    let rates = ws.write(
        "rates.json",
        r#"{"complaint": 0.05, "bad_rating": 0.05, "late_conclusion": 0.08,
            "duplicate_rating": 0.05, "unlawful_suspension": 0.02}"#,
    );
    let out = jiancha()
        .args(["simulate", "--cases", "1500", "--seed", "9", "--rates"])
        .arg(&rates)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    for ty in [
        "AlertAcknowledged",
        "CorrectionOrdered",
        "CorrectionCompleted",
        "CorrectionVerified",
        "RatingVerified",
        "RatingRectified",
        "RatingCallback",
        "ComplaintAccepted",
        "ComplaintAnswered",
    ] {
        assert!(text.contains(&format!("\"type\":\"{ty}\"")), "no {ty}");
    }
    let lines = text.lines().count();
    let import = ws.run(&["import", "-"], &text);
    assert_eq!(import.code, 0, "{import:?}");
    let exported = ws.export();
    assert_eq!(exported.lines().count(), lines, "every line imported");
}
