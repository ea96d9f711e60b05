//! Golden scenarios of the procurement rules, one or more per rule, worked by hand on the 2026
//! national calendar (Spring Festival off 02-15..02-23 with Saturdays 02-14 and 02-28 worked;
//! Qingming off 04-04..04-06; Mid-Autumn off 09-25..09-27; National Day off 10-01..10-07 with
//! Sunday 09-20 and Saturday 10-10 worked). Each comment gives the count.

use serde_json::{json, Value};

use crate::instant::end_of;
use crate::tests::scenario_events;
use crate::{Millis, Projections};

const BUYER: &str = "jiangjin/center/dept-05";

/// One JSONL line of a project's event.
fn ev(stream: &str, event_type: &str, at: &str, data: Value) -> String {
    json!({
        "stream": stream, "type": event_type, "occurred_at": at,
        "actor": "buyer-1", "org": BUYER, "data": data,
    })
    .to_string()
}

/// Documents first issued at `at`, on sale until `until`.
fn issued(stream: &str, at: &str, until: &str) -> String {
    ev(
        stream,
        "DocumentsIssued",
        at,
        json!({ "on_sale_until": until }),
    )
}

/// A bid deadline set at `at` to `deadline`.
fn deadline(stream: &str, at: &str, deadline: &str) -> String {
    ev(stream, "BidDeadlineSet", at, json!({ "at": deadline }))
}

/// A project's registration.
fn reg(stream: &str, at: &str, regime: &str, method: &str, budget: u64, funded: bool) -> String {
    ev(
        stream,
        "ProcurementRegistered",
        at,
        json!({"project": stream, "regime": regime, "method": method, "category": "goods",
            "budget_cents": budget, "purchaser_org": BUYER, "state_funded": funded}),
    )
}

fn gov(stream: &str, method: &str) -> String {
    reg(
        stream,
        "2026-01-05T09:00:00+08:00",
        "government",
        method,
        100_000_000,
        true,
    )
}

fn t(text: &str) -> Millis {
    jiancha_events::parse_timestamp(text)
        .unwrap()
        .timestamp_millis()
}

fn day_end(date: &str) -> Millis {
    end_of(chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap())
}

fn fold(lines: &[String]) -> Projections {
    let (events, _) = scenario_events(&lines.join("\n"));
    let mut p = Projections::default();
    for e in &events {
        p.apply(e);
    }
    p
}

/// The procurement alerts of one stream at `now`: (code, raised at). (A red card's
/// `supervision.unacknowledged` is the shared card lifecycle's, tested on its own below.)
fn alerts(p: &Projections, stream: &str, now: Millis) -> Vec<(&'static str, Millis)> {
    p.alerts(now)
        .into_iter()
        .filter(|a| a.case == stream && a.rule.starts_with("proc."))
        .map(|a| (a.rule, a.raised_at_millis()))
        .collect()
}

const LATER: &str = "2026-12-31T12:00:00+08:00";

/// Two government projects of `method`, their documents issued at `documents[0]` and on sale
/// until `documents[1]`, their bid deadlines set at `set_at`: proc-a's to `deadlines[0]`, short
/// of the least window, proc-b's to `deadlines[1]`, the least window exactly. At `now` only
/// proc-a has `proc.window.short`, raised when its deadline was set.
fn check_window(method: &str, documents: [&str; 2], set_at: &str, deadlines: [&str; 2], now: &str) {
    let (a, b) = ("proc-a", "proc-b");
    let p = fold(&[
        gov(a, method),
        gov(b, method),
        issued(a, documents[0], documents[1]),
        issued(b, documents[0], documents[1]),
        deadline(a, set_at, deadlines[0]),
        deadline(b, set_at, deadlines[1]),
    ]);
    let now = t(now);
    assert_eq!(alerts(&p, a, now), [("proc.window.short", t(set_at))]);
    assert_eq!(alerts(&p, b, now), []);
}

#[test]
fn a_tender_window_runs_20_natural_days_rolled_past_spring_festival() {
    // Issued Monday 01-26: the 20th day is Sunday 02-15, inside the Spring Festival block
    // (02-15..02-23), so the least window ends on Tuesday 02-24 (art. 203).
    check_window(
        "open_tender",
        ["2026-01-26T09:00:00+08:00", "2026-02-05"],
        "2026-01-26T09:05:00+08:00",
        ["2026-02-23T09:30:00+08:00", "2026-02-24T09:30:00+08:00"],
        "2026-01-27T12:00:00+08:00",
    );
}

#[test]
fn an_inquiry_window_runs_3_working_days_across_national_day() {
    // Issued Monday 09-28: working days 09-29, 09-30, then 10-08 (10-01..10-07 off).
    check_window(
        "inquiry",
        ["2026-09-28T09:00:00+08:00", "2026-10-09"],
        "2026-09-28T09:05:00+08:00",
        ["2026-10-07T17:00:00+08:00", "2026-10-08T09:00:00+08:00"],
        "2026-09-29T12:00:00+08:00",
    );
}

#[test]
fn documents_sell_5_working_days_in_procurement_and_5_days_in_construction() {
    // Issued Wednesday 04-01: 04-01, 04-02, 04-03, then Qingming 04-04..04-06, 04-07: until
    // 04-07 is 4 working days (short), until 04-08 is 5. Construction counts natural days:
    // 04-01..04-05 is 5.
    let (a, b, c) = ("proc-a", "proc-b", "proc-c");
    let p = fold(&[
        gov(a, "open_tender"),
        gov(b, "open_tender"),
        reg(
            c,
            "2026-01-05T09:00:00+08:00",
            "construction",
            "open_tender",
            100_000_000,
            true,
        ),
        issued(a, "2026-04-01T09:00:00+08:00", "2026-04-07"),
        issued(b, "2026-04-01T09:00:00+08:00", "2026-04-08"),
        issued(c, "2026-04-01T09:00:00+08:00", "2026-04-05"),
    ]);
    let now = t("2026-04-02T12:00:00+08:00");
    assert_eq!(
        alerts(&p, a, now),
        [("proc.sale.short", t("2026-04-01T09:00:00+08:00"))]
    );
    assert_eq!(alerts(&p, b, now), []);
    assert_eq!(alerts(&p, c, now), []);
}

