//! Alerts raised and closed by events appended while the engine follows the log live.

use jiancha_engine::AlertChangeKind;
use jiancha_events::{EventData, FeeCharged};

use crate::support::*;

async fn fee_mismatch(backend: Backend) {
    let w = World::new(backend, "2026-09-28T09:00:00+08:00").await;
    w.define_item().await;
    w.submit(CASE).await;
    w.accept(CASE).await;
    let (engine, mut rx) = w.start().await;
    settle(&engine, w.store.as_ref()).await;
    assert!(drain(&mut rx).is_empty());

    w.set("2026-09-28T11:00:00+08:00");
    let charged = w
        .append(
            CASE,
            EventData::FeeCharged(FeeCharged {
                amount_cents: FEE_CENTS + 500,
            }),
        )
        .await;
    // The card is appended before the event's position is announced.
    engine.wait_for(charged).await.unwrap();
    assert_eq!(w.card_ids().await[&card_id(CASE, "fee.mismatch")], 1);
    settle(&engine, w.store.as_ref()).await;
    let changes = drain(&mut rx);
    assert_eq!(raised(&changes), [first(CASE, "fee.mismatch")]);
    assert_eq!(changes[0].position, charged);
    assert_eq!(changes[0].alert.raised_at, "2026-09-28T11:00:00+08:00");
    let cards = w.cards().await;
    assert_eq!(cards.len(), 1);
    assert_eq!(cards[0].1.rule, "fee.mismatch");
    assert_eq!(
        jiancha_events::format_timestamp(&cards[0].1.due),
        "2026-09-28T11:00:00+08:00"
    );

    // A right charge raises nothing; the card folded in marks the alert delivered.
    w.append(
        CASE,
        EventData::FeeCharged(FeeCharged {
            amount_cents: FEE_CENTS,
        }),
    )
    .await;
    settle(&engine, w.store.as_ref()).await;
    assert!(drain(&mut rx).is_empty());
    assert_eq!(w.cards().await.len(), 1);
    let alerts = engine.read().alerts(engine.now());
    assert_eq!(alerts.len(), 1);
    assert!(alerts[0].delivered);
    engine.shutdown().await.unwrap();
}

on_memory_and_sqlite!(fee_mismatch: a_wrong_fee_is_published_and_carded_once_memory, a_wrong_fee_is_published_and_carded_once_sqlite);

/// The overdue alert the clock raised closes when the case concludes; the conclusion is
/// published as a change, and nothing is raised again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concluding_closes_the_overdue_alert_live() {
    let w = World::new(Backend::Memory, "2026-09-28T09:00:00+08:00").await;
    w.define_item().await;
    w.submit(CASE).await;
    w.accept(CASE).await;
    let (engine, mut rx) = w.start().await;
    w.set("2026-10-08T09:00:00+08:00");
    settle(&engine, w.store.as_ref()).await;
    let ids = raised_sorted(&mut rx);
    assert_eq!(
        ids,
        [
            first(CASE, PROMISED_OVERDUE),
            first(CASE, "deadline.promised.warning")
        ]
    );

    let concluded = w.conclude(CASE).await;
    settle(&engine, w.store.as_ref()).await;
    let changes = drain(&mut rx);
    assert!(raised(&changes).is_empty(), "{changes:?}");
    let mut closed: Vec<_> = changes
        .iter()
        .filter(|c| c.kind == AlertChangeKind::Closed)
        .map(|c| (c.alert.id.clone(), c.position))
        .collect();
    closed.sort();
    assert_eq!(
        closed,
        [
            (first(CASE, PROMISED_OVERDUE), concluded),
            (first(CASE, "deadline.promised.warning"), concluded)
        ]
    );
    // Concluded: no more deadlines, whatever the clock says.
    w.set("2026-12-01T09:00:00+08:00");
    settle(&engine, w.store.as_ref()).await;
    assert!(drain(&mut rx).is_empty());
    assert_eq!(w.cards().await.len(), 2);
    engine.shutdown().await.unwrap();
}
