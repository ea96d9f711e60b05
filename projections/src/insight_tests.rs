//! The insight's arithmetic: percentiles as integers or halves, the suggested promise never
//! above the current one, the forecast's rounding and the months.

use crate::insight::*;

#[test]
fn percentiles_are_integers_or_halves() {
    assert_eq!(percentile2(&[], 50), None);
    assert_eq!(percentile2(&[7], 50), Some(14));
    assert_eq!(percentile2(&[7], 90), Some(14));
    // An even count: the median is the mean of the middle two.
    assert_eq!(percentile2(&[1, 2, 3, 4], 50), Some(5));
    assert_eq!(half_text(5), "2.5");
    assert_eq!(half_text(6), "3");
    // Ten values: p90 sits on a step (k = 9), the mean of the 9th and 10th.
    let ten: Vec<u32> = (1..=10).collect();
    assert_eq!(percentile2(&ten, 90), Some(19));
    // Eleven: k = 9.9, the 10th value.
    let eleven: Vec<u32> = (1..=11).collect();
    assert_eq!(percentile2(&eleven, 90), Some(20));
    assert_eq!(percentile2(&eleven, 50), Some(12));
}

#[test]
fn the_suggested_promise_is_never_above_the_current_one() {
    for limit in 0..=40u32 {
        for p90 in 0..=100u64 {
            if let Some(s) = suggested_promise(p90, limit) {
                assert!(s < limit, "p90 {p90}/2, limit {limit}: {s}");
                assert!(s >= 1);
                // Only when p90 is at most 60% of the limit.
                assert!(
                    p90 * 5 <= u64::from(limit) * 6,
                    "p90 {p90}/2, limit {limit}"
                );
            }
        }
    }
    // p90 = 6 of 10: exactly 60%, suggest 6.
    assert_eq!(suggested_promise(12, 10), Some(6));
    // p90 = 6.5 of 10: above 60%.
    assert_eq!(suggested_promise(13, 10), None);
    // p90 = 0.5: ceil is 1.
    assert_eq!(suggested_promise(1, 5), Some(1));
    // p90 = 0 of 1: max(1, 0) = 1, not shorter than the limit.
    assert_eq!(suggested_promise(0, 1), None);
}

#[test]
fn the_forecast_rounds_half_up_and_keeps_the_base_without_a_trend() {
    assert_eq!(forecast_count(10, 0, 0), 10);
    assert_eq!(forecast_count(10, 3, 2), 15);
    assert_eq!(forecast_count(1, 1, 2), 1); // 0.5 rounds up
    assert_eq!(forecast_count(1, 1, 3), 0); // 0.33 rounds down
    assert_eq!(forecast_count(0, 100, 1), 0);
}

#[test]
fn months_add_across_years() {
    assert_eq!(add_months(202_603, 1), 202_604);
    assert_eq!(add_months(202_612, 1), 202_701);
    assert_eq!(add_months(202_601, -1), 202_512);
    assert_eq!(add_months(202_603, -24), 202_403);
    assert_eq!(month_text(202_603), "2026-03");
}

/// A step keeps the name the case's definition gave it: after the item is redefined with other
/// steps, a past period's rows still name the steps its cases went through.
#[test]
fn a_redefined_procedure_leaves_past_steps_their_names() {
    let item = |at: &str, steps: &str| {
        format!(
            r#"{{"stream":"catalog","type":"ItemDefined","occurred_at":"{at}","actor":"admin","org":"jiangjin/center","data":{{"code":"IT-A","name":"测试事项","org":"jiangjin/center/dept-03","statutory_days":20,"promised_days":10,"fee_cents":0,"steps":[{steps}],"required_materials":[],"in_center":true}}}}"#
        )
    };
    let case = |ty: &str, at: &str, data: &str| {
        format!(
            r#"{{"stream":"case-1","type":"{ty}","occurred_at":"{at}","actor":"clerk-1","org":"jiangjin/center/dept-03/window-1","data":{data}}}"#
        )
    };
    let lines = [
        item("2026-01-05T09:00:00+08:00", r#""审查","决定""#),
        case(
            "Submitted",
            "2026-03-02T09:00:00+08:00",
            r#"{"item":"IT-A","channel":"window","materials":[]}"#,
        ),
        case("Accepted", "2026-03-02T09:10:00+08:00", "{}"),
        case(
            "StepCompleted",
            "2026-03-03T09:00:00+08:00",
            r#"{"step":"审查"}"#,
        ),
        case(
            "StepCompleted",
            "2026-03-05T09:00:00+08:00",
            r#"{"step":"决定"}"#,
        ),
        case(
            "Decided",
            "2026-03-05T10:00:00+08:00",
            r#"{"outcome":"approved"}"#,
        ),
        case("Concluded", "2026-03-06T10:00:00+08:00", "{}"),
        item(
            "2026-04-10T09:00:00+08:00",
            r#""受理审查","现场核查","决定""#,
        ),
    ];
    let (events, _) = crate::tests::scenario_events(&lines.join("\n"));
    let mut p = crate::Projections::default().with_ledger(crate::Scoring::default());
    for e in &events {
        p.apply(e);
    }
    let now = crate::asof::parse_instant("2026-04-30").unwrap();
    let insight = p.insight(
        &InsightQuery {
            period: crate::Period::parse("2026-03").unwrap(),
            org: None,
        },
        now,
    );
    let rows: Vec<(u16, &str, u64)> = insight
        .bottlenecks
        .steps
        .iter()
        .map(|r| (r.step_index, r.step.as_str(), r.n))
        .collect();
    assert_eq!(
        rows,
        [(0, "审查", 1), (1, "决定", 1), (2, CONCLUSION_STEP, 1)]
    );
}