#[test]
fn a_late_clarification_is_raised_by_the_clock_at_a_deadline_that_did_not_move() {
    // a: clarified 09-24; 15 days later is Friday 10-09, after the 10-08 deadline: raised at
    // the deadline with no event. b: clarified 09-18; the 15th day, 10-03, is in the National
    // Day block, so the period ends 10-08 and a 10-08 deadline is lawful. c: as a, but the
    // deadline was moved to 10-12.
    let (a, b, c) = ("proc-a", "proc-b", "proc-c");
    let set = |s| deadline(s, "2026-09-01T09:05:00+08:00", "2026-10-08T09:30:00+08:00");
    let p = fold(&[
        gov(a, "open_tender"),
        gov(b, "open_tender"),
        gov(c, "open_tender"),
        issued(a, "2026-09-01T09:00:00+08:00", "2026-09-10"),
        issued(b, "2026-09-01T09:00:00+08:00", "2026-09-10"),
        issued(c, "2026-09-01T09:00:00+08:00", "2026-09-10"),
        set(a),
        set(b),
        set(c),
        ev(
            b,
            "Clarified",
            "2026-09-18T10:00:00+08:00",
            json!({"affects_preparation": true}),
        ),
        ev(
            a,
            "Clarified",
            "2026-09-24T10:00:00+08:00",
            json!({"affects_preparation": true}),
        ),
        ev(
            c,
            "Clarified",
            "2026-09-24T10:00:00+08:00",
            json!({"affects_preparation": true}),
        ),
        deadline(c, "2026-09-24T10:05:00+08:00", "2026-10-12T09:30:00+08:00"),
    ]);
    let before = t("2026-10-08T09:29:00+08:00");
    assert_eq!(alerts(&p, a, before), []);
    let now = t("2026-10-20T12:00:00+08:00");
    assert_eq!(
        alerts(&p, a, now),
        [("proc.clarification.late", t("2026-10-08T09:30:00+08:00"))]
    );
    assert_eq!(alerts(&p, b, now), []);
    assert_eq!(alerts(&p, c, now), []);
}

#[test]
fn an_objection_has_3_natural_days_rolled_past_a_weekend() {
    // Filed Thursday 03-05: the 3rd day is Sunday 03-08, so it ends Monday 03-09.
    let (a, b) = ("proc-a", "proc-b");
    let p = fold(&[
        reg(
            a,
            "2026-01-05T09:00:00+08:00",
            "construction",
            "open_tender",
            100_000_000,
            true,
        ),
        reg(
            b,
            "2026-01-05T09:00:00+08:00",
            "construction",
            "open_tender",
            100_000_000,
            true,
        ),
        ev(
            a,
            "ObjectionFiled",
            "2026-03-05T10:00:00+08:00",
            json!({"objection": "o1"}),
        ),
        ev(
            b,
            "ObjectionFiled",
            "2026-03-05T10:00:00+08:00",
            json!({"objection": "o1"}),
        ),
        ev(
            b,
            "ObjectionAnswered",
            "2026-03-09T16:00:00+08:00",
            json!({"objection": "o1"}),
        ),
    ]);
    assert_eq!(alerts(&p, a, day_end("2026-03-09") - 1), []);
    let now = t(LATER);
    assert_eq!(
        alerts(&p, a, now),
        [("proc.objection.late", day_end("2026-03-09"))]
    );
    assert_eq!(alerts(&p, b, now), []);
}

#[test]
fn bids_open_at_the_deadline_with_enough_bidders_before_an_award() {
    let (a, b) = ("proc-a", "proc-b");
    let p = fold(&[
        gov(a, "open_tender"),
        gov(b, "inquiry"),
        deadline(a, "2026-03-02T09:05:00+08:00", "2026-03-24T09:30:00+08:00"),
        deadline(b, "2026-03-02T09:05:00+08:00", "2026-03-24T09:30:00+08:00"),
        ev(
            a,
            "BidsOpened",
            "2026-03-24T10:15:00+08:00",
            json!({"bidders": 2}),
        ),
        ev(
            b,
            "BidsOpened",
            "2026-03-24T09:30:40+08:00",
            json!({"bidders": 2}),
        ),
        ev(
            a,
            "AwardNoticeIssued",
            "2026-03-30T10:00:00+08:00",
            json!({"winner": "w", "rank": 1, "amount_cents": 1}),
        ),
        ev(
            b,
            "AwardNoticeIssued",
            "2026-03-30T10:00:00+08:00",
            json!({"winner": "w", "rank": 1, "amount_cents": 1}),
        ),
        ev(
            a,
            "ContractSigned",
            "2026-03-31T10:00:00+08:00",
            json!({"amount_cents": 1}),
        ),
        ev(
            b,
            "ContractSigned",
            "2026-03-31T10:00:00+08:00",
            json!({"amount_cents": 1}),
        ),
    ]);
    let now = t("2026-04-01T12:00:00+08:00");
    // a opened 45 minutes late, and awarded a tender of 2 bidders; b's inquiry opened in the
    // deadline's minute, and fewer than 3 is a tender's rule.
    assert_eq!(
        alerts(&p, a, now),
        [
            ("proc.opening.mismatch", t("2026-03-24T10:15:00+08:00")),
            ("proc.bidders.few", t("2026-03-30T10:00:00+08:00")),
        ]
    );
    assert_eq!(alerts(&p, b, now), []);
}

#[test]
fn the_committee_is_drawn_at_random_odd_and_two_thirds_experts() {
    let streams = ["proc-a", "proc-b", "proc-c", "proc-d", "proc-e", "proc-f"];
    let draws = [
        json!({"method": "random", "members": 5, "experts": 4}),
        json!({"method": "designated", "members": 5, "experts": 5}),
        json!({"method": "designated", "members": 5, "experts": 5, "approval": "财政局批复〔2026〕3号"}),
        json!({"method": "random", "members": 6, "experts": 6}),
        json!({"method": "random", "members": 5, "experts": 3}),
        json!({"method": "random", "members": 3, "experts": 3}),
    ];
    let mut lines = Vec::new();
    for (s, d) in streams.iter().zip(draws) {
        lines.push(gov(s, "open_tender"));
        lines.push(ev(s, "ExpertsDrawn", "2026-03-24T08:00:00+08:00", d));
    }
    let p = fold(&lines);
    let now = t("2026-03-25T12:00:00+08:00");
    let flagged: Vec<&str> = streams
        .into_iter()
        .filter(|s| !alerts(&p, s, now).is_empty())
        .collect();
    // b designated without approval, d even, e 3 of 5 experts (under two thirds), f 3 in a
    // tender (5 at least).
    assert_eq!(flagged, ["proc-b", "proc-d", "proc-e", "proc-f"]);
}

