//! Fast restart from a snapshot: a restarted engine loads the snapshot its predecessor kept and
//! replays only the tail, to state byte-identical to a full replay; a corrupt or outdated
//! snapshot is ignored and the projections rebuilt from the log.

use jiancha_engine::snapshots::{restore_or_replay, seal, PROJECTIONS_SNAPSHOT};
use jiancha_projections::{AlertConfig, Projections, Scoring};
use jiancha_store::EventStore;

use crate::support::{Backend, World};

async fn full_replay(store: &dyn EventStore) -> Vec<u8> {
    let mut p = Projections::new(AlertConfig::default()).with_ledger(Scoring::default());
    let mut pages = store.pages(p.position());
    while let Some(page) = pages.next().await.unwrap() {
        for e in &page {
            p.apply(e);
        }
    }
    p.snapshot(p.head()).unwrap()
}

async fn busy_world() -> World {
    let w = World::new(Backend::Sqlite, "2026-09-28T09:00:00+08:00").await;
    w.define_item().await;
    for c in 0..5 {
        let case = format!("case-{c}");
        w.submit(&case).await;
        w.accept(&case).await;
    }
    w
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_loads_the_snapshot_and_replays_only_the_tail() {
    let w = busy_world().await;
    let engine = w.engine().await;
    w.set("2026-10-12T09:00:00+08:00");
    engine.tick().await.unwrap();
    engine.shutdown().await.unwrap();
    let (kept_at, _) = w
        .store
        .load_snapshot(PROJECTIONS_SNAPSHOT)
        .await
        .unwrap()
        .expect("shutdown keeps a snapshot");
    // More happens while no engine runs.
    for c in 5..8 {
        let case = format!("case-{c}");
        w.submit(&case).await;
        w.accept(&case).await;
    }
    let head = w.store.head().await.unwrap().position;
    let (restored, how) = restore_or_replay(&*w.store, AlertConfig::default(), Scoring::default())
        .await
        .unwrap();
    assert_eq!(how.snapshot, Some(kept_at));
    assert_eq!(how.replayed, head - kept_at, "only the tail is replayed");
    assert_eq!(
        restored.snapshot(restored.head()).unwrap(),
        full_replay(&*w.store).await,
        "byte-identical to a full replay"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_or_foreign_snapshot_is_rebuilt() {
    let w = busy_world().await;
    let head = w.store.head().await.unwrap().position;
    let expected = full_replay(&*w.store).await;
    // Garbage.
    w.store
        .save_snapshot(PROJECTIONS_SNAPSHOT, head, b"not a snapshot".to_vec())
        .await
        .unwrap();
    let (p, how) = restore_or_replay(&*w.store, AlertConfig::default(), Scoring::default())
        .await
        .unwrap();
    assert_eq!((how.snapshot, how.replayed), (None, head));
    assert!(how.ignored.is_some());
    assert_eq!(p.snapshot(p.head()).unwrap(), expected);
    // A snapshot of another log: its position exists here, but holds another event.
    let other = busy_world().await;
    other.submit("case-other").await;
    let (theirs, _) = restore_or_replay(&*other.store, AlertConfig::default(), Scoring::default())
        .await
        .unwrap();
    let bytes = seal(&theirs.snapshot(theirs.head()).unwrap());
    w.submit("case-extra").await;
    w.store
        .save_snapshot(PROJECTIONS_SNAPSHOT, theirs.position(), bytes)
        .await
        .unwrap();
    let (p, how) = restore_or_replay(&*w.store, AlertConfig::default(), Scoring::default())
        .await
        .unwrap();
    assert_eq!(how.snapshot, None, "{how:?}");
    assert!(how.ignored.unwrap().contains("not the one it covers"));
    assert_eq!(p.snapshot(p.head()).unwrap(), full_replay(&*w.store).await);
    // One taken with other thresholds.
    let strict = AlertConfig {
        stall_days: 2,
        ..AlertConfig::default()
    };
    let (p, _) = restore_or_replay(&*w.store, AlertConfig::default(), Scoring::default())
        .await
        .unwrap();
    w.store
        .save_snapshot(
            PROJECTIONS_SNAPSHOT,
            p.position(),
            seal(&p.snapshot(p.head()).unwrap()),
        )
        .await
        .unwrap();
    let (_, how) = restore_or_replay(&*w.store, strict, Scoring::default())
        .await
        .unwrap();
    assert_eq!(how.snapshot, None);
}
