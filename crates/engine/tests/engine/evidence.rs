//! `jiancha_engine::evidence::pack` on its own: a case unknown by the instant is the typed
//! `NoSuchCase`, and a known case's pack holds its events, each checked, at the instant asked.

use jiancha_engine::evidence::{pack, EvidenceError};
use jiancha_projections::asof::parse_instant;
use jiancha_projections::instant;

use crate::support::{Backend, World};

#[tokio::test]
async fn a_pack_is_of_a_case_known_by_the_instant() {
    let world = World::new(Backend::Sqlite, "2026-03-02T09:00:00+08:00").await;
    world.define_item().await;
    world.submit("case-e1").await;
    world.set("2026-03-02T10:00:00+08:00");
    world.accept("case-e1").await;
    let store = &*world.store;
    let before = parse_instant("2026-03-02T08:00:00+08:00").unwrap();
    match pack(store, "case-e1", before).await {
        Err(EvidenceError::NoSuchCase { case }) => assert_eq!(case, "case-e1"),
        other => panic!("before the submission: {other:?}"),
    }
    let missing = parse_instant("2026-03-05T08:00:00+08:00").unwrap();
    assert!(matches!(
        pack(store, "case-none", missing).await,
        Err(EvidenceError::NoSuchCase { .. })
    ));
    // Between the two events only the submission is known; later, both.
    let between = parse_instant("2026-03-02T09:30:00+08:00").unwrap();
    let early = pack(store, "case-e1", between).await.unwrap();
    let types = |p: &serde_json::Value| -> Vec<String> {
        p["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["type"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(types(&early), ["Submitted"]);
    let late = pack(store, "case-e1", missing).await.unwrap();
    assert_eq!(types(&late), ["Submitted", "Accepted"]);
    assert!(late["events"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["hash_checks"] == true));
    assert_eq!(late["log_head"]["position"], 3);
    assert_eq!(late["evaluated_at"], instant::format(missing));
    world.store.close().await;
}
