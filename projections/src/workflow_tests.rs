//! The workflow's ledger counts over the golden scenarios, checked by hand against the
//! scenarios' comments; the act checks; and the orders board's order.

use std::collections::BTreeMap;
use std::path::Path;

use jiancha_events::{EventData, RatingVerdict};

use crate::ledger::Measure;
use crate::tests::scenario_events;
use crate::{Projections, Scoring};

/// A golden scenario's text.
fn scenario(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("testdata/scenarios")
            .join(name),
    )
    .unwrap()
}

/// `events` folded with the default scoring's ledger.
fn assessed(events: &[jiancha_events::StoredEvent]) -> Projections {
    let mut p = Projections::default().with_ledger(Scoring::default());
    for e in events {
        p.apply(e);
    }
    p
}

fn folded(name: &str) -> (Projections, crate::Millis) {
    let (events, now) = scenario_events(&scenario(name));
    (assessed(&events), now.unwrap())
}

/// Every measure's sum over the whole ledger, with the pending entries at `now`, by wire name.
fn sums(p: &Projections, now: crate::Millis) -> BTreeMap<&'static str, (i64, i64)> {
    let ledger = p.ledger().unwrap();
    let mut out: BTreeMap<&'static str, (i64, i64)> = BTreeMap::new();
    let pending = crate::report::pending_entries(p, ledger, now);
    for e in ledger.entries().chain(pending) {
        let s = out.entry(e.measure.as_str()).or_default();
        s.0 += e.amount;
        s.1 += e.points;
    }
    out
}

fn count(s: &BTreeMap<&'static str, (i64, i64)>, m: Measure) -> i64 {
    s.get(m.as_str()).map_or(0, |v| v.0)
}

#[test]
fn the_card_lifecycle_counts_orders_corrections_and_overdue_orders() {
    let (p, now) = folded("workflow_card_lifecycle_around_national_day.jsonl");
    let s = sums(&p, now);
    // b, c and d were ordered; b and c corrected in their (renewed) days; d went overdue.
    assert_eq!(count(&s, Measure::Ordered), 3);
    assert_eq!(count(&s, Measure::CorrectedOnTime), 2);
    assert_eq!(count(&s, Measure::CorrectionOverdue), 1);
    // Four promised-overdue cards, d's overdue order and its escalation; d's unacknowledged
    // card and two stalls; the failed notice is not the unit's and counts nothing.
    assert_eq!(count(&s, Measure::Red), 6);
    assert_eq!(count(&s, Measure::Yellow), 3);
    let ledger = p.ledger().unwrap();
    let all: Vec<_> = ledger.entries().collect();
    let ordered: Vec<_> = all
        .iter()
        .filter(|e| e.measure == Measure::Ordered || e.measure == Measure::CorrectedOnTime)
        .map(|e| (e.measure.as_str(), e.month, &*e.case))
        .collect();
    // Counted in the month of the order, September, whenever verified.
    assert_eq!(
        ordered,
        [
            ("ordered", 202609, "case-b"),
            ("ordered", 202609, "case-c"),
            ("ordered", 202609, "case-d"),
            ("corrected_on_time", 202609, "case-b"),
            ("corrected_on_time", 202609, "case-c"),
        ]
    );
    let report = p
        .report(
            &crate::tests::report_query("2026-09", crate::ledger::Dimension::Org),
            now,
        )
        .unwrap();
    let row = report
        .rows
        .iter()
        .find(|r| r.org.as_deref() == Some("jiangjin/center/dept-03/window-1"))
        .unwrap();
    assert_eq!((row.ordered, row.corrected_on_time), (3, 2));
    assert_eq!(row.correction_rate.as_ref().unwrap().get(), "0.6667");
}

#[test]
fn bad_ratings_count_valid_rectified_on_time_and_satisfied_call_backs() {
    let (p, now) = folded("workflow_ratings_around_labour_day.jsonl");
    let s = sums(&p, now);
    // r1, r2 and r3 count; r2's second rating and r4's late one do not.
    assert_eq!(count(&s, Measure::Rated), 3);
    assert_eq!(count(&s, Measure::BadRated), 3);
    assert_eq!(count(&s, Measure::BadValid), 2);
    assert_eq!(count(&s, Measure::RectifiedOnTime), 1);
    assert_eq!(count(&s, Measure::CallbackSatisfied), 1);
    // Three rating.bad cards and r2's rating.unverified; r2's overdue rectification; the
    // duplicate rating's warning is the citizen's and counts nothing.
    assert_eq!(count(&s, Measure::Yellow), 4);
    assert_eq!(count(&s, Measure::Red), 1);
    assert_eq!(count(&s, Measure::Warnings), 0);
}