#[test]
fn the_result_is_confirmed_in_5_working_days_across_qingming() {
    // Reported Tuesday 03-31: 04-01, 04-02, 04-03, (04-04..04-06 off), 04-07, 04-08.
    let (a, b) = ("proc-a", "proc-b");
    let report = json!({"ranking": ["w", "x", "y"]});
    let p = fold(&[
        gov(a, "open_tender"),
        gov(b, "open_tender"),
        ev(
            a,
            "EvaluationReported",
            "2026-03-31T17:00:00+08:00",
            report.clone(),
        ),
        ev(b, "EvaluationReported", "2026-03-31T17:00:00+08:00", report),
        ev(b, "ResultConfirmed", "2026-04-08T16:00:00+08:00", json!({})),
    ]);
    assert_eq!(alerts(&p, a, day_end("2026-04-08") - 1), []);
    let now = t("2026-04-09T12:00:00+08:00");
    assert_eq!(
        alerts(&p, a, now),
        [("proc.confirmation.late", day_end("2026-04-08"))]
    );
    // b confirmed on the last day; its result is now due 2 working days later (04-10).
    assert_eq!(alerts(&p, b, now), []);
    assert_eq!(
        alerts(&p, b, t(LATER)),
        [("proc.result.late", day_end("2026-04-10"))]
    );
}

#[test]
fn the_result_is_announced_in_2_working_days_counting_a_shifted_workday() {
    // Confirmed Friday 02-13: Saturday 02-14 is worked (1), then 02-15..02-23 are off, so the
    // 2nd working day is Tuesday 02-24.
    let (a, b) = ("proc-a", "proc-b");
    let p = fold(&[
        gov(a, "inquiry"),
        gov(b, "inquiry"),
        ev(
            a,
            "EvaluationReported",
            "2026-02-12T17:00:00+08:00",
            json!({"ranking": ["w"]}),
        ),
        ev(
            b,
            "EvaluationReported",
            "2026-02-12T17:00:00+08:00",
            json!({"ranking": ["w"]}),
        ),
        ev(a, "ResultConfirmed", "2026-02-13T10:00:00+08:00", json!({})),
        ev(b, "ResultConfirmed", "2026-02-13T10:00:00+08:00", json!({})),
        ev(b, "ResultPublished", "2026-02-24T10:00:00+08:00", json!({})),
    ]);
    let now = t(LATER);
    assert_eq!(
        alerts(&p, a, now),
        [("proc.result.late", day_end("2026-02-24"))]
    );
    assert_eq!(alerts(&p, b, now), []);
}

#[test]
fn candidates_are_publicized_3_days_starting_within_3_days() {
    // Reported Monday 03-02. a: 03-03..03-04 is 2 days. b: starts 03-06, after Thursday 03-05
    // (the 3rd day): the clock cards it when 03-05 ends, and the late start adds no second
    // card. c: 03-05..03-07 is 3 days starting in time. d: never publicized: the clock cards it
    // when 03-05 ends. e: the same in government procurement, which publicizes no candidates.
    let streams = ["proc-a", "proc-b", "proc-c"];
    let publicity = [
        ("2026-03-03T09:00:00+08:00", "2026-03-04"),
        ("2026-03-06T09:00:00+08:00", "2026-03-09"),
        ("2026-03-05T09:00:00+08:00", "2026-03-07"),
    ];
    // A project of `regime` registered, and its evaluation reported on Monday 03-02.
    let reported = |s: &str, regime: &str| {
        [
            reg(
                s,
                "2026-01-05T09:00:00+08:00",
                regime,
                "open_tender",
                1,
                true,
            ),
            ev(
                s,
                "EvaluationReported",
                "2026-03-02T17:00:00+08:00",
                json!({"ranking": ["w"]}),
            ),
        ]
    };
    let mut lines = Vec::new();
    for (s, (at, until)) in streams.iter().zip(publicity) {
        lines.extend(reported(s, "construction"));
        lines.push(ev(s, "CandidatesPublicized", at, json!({"until": until})));
    }
    lines.extend(reported("proc-d", "construction"));
    lines.extend(reported("proc-e", "government"));
    let p = fold(&lines);
    let now = t("2026-03-10T12:00:00+08:00");
    assert_eq!(
        alerts(&p, "proc-a", now),
        [("proc.publicity.short", t("2026-03-03T09:00:00+08:00"))]
    );
    assert_eq!(
        alerts(&p, "proc-b", now),
        [("proc.publicity.short", day_end("2026-03-05"))]
    );
    assert_eq!(alerts(&p, "proc-c", now), []);
    assert_eq!(
        alerts(&p, "proc-d", now),
        [("proc.publicity.short", day_end("2026-03-05"))]
    );
    assert_eq!(
        alerts(&p, "proc-d", t("2026-03-05T23:00:00+08:00")),
        [],
        "not before the 3rd day ends"
    );
    let gov_alerts: Vec<_> = alerts(&p, "proc-e", now)
        .into_iter()
        .filter(|(r, _)| *r == "proc.publicity.short")
        .collect();
    assert_eq!(gov_alerts, []);
}

