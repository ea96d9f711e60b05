//! Who may write to a case, decided by the store inside its write transaction: a case is
//! submitted once, as its stream's first event; a scoped append touches only the cases its org
//! handles (the accountable org as of the log's last committed event); a transfer stays in its
//! district. Each check runs on every store.

use std::sync::Arc;

use jiancha_events::*;
use jiancha_store::{EventStore, ImportChunk, RejectionKind, StoreError};

use crate::checks::{all_raw, import, step, submitted, tagged};
use crate::Fixture;

const TOWN_1: &str = "jiangjin/town-01";
const TOWN_2: &str = "jiangjin/town-02";
/// Rounds of the race between two orgs submitting the same case id.
const RACE_ROUNDS: usize = 50;

/// `event` written by `org`.
fn by(org: &str, mut event: NewEvent) -> NewEvent {
    event.org = org.to_owned();
    event
}

fn case_event(case: &str, org: &str, data: EventData) -> NewEvent {
    let template = step(case, 5);
    NewEvent::new(
        template.stream,
        template.occurred_at,
        template.actor,
        org,
        data,
    )
}

fn accepted(case: &str, org: &str) -> NewEvent {
    case_event(case, org, EventData::Accepted(Accepted::default()))
}

fn transferred(case: &str, org: &str, to: &str) -> NewEvent {
    case_event(
        case,
        org,
        EventData::Transferred(Transferred {
            to_org: to.into(),
            reason: "镇级审批".into(),
        }),
    )
}