#[test]
fn complaints_count_upheld_ones_with_their_points_and_late_ones_once() {
    let (p, now) = folded("workflow_complaints_around_qingming.jsonl");
    let s = sums(&p, now);
    assert_eq!(count(&s, Measure::Complaint), 3);
    assert_eq!(s.get("complaints_upheld"), Some(&(1, -5)));
    assert_eq!(count(&s, Measure::ComplaintsLate), 1);
    assert_eq!(
        (count(&s, Measure::Yellow), count(&s, Measure::Red)),
        (1, 1)
    );
    // The late reply is charged to the org the complaint was routed to.
    let ledger = p.ledger().unwrap();
    let pending = crate::report::pending_entries(&p, ledger, now);
    let red: Vec<_> = ledger
        .entries()
        .chain(pending)
        .filter(|e| e.measure == Measure::Red)
        .map(|e| e.org.to_string())
        .collect();
    assert_eq!(red, ["jiangjin/supervision"]);
}

#[test]
fn acts_that_do_not_fit_the_state_are_refused_naming_the_field() {
    let (p, now) = folded("workflow_card_lifecycle_around_national_day.jsonl");
    let act = |data: EventData| p.check_act_at(&data, now);
    let verify = |alert: &str| {
        EventData::CorrectionVerified(jiancha_events::CorrectionVerified {
            card_at: None,
            case: alert.split('/').next().unwrap().into(),
            alert: alert.into(),
            accepted: true,
            note: None,
        })
    };
    // d was ordered but never reported back: nothing to verify.
    let e = act(verify("case-d/deadline.promised.overdue/1")).unwrap_err();
    assert!(
        matches!(
            e,
            crate::ActError::State {
                field: "data.alert",
                ..
            }
        ),
        "{e}"
    );
    // b was verified and closed.
    let e = act(verify("case-b/deadline.promised.overdue/1")).unwrap_err();
    assert!(e.to_string().contains("verified"), "{e}");
    // No such card.
    let e = act(verify("case-a/fee.mismatch/1")).unwrap_err();
    assert!(matches!(e, crate::ActError::Unknown { .. }), "{e}");
    // d's card is open and under an order: it may be acknowledged, not ordered a second time
    // (ordered → reported → verified; a rejected report-back orders it again).
    let order = |alert: &str| {
        EventData::CorrectionOrdered(jiancha_events::CorrectionOrdered {
            card_at: None,
            case: alert.split('/').next().unwrap().into(),
            alert: alert.into(),
            days: 3,
        })
    };
    let e = act(order("case-d/deadline.promised.overdue/1")).unwrap_err();
    assert!(
        matches!(
            e,
            crate::ActError::State {
                field: "data.alert",
                ..
            }
        ) && e.to_string().contains("under a correction order already"),
        "{e}"
    );
    // A report-back answers an order: none on d's stall, which no order names.
    let report = |alert: &str| {
        EventData::CorrectionCompleted(jiancha_events::CorrectionCompleted {
            card_at: None,
            case: alert.split('/').next().unwrap().into(),
            alert: alert.into(),
            report: None,
        })
    };
    let e = act(report("case-d/case.stalled/1")).unwrap_err();
    assert!(e.to_string().contains("under no correction order"), "{e}");
    act(report("case-d/deadline.promised.overdue/1")).unwrap();
    act(order("case-d/case.stalled/1")).unwrap();
    act(EventData::AlertAcknowledged(
        jiancha_events::AlertAcknowledged {
            card_at: None,
            alert: "case-d/deadline.promised.overdue/1".into(),
            note: None,
        },
    ))
    .unwrap();
    // A card the clock raised by `now` but no event folded in yet counts: d's stall.
    act(EventData::AlertAcknowledged(
        jiancha_events::AlertAcknowledged {
            card_at: None,
            alert: "case-d/case.stalled/1".into(),
            note: None,
        },
    ))
    .unwrap();

    let (p, now) = folded("workflow_ratings_around_labour_day.jsonl");
    let rating = |case: &str| {
        p.check_act_at(
            &EventData::RatingVerified(jiancha_events::RatingVerified {
                case: case.into(),
                verdict: RatingVerdict::Valid,
                note: None,
            }),
            now,
        )
    };
    assert!(rating("case-r1")
        .unwrap_err()
        .to_string()
        .contains("already"));
    assert!(
        rating("case-r4").is_err(),
        "r4's rating came after its window: not counted, nothing to verify"
    );
    let (p, now) = folded("workflow_complaints_around_qingming.jsonl");
    let answer = |id: &str| {
        p.check_act_at(
            &EventData::ComplaintAnswered(jiancha_events::ComplaintAnswered {
                complaint: id.into(),
                finding: jiancha_events::Finding::NotUpheld,
                reply: "r".into(),
            }),
            now,
        )
    };
    answer("case-p/complaint/2").unwrap();
    assert!(answer("case-p/complaint/1").is_err(), "answered already");
    assert!(
        answer("case-p/complaint/3").is_err(),
        "rejected, never accepted"
    );
    assert!(matches!(
        answer("case-p/complaint/9"),
        Err(crate::ActError::Unknown { .. })
    ));
}

