//! Two engines on one PostgreSQL log, each with a store of its own — its own writer task,
//! connections and listener, as two processes would have — both taking appends: each folds
//! every event in the same order, and a deadline passing is carded exactly once.
//!
//! The log lives in a fresh schema of the server `JIANCHA_TEST_PG` names (default
//! [`PG_DEFAULT`]); the store creates the schema named in the URL's `search_path`. This crate
//! has no database driver of its own, so the schema is dropped afterwards with `psql` when it
//! is installed.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

use jiancha_engine::{AlertChange, AlertChangeKind, EngineConfig};
use jiancha_events::{Accepted, Channel, EventData, FeeCharged, Submitted};

use crate::support::*;

/// The test server when `JIANCHA_TEST_PG` is not set.
pub const PG_DEFAULT: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Cases besides [`CASE`], appended alternately through the two stores.
const OTHER_CASES: usize = 6;

fn base_url() -> String {
    std::env::var("JIANCHA_TEST_PG").unwrap_or_else(|_| PG_DEFAULT.to_owned())
}

/// A schema of its own for one test's log.
#[derive(Debug)]
pub struct Schema {
    name: String,
}

impl Schema {
    pub fn new() -> Schema {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let random = RandomState::new().build_hasher().finish();
        let name = format!(
            "jiancha_engine_test_{}_{}_{:x}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            random & 0xffff_ffff
        );
        Schema { name }
    }

    pub fn url(&self) -> String {
        let base = base_url();
        let sep = if base.contains('?') { '&' } else { '?' };
        format!("{base}{sep}options=-c%20search_path%3D{}", self.name)
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        let sql = format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name);
        // Best effort: without psql the schema stays behind, named as a test's.
        let _ = std::process::Command::new("psql")
            .args([base_url().as_str(), "-q", "-c", &sql])
            .output();
    }
}

/// The raised fee alerts in the order an engine published them, with the position of the event
/// that raised each: the order in which that engine folded the events.
fn fee_alerts(changes: &[AlertChange]) -> Vec<(String, u64)> {
    changes
        .iter()
        .filter(|c| c.kind == AlertChangeKind::Raised && c.alert.rule == "fee.mismatch")
        .map(|c| (c.alert.id.clone(), c.position))
        .collect()
}

fn sorted_raised(changes: &[AlertChange]) -> Vec<String> {
    let mut ids = raised(changes);
    ids.sort();
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_engines_with_their_own_stores_follow_one_log_and_card_once() {
    let w = World::new(Backend::Postgres, "2026-09-28T09:00:00+08:00").await;
    let other = w.another_store().await;
    w.define_item().await;
    w.submit(CASE).await;
    w.set("2026-09-28T10:00:00+08:00");
    w.accept(CASE).await;
    let (a, mut rx_a) = w.start().await;
    let (b, mut rx_b) = w.start_on(other.clone(), EngineConfig::default()).await;

    // Both take appends: each case through one store, its wrong fee through the other.
    for i in 0..OTHER_CASES {
        let case = format!("case-2026-1000{i:02}");
        let (one, two) = if i % 2 == 0 {
            (w.store.as_ref(), other.as_ref())
        } else {
            (other.as_ref(), w.store.as_ref())
        };
        let submitted = Submitted {
            item: ITEM.into(),
            channel: Channel::Window,
            materials: vec!["id-card".into()],
        };
        w.append_via(one, &case, EventData::Submitted(submitted))
            .await;
        w.append_via(one, &case, EventData::Accepted(Accepted::default()))
            .await;
        let fee = FeeCharged {
            amount_cents: FEE_CENTS + 1,
        };
        w.append_via(two, &case, EventData::FeeCharged(fee)).await;
    }
    settle(&a, w.store.as_ref()).await;
    settle(&b, other.as_ref()).await;

    // Past the promised due date of every case: both schedulers wake and both try to card.
    w.set("2026-10-01T00:00:01+08:00");
    for _ in 0..2 {
        settle(&a, w.store.as_ref()).await;
        settle(&b, other.as_ref()).await;
    }
    let overdue = w
        .cards()
        .await
        .into_iter()
        .filter(|(_, c)| c.case == CASE && c.rule == PROMISED_OVERDUE)
        .count();
    assert_eq!(
        overdue, 1,
        "the overdue deadline is carded once across both"
    );
    let ids = w.card_ids().await;
    // Each case's warning and overdue cards, each other case's fee card, and the red cards'
    // unacknowledged ones (each other case's fee card; the overdue one not yet a working day old).
    assert_eq!(
        ids.len(),
        2 * (1 + OTHER_CASES) + 2 * OTHER_CASES,
        "{ids:?}"
    );
    assert!(ids.values().all(|n| *n == 1), "{ids:?}");

    let head = w.store.head().await.unwrap().position;
    assert_eq!((a.position(), b.position()), (head, head));
    let (changes_a, changes_b) = (drain(&mut rx_a), drain(&mut rx_b));
    let fees = fee_alerts(&changes_a);
    assert_eq!(fees.len(), OTHER_CASES);
    assert!(fees.windows(2).all(|p| p[0].1 < p[1].1));
    assert_eq!(
        fees,
        fee_alerts(&changes_b),
        "both folded the events in one order"
    );
    assert_eq!(sorted_raised(&changes_a), sorted_raised(&changes_b));
    assert_eq!(a.read().alerts(a.now()), b.read().alerts(b.now()));
    a.shutdown().await.unwrap();
    b.shutdown().await.unwrap();
}
