//! Properties of the procurement rules over generated projects: a project that keeps every
//! window with a margin raises nothing, whatever its method, regime and dates; and the alerts
//! of mixed logs are the same folded whole, in pieces through a snapshot, and at any instant.

use chrono::{Days, NaiveDate};
use jiancha_calendar::Calendar;
use jiancha_events::procurement::Method;
use proptest::prelude::*;
use serde_json::{json, Value};

use crate::tests::scenario_events;
use crate::Projections;

const BUYER: &str = "jiangjin/center/dept-05";

struct Gen {
    lines: Vec<(String, String)>,
    stream: String,
}

impl Gen {
    fn at(&mut self, date: NaiveDate, time: &str, event_type: &str, data: Value) {
        let at = format!("{date}T{time}+08:00");
        let line = json!({"stream": self.stream, "type": event_type, "occurred_at": at,
            "actor": "buyer-1", "org": BUYER, "data": data})
        .to_string();
        self.lines.push((at, line));
    }
}

fn working(cal: &Calendar, from: NaiveDate, days: u32) -> NaiveDate {
    cal.add_working_days(from, days).unwrap().date
}

fn natural(cal: &Calendar, from: NaiveDate, days: u32) -> NaiveDate {
    cal.add_natural_days(from, days).unwrap().date
}

/// The events of one project that keeps every rule with a margin, in time order: documents on
/// sale 7 days, the deadline a working day after the least window, a committee drawn at random,
/// the result, award, contract, announcements and filings well within their days.
fn clean_project(
    stream: &str,
    method: Method,
    construction: bool,
    start: NaiveDate,
    bidders: u32,
) -> Vec<(String, String)> {
    let cal = Calendar::national();
    let mut g = Gen {
        lines: Vec::new(),
        stream: stream.to_owned(),
    };
    let budget: u64 = 50_000_000;
    let regime = if construction {
        "construction"
    } else {
        "government"
    };
    let d0 = working(&cal, start, 1);
    g.at(
        d0,
        "09:00:00",
        "ProcurementRegistered",
        json!({"project": stream, "regime": regime,
        "method": method.as_str(), "category": "goods", "budget_cents": budget,
        "purchaser_org": BUYER, "state_funded": true}),
    );
    let d1 = working(&cal, d0, 1);
    let until = if construction {
        d1 + Days::new(6)
    } else {
        working(&cal, d1, 6)
    };
    g.at(
        d1,
        "09:00:00",
        "DocumentsIssued",
        json!({"on_sale_until": until}),
    );
    let least = match method {
        Method::OpenTender | Method::InvitedTender => natural(&cal, d1, 20),
        Method::CompetitiveConsultation => natural(&cal, d1, 10),
        Method::CompetitiveNegotiation | Method::Inquiry => working(&cal, d1, 3),
        Method::SingleSource => working(&cal, d1, 5),
    };
    let deadline = working(&cal, least, 1);
    g.at(
        d1,
        "09:05:00",
        "BidDeadlineSet",
        json!({"at": format!("{deadline}T09:30:00+08:00")}),
    );
    g.at(
        d1,
        "10:00:00",
        "Clarified",
        json!({"affects_preparation": false}),
    );
    g.at(
        working(&cal, d1, 1),
        "09:00:00",
        "BondTaken",
        json!({"kind": "bid", "amount_cents": budget / 100}),
    );
    if construction {
        g.at(
            working(&cal, d1, 1),
            "10:00:00",
            "ObjectionFiled",
            json!({"objection": "o1"}),
        );
        g.at(
            working(&cal, d1, 2),
            "10:00:00",
            "ObjectionAnswered",
            json!({"objection": "o1"}),
        );
    }
    let (members, experts) = if method.is_tender() { (5, 4) } else { (3, 3) };
    g.at(
        deadline,
        "08:00:00",
        "ExpertsDrawn",
        json!({"method": "random", "members": members, "experts": experts}),
    );
    g.at(
        deadline,
        "09:30:00",
        "BidsOpened",
        json!({"bidders": bidders}),
    );
    g.at(
        deadline,
        "17:00:00",
        "EvaluationReported",
        json!({"ranking": ["甲", "乙", "丙"]}),
    );
    let announced = if construction {
        let first = deadline + Days::new(1);
        g.at(
            first,
            "09:00:00",
            "CandidatesPublicized",
            json!({"until": first + Days::new(3)}),
        );
        first + Days::new(3)
    } else {
        let confirmed = working(&cal, deadline, 2);
        g.at(confirmed, "10:00:00", "ResultConfirmed", json!({}));
        let published = working(&cal, confirmed, 1);
        g.at(published, "10:00:00", "ResultPublished", json!({}));
        published
    };
    let awarded = working(&cal, announced, 1);
    let amount = budget - budget / 10;
    g.at(
        awarded,
        "11:00:00",
        "AwardNoticeIssued",
        json!({"winner": "甲", "rank": 1, "amount_cents": amount}),
    );
    if construction {
        g.at(
            working(&cal, awarded, 2),
            "10:00:00",
            "AwardReported",
            json!({}),
        );
    } else {
        g.at(
            working(&cal, awarded, 1),
            "10:00:00",
            "EnquiryFiled",
            json!({"enquiry": "q1"}),
        );
        g.at(
            working(&cal, awarded, 4),
            "10:00:00",
            "EnquiryAnswered",
            json!({"enquiry": "q1"}),
        );
    }
    let signed = working(&cal, awarded, 5);
    g.at(
        signed,
        "10:00:00",
        "ContractSigned",
        json!({"amount_cents": amount}),
    );
    g.at(
        signed,
        "15:00:00",
        "BondTaken",
        json!({"kind": "performance", "amount_cents": amount / 20}),
    );
    g.at(
        working(&cal, signed, 1),
        "10:00:00",
        "ContractPublished",
        json!({}),
    );
    g.at(
        working(&cal, signed, 3),
        "10:00:00",
        "ContractFiled",
        json!({}),
    );
    g.at(
        working(&cal, signed, 4),
        "10:00:00",
        "ComplaintFiled",
        json!({"complaint": "c1"}),
    );
    g.at(
        working(&cal, signed, 14),
        "10:00:00",
        "ComplaintDecided",
        json!({"complaint": "c1"}),
    );
    g.at(
        working(&cal, signed, 20),
        "10:00:00",
        "SupplementalContract",
        json!({"amount_cents": amount / 20}),
    );
    g.at(
        working(&cal, signed, 30),
        "10:00:00",
        "ProcurementClosed",
        json!({}),
    );
    g.lines
}

