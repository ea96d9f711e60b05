//! Tests of the procurement projects: every event is one the log accepts, streams open with
//! their registration, clean projects keep every numeric window (checked here by an
//! independent reading with the calendar), violations show where drawn, split groups reach
//! the threshold only together, and projects leave the cases' lines alone.

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveTime};
use jiancha_calendar::Calendar;
use jiancha_events::procurement::ProcurementRegistered;
use jiancha_events::{
    parse_line, BondKind, EventData, ExpertSelection, Method, NewEvent, Regime, Timestamp,
};

use super::*;
use crate::{events, generate, Rates, SimConfig, SimSummary};

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// A run's text, its summary and its events parsed back from the text.
fn run(config: &SimConfig) -> (String, SimSummary, Vec<NewEvent>) {
    let mut bytes = Vec::new();
    let summary = generate(config, &mut bytes).unwrap();
    let text = String::from_utf8(bytes).unwrap();
    let parsed = text
        .lines()
        .enumerate()
        .map(|(i, line)| parse_line(i + 1, line).unwrap_or_else(|e| panic!("{e}\n{line}")))
        .collect();
    (text, summary, parsed)
}

fn config(projects: u64, rates: Rates, seed: u64) -> SimConfig {
    SimConfig {
        projects,
        rates,
        cases_per_workday: 20,
        ..SimConfig::new(2000, seed)
    }
}

/// Every procurement rate at `rate`, the cases' rates at their defaults.
fn proc_rates(rate: f64) -> Rates {
    let mut rates = Rates::default();
    for (name, value) in rates.fields_mut() {
        if name.starts_with("proc_") {
            *value = rate;
        }
    }
    rates
}

/// The procurement streams of a run, in stream order.
fn projects_of(events: &[NewEvent]) -> BTreeMap<String, Vec<NewEvent>> {
    let mut streams: BTreeMap<String, Vec<NewEvent>> = BTreeMap::new();
    for event in events {
        if event.stream.as_str().starts_with("proc-") {
            streams
                .entry(event.stream.as_str().to_owned())
                .or_default()
                .push(event.clone());
        }
    }
    streams
}

fn registration(stream: &[NewEvent]) -> &ProcurementRegistered {
    match stream.first().map(|e| &e.data) {
        Some(EventData::ProcurementRegistered(r)) => r,
        other => panic!("a stream opening with {other:?}"),
    }
}

/// Whether an event is of one type.
type Is = fn(&EventData) -> bool;