#[test]
fn a_state_funded_award_goes_to_the_first_ranked_or_says_why() {
    let award = |rank: u32, reason: Option<&str>| {
        let mut v = json!({"winner": "x", "rank": rank, "amount_cents": 5});
        if let Some(r) = reason {
            v["reason"] = json!(r);
        }
        v
    };
    let p = fold(&[
        gov("proc-a", "open_tender"),
        gov("proc-b", "open_tender"),
        reg(
            "proc-c",
            "2026-01-05T09:00:00+08:00",
            "government",
            "open_tender",
            1,
            false,
        ),
        ev(
            "proc-a",
            "AwardNoticeIssued",
            "2026-03-30T10:00:00+08:00",
            award(2, None),
        ),
        ev(
            "proc-b",
            "AwardNoticeIssued",
            "2026-03-30T10:00:00+08:00",
            award(2, Some("第一名放弃中标")),
        ),
        ev(
            "proc-c",
            "AwardNoticeIssued",
            "2026-03-30T10:00:00+08:00",
            award(2, None),
        ),
    ]);
    let now = t("2026-03-31T12:00:00+08:00");
    assert_eq!(
        alerts(&p, "proc-a", now),
        [("proc.award.not_first", t("2026-03-30T10:00:00+08:00"))]
    );
    assert_eq!(alerts(&p, "proc-b", now), []);
    assert_eq!(alerts(&p, "proc-c", now), []);
}

#[test]
fn the_contract_comes_within_30_natural_days_rolled_past_national_day() {
    // a: awarded Monday 09-07, the 30th day is 10-07 (off), so it ends Thursday 10-08.
    // b: awarded Thursday 09-10, the 30th day is Saturday 10-10, a shifted workday: it ends
    // there. c: awarded 09-07 and signed 10-08, in time.
    let award = json!({"winner": "w", "rank": 1, "amount_cents": 100});
    let p = fold(&[
        gov("proc-a", "open_tender"),
        gov("proc-b", "open_tender"),
        gov("proc-c", "open_tender"),
        ev(
            "proc-a",
            "AwardNoticeIssued",
            "2026-09-07T10:00:00+08:00",
            award.clone(),
        ),
        ev(
            "proc-b",
            "AwardNoticeIssued",
            "2026-09-10T10:00:00+08:00",
            award.clone(),
        ),
        ev(
            "proc-c",
            "AwardNoticeIssued",
            "2026-09-07T10:00:00+08:00",
            award,
        ),
        ev(
            "proc-c",
            "ContractSigned",
            "2026-10-08T10:00:00+08:00",
            json!({"amount_cents": 100}),
        ),
        ev(
            "proc-c",
            "ContractPublished",
            "2026-10-09T10:00:00+08:00",
            json!({}),
        ),
        ev(
            "proc-c",
            "ContractFiled",
            "2026-10-09T10:00:00+08:00",
            json!({}),
        ),
    ]);
    let now = t(LATER);
    assert_eq!(
        alerts(&p, "proc-a", now),
        [("proc.contract.late", day_end("2026-10-08"))]
    );
    assert_eq!(
        alerts(&p, "proc-b", now),
        [("proc.contract.late", day_end("2026-10-10"))]
    );
    assert_eq!(alerts(&p, "proc-c", now), []);
}

#[test]
fn a_signed_contract_is_announced_in_2_and_filed_in_7_working_days() {
    // Signed Wednesday 09-30: 10-08 (1), 10-09 (2) — announced by 10-09; then Saturday 10-10
    // is worked (3), 10-12 (4), 10-13 (5), 10-14 (6), 10-15 (7) — filed by 10-15.
    let p = fold(&[
        gov("proc-a", "open_tender"),
        ev(
            "proc-a",
            "AwardNoticeIssued",
            "2026-09-20T10:00:00+08:00",
            json!({"winner": "w", "rank": 1, "amount_cents": 100}),
        ),
        ev(
            "proc-a",
            "ContractSigned",
            "2026-09-30T10:00:00+08:00",
            json!({"amount_cents": 100}),
        ),
    ]);
    assert_eq!(
        alerts(&p, "proc-a", t(LATER)),
        [
            ("proc.contract.unpublished", day_end("2026-10-09")),
            ("proc.contract.unfiled", day_end("2026-10-15")),
        ]
    );
}

#[test]
fn the_contract_keeps_to_the_award_and_supplements_to_a_tenth() {
    let award = json!({"winner": "w", "rank": 1, "amount_cents": 1000});
    let p = fold(&[
        gov("proc-a", "open_tender"),
        gov("proc-b", "open_tender"),
        ev(
            "proc-a",
            "AwardNoticeIssued",
            "2026-03-02T10:00:00+08:00",
            award.clone(),
        ),
        ev(
            "proc-b",
            "AwardNoticeIssued",
            "2026-03-02T10:00:00+08:00",
            award,
        ),
        ev(
            "proc-a",
            "ContractSigned",
            "2026-03-03T10:00:00+08:00",
            json!({"amount_cents": 900}),
        ),
        ev(
            "proc-b",
            "ContractSigned",
            "2026-03-03T10:00:00+08:00",
            json!({"amount_cents": 1000}),
        ),
        ev(
            "proc-a",
            "ContractPublished",
            "2026-03-03T11:00:00+08:00",
            json!({}),
        ),
        ev(
            "proc-b",
            "ContractPublished",
            "2026-03-03T11:00:00+08:00",
            json!({}),
        ),
        ev(
            "proc-a",
            "ContractFiled",
            "2026-03-03T11:00:00+08:00",
            json!({}),
        ),
        ev(
            "proc-b",
            "ContractFiled",
            "2026-03-03T11:00:00+08:00",
            json!({}),
        ),
        // 50, then 100 in all (10%, lawful), then 101 (over a tenth).
        ev(
            "proc-b",
            "SupplementalContract",
            "2026-05-06T10:00:00+08:00",
            json!({"amount_cents": 50}),
        ),
        ev(
            "proc-b",
            "SupplementalContract",
            "2026-06-01T10:00:00+08:00",
            json!({"amount_cents": 50}),
        ),
        ev(
            "proc-b",
            "SupplementalContract",
            "2026-07-01T10:00:00+08:00",
            json!({"amount_cents": 1}),
        ),
    ]);
    let now = t(LATER);
    assert_eq!(
        alerts(&p, "proc-a", now),
        [("proc.contract.deviation", t("2026-03-03T10:00:00+08:00"))]
    );
    assert_eq!(
        alerts(&p, "proc-b", now),
        [("proc.contract.deviation", t("2026-07-01T10:00:00+08:00"))]
    );
}