#[test]
fn the_orders_board_shows_the_overdue_first_and_each_order_as_of_its_instant() {
    let (p, _) = folded("workflow_card_lifecycle_around_national_day.jsonl");
    let at = |t: &str| {
        jiancha_events::parse_timestamp(t)
            .unwrap()
            .timestamp_millis()
    };
    let board: Vec<_> = p
        .orders(at("2026-10-12T12:00:00+08:00"))
        .into_iter()
        .map(|o| (o.case, o.state, o.overdue, o.escalated_to))
        .collect();
    assert_eq!(
        board,
        [
            (
                "case-d".into(),
                "ordered",
                true,
                Some("jiangjin/supervision".into())
            ),
            ("case-b".into(), "closed", false, None),
            ("case-c".into(), "closed", false, None),
        ]
    );
    // Before d's second deadline ran out it was overdue and escalated to the parent org only.
    let d = p
        .orders(at("2026-10-09T12:00:00+08:00"))
        .into_iter()
        .find(|o| o.case == "case-d")
        .unwrap();
    assert_eq!(d.escalated_to.as_deref(), Some("jiangjin/center/dept-03"));
}

#[test]
fn a_default_rating_counts_when_the_window_closes_unrated_and_only_if_the_scoring_gives_one() {
    let text = scenario("workflow_ratings_around_labour_day.jsonl");
    let (events, now) = scenario_events(&text);
    let now = now.unwrap();
    let scoring = Scoring {
        default_rating: Some(3),
        ..Scoring::default()
    };
    let fold = |scoring: Scoring, upto: usize| {
        let mut p = Projections::default().with_ledger(scoring);
        for e in &events[..upto] {
            p.apply(e);
        }
        p
    };
    // r4 concluded 04-28 and was not rated by the end of 05-05 (its rating of 05-06 came after
    // the window): a default 3 (基本满意) at 05-06T00:00, counted as a rating, not satisfied.
    let p = fold(scoring, events.len());
    let s = sums(&p, now);
    assert_eq!(count(&s, Measure::Defaulted), 1);
    assert_eq!(count(&s, Measure::Rated), 4);
    assert_eq!(count(&s, Measure::Satisfied), 0);
    let defaulted: Vec<_> = p
        .alerts(now)
        .into_iter()
        .filter(|a| a.rule == "rating.defaulted")
        .map(|a| (a.case, a.raised_at, a.severity))
        .collect();
    assert_eq!(
        defaulted,
        [(
            "case-r4".to_owned(),
            "2026-05-06T00:00:00+08:00".to_owned(),
            "warning"
        )]
    );
    // The same as of an instant before the r4 rating and with no event since the window closed:
    // the view raises it and the report counts it, pending, exactly as the fold does later.
    let before = events
        .iter()
        .position(|e| e.stream.as_str() == "case-r4" && e.data.type_name() == "Rated")
        .unwrap();
    let at = jiancha_events::parse_timestamp("2026-05-06T09:00:00+08:00")
        .unwrap()
        .timestamp_millis();
    let early = fold(scoring, before);
    assert_eq!(count(&sums(&early, at), Measure::Defaulted), 1);
    assert!(early.next_threshold("case-r4", 0).is_some() || early.case("case-r4").is_some());
    // Off unless the scoring sets it.
    let p = fold(Scoring::default(), events.len());
    let s = sums(&p, now);
    assert_eq!(count(&s, Measure::Defaulted), 0);
    assert_eq!(count(&s, Measure::Rated), 3);
    assert!(Scoring {
        default_rating: Some(6),
        ..Scoring::default()
    }
    .check()
    .is_err());
}

