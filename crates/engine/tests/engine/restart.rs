//! Restarts and company: a restarted engine issues no card twice and republishes nothing; two
//! engines on one log issue each card once; an engine started after deadlines passed delivers
//! the alerts still open and undelivered, and none of the closed ones of history.

use jiancha_events::EventData;

use crate::support::*;

async fn restart(backend: Backend) {
    let w = accepted_case(backend).await;
    let (engine, mut rx) = w.start().await;
    settle(&engine, w.store.as_ref()).await;
    w.set("2026-10-01T09:00:00+08:00");
    settle(&engine, w.store.as_ref()).await;
    let before = raised(&drain(&mut rx));
    assert_eq!(
        before,
        [
            first(CASE, "deadline.promised.warning"),
            first(CASE, PROMISED_OVERDUE)
        ]
    );
    let cards_before = w.card_ids().await;
    engine.shutdown().await.unwrap();
    assert!(engine.tick().await.is_err(), "a stopped engine says so");

    // Same store, same clock, a little later.
    w.set("2026-10-02T09:00:00+08:00");
    let (engine, mut rx) = w.start().await;
    settle(&engine, w.store.as_ref()).await;
    assert_eq!(
        raised(&drain(&mut rx)),
        Vec::<String>::new(),
        "nothing old is raised again"
    );
    assert_eq!(w.card_ids().await, cards_before);
    assert_eq!(w.card_ids().await[&card_id(CASE, PROMISED_OVERDUE)], 1);

    // The restarted engine still watches the clock.
    w.set("2026-10-11T00:00:00+08:00");
    settle(&engine, w.store.as_ref()).await;
    let after = raised(&drain(&mut rx));
    assert!(after.contains(&first(CASE, STATUTORY_OVERDUE)), "{after:?}");
    assert!(w.card_ids().await.values().all(|n| *n == 1));
    engine.shutdown().await.unwrap();
}

on_memory_and_sqlite!(restart: a_restarted_engine_issues_and_publishes_nothing_twice_memory, a_restarted_engine_issues_and_publishes_nothing_twice_sqlite);

async fn two_engines(backend: Backend) {
    let w = accepted_case(backend).await;
    let (a, mut rx_a) = w.start().await;
    let (b, mut rx_b) = w.start().await;
    settle(&a, w.store.as_ref()).await;
    settle(&b, w.store.as_ref()).await;
    for t in [
        "2026-09-29T09:00:00+08:00",
        "2026-10-01T00:00:01+08:00",
        "2026-10-12T09:00:00+08:00",
    ] {
        w.set(t);
        settle(&a, w.store.as_ref()).await;
        settle(&b, w.store.as_ref()).await;
        settle(&a, w.store.as_ref()).await;
    }
    let expected = [
        first(CASE, "deadline.promised.warning"),
        first(CASE, PROMISED_OVERDUE),
        first(CASE, STATUTORY_OVERDUE),
        first(CASE, "case.stalled"),
        // Nobody acknowledged the red overdue card within a working day.
        first(CASE, "supervision.unacknowledged"),
    ];
    for rx in [&mut rx_a, &mut rx_b] {
        let ids = raised_sorted(rx);
        let mut want = expected.to_vec();
        want.sort();
        assert_eq!(
            ids, want,
            "each engine publishes each alert once on its own bus"
        );
    }
    let ids = w.card_ids().await;
    assert_eq!(ids.len(), 5, "{ids:?}");
    assert!(ids.values().all(|n| *n == 1), "{ids:?}");
    let a_view = a.read().alerts(a.now());
    let b_view = b.read().alerts(b.now());
    assert_eq!(a_view, b_view);
    assert!(a_view.iter().all(|v| v.delivered));
    a.shutdown().await.unwrap();
    b.shutdown().await.unwrap();
}

on_memory_and_sqlite!(two_engines: two_engines_issue_each_card_once_memory, two_engines_issue_each_card_once_sqlite);