#[test]
fn bonds_stay_within_2_and_10_percent() {
    // Budget 1,000,000: a bid bond of 20,000 is 2% (lawful), 20,001 is over. Contract
    // 500,000: a performance bond of 50,001 is over 10%.
    let p = fold(&[
        reg(
            "proc-a",
            "2026-01-05T09:00:00+08:00",
            "government",
            "open_tender",
            1_000_000,
            true,
        ),
        ev(
            "proc-a",
            "BondTaken",
            "2026-03-20T10:00:00+08:00",
            json!({"kind": "bid", "amount_cents": 20_000}),
        ),
        ev(
            "proc-a",
            "BondTaken",
            "2026-03-20T11:00:00+08:00",
            json!({"kind": "bid", "amount_cents": 20_001}),
        ),
        ev(
            "proc-a",
            "AwardNoticeIssued",
            "2026-03-30T10:00:00+08:00",
            json!({"winner": "w", "rank": 1, "amount_cents": 500_000}),
        ),
        ev(
            "proc-a",
            "ContractSigned",
            "2026-03-31T10:00:00+08:00",
            json!({"amount_cents": 500_000}),
        ),
        ev(
            "proc-a",
            "ContractPublished",
            "2026-03-31T11:00:00+08:00",
            json!({}),
        ),
        ev(
            "proc-a",
            "ContractFiled",
            "2026-03-31T11:00:00+08:00",
            json!({}),
        ),
        ev(
            "proc-a",
            "BondTaken",
            "2026-04-01T10:00:00+08:00",
            json!({"kind": "performance", "amount_cents": 50_000}),
        ),
        ev(
            "proc-a",
            "BondTaken",
            "2026-04-01T11:00:00+08:00",
            json!({"kind": "performance", "amount_cents": 50_001}),
        ),
    ]);
    assert_eq!(
        alerts(&p, "proc-a", t(LATER)),
        [
            ("proc.bond.excessive", t("2026-03-20T11:00:00+08:00")),
            ("proc.bond.excessive", t("2026-04-01T11:00:00+08:00")),
        ]
    );
}

#[test]
fn enquiries_answer_in_7_and_complaints_decide_in_30_working_days() {
    // Enquiry filed Wednesday 04-01: 04-02, 04-03, (Qingming) 04-07, 04-08, 04-09, 04-10,
    // 04-13. Complaint filed Tuesday 09-01: September's working days after it are 02..04 (3),
    // 07..11 (8), 14..18 (13), Sunday 20 worked (14), 21..24 (18), 28..30 (21; 25..27 off);
    // October 08, 09 (23), Saturday 10 worked (24), 12..16 (29), 19 (30).
    let p = fold(&[
        gov("proc-a", "open_tender"),
        ev(
            "proc-a",
            "EnquiryFiled",
            "2026-04-01T10:00:00+08:00",
            json!({"enquiry": "q1"}),
        ),
        ev(
            "proc-a",
            "EnquiryFiled",
            "2026-04-02T10:00:00+08:00",
            json!({"enquiry": "q2"}),
        ),
        ev(
            "proc-a",
            "EnquiryAnswered",
            "2026-04-08T10:00:00+08:00",
            json!({"enquiry": "q2"}),
        ),
        ev(
            "proc-a",
            "ComplaintFiled",
            "2026-09-01T10:00:00+08:00",
            json!({"complaint": "c1"}),
        ),
    ]);
    assert_eq!(
        alerts(&p, "proc-a", t(LATER)),
        [
            ("proc.enquiry.late", day_end("2026-04-13")),
            ("proc.complaint.late", day_end("2026-10-19")),
        ]
    );
}

/// The split scenario: thresholds in the district and, lower, in one town.
fn split_lines(extra: &[String]) -> Vec<String> {
    let threshold = |jurisdiction: &str, category: &str, cents: u64| {
        json!({"stream": "catalog", "type": "ThresholdDefined",
            "occurred_at": "2026-01-02T09:00:00+08:00", "actor": "admin", "org": "jiangjin",
            "data": {"jurisdiction": jurisdiction, "category": category,
                "open_tender_cents": cents}})
        .to_string()
    };
    let mut lines = vec![
        threshold("national", "goods", 5_000_000),
        threshold("jiangjin", "goods", 2_000_000),
        threshold("jiangjin/town-07", "goods", 1_000_000),
    ];
    lines.extend_from_slice(extra);
    lines
}

fn purchase(stream: &str, at: &str, org: &str, category: &str, method: &str, cents: u64) -> String {
    json!({"stream": stream, "type": "ProcurementRegistered", "occurred_at": at,
        "actor": "buyer", "org": org,
        "data": {"project": stream, "regime": "government", "method": method,
            "category": category, "budget_cents": cents, "purchaser_org": org,
            "state_funded": true}})
    .to_string()
}

#[test]
fn split_purchases_reach_the_threshold_together_but_not_alone() {
    let d5 = "jiangjin/center/dept-05";
    let d6 = "jiangjin/center/dept-06";
    let town = "jiangjin/town-07/office";
    let p = fold(&split_lines(&[
        // 900k + 900k is under 2M; an open tender does not count; 300k more reaches it.
        purchase(
            "proc-1",
            "2026-03-02T09:00:00+08:00",
            d5,
            "goods",
            "inquiry",
            900_000,
        ),
        purchase(
            "proc-2",
            "2026-04-01T09:00:00+08:00",
            d5,
            "goods",
            "competitive_negotiation",
            900_000,
        ),
        purchase(
            "proc-3",
            "2026-05-06T09:00:00+08:00",
            d5,
            "goods",
            "open_tender",
            3_000_000,
        ),
        purchase(
            "proc-4",
            "2026-06-01T09:00:00+08:00",
            d5,
            "goods",
            "inquiry",
            300_000,
        ),
        // Another purchaser, another category: never combined.
        purchase(
            "proc-5",
            "2026-06-02T09:00:00+08:00",
            d6,
            "goods",
            "inquiry",
            1_900_000,
        ),
        purchase(
            "proc-6",
            "2026-06-03T09:00:00+08:00",
            d5,
            "services",
            "inquiry",
            1_900_000,
        ),
        // A new budget year starts again.
        purchase(
            "proc-7",
            "2027-01-05T09:00:00+08:00",
            d5,
            "goods",
            "inquiry",
            1_900_000,
        ),
        // The town's threshold is 1M: 600k + 600k reaches it there.
        purchase(
            "proc-8",
            "2026-03-02T09:00:00+08:00",
            town,
            "goods",
            "inquiry",
            600_000,
        ),
        purchase(
            "proc-9",
            "2026-03-03T09:00:00+08:00",
            town,
            "goods",
            "inquiry",
            600_000,
        ),
    ]));
    let now = t("2027-02-01T12:00:00+08:00");
    let split: Vec<String> = p
        .alerts(now)
        .into_iter()
        .filter(|a| a.rule == "proc.split")
        .map(|a| a.case)
        .collect();
    assert_eq!(split, ["proc-9", "proc-4"]);
}