/// 督办 follows a card: a prompt is never ordered corrected; and an exempted case's cards are
/// closed with no next state, its order shown closed on the board.
#[test]
fn no_order_on_a_prompt_and_no_act_on_an_exempted_case() {
    let item = r#"{"stream":"catalog","type":"ItemDefined","occurred_at":"2026-01-05T09:00:00+08:00","actor":"admin","org":"jiangjin/center","data":{"code":"BL-001","name":"测试事项","org":"jiangjin/center/dept-03","statutory_days":20,"promised_days":5,"fee_cents":0,"steps":[],"required_materials":[],"in_center":true}}"#;
    let case = |stream: &str, ty: &str, at: &str, data: &str| {
        format!(
            r#"{{"stream":"{stream}","type":"{ty}","occurred_at":"{at}","actor":"clerk-1","org":"jiangjin/center/dept-03/window-1","data":{data}}}"#
        )
    };
    let act = |ty: &str, at: &str, data: &str| {
        format!(
            r#"{{"stream":"supervision","type":"{ty}","occurred_at":"{at}","actor":"sup","org":"jiangjin/supervision","data":{data}}}"#
        )
    };
    let submitted = r#"{"item":"BL-001","channel":"window","materials":[]}"#;
    let lines = [
        item.to_owned(),
        case(
            "case-w",
            "Submitted",
            "2026-03-02T09:00:00+08:00",
            submitted,
        ),
        case("case-w", "Accepted", "2026-03-02T09:30:00+08:00", "{}"),
        case(
            "case-x",
            "Submitted",
            "2026-03-02T09:00:00+08:00",
            submitted,
        ),
        case("case-x", "Accepted", "2026-03-02T09:30:00+08:00", "{}"),
        case(
            "case-x",
            "FeeCharged",
            "2026-03-02T10:00:00+08:00",
            r#"{"amount_cents":100}"#,
        ),
        act(
            "CorrectionOrdered",
            "2026-03-03T10:00:00+08:00",
            r#"{"case":"case-x","alert":"case-x/fee.mismatch/1","days":3}"#,
        ),
        act(
            "Exempted",
            "2026-03-04T10:00:00+08:00",
            r#"{"case":"case-x","reason":"不可抗力"}"#,
        ),
    ];
    let (events, _) = scenario_events(&lines.join("\n"));
    let p = assessed(&events);
    // After the end of 03-06 case-w has its prompt (one day left), still open.
    let now = crate::asof::parse_instant("2026-03-10T12:00:00+08:00").unwrap();
    let order = |alert: &str| {
        EventData::CorrectionOrdered(jiancha_events::CorrectionOrdered {
            card_at: None,
            case: alert.split('/').next().unwrap().into(),
            alert: alert.into(),
            days: 3,
        })
    };
    let e = p
        .check_act_at(&order("case-w/deadline.promised.warning/1"), now)
        .unwrap_err();
    assert!(e.to_string().contains("a prompt, not a card"), "{e}");
    p.check_act_at(&order("case-w/deadline.promised.overdue/1"), now)
        .unwrap();
    // case-x was exempted: no act on its card.
    let card = "case-x/fee.mismatch/1";
    for data in [
        order(card),
        EventData::AlertAcknowledged(jiancha_events::AlertAcknowledged {
            card_at: None,
            alert: card.into(),
            note: None,
        }),
        EventData::CorrectionCompleted(jiancha_events::CorrectionCompleted {
            card_at: None,
            case: "case-x".into(),
            alert: card.into(),
            report: None,
        }),
    ] {
        let e = p.check_act_at(&data, now).unwrap_err();
        assert!(e.to_string().contains("exempted"), "{e}");
    }
    let board = p.orders(now);
    let x = board.iter().find(|o| o.case == "case-x").unwrap();
    assert_eq!((x.state, x.overdue), ("closed", false));
}

