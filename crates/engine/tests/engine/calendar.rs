//! Calendar amendments re-derive the due dates of running cases, and definitions of the
//! workflow's limits its thresholds: the scheduler follows them,
//! later and earlier.
//!
//! The case is accepted on 2026-09-28 (see `deadlines`): promised due 2026-09-30, statutory due
//! 2026-10-10.

use chrono::NaiveDate;
use jiancha_engine::Engine;
use jiancha_events::{AmendmentKind, CalendarAmended, EventData};
use jiancha_projections::view::CaseView;

use crate::support::*;

async fn running_case() -> World {
    let w = World::new(Backend::Memory, "2026-09-28T09:00:00+08:00").await;
    w.define_item().await;
    w.submit(CASE).await;
    w.accept(CASE).await;
    w
}

fn amendment(date: &str, kind: AmendmentKind) -> EventData {
    EventData::CalendarAmended(CalendarAmended {
        jurisdiction: "national".into(),
        date: date.parse::<NaiveDate>().unwrap(),
        kind,
        reason: "emergency notice".into(),
    })
}

/// Amends the national calendar at `date`, waits until the engine has taken it in, and returns
/// the running case's view as it now stands.
async fn amend(w: &World, engine: &Engine, date: &str, kind: AmendmentKind) -> CaseView {
    w.append("calendar", amendment(date, kind)).await;
    settle(engine, w.store.as_ref()).await;
    engine.read().case_view(CASE, engine.now()).unwrap()
}

fn overdue_changes(
    rx: &mut tokio::sync::broadcast::Receiver<jiancha_engine::AlertChange>,
    rule: &str,
) -> Vec<String> {
    drain(rx)
        .into_iter()
        .filter(|c| c.alert.rule == rule)
        .map(|c| c.alert.raised_at)
        .collect()
}

/// 2026-09-30 declared a holiday: the promised limit's second working day is now 2026-10-08.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_holiday_moves_the_overdue_card_a_working_day_later() {
    let w = running_case().await;
    let (engine, mut rx) = w.start().await;
    settle(&engine, w.store.as_ref()).await;
    w.set("2026-09-28T12:00:00+08:00");
    let due = amend(&w, &engine, "2026-09-30", AmendmentKind::Holiday)
        .await
        .promised_due_on
        .unwrap();
    assert_eq!(due.to_string(), "2026-10-08");

    // The old instant passes: nothing.
    w.set("2026-10-01T00:00:01+08:00");
    settle(&engine, w.store.as_ref()).await;
    w.set("2026-10-08T23:59:59+08:00");
    settle(&engine, w.store.as_ref()).await;
    assert!(overdue_changes(&mut rx, PROMISED_OVERDUE).is_empty());
    assert!(!w
        .card_ids()
        .await
        .contains_key(&card_id(CASE, PROMISED_OVERDUE)));

    // The new one does.
    w.set("2026-10-09T00:00:01+08:00");
    settle(&engine, w.store.as_ref()).await;
    assert_eq!(
        overdue_changes(&mut rx, PROMISED_OVERDUE),
        ["2026-10-09T00:00:00+08:00"]
    );
    let cards = w.cards().await;
    let (_, card) = cards
        .iter()
        .find(|(e, _)| e.id == card_id(CASE, PROMISED_OVERDUE))
        .unwrap();
    assert_eq!(
        jiancha_events::format_timestamp(&card.due),
        "2026-10-09T00:00:00+08:00"
    );
    engine.shutdown().await.unwrap();
}

/// Saturday 2026-10-03 declared a working day: the statutory limit ends a day earlier, on
/// 2026-10-09, and the engine wakes for the earlier instant (a stale wake-up at 10-11 would
/// miss it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declared_workday_brings_the_overdue_card_forward() {
    let w = running_case().await;
    let (engine, mut rx) = w.start().await;
    // Past the promised limit, so the next wake-up is the statutory one.
    w.set("2026-10-02T09:00:00+08:00");
    settle(&engine, w.store.as_ref()).await;
    drain(&mut rx);
    let due = amend(&w, &engine, "2026-10-03", AmendmentKind::Workday)
        .await
        .statutory_due_on
        .unwrap();
    assert_eq!(due.to_string(), "2026-10-09");

    w.set("2026-10-10T00:00:01+08:00");
    settle(&engine, w.store.as_ref()).await;
    assert_eq!(
        overdue_changes(&mut rx, STATUTORY_OVERDUE),
        ["2026-10-10T00:00:00+08:00"]
    );
    assert_eq!(w.card_ids().await[&card_id(CASE, STATUTORY_OVERDUE)], 1);
    engine.shutdown().await.unwrap();
}

fn limits(ack_days: u32) -> EventData {
    EventData::WorkflowLimitsDefined(jiancha_events::WorkflowLimitsDefined {
        ack_days: Some(ack_days),
        ..Default::default()
    })
}

/// The workflow's limits move the clock like the calendar does. The promised limit's red card
/// is raised at 2026-10-01T00:00; with 2 working days to acknowledge it (after the National Day
/// holidays: 10-08, 10-09), `supervision.unacknowledged` would come at 10-10T00:00. On 10-02
/// the center shortens the limit to 1 working day: the engine wakes at the end of 10-08
/// instead, before the old instant.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shorter_workflow_limit_brings_its_card_forward() {
    let w = running_case().await;
    w.append("catalog", limits(2)).await;
    let (engine, mut rx) = w.start().await;
    w.set("2026-10-02T09:00:00+08:00");
    settle(&engine, w.store.as_ref()).await;
    assert_eq!(
        overdue_changes(&mut rx, PROMISED_OVERDUE),
        ["2026-10-01T00:00:00+08:00"]
    );
    w.append("catalog", limits(1)).await;
    settle(&engine, w.store.as_ref()).await;
    assert_eq!(engine.read().config_at(engine.now()).ack_days, 1);
    w.set("2026-10-09T00:00:01+08:00");
    settle(&engine, w.store.as_ref()).await;
    assert_eq!(
        overdue_changes(&mut rx, "supervision.unacknowledged"),
        ["2026-10-09T00:00:00+08:00"]
    );
    engine.shutdown().await.unwrap();
}