#[test]
fn a_retender_starts_the_round_rules_again() {
    // The first round's window was short and flagged; after a retender, a second short
    // window is flagged again (alert 2); a lawful third round is not.
    let p = fold(&[
        gov("proc-a", "open_tender"),
        issued("proc-a", "2026-03-02T09:00:00+08:00", "2026-03-09"),
        deadline(
            "proc-a",
            "2026-03-02T09:05:00+08:00",
            "2026-03-10T09:00:00+08:00",
        ),
        ev(
            "proc-a",
            "Retendered",
            "2026-03-10T10:00:00+08:00",
            json!({"reason": "投标人不足三家"}),
        ),
        issued("proc-a", "2026-03-11T09:00:00+08:00", "2026-03-18"),
        deadline(
            "proc-a",
            "2026-03-11T09:05:00+08:00",
            "2026-03-20T09:00:00+08:00",
        ),
    ]);
    let views: Vec<String> = p
        .alerts(t(LATER))
        .into_iter()
        .filter(|a| a.rule.starts_with("proc."))
        .map(|a| a.id)
        .collect();
    assert_eq!(
        views,
        ["proc-a/proc.window.short/1", "proc-a/proc.window.short/2"]
    );
}

/// A procurement card goes through the approval cards' lifecycle: a red card unacknowledged
/// for a working day raises `supervision.unacknowledged` on the purchaser; acknowledged in
/// time, nothing; ordered corrected and reported back, verified: closed.
#[test]
fn procurement_cards_share_the_card_lifecycle() {
    let sup = |at: &str, event_type: &str, data: Value| {
        json!({"stream": "supervision", "type": event_type, "occurred_at": at,
            "actor": "inspector-1", "org": "jiangjin/supervision", "data": data})
        .to_string()
    };
    let opened = |s: &str| {
        ev(
            s,
            "BidsOpened",
            "2026-03-24T10:15:00+08:00",
            json!({"bidders": 5}),
        )
    };
    let deadline = |s: &str| deadline(s, "2026-03-02T09:05:00+08:00", "2026-03-24T09:30:00+08:00");
    let p = fold(&[
        gov("proc-a", "open_tender"),
        gov("proc-b", "open_tender"),
        deadline("proc-a"),
        deadline("proc-b"),
        opened("proc-a"),
        opened("proc-b"),
        sup(
            "2026-03-24T16:00:00+08:00",
            "AlertAcknowledged",
            json!({"alert": "proc-b/proc.opening.mismatch/1"}),
        ),
        sup(
            "2026-03-25T09:00:00+08:00",
            "CorrectionOrdered",
            json!({"case": "proc-b", "alert": "proc-b/proc.opening.mismatch/1", "days": 5}),
        ),
        sup(
            "2026-03-26T09:00:00+08:00",
            "CorrectionCompleted",
            json!({"case": "proc-b", "alert": "proc-b/proc.opening.mismatch/1",
                "report": "已整改"}),
        ),
        sup(
            "2026-03-27T09:00:00+08:00",
            "CorrectionVerified",
            json!({"case": "proc-b", "alert": "proc-b/proc.opening.mismatch/1",
                "accepted": true}),
        ),
    ]);
    let now = t("2026-04-10T12:00:00+08:00");
    let all = |s: &str| -> Vec<(String, bool)> {
        p.alerts(now)
            .into_iter()
            .filter(|a| a.case == s)
            .map(|a| (a.id, a.closed_at.is_some()))
            .collect()
    };
    // Raised Tuesday 03-24; one working day: the end of Wednesday 03-25.
    assert_eq!(
        all("proc-a"),
        [
            ("proc-a/proc.opening.mismatch/1".to_owned(), false),
            ("proc-a/supervision.unacknowledged/1".to_owned(), false),
        ]
    );
    assert_eq!(
        all("proc-b"),
        [("proc-b/proc.opening.mismatch/1".to_owned(), true)]
    );
}