/// A report-back answers the card: its `supervision.unacknowledged` closes then, as the rule
/// reference says, not only at the verification.
#[test]
fn a_report_back_closes_the_unacknowledged_prompt() {
    let text = [
        r#"{"stream":"catalog","type":"ItemDefined","occurred_at":"2026-01-05T09:00:00+08:00","actor":"admin","org":"jiangjin/center","data":{"code":"BL-001","name":"测试事项","org":"jiangjin/center/dept-03","statutory_days":20,"promised_days":5,"fee_cents":0,"steps":[],"required_materials":[],"in_center":true}}"#,
        r#"{"stream":"case-y","type":"Submitted","occurred_at":"2026-03-02T09:00:00+08:00","actor":"clerk-1","org":"jiangjin/center/dept-03/window-1","data":{"item":"BL-001","channel":"window","materials":[]}}"#,
        r#"{"stream":"case-y","type":"Accepted","occurred_at":"2026-03-02T09:30:00+08:00","actor":"clerk-1","org":"jiangjin/center/dept-03/window-1","data":{}}"#,
        r#"{"stream":"case-y","type":"FeeCharged","occurred_at":"2026-03-02T10:00:00+08:00","actor":"clerk-1","org":"jiangjin/center/dept-03/window-1","data":{"amount_cents":100}}"#,
        r#"{"stream":"supervision","type":"CorrectionOrdered","occurred_at":"2026-03-04T10:00:00+08:00","actor":"sup","org":"jiangjin/supervision","data":{"case":"case-y","alert":"case-y/fee.mismatch/1","days":3}}"#,
        r#"{"stream":"supervision","type":"CorrectionCompleted","occurred_at":"2026-03-05T15:00:00+08:00","actor":"clerk-1","org":"jiangjin/center/dept-03/window-1","data":{"case":"case-y","alert":"case-y/fee.mismatch/1","report":"已退还"}}"#,
    ]
    .join("\n");
    let (events, _) = scenario_events(&text);
    let p = assessed(&events);
    let now = crate::asof::parse_instant("2026-03-10T12:00:00+08:00").unwrap();
    let unack: Vec<_> = p
        .alerts(now)
        .into_iter()
        .filter(|a| a.case == "case-y" && a.rule == "supervision.unacknowledged")
        .collect();
    assert_eq!(unack.len(), 1, "{unack:?}");
    assert_eq!(
        unack[0].closed_at.as_deref(),
        Some("2026-03-05T15:00:00+08:00"),
        "{unack:?}"
    );
}

/// An upheld appeal of a bad rating removes the rating with its whole workflow: what the
/// verification counted and the cards the clock raised about it are reversed, the cards close,
/// and no act on the rating is taken any more. The appeal may name any entry of the rating or
/// its `rating.bad` card. Without the appeal (the same log cut before it) all of it counts.
#[test]
fn an_upheld_appeal_of_a_rating_ends_its_whole_workflow() {
    let text = scenario("rating_appeal_and_exemption.jsonl");
    let (events, now) = scenario_events(&text);
    let now = now.unwrap();
    let fold = assessed;
    let measures = [
        Measure::Rated,
        Measure::BadRated,
        Measure::BadValid,
        Measure::Yellow,
        Measure::Red,
    ];
    let counts = |p: &Projections| {
        let s = sums(p, now);
        measures.map(|m| count(&s, m))
    };
    // Cut before the appeal: the rating, its valid verdict, its card and the overdue
    // rectification all count (case-b, exempted, counts nothing).
    let cut = fold(&events[..events.len() - 1]);
    assert_eq!(counts(&cut), [1, 1, 1, 1, 1]);
    let rectified = EventData::RatingRectified(jiancha_events::RatingRectified {
        case: "case-a".into(),
        report: "已整改".into(),
    });
    assert!(cut.check_act(&rectified).is_ok());
    // The appeal as the scenario has it (naming `bad_rated`), and naming the card instead.
    let appeal = events.last().unwrap();
    let card = {
        let mut e = appeal.clone();
        if let EventData::AppealUpheld(a) = &mut e.data {
            a.entry = "7/yellow".into();
        }
        e
    };
    for last in [appeal, &card] {
        let mut log = events[..events.len() - 1].to_vec();
        log.push(last.clone());
        let p = fold(&log);
        assert_eq!(counts(&p), [0, 0, 0, 0, 0], "{:?}", last.data);
        let open: Vec<_> = p
            .alerts(now)
            .into_iter()
            .filter(|a| a.closed_at.is_none())
            .map(|a| a.id)
            .collect();
        assert!(open.is_empty(), "{open:?}");
        let refused = p.check_act(&rectified).unwrap_err();
        assert!(
            matches!(&refused, crate::ActError::State { field: "data.case", message }
                if message.contains("removed by the appeal at position 16")),
            "{refused}"
        );
    }
}