/// The breaches of the numeric windows in one project's events, read independently of the
/// generator with the calendar: empty for a clean project.
fn breaches(stream: &[NewEvent]) -> Vec<String> {
    let cal = Calendar::national();
    let wd = |d: NaiveDate, n| cal.add_working_days(d, n).unwrap().date;
    let nd = |d: NaiveDate, n| cal.add_natural_days(d, n).unwrap().date;
    let days = |a: NaiveDate, b: NaiveDate| (b - a).num_days();
    let reg = registration(stream);
    let mut out = Vec::new();
    let mut flag = |ok: bool, what: &str| {
        if !ok {
            out.push(what.to_owned());
        }
    };
    let threshold = threshold_cents(&reg.purchaser_org, &reg.category);
    flag(
        reg.method.is_tender() == (reg.budget_cents >= threshold),
        "method by threshold",
    );
    let (mut issue, mut deadline): (Option<NaiveDate>, Option<Timestamp>) = (None, None);
    let (mut report, mut confirmed, mut award, mut signed) = (None, None, None, None);
    let (mut ranking, mut award_cents, mut contract_cents) = (Vec::new(), 0, 0);
    let (mut supplements, mut filed) = (0, BTreeMap::new());
    let open = NaiveTime::from_hms_opt(9, 0, 0).unwrap();
    let close = NaiveTime::from_hms_opt(17, 30, 0).unwrap();
    for (i, event) in stream.iter().enumerate() {
        let date = event.occurred_at.date_naive();
        let time = event.occurred_at.time();
        flag(cal.is_workday(date).unwrap(), "an act on a rest day");
        flag(time >= open && time <= close, "an act outside office hours");
        match &event.data {
            EventData::DocumentsIssued(d) => {
                issue = Some(date);
                flag(
                    cal.working_days_between(date, d.on_sale_until)
                        .unwrap()
                        .days
                        >= 5,
                    "sale",
                );
            }
            EventData::BidDeadlineSet(d) => {
                if let Some(old) = deadline {
                    flag(d.at > old, "a deadline moved earlier");
                }
                deadline = Some(d.at);
            }
            EventData::Clarified(c) if c.affects_preparation => {
                let due = deadline.map(|d| d.date_naive()).unwrap_or(date);
                let moved = stream[i + 1..].iter().any(|next| match &next.data {
                    EventData::BidDeadlineSet(d) => {
                        next.occurred_at.date_naive() == date && days(date, d.at.date_naive()) >= 15
                    }
                    _ => false,
                });
                flag(days(date, due) >= 15 || moved, "clarification late");
            }
            EventData::BidsOpened(b) => {
                let (issued, at) = (issue.unwrap(), deadline.unwrap());
                flag(
                    Some(event.occurred_at) == deadline,
                    "opening off the deadline",
                );
                let due = at.date_naive();
                let window = match reg.method {
                    Method::OpenTender | Method::InvitedTender => due >= nd(issued, 20),
                    Method::CompetitiveConsultation => due >= nd(issued, 10),
                    Method::SingleSource => due > wd(issued, 5),
                    _ => due > wd(issued, 3),
                };
                flag(window, "window short");
                flag(!reg.method.is_tender() || b.bidders >= 3, "bidders few");
            }
            EventData::ExpertsDrawn(x) => {
                flag(x.members == 5 || x.members == 7, "committee size");
                flag(x.experts * 3 >= x.members * 2, "experts under two thirds");
                let random = x.method == ExpertSelection::Random || x.approval.is_some();
                flag(random, "experts designated");
            }
            EventData::EvaluationReported(r) => {
                report = Some(date);
                ranking.clone_from(&r.ranking);
            }
            EventData::CandidatesPublicized(c) => {
                let reported = report.unwrap();
                flag(days(reported, date) <= 3, "publicity starts late");
                flag(days(date, c.until) >= 3, "publicity short");
            }
            EventData::ResultConfirmed(_) => {
                confirmed = Some(date);
                flag(date <= wd(report.unwrap(), 5), "confirmation late");
            }
            EventData::ResultPublished(_) => {
                flag(date <= wd(confirmed.unwrap(), 2), "result late");
            }
            EventData::AwardNoticeIssued(a) => {
                award = Some(date);
                award_cents = a.amount_cents;
                flag(
                    a.rank == 1 && ranking.first() == Some(&a.winner),
                    "award not first",
                );
            }
            EventData::AwardReported(_) => {
                flag(days(award.unwrap(), date) <= 15, "award reported late");
            }
            EventData::ContractSigned(c) => {
                signed = Some(date);
                contract_cents = c.amount_cents;
                flag(days(award.unwrap(), date) <= 30, "contract late");
                flag(c.amount_cents == award_cents, "contract deviates");
            }
            EventData::ContractPublished(_) => {
                flag(date <= wd(signed.unwrap(), 2), "contract published late");
            }
            EventData::ContractFiled(_) => {
                flag(date <= wd(signed.unwrap(), 7), "contract filed late");
            }
            EventData::SupplementalContract(s) => supplements += s.amount_cents,
            EventData::BondTaken(b) => {
                let ok = match b.kind {
                    BondKind::Bid => b.amount_cents * 50 <= reg.budget_cents,
                    BondKind::Performance => b.amount_cents * 10 <= contract_cents,
                };
                flag(ok, "bond excessive");
            }
            EventData::ObjectionFiled(o) => {
                filed.insert(o.objection.clone(), date);
            }
            EventData::ObjectionAnswered(o) => {
                flag(days(filed[&o.objection], date) <= 3, "objection late");
            }
            EventData::EnquiryFiled(e) => {
                filed.insert(e.enquiry.clone(), date);
            }
            EventData::EnquiryAnswered(e) => {
                flag(date <= wd(filed[&e.enquiry], 7), "enquiry late");
            }
            EventData::ComplaintFiled(c) => {
                filed.insert(c.complaint.clone(), date);
            }
            EventData::ComplaintDecided(c) => {
                flag(date <= wd(filed[&c.complaint], 30), "complaint late");
            }
            _ => {}
        }
    }
    flag(supplements * 10 <= contract_cents, "supplements over 10%");
    // An act that never came, after the one that starts its clock.
    let has = |f: Is| stream.iter().any(|e| f(&e.data));
    use EventData as E;
    let pairs: [(Is, Is, &str); 7] = [
        (
            |d| matches!(d, E::EvaluationReported(_)),
            |d| matches!(d, E::ResultConfirmed(_)),
            "confirmation late",
        ),
        (
            |d| matches!(d, E::ResultConfirmed(_)),
            |d| matches!(d, E::ResultPublished(_)),
            "result late",
        ),
        (
            |d| matches!(d, E::AwardNoticeIssued(_)),
            |d| matches!(d, E::ContractSigned(_)),
            "contract late",
        ),
        (
            |d| matches!(d, E::ContractSigned(_)),
            |d| matches!(d, E::ContractPublished(_)),
            "contract published late",
        ),
        (
            |d| matches!(d, E::ContractSigned(_)),
            |d| matches!(d, E::ContractFiled(_)),
            "contract filed late",
        ),
        (
            |d| matches!(d, E::EnquiryFiled(_)),
            |d| matches!(d, E::EnquiryAnswered(_)),
            "enquiry late",
        ),
        (
            |d| matches!(d, E::ComplaintFiled(_)),
            |d| matches!(d, E::ComplaintDecided(_)),
            "complaint late",
        ),
    ];
    for (start, end, what) in pairs {
        flag(!has(start) || has(end), what);
    }
    let closed = matches!(
        stream.last().map(|e| &e.data),
        Some(EventData::ProcurementClosed(_))
    );
    flag(closed, "not closed");
    out
}

