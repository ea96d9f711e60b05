//! Deadlines passing with no new event: the alert is published once and carded once, at its
//! own instant, on both stores.
//!
//! The case is accepted on Monday 2026-09-28. The national calendar rests 2026-10-01..07 and
//! works Saturday 2026-10-10, so (the acceptance day not counted):
//! - promised, 2 working days: 09-29, 09-30 → due 2026-09-30, overdue from 2026-10-01T00:00;
//! - statutory, 5 working days: 09-29, 09-30, 10-08, 10-09, 10-10 → due 2026-10-10, overdue
//!   from 2026-10-11T00:00;
//! - the warning (1 working day left) when the first working day ends, 2026-09-30T00:00.

use jiancha_engine::{AlertChangeKind, EngineConfig};

use crate::support::*;

async fn scenario(backend: Backend) {
    let w = accepted_case(backend).await;
    let (engine, mut rx) = w.start().await;
    settle(&engine, w.store.as_ref()).await;
    assert_eq!(
        raised(&drain(&mut rx)),
        Vec::<String>::new(),
        "nothing is due on the first day"
    );
    {
        let p = engine.read();
        let view = p.case_view(CASE, engine.now()).unwrap();
        assert_eq!(view.promised_due_on.unwrap().to_string(), "2026-09-30");
        assert_eq!(view.statutory_due_on.unwrap().to_string(), "2026-10-10");
    }

    w.set("2026-09-29T23:59:59+08:00");
    settle(&engine, w.store.as_ref()).await;
    assert!(
        drain(&mut rx).is_empty(),
        "the prompt comes when 09-29 ends"
    );
    w.set("2026-09-30T09:00:00+08:00");
    settle(&engine, w.store.as_ref()).await;
    assert_eq!(
        raised(&drain(&mut rx)),
        [first(CASE, "deadline.promised.warning")]
    );

    // Just before the promised due date ends: nothing.
    w.set("2026-09-30T23:59:59+08:00");
    settle(&engine, w.store.as_ref()).await;
    assert!(drain(&mut rx).is_empty());

    // Past it: the engine wakes on the clock alone, with no new event and no tick.
    let head = w.store.head().await.unwrap().position;
    w.set("2026-10-01T00:00:01+08:00");
    let change = tokio::time::timeout(WAIT_MAX, rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(change.kind, AlertChangeKind::Raised);
    assert_eq!(change.alert.id, first(CASE, PROMISED_OVERDUE));
    assert_eq!(change.alert.raised_at, "2026-10-01T00:00:00+08:00");
    assert_eq!(change.alert.severity, "red");
    assert_eq!(change.alert.org, ORG);
    settle(&engine, w.store.as_ref()).await;
    assert!(raised(&drain(&mut rx)).is_empty(), "published exactly once");

    let cards = w.cards().await;
    let overdue: Vec<_> = cards
        .iter()
        .filter(|(e, _)| e.id == card_id(CASE, PROMISED_OVERDUE))
        .collect();
    assert_eq!(overdue.len(), 1);
    let (event, card) = overdue[0];
    assert!(event.position > head, "the card is a new event");
    assert_eq!(card.case, CASE);
    assert_eq!(card.rule, PROMISED_OVERDUE);
    assert_eq!(card.severity, jiancha_events::Severity::Red);
    assert_eq!(
        jiancha_events::format_timestamp(&card.due),
        "2026-10-01T00:00:00+08:00"
    );
    assert_eq!(
        jiancha_events::format_timestamp(&event.occurred_at),
        "2026-10-01T00:00:01+08:00"
    );
    assert_eq!(event.actor, "engine");
    assert_eq!(event.org, ORG);
    assert_eq!(cards.len(), 2, "the warning's card and the overdue one");
    {
        // The card came back through the tail: the fold has the alert, delivered.
        let p = engine.read();
        let alerts = p.alerts(engine.now());
        let a = alerts
            .iter()
            .find(|a| a.id == first(CASE, PROMISED_OVERDUE))
            .unwrap();
        assert!(a.delivered && a.is_open());
    }

    // Later ticks issue nothing more for it, and the statutory limit waits for its own instant;
    // the red card, unacknowledged through 10-08 (the first working day after 10-01), raises
    // supervision.unacknowledged when that day ends.
    w.set("2026-10-05T12:00:00+08:00");
    settle(&engine, w.store.as_ref()).await;
    assert!(drain(&mut rx).is_empty(), "nothing new in the holiday");
    w.set("2026-10-08T23:59:59+08:00");
    settle(&engine, w.store.as_ref()).await;
    assert!(drain(&mut rx).is_empty(), "the unit has until 10-08 ends");
    w.set("2026-10-10T23:59:59+08:00");
    settle(&engine, w.store.as_ref()).await;
    let changes = drain(&mut rx);
    assert_eq!(
        raised(&changes),
        [first(CASE, "supervision.unacknowledged")]
    );
    assert_eq!(changes[0].alert.raised_at, "2026-10-09T00:00:00+08:00");
    assert_eq!(w.cards().await.len(), 3);

    w.set("2026-10-11T00:00:00+08:00");
    settle(&engine, w.store.as_ref()).await;
    let changes = drain(&mut rx);
    let statutory = of_rule(&changes, STATUTORY_OVERDUE);
    assert_eq!(statutory.len(), 1);
    assert_eq!(statutory[0].alert.raised_at, "2026-10-11T00:00:00+08:00");
    // The case has also had no action for 5 working days by the same instant.
    assert_eq!(
        raised(&changes),
        [first(CASE, STATUTORY_OVERDUE), first(CASE, "case.stalled")]
    );
    let ids = w.card_ids().await;
    assert_eq!(ids.len(), 5);
    assert!(ids.values().all(|n| *n == 1));
    engine.shutdown().await.unwrap();
}

on_memory_and_sqlite!(scenario: a_passing_deadline_is_published_and_carded_once_memory, a_passing_deadline_is_published_and_carded_once_sqlite);

/// With room for one wake-up only, the second case's is dropped and found by the full pass.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_scheduler_still_finds_every_deadline() {
    let w = World::new(Backend::Memory, "2026-09-28T09:00:00+08:00").await;
    w.define_item().await;
    let cases = ["case-2026-000001", "case-2026-000002", "case-2026-000003"];
    for case in cases {
        w.submit(case).await;
        w.accept(case).await;
    }
    let config = EngineConfig {
        scheduler_entries_max: 1,
        ..EngineConfig::default()
    };
    let (engine, mut rx) = w.start_with(config).await;
    settle(&engine, w.store.as_ref()).await;
    w.set("2026-10-01T08:00:00+08:00");
    settle(&engine, w.store.as_ref()).await;
    let ids = raised(&drain(&mut rx));
    for case in cases {
        assert!(
            ids.contains(&first(case, PROMISED_OVERDUE)),
            "{case}: {ids:?}"
        );
    }
    assert_eq!(
        ids.len(),
        6,
        "a warning and an overdue alert per case: {ids:?}"
    );
    assert_eq!(w.cards().await.len(), 6);
    engine.shutdown().await.unwrap();
}