/// Two cases went overdue while no engine ran; one of them concluded since. Starting delivers
/// the open one's alerts, and nothing of the concluded one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starting_late_delivers_what_is_still_open_and_no_history() {
    let w = accepted_case(Backend::Memory).await;
    let done = "case-2026-000002";
    w.submit(done).await;
    w.accept(done).await;
    w.set("2026-10-09T10:00:00+08:00");
    w.conclude(done).await;
    w.set("2026-10-09T11:00:00+08:00");

    let (engine, mut rx) = w.start().await;
    settle(&engine, w.store.as_ref()).await;
    let ids = raised_sorted(&mut rx);
    // The open case's red card went unacknowledged through 10-08, the first working day after
    // the holiday: that too is still open.
    assert_eq!(
        ids,
        [
            first(CASE, PROMISED_OVERDUE),
            first(CASE, "deadline.promised.warning"),
            first(CASE, "supervision.unacknowledged"),
        ]
    );
    let cards = w.card_ids().await;
    assert_eq!(
        cards.keys().cloned().collect::<Vec<_>>(),
        [
            card_id(CASE, PROMISED_OVERDUE),
            card_id(CASE, "deadline.promised.warning"),
            card_id(CASE, "supervision.unacknowledged"),
        ]
    );
    {
        // The concluded case's alerts are history: in the fold, closed, never carded.
        let p = engine.read();
        let history: Vec<_> = p
            .alerts(engine.now())
            .into_iter()
            .filter(|a| a.case == done)
            .collect();
        assert!(history.iter().any(|a| a.rule == PROMISED_OVERDUE));
        assert!(
            history.iter().all(|a| !a.is_open() && !a.delivered),
            "{history:?}"
        );
    }
    engine.shutdown().await.unwrap();
}

/// A card was issued for the promised due date of 2026-09-30, but an extension entered late
/// (dated before that due date) had moved it: the fold never raised the alert that card was
/// for. When the new due date passes, the alert (the case's first of its rule, so with the same
/// id) gets a card of its own, `card:<alert id>@<due>`, and is not raised again after a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alert_whose_id_was_carded_for_an_old_due_date_gets_its_own_card() {
    use jiancha_events::{CardIssued, Extended, NewEvent, Severity, StreamName};

    let w = accepted_case(Backend::Memory).await;
    w.set("2026-09-30T17:00:00+08:00");
    let extended = Extended {
        days: 2,
        approved_by: "head-1".into(),
        reason: "site visit".into(),
    };
    w.append(CASE, EventData::Extended(extended)).await;
    let old = CardIssued {
        case: CASE.into(),
        rule: PROMISED_OVERDUE.into(),
        severity: Severity::Red,
        due: jiancha_events::parse_timestamp("2026-10-01T00:00:00+08:00").unwrap(),
    };
    w.set("2026-10-01T00:00:01+08:00");
    let card = NewEvent::new(
        StreamName::parse("supervision").unwrap(),
        w.now(),
        "engine",
        ORG,
        EventData::CardIssued(old),
    )
    .with_id(card_id(CASE, PROMISED_OVERDUE));
    w.store.append(vec![card]).await.unwrap();

    // Promised 2 + 2 working days from 09-28: 09-29, 09-30, 10-08, 10-09.
    w.set("2026-10-10T00:00:01+08:00");
    let (engine, mut rx) = w.start().await;
    settle(&engine, w.store.as_ref()).await;
    let changes = drain(&mut rx);
    let overdue = of_rule(&changes, PROMISED_OVERDUE);
    assert_eq!(overdue.len(), 1);
    assert_eq!(overdue[0].alert.id, first(CASE, PROMISED_OVERDUE));
    assert_eq!(overdue[0].alert.raised_at, "2026-10-10T00:00:00+08:00");
    let own = format!(
        "{}@2026-10-10T00:00:00+08:00",
        card_id(CASE, PROMISED_OVERDUE)
    );
    let ids = w.card_ids().await;
    assert_eq!(ids.get(&own), Some(&1), "{ids:?}");
    {
        let p = engine.read();
        let alerts = p.alerts(engine.now());
        let a = alerts
            .iter()
            .find(|a| a.id == first(CASE, PROMISED_OVERDUE))
            .unwrap();
        assert!(a.delivered);
    }
    engine.shutdown().await.unwrap();

    let (engine, mut rx) = w.start().await;
    settle(&engine, w.store.as_ref()).await;
    assert!(raised(&drain(&mut rx)).is_empty());
    assert_eq!(w.card_ids().await, ids);
    engine.shutdown().await.unwrap();
}
