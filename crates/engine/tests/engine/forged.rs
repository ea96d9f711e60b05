//! Snapshots bound to the log: a snapshot whose body was edited after it was sealed is never
//! loaded, and `verify` rebuilds the fold and names every stored snapshot that is not the log's
//! fold at its position (an edited body, or a forged state sealed again), while a snapshot the
//! engine kept matches.

use jiancha_engine::snapshots::{restore_or_replay, seal, PROJECTIONS_SNAPSHOT, SEAL_MAGIC};
use jiancha_engine::verify::{verify, SnapshotVerdict, VerifyOptions};
use jiancha_events::{Concluded, EventData, Rated};
use jiancha_projections::{AlertConfig, Projections, Scoring};
use jiancha_store::{EventStore, READ_PAGE_EVENTS};
use sha2::{Digest, Sha256};

use crate::support::{Backend, World};

/// A concluded case its applicant rated 1 (very dissatisfied).
async fn rated_world() -> World {
    let w = World::new(Backend::Sqlite, "2026-09-28T09:00:00+08:00").await;
    w.define_item().await;
    w.submit("case-1").await;
    w.accept("case-1").await;
    w.append("case-1", EventData::Concluded(Concluded {})).await;
    w.append("case-1", EventData::Rated(Rated { score: 1 }))
        .await;
    w
}

/// The fold of the log with every rating turned into `score`, under the log's real head: what
/// a forger would write to show the case as satisfied.
async fn fold_rated(store: &dyn EventStore, score: u8) -> Vec<u8> {
    let mut p = Projections::new(AlertConfig::default()).with_ledger(Scoring::default());
    for mut e in store.read_after(0, READ_PAGE_EVENTS).await.unwrap() {
        if let EventData::Rated(_) = e.data {
            e.data = EventData::Rated(Rated { score });
        }
        p.apply(&e);
    }
    let head = store.head().await.unwrap().hash;
    p.snapshot(head).unwrap()
}

async fn verdict(store: &dyn EventStore) -> (bool, SnapshotVerdict) {
    let v = verify(store, VerifyOptions::default()).await.unwrap();
    assert!(v.broken.is_none(), "{:?}", v.broken);
    assert_eq!(v.snapshots.len(), 1, "{:?}", v.snapshots);
    assert_eq!(v.snapshots[0].name, PROJECTIONS_SNAPSHOT);
    (v.ok(), v.snapshots[0].verdict.clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_snapshot_matches_and_a_forged_one_is_named_and_not_loaded() {
    let w = rated_world().await;
    let engine = w.engine().await;
    engine.shutdown().await.unwrap();
    // The engine delivered the ended case's open red cards (its workflow waits on their
    // acknowledgement): the log's head is after them.
    let head = w.store.head().await.unwrap().position;
    assert_eq!(verdict(&*w.store).await, (true, SnapshotVerdict::Matches));

    let genuine = fold_rated(&*w.store, 1).await;
    let forged = fold_rated(&*w.store, 5).await;
    assert_ne!(genuine, forged, "the forgery changes the satisfaction");

    // The body edited in place, the digest of the genuine one left beside it.
    let mut edited = SEAL_MAGIC.to_vec();
    edited.extend_from_slice(&Sha256::digest(&genuine));
    edited.extend_from_slice(&forged);
    w.store
        .save_snapshot(PROJECTIONS_SNAPSHOT, head, edited)
        .await
        .unwrap();
    let (p, how) = restore_or_replay(&*w.store, AlertConfig::default(), Scoring::default())
        .await
        .unwrap();
    assert_eq!((how.snapshot, how.replayed), (None, head), "{how:?}");
    assert!(how.ignored.unwrap().contains("digest"));
    assert_eq!(
        p.snapshot(p.head()).unwrap(),
        genuine,
        "rebuilt from the log"
    );
    let (ok, v) = verdict(&*w.store).await;
    assert!(!ok);
    assert!(
        matches!(&v, SnapshotVerdict::Forged(why) if why.contains("digest")),
        "{v:?}"
    );

    // Forged together with its digest: only the rebuilt fold tells.
    w.store
        .save_snapshot(PROJECTIONS_SNAPSHOT, head, seal(&forged))
        .await
        .unwrap();
    let (ok, v) = verdict(&*w.store).await;
    assert!(!ok);
    assert!(
        matches!(&v, SnapshotVerdict::Forged(why) if why.contains("differs")),
        "{v:?}"
    );

    // A snapshot naming a position past the head.
    let other = rated_world().await;
    other.submit("case-2").await;
    let longer = fold_rated(&*other.store, 1).await;
    w.store
        .save_snapshot(PROJECTIONS_SNAPSHOT, head + 1, seal(&longer))
        .await
        .unwrap();
    let (ok, v) = verdict(&*w.store).await;
    assert!(!ok, "{v:?}");
}