/// With the system clock (no change notifications), a case long overdue is delivered as soon
/// as its events arrive, with no tick.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_system_clock_a_long_overdue_case_is_delivered_at_once() {
    let store = jiancha_store::open("memory:", std::sync::Arc::new(jiancha_engine::SystemClock))
        .await
        .unwrap();
    let clock: std::sync::Arc<dyn jiancha_engine::Clock> =
        std::sync::Arc::new(jiancha_engine::SystemClock);
    let engine = jiancha_engine::Engine::start(store.clone(), clock, EngineConfig::default())
        .await
        .unwrap();
    let mut rx = engine.alerts();
    // A case accepted long ago is overdue now: delivered without any tick. Its item is in the
    // catalog (a case of an unknown item has no due dates).
    let old = "2020-03-02T09:00:00+08:00";
    let event = |stream: &str, data| {
        let ts = jiancha_events::parse_timestamp(old).unwrap();
        let stream = jiancha_events::StreamName::parse(stream).unwrap();
        jiancha_events::NewEvent::new(stream, ts, "clerk-1", ORG, data)
    };
    let submitted = jiancha_events::Submitted {
        item: ITEM.into(),
        channel: jiancha_events::Channel::Online,
        materials: vec![],
    };
    store
        .append(vec![
            event("catalog", jiancha_events::EventData::ItemDefined(item())),
            event(CASE, jiancha_events::EventData::Submitted(submitted)),
            event(
                CASE,
                jiancha_events::EventData::Accepted(jiancha_events::Accepted {
                    promised_days: Some(1),
                    statutory_days: Some(2),
                }),
            ),
        ])
        .await
        .unwrap();
    let mut seen = Vec::new();
    while !seen.contains(&first(CASE, STATUTORY_OVERDUE)) {
        let change = tokio::time::timeout(WAIT_MAX, rx.recv())
            .await
            .unwrap()
            .unwrap();
        seen.push(change.alert.id);
    }
    engine.shutdown().await.unwrap();
}