#[test]
fn every_event_is_accepted_and_every_stream_opens_with_its_registration() {
    let (_, summary, events) = run(&config(300, proc_rates(0.1), 3));
    let streams = projects_of(&events);
    assert_eq!(streams.len(), 300);
    assert_eq!(summary.procurement.projects, 300);
    assert_eq!(summary.procurement.by_method.values().sum::<u64>(), 300);
    let mut ids = std::collections::BTreeSet::new();
    for event in &events {
        event
            .data
            .check_append()
            .unwrap_or_else(|e| panic!("{}: {e}", event.stream.as_str()));
        assert!(
            ids.insert(event.id.clone().unwrap()),
            "{:?} twice",
            event.id
        );
    }
    for (name, stream) in &streams {
        let reg = registration(stream);
        assert_eq!(
            summary.procurement.by_method[reg.method.as_str()],
            streams
                .values()
                .filter(|s| registration(s).method == reg.method)
                .count() as u64
        );
        for (v, event) in stream.iter().enumerate() {
            assert_eq!(
                event.id.as_deref(),
                Some(&*format!("sim-3-{name}-{}", v + 1))
            );
            assert_eq!(event.org, reg.purchaser_org);
        }
        assert!(stream
            .windows(2)
            .all(|w| w[0].occurred_at <= w[1].occurred_at));
        assert_eq!(
            stream
                .iter()
                .filter(|e| matches!(e.data, EventData::ProcurementRegistered(_)))
                .count(),
            1
        );
    }
    let thresholds = events
        .iter()
        .filter(|e| matches!(e.data, EventData::ThresholdDefined(_)))
        .count();
    assert_eq!(thresholds, THRESHOLDS.len());
    let methods: Vec<&str> = summary.procurement.by_method.keys().copied().collect();
    assert_eq!(
        methods,
        [
            "competitive_consultation",
            "competitive_negotiation",
            "inquiry",
            "invited_tender",
            "open_tender",
            "single_source"
        ]
    );
}

#[test]
fn events_come_in_entry_order_and_the_cases_are_untouched() {
    let with = config(150, proc_rates(0.05), 5);
    let without = SimConfig {
        projects: 0,
        ..with.clone()
    };
    let entered: Vec<Timestamp> = events(&with)
        .unwrap()
        .map(|e| e.unwrap().entered_at)
        .collect();
    let catalog = entered
        .iter()
        .position(|t| t.date_naive() >= with.start)
        .unwrap();
    assert!(entered[catalog..].windows(2).all(|w| w[0] <= w[1]));
    let (text, _, _) = run(&with);
    let (plain, _, _) = run(&without);
    let cases: Vec<&str> = text
        .lines()
        .filter(|l| !l.contains("\"proc-") && !l.contains("ThresholdDefined"))
        .collect();
    assert_eq!(cases, plain.lines().collect::<Vec<_>>());
    assert_ne!(text.len(), plain.len());
    let (again, _, _) = run(&with);
    assert_eq!(text, again, "the same configuration gives the same bytes");
}

#[test]
fn rates_of_zero_inject_nothing_and_every_window_holds() {
    for seed in [1, 2] {
        let (_, summary, events) = run(&config(400, Rates::zero(), seed));
        assert!(summary.procurement.violations.is_empty(), "{summary:?}");
        for (name, stream) in projects_of(&events) {
            assert_eq!(
                breaches(&stream),
                Vec::<String>::new(),
                "{name}: seed {seed}"
            );
        }
        // No purchaser's small purchases of a category and year reach the threshold together.
        for ((org, category, year), sum) in small_sums(&events) {
            assert!(
                sum < threshold_cents(&org, &category),
                "{org} {category} {year}"
            );
        }
    }
}