/// An order on the rating's card ends with the appeal of the rating: the clock raises no
/// `supervision.correction.overdue` about it afterwards. In the scenario, an order of 3 working
/// days on `case-a/rating.bad/1` given Fri 03-13 would be overdue at 03-19T00:00 (03-16, 03-17,
/// 03-18); the appeal comes on 03-16.
#[test]
fn an_appeal_of_a_rating_ends_the_orders_on_its_cards() {
    let text = scenario("rating_appeal_and_exemption.jsonl");
    let order = r#"{"stream":"supervision","type":"CorrectionOrdered","occurred_at":"2026-03-13T10:00:00+08:00","actor":"inspector-1","org":"jiangjin/supervision","data":{"case":"case-a","alert":"case-a/rating.bad/1","days":3}}"#;
    let mut lines: Vec<&str> = text.lines().collect();
    let appeal = lines
        .iter()
        .position(|l| l.contains("AppealUpheld"))
        .unwrap();
    let fold = |lines: &[&str]| {
        let (events, now) = scenario_events(&lines.join("\n"));
        (assessed(&events), now.unwrap())
    };
    let overdue = |p: &Projections, now| {
        p.alerts(now)
            .into_iter()
            .filter(|a| a.rule == "supervision.correction.overdue")
            .count()
    };
    // Without the appeal the order runs out.
    let mut without: Vec<&str> = lines.clone();
    without.remove(appeal);
    without.insert(appeal, order);
    let (p, now) = fold(&without);
    assert_eq!(overdue(&p, now), 1);
    lines.insert(appeal, order);
    let (p, now) = fold(&lines);
    assert_eq!(overdue(&p, now), 0);
    let orders = p.orders(now);
    assert!(
        orders.iter().all(|o| o.state == "closed"),
        "{:?}",
        orders.iter().map(|o| &o.state).collect::<Vec<_>>()
    );
}