/// The procurement report, worked by hand (default scoring: 100 points, yellow −5, red −10).
/// proc-a: its window is short (red, 03-03) and goes unacknowledged (yellow, raised at the end
/// of 03-04); awarded 09-07 and never contracted: the contract is late at the end of 10-08
/// (red, pending at `now`: the clock raised it after the project's last event), unacknowledged
/// by the end of Saturday 10-10, a shifted workday (yellow). proc-b: awarded 03-10, signed
/// 03-20 (on time), announced and filed the same day.
#[test]
fn the_procurement_report_counts_projects_awards_contracts_and_cards_per_month() {
    let lines = [
        ev(
            "proc-a",
            "ProcurementRegistered",
            "2026-03-02T09:00:00+08:00",
            json!({"project": "a",
            "regime": "government", "method": "open_tender", "category": "goods",
            "budget_cents": 1000, "purchaser_org": BUYER, "state_funded": true}),
        ),
        ev(
            "proc-b",
            "ProcurementRegistered",
            "2026-03-05T09:00:00+08:00",
            json!({"project": "b",
            "regime": "government", "method": "inquiry", "category": "goods",
            "budget_cents": 1000, "purchaser_org": BUYER, "state_funded": true}),
        ),
        issued("proc-a", "2026-03-03T09:00:00+08:00", "2026-03-12"),
        deadline(
            "proc-a",
            "2026-03-03T09:05:00+08:00",
            "2026-03-10T09:30:00+08:00",
        ),
        ev(
            "proc-b",
            "AwardNoticeIssued",
            "2026-03-10T10:00:00+08:00",
            json!({"winner": "w", "rank": 1, "amount_cents": 900}),
        ),
        ev(
            "proc-b",
            "ContractSigned",
            "2026-03-20T10:00:00+08:00",
            json!({"amount_cents": 900}),
        ),
        ev(
            "proc-b",
            "ContractPublished",
            "2026-03-20T11:00:00+08:00",
            json!({}),
        ),
        ev(
            "proc-b",
            "ContractFiled",
            "2026-03-20T11:00:00+08:00",
            json!({}),
        ),
        ev(
            "proc-a",
            "AwardNoticeIssued",
            "2026-09-07T10:00:00+08:00",
            json!({"winner": "w", "rank": 1, "amount_cents": 900}),
        ),
    ];
    let (events, _) = scenario_events(&lines.join("\n"));
    let mut p = Projections::default().with_ledger(crate::Scoring::default());
    for e in &events {
        p.apply(e);
    }
    let period = crate::Period::parse("2026").unwrap();
    let report = super::report::procurement_report(&p, &period, "", t(LATER)).unwrap();
    let rows: Vec<_> = report
        .rows
        .iter()
        .map(|r| {
            let rate = r.contract_on_time_rate.as_ref().map(|v| v.get().to_owned());
            (
                r.month,
                r.projects,
                r.awards,
                r.contracts,
                r.contracts_on_time,
                rate,
                r.yellow,
                r.red,
                r.score,
                r.grade,
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (
                202603,
                2,
                1,
                1,
                1,
                Some("1.0000".to_owned()),
                1,
                1,
                85,
                "良好"
            ),
            (202609, 0, 1, 0, 0, None, 0, 0, 100, "优秀"),
            (202610, 0, 0, 0, 0, None, 1, 1, 85, "良好"),
        ]
    );
    assert!(report.rows.iter().all(|r| r.org == BUYER));
    // Nothing of it reaches the approval report's sums.
    let approval = p
        .report(
            &crate::ReportQuery {
                period,
                by: crate::ledger::Dimension::Org,
                depth: None,
            },
            t(LATER),
        )
        .unwrap();
    assert!(approval.rows.is_empty(), "{:?}", approval.rows.len());
}

/// A project's act entered long after it happened is back-dated like a case's (体外循环).
#[test]
fn a_project_event_entered_late_is_back_dated() {
    let text = [
        gov("proc-a", "open_tender"),
        "# record-at: 2026-03-10T09:00:00+08:00".to_owned(),
        ev(
            "proc-a",
            "BidsOpened",
            "2026-03-02T09:30:00+08:00",
            json!({"bidders": 5}),
        ),
    ]
    .join("\n");
    let (events, _) = scenario_events(&text);
    let mut p = Projections::default();
    for e in &events {
        p.apply(e);
    }
    let rules: Vec<&str> = p
        .alerts(t(LATER))
        .into_iter()
        .filter(|a| a.case == "proc-a")
        .map(|a| a.rule)
        .collect();
    assert!(rules.contains(&"data.backdated"), "{rules:?}");
}

/// The board counts procurement cards apart from the cases' cards.
#[test]
fn the_overview_counts_procurement_cards_apart() {
    let p = fold(&[
        gov("proc-a", "open_tender"),
        issued("proc-a", "2026-03-03T09:00:00+08:00", "2026-03-12"),
        deadline(
            "proc-a",
            "2026-03-03T09:05:00+08:00",
            "2026-03-10T09:30:00+08:00",
        ),
    ]);
    let overview = p.overview(
        &crate::OverviewQuery::default(),
        t("2026-03-31T12:00:00+08:00"),
    );
    let row = overview
        .rows
        .iter()
        .find(|r| r.org == "jiangjin/center/dept-05")
        .unwrap();
    // The short window (red) and its missing acknowledgement (yellow).
    assert_eq!(
        (row.red, row.yellow, row.proc_red, row.proc_yellow),
        (0, 0, 1, 1)
    );
}

/// Acts entered in another order than they happened are judged once both are known: a
/// contract entered before its award (a different amount: `proc.contract.deviation`; signed 3
/// days after it: on time in the report), an award entered before the opening it followed
/// (2 bidders: `proc.bidders.few`), and an award whose claimed rank 1 is not the evaluation
/// report's first (`proc.award.not_first`, state-funded, no reason), whichever came first.
#[test]
fn acts_entered_out_of_order_are_judged_when_both_are_known() {
    // An award (claiming rank 1, 100 cents) and an evaluation report ranking B before A.
    let award = |s: &str, at: &str, winner: &str| {
        ev(
            s,
            "AwardNoticeIssued",
            at,
            json!({"winner": winner, "rank": 1, "amount_cents": 100}),
        )
    };
    let ranked =
        |s: &str, at: &str| ev(s, "EvaluationReported", at, json!({"ranking": ["B", "A"]}));
    let lines = [
        gov("proc-d", "open_tender"),
        gov("proc-e", "open_tender"),
        gov("proc-f", "open_tender"),
        gov("proc-g", "open_tender"),
        // d: the contract (120) of 03-05 entered before the award (100) of 03-02.
        ev(
            "proc-d",
            "ContractSigned",
            "2026-03-05T10:00:00+08:00",
            json!({"amount_cents": 120}),
        ),
        award("proc-d", "2026-03-05T11:00:00+08:00", "x"),
        // e: the award entered before the opening with 2 bidders.
        award("proc-e", "2026-03-10T10:00:00+08:00", "x"),
        ev(
            "proc-e",
            "BidsOpened",
            "2026-03-10T11:00:00+08:00",
            json!({"bidders": 2}),
        ),
        // f: the report ranks B first; the award to A claims rank 1.
        ranked("proc-f", "2026-03-02T10:00:00+08:00"),
        award("proc-f", "2026-03-10T10:00:00+08:00", "A"),
        // g: the same, the award entered first.
        award("proc-g", "2026-03-10T10:00:00+08:00", "A"),
        ranked("proc-g", "2026-03-10T11:00:00+08:00"),
    ];
    let p = fold(&lines);
    let now = t("2026-03-11T12:00:00+08:00");
    let rules = |stream: &str| -> Vec<&'static str> {
        alerts(&p, stream, now)
            .into_iter()
            .map(|(rule, _)| rule)
            .filter(|r| *r != "proc.contract.unpublished" && *r != "proc.contract.unfiled")
            .collect()
    };
    assert_eq!(rules("proc-d"), ["proc.contract.deviation"]);
    assert!(
        rules("proc-e").contains(&"proc.bidders.few"),
        "{:?}",
        rules("proc-e")
    );
    assert!(
        rules("proc-f").contains(&"proc.award.not_first"),
        "{:?}",
        rules("proc-f")
    );
    assert!(
        rules("proc-g").contains(&"proc.award.not_first"),
        "{:?}",
        rules("proc-g")
    );
    // d's contract counts as on time once its award is known.
    let mut p = Projections::default().with_ledger(crate::Scoring::default());
    for e in &scenario_events(&lines.join("\n")).0 {
        p.apply(e);
    }
    let period = crate::Period::parse("2026-03").unwrap();
    let report = super::report::procurement_report(&p, &period, "", now);
    let row = serde_json::to_value(&report).unwrap();
    let rows = row["rows"].as_array().unwrap();
    let buyer = rows.iter().find(|r| r["org"] == BUYER).unwrap();
    assert_eq!(
        (&buyer["contracts"], &buyer["contracts_on_time"]),
        (&json!(1), &json!(1))
    );
}