#[test]
fn the_window_checker_sees_each_violation() {
    let (_, summary, events) = run(&config(300, proc_rates(0.3), 4));
    let streams = projects_of(&events);
    let breached = streams.values().filter(|s| !breaches(s).is_empty()).count();
    let injected: u64 = summary.procurement.violations.values().sum();
    assert!(injected > 150, "{summary:?}");
    assert!(breached > 150, "{breached} of {} projects", streams.len());
    for code in RULE_CODES {
        assert!(
            summary
                .procurement
                .violations
                .get(code)
                .is_some_and(|&n| n > 0),
            "{code} never injected"
        );
    }
}

#[test]
fn each_violation_rate_shows_only_its_own_breach() {
    // One rate at a time: the projects the checker flags are those the summary counts.
    let cases: [(&str, &str, &[&str]); 18] = [
        ("proc_window_short", "proc.window.short", &["window short"]),
        ("proc_sale_short", "proc.sale.short", &["sale"]),
        (
            "proc_opening_mismatch",
            "proc.opening.mismatch",
            &["opening off the deadline"],
        ),
        ("proc_bidders_few", "proc.bidders.few", &["bidders few"]),
        (
            "proc_award_not_first",
            "proc.award.not_first",
            &["award not first"],
        ),
        (
            "proc_objection_late",
            "proc.objection.late",
            &["objection late"],
        ),
        (
            "proc_publicity_short",
            "proc.publicity.short",
            &["publicity short"],
        ),
        (
            "proc_clarification_late",
            "proc.clarification.late",
            &["clarification late"],
        ),
        (
            "proc_experts_designated",
            "proc.experts.designated",
            &[
                "committee size",
                "experts under two thirds",
                "experts designated",
            ],
        ),
        (
            "proc_confirmation_late",
            "proc.confirmation.late",
            &["confirmation late"],
        ),
        ("proc_result_late", "proc.result.late", &["result late"]),
        (
            "proc_contract_late",
            "proc.contract.late",
            &["contract late"],
        ),
        (
            "proc_contract_unpublished",
            "proc.contract.unpublished",
            &["contract published late"],
        ),
        (
            "proc_contract_unfiled",
            "proc.contract.unfiled",
            &["contract filed late"],
        ),
        (
            "proc_contract_deviation",
            "proc.contract.deviation",
            &["contract deviates", "supplements over 10%"],
        ),
        (
            "proc_bond_excessive",
            "proc.bond.excessive",
            &["bond excessive"],
        ),
        ("proc_enquiry_late", "proc.enquiry.late", &["enquiry late"]),
        (
            "proc_complaint_late",
            "proc.complaint.late",
            &["complaint late"],
        ),
    ];
    for (rate, code, breach) in cases {
        let mut rates = Rates::zero();
        for (name, value) in rates.fields_mut() {
            if name == rate {
                *value = 0.5;
            }
        }
        let (_, summary, events) = run(&config(200, rates, 6));
        let flagged = projects_of(&events)
            .values()
            .filter(|s| {
                // An act that never comes leaves the project open.
                let found: Vec<String> = breaches(s)
                    .into_iter()
                    .filter(|b| b != "not closed")
                    .collect();
                assert!(
                    found.iter().all(|b| breach.contains(&b.as_str())),
                    "{rate}: {found:?}"
                );
                !found.is_empty()
            })
            .count() as u64;
        let counted = summary
            .procurement
            .violations
            .get(code)
            .copied()
            .unwrap_or(0);
        assert!(counted > 0, "{rate} never injected");
        assert_eq!(flagged, counted, "{rate}");
        assert_eq!(summary.procurement.violations.len(), 1, "{rate}");
    }
}

/// Budgets of purchases by other methods than tenders (each under the threshold) by
/// (purchaser, category, year).
fn small_sums(events: &[NewEvent]) -> BTreeMap<(String, String, i32), u64> {
    let mut sums = BTreeMap::new();
    for event in events {
        if let EventData::ProcurementRegistered(r) = &event.data {
            if !r.method.is_tender() {
                let year = chrono::Datelike::year(&event.occurred_at.date_naive());
                *sums
                    .entry((r.purchaser_org.clone(), r.category.clone(), year))
                    .or_default() += r.budget_cents;
            }
        }
    }
    sums
}