fn refusal(result: Result<impl std::fmt::Debug, StoreError>) -> jiancha_store::Rejection {
    match result {
        Err(StoreError::Rejected(r)) => r,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn scoped(org: &str) -> Option<String> {
    Some(org.to_owned())
}

pub async fn a_second_submitted_is_refused(f: Fixture) {
    let s = &*f.store;
    s.append(vec![submitted("case-a")]).await.unwrap();
    let head = s.head().await.unwrap();
    let second = by(TOWN_2, submitted("case-a"));
    for batch in [
        vec![second.clone()],
        vec![second.clone().expecting(1)],
        vec![submitted("case-b"), submitted("case-b")],
    ] {
        let r = refusal(s.append(batch).await);
        assert!(
            matches!(&r.kind, RejectionKind::AlreadySubmitted { stream } if stream.starts_with("case-")),
            "{r:?}"
        );
        assert!(r.message.contains("already submitted"), "{}", r.message);
    }
    // The same, scoped: still "already submitted", never a word about who holds it.
    let r = refusal(s.append_scoped(vec![second.clone()], scoped(TOWN_2)).await);
    assert_eq!(
        r.kind,
        RejectionKind::AlreadySubmitted {
            stream: "case-a".into()
        }
    );
    assert!(!r.message.contains("town-01"), "{}", r.message);
    // An import: the fast path takes a Submitted to begin a new case; the store still refuses.
    for chunks in [
        vec![tagged(vec![submitted("case-c"), second.clone()], 1)],
        vec![tagged(vec![submitted("case-c"), submitted("case-c")], 1)],
    ] {
        let mut chunks = chunks;
        chunks.push(ImportChunk::Commit);
        let r = refusal(import(s, chunks).await);
        assert_eq!(r.tag, 2, "{r:?}");
        assert!(
            matches!(r.kind, RejectionKind::AlreadySubmitted { .. }),
            "{r:?}"
        );
    }
    assert_eq!(s.head().await.unwrap(), head, "nothing was written");
    let raws = all_raw(s).await;
    assert_eq!(raws.len(), 1);
}

pub async fn a_scoped_append_writes_only_to_cases_its_org_handles(f: Fixture) {
    let s = &*f.store;
    s.append(vec![by(TOWN_1, submitted("case-a"))])
        .await
        .unwrap();
    let mut head = s.head().await.unwrap();
    // Another town, an org whose name merely begins the same, and a new case for another org.
    for (scope, batch) in [
        (TOWN_2, vec![by(TOWN_2, step("case-a", 1))]),
        ("jiangjin/town-0", vec![by(TOWN_1, step("case-a", 1))]),
        (TOWN_1, vec![by(TOWN_2, step("case-a", 1))]),
        (TOWN_2, vec![by(TOWN_1, submitted("case-new"))]),
        (
            TOWN_2,
            vec![
                by(TOWN_2, submitted("case-b")),
                by(TOWN_2, step("case-a", 1)),
            ],
        ),
    ] {
        let r = refusal(s.append_scoped(batch, scoped(scope)).await);
        assert!(
            matches!(&r.kind, RejectionKind::OutOfScope { stream } if stream.starts_with("case-")),
            "{scope}: {r:?}"
        );
        // The message names the caller's own scope, never the org handling the case.
        let named = r.message.contains(&format!("{TOWN_1}\""));
        assert!(!named || scope == TOWN_1, "{}", r.message);
        assert_eq!(s.head().await.unwrap(), head, "nothing was written");
    }
    // The handling org, and an org above it, may; a transfer (before acceptance) hands it on.
    s.append_scoped(vec![by(TOWN_1, step("case-a", 1))], scoped(TOWN_1))
        .await
        .unwrap();
    s.append_scoped(vec![by("jiangjin", step("case-a", 2))], scoped("jiangjin"))
        .await
        .unwrap();
    s.append_scoped(vec![transferred("case-a", TOWN_1, TOWN_2)], scoped(TOWN_1))
        .await
        .unwrap();
    head = s.head().await.unwrap();
    let r = refusal(
        s.append_scoped(vec![by(TOWN_1, step("case-a", 3))], scoped(TOWN_1))
            .await,
    );
    assert!(matches!(r.kind, RejectionKind::OutOfScope { .. }), "{r:?}");
    assert_eq!(s.head().await.unwrap(), head);
    // The receiving org accepts it: from then on it answers for it, within one batch too.
    let window = "jiangjin/town-02/window-1";
    s.append_scoped(
        vec![accepted("case-a", window), by(window, step("case-a", 4))],
        scoped(TOWN_2),
    )
    .await
    .unwrap();
    // A later acceptance by another org takes nothing; a transfer after acceptance does.
    s.append(vec![accepted("case-a", TOWN_1)]).await.unwrap();
    let r = refusal(
        s.append_scoped(vec![by(TOWN_1, step("case-a", 5))], scoped(TOWN_1))
            .await,
    );
    assert!(matches!(r.kind, RejectionKind::OutOfScope { .. }), "{r:?}");
    s.append_scoped(vec![transferred("case-a", window, TOWN_1)], scoped(TOWN_2))
        .await
        .unwrap();
    s.append_scoped(vec![by(TOWN_1, step("case-a", 6))], scoped(TOWN_1))
        .await
        .unwrap();
    // A scoped batch may submit a case and carry on with it.
    s.append_scoped(
        vec![by(TOWN_2, submitted("case-c")), accepted("case-c", TOWN_2)],
        scoped(TOWN_2),
    )
    .await
    .unwrap();
}

pub async fn a_transfer_outside_the_district_is_refused(f: Fixture) {
    let s = &*f.store;
    s.append(vec![by(TOWN_1, submitted("case-a"))])
        .await
        .unwrap();
    let head = s.head().await.unwrap();
    for to in ["yubei/town-01", "jiangjinx", "", "yubei"] {
        let r = refusal(s.append(vec![transferred("case-a", TOWN_1, to)]).await);
        assert_eq!(r.kind, RejectionKind::OutsideDistrict, "{to:?}");
        assert_eq!(r.field, "data.to_org");
        let chunks = vec![
            tagged(vec![transferred("case-a", TOWN_1, to)], 7),
            ImportChunk::Commit,
        ];
        assert_eq!(refusal(import(s, chunks).await).tag, 7);
    }
    assert_eq!(s.head().await.unwrap(), head);
    s.append(vec![
        transferred("case-a", TOWN_1, "jiangjin/center"),
        transferred("case-a", TOWN_1, "jiangjin"),
    ])
    .await
    .unwrap();
}

/// Two orgs race for one case id, many times: one of them submits it, the other is refused;
/// an org never ends up answering for a case another org submitted.
pub async fn racing_submissions_never_hand_a_case_to_another_org(f: Fixture) {
    let store: Arc<dyn EventStore> = f.store.clone();
    for round in 0..RACE_ROUNDS {
        let case = format!("case-race-{round}");
        let take = vec![by(TOWN_1, submitted(&case)), accepted(&case, TOWN_1)];
        let own = vec![by(TOWN_2, submitted(&case))];
        let (a, b) = (store.clone(), store.clone());
        let first = tokio::spawn(async move { a.append_scoped(take, scoped(TOWN_1)).await });
        let second = tokio::spawn(async move { b.append_scoped(own, scoped(TOWN_2)).await });
        let (took, owned) = (first.await.unwrap(), second.await.unwrap());
        assert!(took.is_ok() != owned.is_ok(), "{case}: {took:?} {owned:?}");
        let loser = if took.is_ok() { owned } else { took };
        assert!(
            matches!(
                loser,
                Err(StoreError::Rejected(ref r)) if matches!(r.kind, RejectionKind::AlreadySubmitted { .. })
            ),
            "{case}: {loser:?}"
        );
        let events = store.read_stream(&case).await.unwrap();
        let orgs: Vec<&str> = events.iter().map(|e| e.org.as_str()).collect();
        assert!(orgs.iter().all(|o| *o == orgs[0]), "{case}: {orgs:?}");
    }
}

/// Appends racing a transfer, many at once (so the SQL stores gather them into shared group
/// commits): a step scoped to the sending town lands only before the transfer, a step scoped
/// to the receiving town only after it. Whose case it is, is judged in log order, batch by
/// batch, within a group too.
pub async fn a_scope_is_judged_in_log_order_within_a_group(f: Fixture) {
    let store: Arc<dyn EventStore> = f.store.clone();
    let cases: Vec<String> = (0..RACE_ROUNDS).map(|i| format!("case-g-{i}")).collect();
    let submissions = cases.iter().map(|c| by(TOWN_1, submitted(c))).collect();
    store.append(submissions).await.unwrap();
    let mut tasks = Vec::new();
    for case in &cases {
        let sends = [
            (None, transferred(case, TOWN_1, TOWN_2)),
            (scoped(TOWN_1), by(TOWN_1, step(case, 1))),
            (scoped(TOWN_2), by(TOWN_2, step(case, 2))),
        ];
        for (kind, (scope, event)) in sends.into_iter().enumerate() {
            let s = store.clone();
            let case = case.clone();
            tasks.push(tokio::spawn(async move {
                let result = s.append_scoped(vec![event], scope).await;
                (case, kind, result)
            }));
        }
    }
    let mut at: std::collections::HashMap<(String, usize), u64> = Default::default();
    for task in tasks {
        let (case, kind, result) = task.await.unwrap();
        match result {
            Ok(outcome) => {
                at.insert((case, kind), outcome.positions[0]);
            }
            Err(StoreError::Rejected(r)) if kind > 0 => {
                assert!(matches!(r.kind, RejectionKind::OutOfScope { .. }), "{r:?}");
            }
            Err(e) => panic!("{case} {kind}: {e:?}"),
        }
    }
    for case in &cases {
        let transfer = at[&(case.clone(), 0)];
        if let Some(p) = at.get(&(case.clone(), 1)) {
            assert!(*p < transfer, "{case}: town-01 wrote after handing it on");
        }
        if let Some(p) = at.get(&(case.clone(), 2)) {
            assert!(*p > transfer, "{case}: town-02 wrote before receiving it");
        }
    }
}

/// A project opened by a scoped batch is handled by its purchaser (whom the registration
/// names), so the purchaser must lie within the scope, whatever org the event names.
pub async fn a_scoped_batch_opens_projects_of_its_own_purchasers_only(f: Fixture) {
    let s = &*f.store;
    let registered = |stream: &str, purchaser: &str| {
        let line = format!(
            r#"{{"stream":"{stream}","type":"ProcurementRegistered","occurred_at":"2026-03-02T09:00:00+08:00","actor":"buyer","org":"{TOWN_1}","data":{{"project":"p","regime":"government","method":"inquiry","category":"goods","budget_cents":100,"purchaser_org":"{purchaser}","state_funded":true}}}}"#
        );
        parse_line(1, &line).unwrap()
    };
    let head = s.head().await.unwrap();
    let r = refusal(
        s.append_scoped(vec![registered("proc-2026-1", TOWN_2)], scoped(TOWN_1))
            .await,
    );
    assert!(matches!(r.kind, RejectionKind::OutOfScope { .. }), "{r:?}");
    assert_eq!(s.head().await.unwrap(), head, "nothing written");
    s.append_scoped(vec![registered("proc-2026-2", TOWN_1)], scoped(TOWN_1))
        .await
        .unwrap();
}

/// An id tells a scoped batch nothing of another org's case: its re-sent event (under its own
/// org, as the server stamps it) is refused as out of scope, exactly as it would be without
/// the id, never answered as a duplicate with the other event's position. The same event under
/// another actor or org is not the same event, whoever sends it.
pub async fn an_id_tells_a_scoped_batch_nothing_of_another_orgs_case(f: Fixture) {
    let s = &*f.store;
    let theirs = by(TOWN_2, submitted("case-b")).with_id("b-1");
    let step_b = by(TOWN_2, step("case-b", 1)).with_id("b-2");
    s.append(vec![theirs.clone(), step_b.clone()])
        .await
        .unwrap();
    s.append(vec![by(TOWN_1, submitted("case-a"))])
        .await
        .unwrap();
    let head = s.head().await.unwrap();
    let with_id = refusal(
        s.append_scoped(vec![by(TOWN_1, step_b.clone())], scoped(TOWN_1))
            .await,
    );
    let no_id = refusal(
        s.append_scoped(vec![by(TOWN_1, step("case-b", 1))], scoped(TOWN_1))
            .await,
    );
    assert_eq!(with_id.kind, no_id.kind, "{with_id:?} {no_id:?}");
    assert!(matches!(with_id.kind, RejectionKind::OutOfScope { .. }));
    // Its submission re-sent is a conflict (a case is submitted once), never a duplicate.
    let r = refusal(
        s.append_scoped(vec![by(TOWN_1, theirs.clone())], scoped(TOWN_1))
            .await,
    );
    assert!(matches!(r.kind, RejectionKind::IdReused { .. }), "{r:?}");
    assert!(!r.message.contains("position"), "{r:?}");
    // Unscoped, the event under another org reuses the id (the original is answered only when
    // it is the same to its org and actor).
    let r = refusal(s.append(vec![by(TOWN_1, step_b.clone())]).await);
    assert_eq!(r.kind, RejectionKind::IdReused { position: 2 });
    let mut other_actor = step_b.clone();
    other_actor.actor = "someone-else".into();
    let r = refusal(s.append(vec![other_actor]).await);
    assert_eq!(r.kind, RejectionKind::IdReused { position: 2 });
    assert_eq!(s.append(vec![step_b]).await.unwrap().positions, vec![2]);
    assert_eq!(s.head().await.unwrap(), head);
}
