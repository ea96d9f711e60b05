//! The 预警纠错 workflow on the clock: a correction order's deadline passing raises the overdue
//! card (escalated to the parent org) and, when the days run out a second time, the escalation
//! to the supervision bureau — with no new event, published and carded once, across a restart
//! and across two engines, on a case that has already concluded.
//!
//! The case is accepted Monday 2026-09-28 (promised 2 working days: due 09-30, overdue from
//! 10-01T00:00; the national calendar rests 10-01..07 and works Saturday 10-10). The unit
//! acknowledges the card; the bureau orders a correction on Thursday 10-08 for 2 working days:
//! 10-09, 10-10 — due 10-10, overdue from 10-11T00:00; the days run out again 10-12, 10-13 —
//! escalated from 10-14T00:00. The case concludes on 10-09: the ordered card stays open and the
//! ended case stays under the clock.

use jiancha_engine::AlertChangeKind;
use jiancha_events::{AlertAcknowledged, CorrectionOrdered, EventData};

use crate::support::*;

const OVERDUE_ORDER: &str = "supervision.correction.overdue";
const ESCALATED: &str = "supervision.escalated";

async fn ordered_and_concluded(backend: Backend) -> World {
    let w = accepted_case(backend).await;
    w.set("2026-10-01T09:00:00+08:00");
    let card = first(CASE, PROMISED_OVERDUE);
    w.append(
        "supervision",
        EventData::AlertAcknowledged(AlertAcknowledged {
            card_at: None,
            alert: card.clone(),
            note: None,
        }),
    )
    .await;
    w.set("2026-10-08T09:00:00+08:00");
    w.append(
        "supervision",
        EventData::CorrectionOrdered(CorrectionOrdered {
            card_at: None,
            case: CASE.into(),
            alert: card,
            days: 2,
        }),
    )
    .await;
    w.set("2026-10-09T10:00:00+08:00");
    w.conclude(CASE).await;
    w
}

async fn scenario(backend: Backend) {
    let w = ordered_and_concluded(backend).await;
    let (engine, mut rx) = w.start().await;
    settle(&engine, w.store.as_ref()).await;
    drain(&mut rx);
    assert!(
        engine.read().open_cases().contains(&CASE),
        "a concluded case whose order runs stays under the clock"
    );

    w.set("2026-10-10T23:59:59+08:00");
    settle(&engine, w.store.as_ref()).await;
    assert!(raised(&drain(&mut rx)).is_empty(), "not yet overdue");

    // Past the order's due date: the engine wakes on the clock alone.
    let head = w.store.head().await.unwrap().position;
    w.set("2026-10-11T00:00:01+08:00");
    let change = tokio::time::timeout(WAIT_MAX, rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(change.kind, AlertChangeKind::Raised);
    assert_eq!(change.alert.id, first(CASE, OVERDUE_ORDER));
    assert_eq!(change.alert.raised_at, "2026-10-11T00:00:00+08:00");
    assert_eq!(change.alert.severity, "red");
    assert_eq!(change.alert.org, ORG);
    let parent = ORG.rsplit_once('/').unwrap().0;
    assert_eq!(change.alert.escalated_to.as_deref(), Some(parent));
    assert_eq!(
        change.alert.about.as_deref(),
        Some(first(CASE, PROMISED_OVERDUE).as_str())
    );
    settle(&engine, w.store.as_ref()).await;
    assert!(raised(&drain(&mut rx)).is_empty(), "published exactly once");
    let cards = w.card_ids().await;
    assert_eq!(cards[&card_id(CASE, OVERDUE_ORDER)], 1);
    assert!(
        w.cards()
            .await
            .iter()
            .any(|(e, c)| c.rule == OVERDUE_ORDER && e.position > head),
        "the card is a new event"
    );

    // A restart raises and cards nothing again.
    engine.shutdown().await.unwrap();
    w.set("2026-10-12T09:00:00+08:00");
    let (engine, mut rx) = w.start().await;
    settle(&engine, w.store.as_ref()).await;
    assert!(raised(&drain(&mut rx)).is_empty(), "nothing old again");
    assert_eq!(w.card_ids().await, cards);
    engine.shutdown().await.unwrap();

    // Two engines on the log: the escalation is carded once.
    let (a, mut rx_a) = w.start().await;
    let (b, mut rx_b) = w.start().await;
    settle(&a, w.store.as_ref()).await;
    settle(&b, w.store.as_ref()).await;
    drain(&mut rx_a);
    drain(&mut rx_b);
    w.set("2026-10-13T23:59:59+08:00");
    settle(&a, w.store.as_ref()).await;
    settle(&b, w.store.as_ref()).await;
    assert!(raised(&drain(&mut rx_a)).is_empty());
    w.set("2026-10-14T00:00:01+08:00");
    settle(&a, w.store.as_ref()).await;
    settle(&b, w.store.as_ref()).await;
    for rx in [&mut rx_a, &mut rx_b] {
        let changes = drain(rx);
        let escalated: Vec<_> = changes
            .iter()
            .filter(|c| c.kind == AlertChangeKind::Raised && c.alert.rule == ESCALATED)
            .collect();
        assert_eq!(escalated.len(), 1, "{:?}", raised(&changes));
        assert_eq!(escalated[0].alert.raised_at, "2026-10-14T00:00:00+08:00");
        let bureau = format!("{}/supervision", ORG.split('/').next().unwrap());
        assert_eq!(escalated[0].alert.escalated_to.as_deref(), Some(&*bureau));
    }
    let ids = w.card_ids().await;
    assert_eq!(ids[&card_id(CASE, ESCALATED)], 1);
    assert!(ids.values().all(|n| *n == 1), "{ids:?}");
    // Nothing more is due: the order's timers have fired once each.
    w.set("2026-11-30T09:00:00+08:00");
    settle(&a, w.store.as_ref()).await;
    settle(&b, w.store.as_ref()).await;
    let later: Vec<String> = raised(&drain(&mut rx_a))
        .into_iter()
        .filter(|id| id.contains("/supervision."))
        .collect();
    assert!(later.is_empty(), "{later:?}");
    a.shutdown().await.unwrap();
    b.shutdown().await.unwrap();
}

on_memory_and_sqlite!(scenario: an_order_running_out_raises_overdue_and_escalation_once_memory, an_order_running_out_raises_overdue_and_escalation_once_sqlite);