#[test]
fn a_split_rate_of_one_makes_groups_that_reach_the_threshold_only_together() {
    let mut rates = Rates::zero();
    rates.proc_split = 1.0;
    let (_, summary, events) = run(&config(60, rates, 9));
    let mut groups = 0;
    for ((org, category, year), sum) in small_sums(&events) {
        let threshold = threshold_cents(&org, &category);
        if sum < threshold {
            continue;
        }
        groups += 1;
        let members: Vec<u64> = events
            .iter()
            .filter_map(|e| match &e.data {
                EventData::ProcurementRegistered(r)
                    if r.purchaser_org == org
                        && r.category == category
                        && chrono::Datelike::year(&e.occurred_at.date_naive()) == year =>
                {
                    Some(r.budget_cents)
                }
                _ => None,
            })
            .collect();
        assert!(members.len() >= 2, "{members:?}");
        assert!(
            members.iter().all(|&b| b < threshold),
            "{members:?} {threshold}"
        );
        let before_last: u64 = members[..members.len() - 1].iter().sum();
        assert!(before_last < threshold, "{members:?} {threshold}");
    }
    assert!(groups >= 15, "{groups} groups");
    assert_eq!(
        summary.procurement.violations.get("proc.split"),
        Some(&groups)
    );
    assert_eq!(summary.procurement.violations.len(), 1);
}

#[test]
fn clean_projects_of_every_method_keep_every_window() {
    let starts = [
        ymd(2026, 1, 5),
        ymd(2026, 2, 10),
        ymd(2026, 4, 28),
        ymd(2026, 9, 24),
        ymd(2027, 12, 27),
    ];
    let mut kinds = BTreeMap::new();
    for start in starts {
        for seed in 0..8 {
            let projects = clean_projects(seed, start).unwrap();
            assert_eq!(projects.len(), 8);
            for events in projects {
                for e in &events {
                    e.event.data.check_append().unwrap();
                    assert_eq!(e.entered_at, e.event.occurred_at);
                }
                let stream: Vec<NewEvent> = events.into_iter().map(|e| e.event).collect();
                let reg = registration(&stream);
                *kinds.entry((reg.method, reg.regime)).or_insert(0) += 1;
                assert_eq!(
                    breaches(&stream),
                    Vec::<String>::new(),
                    "{start} seed {seed}"
                );
            }
        }
    }
    assert_eq!(kinds.len(), 8);
    assert_eq!(kinds[&(Method::InvitedTender, Regime::Construction)], 40);
    let thresholds = threshold_events_for(1, ymd(2026, 1, 5)).unwrap();
    assert_eq!(thresholds.len(), THRESHOLDS.len());
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4))]

    #[test]
    fn a_zero_procurement_rate_never_shows(zeroed in proptest::collection::vec(proptest::prelude::any::<bool>(), 19), seed in 0u64..1000) {
        let mut rates = proc_rates(0.1);
        let mut zero = Vec::new();
        let names: Vec<&str> = rates.fields().iter().map(|f| f.0).filter(|n| n.starts_with("proc_")).collect();
        for (name, value) in rates.fields_mut() {
            if let Some(i) = names.iter().position(|n| *n == name) {
                if zeroed[i] {
                    *value = 0.0;
                    zero.push(RULE_CODES[i]);
                }
            }
        }
        let mut bytes = Vec::new();
        let summary = generate(&config(120, rates, seed), &mut bytes).unwrap();
        for code in zero {
            proptest::prop_assert!(!summary.procurement.violations.contains_key(code), "{}", code);
        }
    }
}

#[test]
fn the_most_specific_threshold_applies() {
    assert_eq!(
        threshold_cents("jiangjin/center/dept-01", "goods"),
        200_000_000
    );
    assert_eq!(threshold_cents("jiangjin/town-01", "goods"), 100_000_000);
    assert_eq!(threshold_cents("jiangjin/town-01", "works"), 400_000_000);
    assert_eq!(threshold_cents("jiangjin/town-010", "goods"), 200_000_000);
    assert_eq!(threshold_cents("elsewhere", "goods"), 0);
}

#[test]
fn each_rule_code_has_its_rate_by_name() {
    let names: Vec<String> = Rates::default()
        .fields()
        .iter()
        .map(|f| f.0.to_owned())
        .filter(|n| n.starts_with("proc_"))
        .collect();
    let expected: Vec<String> = RULE_CODES
        .iter()
        .map(|code| code.replace('.', "_"))
        .collect();
    assert_eq!(names, expected);
    let mut rates = Rates::zero();
    for (i, rule) in Rule::ALL.iter().enumerate() {
        assert_eq!(rule.code(), RULE_CODES[i]);
        for (name, value) in rates.fields_mut() {
            *value = if name == expected[i] { 0.5 } else { 0.0 };
        }
        assert_eq!(rule.rate(&rates), 0.5, "{}", RULE_CODES[i]);
    }
}