/// A definition of the workflow's limits takes effect when it is recorded, never before an event
/// the fold took already: what the fold decided as it took the rectification (on time under 5
/// days) is what every later view decides. Here the rating is verified valid Tue 06-02 and
/// rectified Fri 06-05 15:00; a definition dated Thu 06-04 10:00 (1 day to rectify) is recorded
/// after it, at 06-05 16:00, within the back-dating tolerance. Taken at its date it would have
/// made the rectification late (due at 06-04 10:00) after the fold had counted it on time;
/// taken when recorded, the rectification was done: no card at any instant, counted on time.
#[test]
fn a_limits_definition_never_reaches_back_over_what_the_fold_decided() {
    let text = r#"{"stream":"catalog","type":"ItemDefined","occurred_at":"2026-01-05T09:00:00+08:00","actor":"admin","org":"jiangjin/center","data":{"code":"WL-2","name":"测试事项","org":"jiangjin/center/dept-03","statutory_days":20,"promised_days":5,"fee_cents":0,"steps":[],"required_materials":[],"in_center":true}}
{"stream":"case-r1","type":"Submitted","occurred_at":"2026-06-01T09:00:00+08:00","actor":"clerk-1","org":"jiangjin/center/dept-03/window-1","data":{"item":"WL-2","channel":"window","materials":[]}}
{"stream":"case-r1","type":"Accepted","occurred_at":"2026-06-01T09:10:00+08:00","actor":"clerk-1","org":"jiangjin/center/dept-03/window-1","data":{}}
{"stream":"case-r1","type":"Decided","occurred_at":"2026-06-01T10:00:00+08:00","actor":"clerk-1","org":"jiangjin/center/dept-03/window-1","data":{"outcome":"approved"}}
{"stream":"case-r1","type":"Concluded","occurred_at":"2026-06-01T11:00:00+08:00","actor":"clerk-1","org":"jiangjin/center/dept-03/window-1","data":{}}
{"stream":"case-r1","type":"Rated","occurred_at":"2026-06-01T15:00:00+08:00","actor":"citizen","org":"jiangjin/center/dept-03/window-1","data":{"score":1}}
{"stream":"supervision","type":"RatingVerified","occurred_at":"2026-06-02T10:00:00+08:00","actor":"center-1","org":"jiangjin/center","data":{"case":"case-r1","verdict":"valid"}}
{"stream":"supervision","type":"RatingRectified","occurred_at":"2026-06-05T15:00:00+08:00","actor":"clerk-1","org":"jiangjin/center/dept-03/window-1","data":{"case":"case-r1","report":"已整改"}}
# record-at: 2026-06-05T16:00:00+08:00
{"stream":"catalog","type":"WorkflowLimitsDefined","occurred_at":"2026-06-04T10:00:00+08:00","actor":"center-wang","org":"jiangjin","data":{"rectify_days":1}}"#;
    let (events, _) = scenario_events(text);
    let p = assessed(&events);
    for now in ["2026-06-05T12:00:00+08:00", "2026-06-30T12:00:00+08:00"] {
        let at = crate::asof::parse_instant(now).unwrap();
        let overdue: Vec<_> = p
            .alerts(at)
            .into_iter()
            .filter(|a| a.rule == "rating.rectification.overdue")
            .map(|a| a.raised_at)
            .collect();
        assert!(overdue.is_empty(), "{now}: {overdue:?}");
        assert_eq!(count(&sums(&p, at), Measure::RectifiedOnTime), 1, "{now}");
    }
    assert_eq!(
        p.config_at(crate::asof::parse_instant("2026-06-05T16:00:00+08:00").unwrap())
            .rectify_days,
        1
    );
    assert_eq!(
        p.config_at(crate::asof::parse_instant("2026-06-05T15:59:59+08:00").unwrap())
            .rectify_days,
        5
    );
}

/// In one batch, an appeal of a rating takes its whole workflow: a later appeal of one of its
/// cards, pending (raised by the clock, taken in by no event yet) or not, is refused; an appeal
/// naming no case is refused naming `data.case`.
#[test]
fn a_batch_appealing_a_rating_cannot_appeal_its_cards_again() {
    let text = scenario("rating_appeal_and_exemption.jsonl");
    let (events, _) = scenario_events(&text);
    let p = assessed(&events[..events.len() - 1]);
    let at = crate::asof::parse_instant("2026-03-16T10:00:00+08:00").unwrap();
    let pending = crate::report::pending_entries(&p, p.ledger().unwrap(), at);
    let card = pending
        .iter()
        .find(|e| e.rule == "rating.rectification.overdue")
        .map(crate::Entry::key)
        .expect("the rectification's card is pending");
    assert!(p
        .check_appeal_batch([(card.as_str(), Some("case-a"), at)])
        .is_ok());
    let refused = p
        .check_appeal_batch([
            ("7/bad_rated", Some("case-a"), at),
            (card.as_str(), Some("case-a"), at),
        ])
        .unwrap_err();
    assert_eq!((refused.0, refused.1), (1, "data.entry"), "{refused:?}");
    let refused = p
        .check_appeal_batch([("7/bad_rated", None, at)])
        .unwrap_err();
    assert_eq!((refused.0, refused.1), (0, "data.case"), "{refused:?}");
}