fn method_of(i: usize) -> Method {
    Method::ALL[i % Method::ALL.len()]
}

/// Merges projects' events by instant (stable), as a log would hold them.
fn merged(mut lines: Vec<(String, String)>) -> String {
    lines.sort_by(|a, b| a.0.cmp(&b.0));
    lines
        .into_iter()
        .map(|(_, l)| l)
        .collect::<Vec<_>>()
        .join("\n")
}

fn fold_text(text: &str) -> (Projections, Vec<jiancha_events::StoredEvent>) {
    let (events, _) = scenario_events(text);
    let mut p = Projections::default();
    for e in &events {
        p.apply(e);
    }
    (p, events)
}

fn ids(p: &Projections, now: crate::Millis) -> Vec<(String, Option<String>)> {
    p.alerts(now)
        .into_iter()
        .map(|a| (a.id, a.closed_at))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn a_clean_project_of_any_method_raises_nothing(
        method in 0usize..6,
        construction in any::<bool>(),
        offset in 0u64..330,
        bidders in 3u32..9,
    ) {
        let start = NaiveDate::from_ymd_opt(2026, 1, 2).unwrap() + Days::new(offset);
        let method = method_of(method);
        let text = merged(clean_project("proc-clean", method, construction, start, bidders));
        let (p, _) = fold_text(&text);
        let now = crate::instant::end_of(start + Days::new(400));
        let raised = ids(&p, now);
        prop_assert!(raised.is_empty(), "{method:?} construction={construction} from {start}: {raised:?}");
    }

    #[test]
    fn mixed_logs_give_the_same_alerts_whole_in_pieces_and_at_any_instant(
        starts in prop::collection::vec((0usize..6, any::<bool>(), 0u64..300, 0u32..9, 0u32..6), 1..5),
        cut in any::<prop::sample::Index>(),
        look in 0u64..420,
    ) {
        // Projects with random bidders and a random act dropped (a violation of some rule).
        let mut lines = Vec::new();
        for (i, (m, construction, offset, bidders, drop)) in starts.iter().enumerate() {
            let start = NaiveDate::from_ymd_opt(2026, 1, 2).unwrap() + Days::new(*offset);
            let mut project = clean_project(&format!("proc-{i}"), method_of(*m), *construction, start, *bidders);
            let dropped = ["ResultConfirmed", "ContractSigned", "ContractFiled", "EnquiryAnswered", "ComplaintDecided", "none"][*drop as usize];
            project.retain(|(_, l)| !l.contains(&format!("\"type\":\"{dropped}\"")));
            lines.extend(project);
        }
        let text = merged(lines);
        let (whole, events) = fold_text(&text);
        let k = cut.index(events.len()).max(1);
        let mut part = Projections::default();
        for e in &events[..k] {
            part.apply(e);
        }
        let bytes = part.snapshot(events[k - 1].hash).unwrap();
        let (mut restored, _) = Projections::restore(&bytes).unwrap();
        for e in &events[k..] {
            restored.apply(e);
        }
        let now = crate::instant::end_of(NaiveDate::from_ymd_opt(2026, 1, 2).unwrap() + Days::new(look));
        prop_assert_eq!(ids(&whole, now), ids(&restored, now));
        // Live at `now`: folded up to the last event before it, evaluated at it.
        let mut live = Projections::default();
        for e in events.iter().filter(|e| e.occurred_at.timestamp_millis() <= now) {
            live.apply(e);
        }
        let at_now: Vec<_> = ids(&whole, now).into_iter().map(|(id, _)| id).collect();
        let live_ids: Vec<_> = ids(&live, now).into_iter().map(|(id, _)| id).collect();
        prop_assert_eq!(at_now, live_ids);
    }
}
