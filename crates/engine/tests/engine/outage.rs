//! The database down for minutes, then back: the runner's failures to follow the log (one a
//! second) are logged once, then summarised once a minute, and its recovery once, on an idle
//! log too. Tokio's paused clock runs the retries; a formatting subscriber installed once for
//! the binary writes into a buffer of the logging thread, and this test runs on a
//! current-thread runtime, so it reads only its own lines.

use std::sync::Arc;
use std::time::Duration;

use jiancha_engine::{Engine, EngineConfig};

use crate::log_capture;
use crate::support::*;
use crate::wrapped::Wrapped;

/// Captures this binary's log lines (see `log_capture`).
fn capture() {
    log_capture::capture("jiancha_engine=info");
}

use crate::log_capture::captured;

fn containing<'a>(lines: &'a [String], text: &str) -> Vec<&'a String> {
    lines.iter().filter(|l| l.contains(text)).collect()
}

#[tokio::test(start_paused = true)]
async fn an_outage_is_logged_once_then_once_a_minute_and_its_end_once() {
    capture();
    let world = World::new(Backend::Memory, "2026-03-02T09:00:00+08:00").await;
    world.define_item().await;
    let store = Arc::new(Wrapped::new(world.store.clone()));
    let clock = Arc::new(world.clock.clone());
    let engine = Engine::start(store.clone(), clock, EngineConfig::default())
        .await
        .unwrap();
    store.set_down(true);
    // 150 s down: a failure about every second.
    tokio::time::sleep(Duration::from_secs(150)).await;
    let during = captured();
    store.set_down(false);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let lines = captured();

    let first = containing(&during, "cannot follow the event log; retrying");
    assert_eq!(first.len(), 1, "{during:#?}");
    assert!(first[0].contains("ERROR") && first[0].contains("the database is down"));
    let summaries = containing(&during, "still failing");
    assert_eq!(summaries.len(), 2, "one a minute: {during:#?}");
    assert!(
        summaries[0].contains("cannot follow the event log: still failing after 6"),
        "{}",
        summaries[0]
    );
    assert!(containing(&during, "again").is_empty(), "{during:#?}");
    // Nothing was appended since: the recovery is seen without an event.
    let recovered = containing(&lines, "following the event log again after");
    assert_eq!(recovered.len(), 1, "{lines:#?}");
    assert!(recovered[0].contains("INFO"), "{}", recovered[0]);

    // And the engine follows the log again.
    let position = world
        .append("catalog", jiancha_events::EventData::ItemDefined(item()))
        .await;
    tokio::time::timeout(WAIT_MAX, engine.wait_for(position))
        .await
        .expect("the engine follows the log again")
        .unwrap();
    engine.shutdown().await.unwrap();
}