/// The scenario of the card lifecycle with `lines` inserted after case-d's order (25 September).
fn lifecycle_with(lines: &[String]) -> (Projections, crate::Millis) {
    let text = scenario("workflow_card_lifecycle_around_national_day.jsonl");
    let anchor = text
        .lines()
        .find(|l| l.contains(r#""alert":"case-d/deadline.promised.overdue/1","days":3"#))
        .unwrap();
    let with = text.replacen(anchor, &format!("{anchor}\n{}", lines.join("\n")), 1);
    let (events, now) = scenario_events(&with);
    (assessed(&events), now.unwrap())
}

/// An act of case-d's, as a line of the scenario.
fn case_d_act(kind: &str, at: &str, data: &str) -> String {
    format!(
        r#"{{"stream":"supervision","type":"{kind}","occurred_at":"{at}","actor":"inspector-1","org":"jiangjin/supervision","data":{{"case":"case-d",{data}}}}}"#
    )
}

/// A case's alerts as (rule, n, raised, closed).
fn alert_times(p: &Projections, case: &str) -> Vec<(crate::Rule, u16, i64, Option<i64>)> {
    p.case(case)
        .unwrap()
        .alerts
        .iter()
        .map(|a| (a.rule, a.n, a.raised_at, a.closed_at))
        .collect()
}

/// What the server refuses changes nothing when it comes through `import`: a second order on an
/// ordered card (it would push the order's due date back, sparing the unit its overdue order)
/// and an order on a prompt.
#[test]
fn a_second_order_and_an_order_on_a_prompt_change_nothing() {
    let (plain, now) = lifecycle_with(&[]);
    let prompt = "case-d/deadline.promised.warning/1";
    assert!(alert_times(&plain, "case-d")
        .iter()
        .any(|a| a.0 == crate::Rule::PromisedWarning && a.1 == 1));
    let order = |alert: &str, at: &str| {
        case_d_act(
            "CorrectionOrdered",
            at,
            &format!(r#""alert":"{alert}","days":30"#),
        )
    };
    let (more, _) = lifecycle_with(&[
        order(
            "case-d/deadline.promised.overdue/1",
            "2026-09-26T10:00:00+08:00",
        ),
        order(prompt, "2026-09-26T10:05:00+08:00"),
    ]);
    assert_eq!(sums(&more, now), sums(&plain, now));
    assert_eq!(alert_times(&more, "case-d"), alert_times(&plain, "case-d"));
    // The overdue order is still charged: the 30 days of the second order renewed nothing.
    assert_eq!(count(&sums(&more, now), Measure::CorrectionOverdue), 1);
}

/// A second rating is a record, closed as it is raised: no open alert waits on it.
#[test]
fn a_repeated_rating_is_closed_as_raised() {
    let rated = |score: u8, at: &str| {
        format!(
            r#"{{"stream":"case-d","type":"Rated","occurred_at":"{at}","actor":"citizen","org":"jiangjin/center/dept-03/window-1","data":{{"score":{score}}}}}"#
        )
    };
    let (p, _) = lifecycle_with(&[
        rated(5, "2026-09-25T11:00:00+08:00"),
        rated(1, "2026-09-25T12:00:00+08:00"),
    ]);
    let duplicate: Vec<_> = alert_times(&p, "case-d")
        .into_iter()
        .filter(|a| a.0 == crate::Rule::RatingDuplicate)
        .collect();
    assert_eq!(duplicate.len(), 1);
    assert_eq!(duplicate[0].3, Some(duplicate[0].2));
}

/// The explanation's total line names every measure the report's totals hold.
#[test]
fn the_named_totals_hold_every_measure_of_the_approval_report() {
    let (p, now) = lifecycle_with(&[]);
    let mut totals = crate::ledger::Counts::default();
    let pending = crate::report::pending_entries(&p, p.ledger().unwrap(), now);
    for e in p.ledger().unwrap().entries().chain(pending) {
        totals.add(&e);
    }
    let named: BTreeMap<&str, i64> = totals.named().into_iter().collect();
    let s = sums(&p, now);
    for m in Measure::ALL.iter().filter(|m| !m.is_procurement()) {
        assert_eq!(
            named.get(m.as_str()),
            Some(&count(&s, *m)),
            "{}",
            m.as_str()
        );
    }
    assert_eq!(named.get("ordered"), Some(&3));
    assert_eq!(named.len(), 23);
    assert_eq!(named.get("points"), Some(&totals.points));
}