/// A split's card is dated when its last piece was registered: a piece entered after a later
/// one carries it from that later instant, and the month before counts no card.
#[test]
fn a_split_is_carded_when_its_last_piece_was_registered() {
    let d7 = "jiangjin/center/dept-07";
    let p = fold(&split_lines(&[
        purchase(
            "proc-i2",
            "2026-03-10T10:00:00+08:00",
            d7,
            "goods",
            "inquiry",
            1_200_000,
        ),
        purchase(
            "proc-i1",
            "2026-02-20T10:00:00+08:00",
            d7,
            "goods",
            "inquiry",
            1_200_000,
        ),
    ]));
    let now = t("2026-03-31T12:00:00+08:00");
    assert_eq!(
        alerts(&p, "proc-i1", now),
        [("proc.split", t("2026-03-10T10:00:00+08:00"))]
    );
    assert_eq!(alerts(&p, "proc-i1", t("2026-02-28T12:00:00+08:00")), []);
}

/// A contract counts once, in its own month, on time or not, whatever the order its award was
/// entered in: g1 signs on 03-31 before its award of 04-01 (never on time), g2 is awarded on
/// 04-01 and signs on 04-10 (on time), h signs on 03-20 within 30 days of its award of 03-02
/// but is entered before it; the award comes in April's file order. No month's rate exceeds 1.
#[test]
fn a_contract_counts_in_its_own_month_and_never_before_its_award() {
    let award = |s: &str, at: &str| {
        ev(
            s,
            "AwardNoticeIssued",
            at,
            json!({"winner": "A", "rank": 1, "amount_cents": 1000}),
        )
    };
    let signed = |s: &str, at: &str| ev(s, "ContractSigned", at, json!({"amount_cents": 1000}));
    let lines = [
        gov("proc-g1", "open_tender"),
        gov("proc-g2", "open_tender"),
        gov("proc-h", "open_tender"),
        signed("proc-h", "2026-03-20T10:00:00+08:00"),
        signed("proc-g1", "2026-03-31T10:00:00+08:00"),
        award("proc-g1", "2026-04-01T10:00:00+08:00"),
        award("proc-g2", "2026-04-01T10:00:00+08:00"),
        award("proc-h", "2026-03-02T10:00:00+08:00"),
        signed("proc-g2", "2026-04-10T10:00:00+08:00"),
    ];
    let mut p = Projections::default().with_ledger(crate::Scoring::default());
    for e in &scenario_events(&lines.join("\n")).0 {
        p.apply(e);
    }
    let both = crate::Period::parse("2026-H1").unwrap();
    let report = super::report::procurement_report(&p, &both, "", t(LATER)).unwrap();
    let months: Vec<_> = report
        .rows
        .iter()
        .filter(|r| r.org == BUYER && r.contracts > 0)
        .map(|r| (r.month, r.contracts, r.contracts_on_time))
        .collect();
    assert_eq!(months, [(202603, 2, 1), (202604, 1, 1)], "{months:?}");
}

/// Supplements entered before the contract they amend are judged when the contract comes, as
/// in the other order: 200 before a contract of 1,000 is a fifth (one card, dated when both
/// were so: the supplement of 03-25, later than the contract of 03-20); 100 before it is a
/// tenth (none).
#[test]
fn supplements_entered_before_their_contract_are_judged_with_it() {
    let award = json!({"winner": "w", "rank": 1, "amount_cents": 1000});
    let supplement = |s: &str, cents: u64| {
        ev(
            s,
            "SupplementalContract",
            "2026-03-25T10:00:00+08:00",
            json!({ "amount_cents": cents }),
        )
    };
    let mut lines = Vec::new();
    for (s, cents) in [("proc-o", 200), ("proc-p", 100)] {
        lines.push(gov(s, "open_tender"));
        lines.push(ev(
            s,
            "AwardNoticeIssued",
            "2026-03-02T10:00:00+08:00",
            award.clone(),
        ));
        lines.push(supplement(s, cents));
        lines.push(ev(
            s,
            "ContractSigned",
            "2026-03-20T10:00:00+08:00",
            json!({"amount_cents": 1000}),
        ));
    }
    let p = fold(&lines);
    let now = t(LATER);
    let deviations = |s: &str| {
        alerts(&p, s, now)
            .into_iter()
            .filter(|(rule, _)| *rule == "proc.contract.deviation")
            .collect::<Vec<_>>()
    };
    assert_eq!(
        deviations("proc-o"),
        [("proc.contract.deviation", t("2026-03-25T10:00:00+08:00"))]
    );
    assert_eq!(deviations("proc-p"), []);
}
