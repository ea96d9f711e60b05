//! Live equals replay when an event entered after the fact lands between the engine publishing a
//! clock-raised alert and its card: the alert the log no longer raises is withdrawn (a
//! `withdrawn` change on the bus, a `CardWithdrawn` in the log), so the live board, the replayed
//! alerts and the ledger agree at every step.
//!
//! The case is accepted Monday 2026-09-28 (promised 2 working days: due 09-30, overdue from
//! 10-01T00:00; the prompt at the end of 09-29). At 10-01 09:00 the engine publishes the prompt
//! and the overdue card; before its cards land, a batch arrives saying the applicant withdrew on
//! 09-30 at 15:00. The fold raises the prompt (its threshold came before the withdrawal) and
//! closes it, and never raises the overdue card.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use jiancha_engine::{AlertChange, AlertChangeKind, EngineConfig};
use jiancha_events::{EventData, NewEvent, StoredEvent, StreamName};
use jiancha_projections::{Projections, Scoring};
use jiancha_store::EventStore;

use crate::support::*;
use crate::wrapped::Wrapped;

/// The open alerts a follower of the bus shows.
fn board(board: &mut BTreeMap<String, String>, changes: &[AlertChange]) {
    for c in changes {
        match c.kind {
            AlertChangeKind::Raised if c.alert.closed_at.is_none() => {
                board.insert(c.alert.id.clone(), c.alert.rule.to_owned());
            }
            _ => {
                board.remove(&c.alert.id);
            }
        }
    }
}

async fn replay(store: &dyn EventStore) -> Projections {
    let mut p = Projections::default().with_ledger(Scoring::default());
    let mut pages = store.pages(0);
    while let Some(page) = pages.next().await.unwrap() {
        for e in &page {
            p.apply(e);
        }
    }
    p
}

fn entry_ids(p: &Projections) -> BTreeSet<String> {
    p.ledger().unwrap().entries().map(|e| e.key()).collect()
}

/// The live board, the replay's open alerts and the two ledgers agree.
async fn agree(
    w: &World,
    engine: &jiancha_engine::Engine,
    live: &BTreeMap<String, String>,
    step: &str,
) {
    let replayed = replay(w.store.as_ref()).await;
    let now = engine.now();
    let open: BTreeMap<String, String> = replayed
        .alerts(now)
        .into_iter()
        .filter(|a| a.is_open())
        .map(|a| (a.id, a.rule.to_owned()))
        .collect();
    assert_eq!(
        live, &open,
        "{step}: the live board and the replayed alerts"
    );
    assert_eq!(
        entry_ids(&engine.read()),
        entry_ids(&replayed),
        "{step}: the live ledger and the replayed one"
    );
}

#[tokio::test]
async fn an_alert_the_log_no_longer_raises_is_withdrawn_live() {
    let w = accepted_case(Backend::Sqlite).await;
    let withdrawn = NewEvent::new(
        StreamName::parse(CASE).unwrap(),
        jiancha_events::parse_timestamp("2026-09-30T15:00:00+08:00").unwrap(),
        "clerk-1",
        ORG,
        EventData::Withdrawn(jiancha_events::Withdrawn {
            reason: "申请人撤回".into(),
        }),
    );
    // The withdrawal lands between the engine's delivery and its cards.
    let racing = Wrapped::new(w.store.clone());
    *racing.hooks.before_cards.lock().unwrap() = Some(vec![withdrawn]);
    let racing: Arc<dyn EventStore> = Arc::new(racing);
    let (engine, mut rx) = w.start_on(racing, EngineConfig::default()).await;
    let mut live = BTreeMap::new();
    settle(&engine, w.store.as_ref()).await;
    board(&mut live, &drain(&mut rx));
    agree(&w, &engine, &live, "accepted").await;

    w.set("2026-10-01T09:00:00+08:00");
    settle(&engine, w.store.as_ref()).await;
    let changes = drain(&mut rx);
    board(&mut live, &changes);
    let withdrawn: Vec<&str> = changes
        .iter()
        .filter(|c| c.kind == AlertChangeKind::Withdrawn)
        .map(|c| c.alert.id.as_str())
        .collect();
    assert_eq!(withdrawn, [first(CASE, PROMISED_OVERDUE).as_str()]);
    agree(&w, &engine, &live, "after the back-dated withdrawal").await;
    assert!(live.is_empty(), "{live:?}");
    let records: Vec<StoredEvent> = w
        .store
        .read_stream("supervision")
        .await
        .unwrap()
        .into_iter()
        .filter(|e| matches!(e.data, EventData::CardWithdrawn(_)))
        .collect();
    assert_eq!(records.len(), 1, "one CardWithdrawn");

    // A restart finds nothing more to withdraw or deliver, and agrees too.
    engine.shutdown().await.unwrap();
    let (engine, mut rx) = w.start().await;
    settle(&engine, w.store.as_ref()).await;
    board(&mut live, &drain(&mut rx));
    agree(&w, &engine, &live, "after a restart").await;
    engine.shutdown().await.unwrap();
}

/// A card the log issued that the fold holds no alert for — issued under rules that no longer
/// raise it (here, an escalation the case never had), or by an engine stopped before it could
/// withdraw it — is withdrawn when the engine starts, once: the log's record of issued cards
/// ends where the fold does (before: it stayed issued for ever, and `notice` could not find it).
#[tokio::test]
async fn a_card_the_fold_does_not_hold_is_withdrawn_at_start_up() {
    let w = accepted_case(Backend::Sqlite).await;
    let stray = format!("{CASE}/supervision.escalated/1");
    let issued = NewEvent::new(
        StreamName::parse("supervision").unwrap(),
        jiancha_events::parse_timestamp("2026-09-28T11:00:00+08:00").unwrap(),
        "engine",
        ORG,
        EventData::CardIssued(jiancha_events::CardIssued {
            case: CASE.into(),
            rule: "supervision.escalated".into(),
            severity: jiancha_events::Severity::Red,
            due: jiancha_events::parse_timestamp("2026-09-28T11:00:00+08:00").unwrap(),
        }),
    )
    .with_id(format!("card:{stray}"));
    w.store.append(vec![issued]).await.unwrap();
    w.set("2026-09-28T12:00:00+08:00");
    let withdrawals = || async {
        w.store
            .read_stream("supervision")
            .await
            .unwrap()
            .into_iter()
            .filter_map(|e| match e.data {
                EventData::CardWithdrawn(c) => Some((c.card, c.reason)),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    for start in ["first start", "restart"] {
        let (engine, mut rx) = w.start().await;
        settle(&engine, w.store.as_ref()).await;
        let withdrawn: Vec<String> = drain(&mut rx)
            .into_iter()
            .filter(|c| c.kind == AlertChangeKind::Withdrawn)
            .map(|c| c.alert.id)
            .collect();
        let expected: &[&str] = if start == "first start" {
            &[&stray]
        } else {
            &[]
        };
        assert_eq!(withdrawn, expected, "{start}");
        assert_eq!(
            withdrawals().await,
            [(
                stray.clone(),
                jiancha_engine::WITHDRAWN_NOT_RAISED.to_owned()
            )],
            "{start}"
        );
        assert_eq!(engine.read().orphan_cards().count(), 0, "{start}");
        engine.shutdown().await.unwrap();
    }
}
