//! The live stream: each message's id is a position; a client that disconnects mid-stream and
//! resumes with `Last-Event-ID` receives every alert exactly once; one whose id the journal no
//! longer holds is told to reload; a unit's stream holds its own org's alerts only; an alert
//! the clock raises arrives too.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use jiancha_server::Limits;

use crate::support::*;

/// Appends (as the center) a new case handled in town-1 whose fee is wrong; returns the FeeCharged event's position.
async fn raise(world: &World, case: &str) -> u64 {
    let answer = world
        .post_jsonl(
            "/api/v1/events",
            Who::Center,
            &case_jsonl(case, FEE_CENTS + 7)
                .replace(",\"data\":", ",\"org\":\"jiangjin/town-1\",\"data\":"),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    answer.json["positions"][2].as_u64().unwrap()
}

fn alert(case: &str) -> String {
    format!("{case}/fee.mismatch/1")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_resuming_with_last_event_id_gets_every_alert_once() {
    let world = World::new().await;
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut ids: Vec<u64> = Vec::new();

    let mut stream = Sse::open(&world, Who::Supervisor, None).await;
    let ready = stream.next().await;
    assert_eq!(ready.event, "ready");
    let start: u64 = ready.id.unwrap().parse().unwrap();
    assert_eq!(start, world.app.engine().position());

    let p0 = raise(&world, "case-s0").await;
    let m = stream.next_alerts().await;
    assert_eq!(
        m.id.as_deref(),
        Some(p0.to_string().as_str()),
        "the id is the position: {m:?}"
    );
    for id in m.raised() {
        *seen.entry(id).or_default() += 1;
    }
    ids.push(p0);
    let last = m.id.clone().unwrap();
    drop(stream); // the client goes away mid-stream

    let p1 = raise(&world, "case-s1").await;
    let p2 = raise(&world, "case-s2").await;

    let mut stream = Sse::open(&world, Who::Supervisor, Some(&last)).await;
    for want in [p1, p2] {
        let m = stream.next_alerts().await;
        let id: u64 = m.id.clone().unwrap().parse().unwrap();
        assert_eq!(id, want);
        for id in m.raised() {
            *seen.entry(id).or_default() += 1;
        }
        ids.push(id);
    }
    let p3 = raise(&world, "case-s3").await;
    let m = stream.next_alerts().await;
    assert_eq!(m.id.as_deref(), Some(p3.to_string().as_str()));
    for id in m.raised() {
        *seen.entry(id).or_default() += 1;
    }
    ids.push(p3);

    let want: BTreeMap<String, usize> = ["case-s0", "case-s1", "case-s2", "case-s3"]
        .iter()
        .map(|c| (alert(c), 1))
        .collect();
    assert_eq!(seen, want, "every alert exactly once");
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids increase: {ids:?}");
    drop(stream);
    world.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_too_far_behind_is_told_to_reload() {
    let limits = Limits {
        journal_messages_max: 2,
        ..Limits::default()
    };
    let auth = jiancha_server::Auth::parse(&auth_file()).unwrap();
    let world = World::with(Some(auth), limits).await;
    let mut stream = Sse::open(&world, Who::Supervisor, None).await;
    let ready = stream.next().await;
    drop(stream);
    for case in ["case-r0", "case-r1", "case-r2"] {
        raise(&world, case).await;
    }
    world.settle_journal().await;
    let mut stream = Sse::open(&world, Who::Supervisor, ready.id.as_deref()).await;
    let reload = stream.next().await;
    assert_eq!(reload.event, "reload");
    assert!(reload.json()["reason"]
        .as_str()
        .unwrap()
        .contains("/api/v1/alerts"));
    // It carries on live from there.
    let p = raise(&world, "case-r3").await;
    let m = stream.next_alerts().await;
    assert_eq!(m.id, Some(p.to_string()));
    assert_eq!(m.raised(), [alert("case-r3")]);
    // An id from the future (another log) is not resumed either.
    let mut stream = Sse::open(&world, Who::Supervisor, Some("999999")).await;
    assert_eq!(stream.next().await.event, "reload");
    let bad = world
        .send(request(
            "GET",
            "/api/v1/alerts/stream?after=x",
            Who::Supervisor,
            None,
            "",
        ))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    world.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_units_stream_holds_its_own_org_only() {
    let world = World::new().await;
    let mut town10 = Sse::open(&world, Who::Unit10, None).await;
    assert_eq!(town10.next().await.event, "ready");
    let mut town1 = Sse::open(&world, Who::Unit1, None).await;
    assert_eq!(town1.next().await.event, "ready");
    raise(&world, "case-u1").await;
    let answer = world
        .post_jsonl(
            "/api/v1/events",
            Who::Unit10,
            &case_jsonl("case-u10", FEE_CENTS + 3),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    assert_eq!(town1.next_alerts().await.raised(), [alert("case-u1")]);
    assert_eq!(town10.next_alerts().await.raised(), [alert("case-u10")]);
    world.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alert_the_clock_raises_is_streamed_at_its_cards_position() {
    let world = World::new().await;
    let mut stream = Sse::open(&world, Who::Supervisor, None).await;
    let ready: u64 = stream.next().await.id.unwrap().parse().unwrap();
    // Accepted on Monday 2 March with a promised limit of 2 working days: overdue after the
    // end of Wednesday 4 March.
    world.clock.set(at("2026-03-05T10:00:00+08:00"));
    world.settle().await;
    let m = stream.next_alerts().await;
    let id: u64 = m.id.clone().unwrap().parse().unwrap();
    assert!(id > ready);
    let raised = m.raised();
    assert!(
        raised.contains(&"case-t1/deadline.promised.overdue/1".to_owned()),
        "{raised:?}"
    );
    // The id is a position: the card the engine appended for the first of them.
    let card = world.store.read_at(id).await.unwrap().unwrap();
    assert_eq!(card.position, id);
    assert_eq!(card.data.type_name(), "CardIssued");
    world.shutdown().await;
}

/// One token cannot take every live-stream slot, and the bureau always keeps a share.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_holds_few_streams_and_the_bureau_keeps_its_share() {
    let limits = Limits {
        sse_subscribers_max: 6,
        sse_streams_per_token_max: 2,
        sse_reserved_for_supervisors: 2,
        ..Limits::default()
    };
    let auth = jiancha_server::Auth::parse(&auth_file()).unwrap();
    let world = World::with(Some(auth), limits).await;
    let stream = "/api/v1/alerts/stream";
    let mut held = Vec::new();
    for _ in 0..2 {
        held.push(Sse::open(&world, Who::Unit1, None).await);
    }
    let third = world.status_of(stream, Who::Unit1).await;
    assert_eq!(
        third.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        third.text
    );
    assert!(third.json["message"].as_str().unwrap().contains("2 live"));
    for _ in 0..2 {
        held.push(Sse::open(&world, Who::Unit10, None).await);
    }
    // The slots other tokens may take are gone; the bureau's share is left.
    let center = world.status_of(stream, Who::Center).await;
    assert_eq!(
        center.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        center.text
    );
    for _ in 0..2 {
        held.push(Sse::open(&world, Who::Supervisor, None).await);
    }
    let full = world.status_of(stream, Who::Supervisor).await;
    assert_eq!(full.status, StatusCode::TOO_MANY_REQUESTS, "{}", full.text);
    // A stream that ends gives its slot back.
    held.remove(0);
    let center = world.status_of(stream, Who::Center).await;
    assert_eq!(center.status, StatusCode::OK, "{}", center.text);
    let metrics = world.get("/metrics", Who::Supervisor).await;
    assert!(
        metrics.text.contains("jiancha_sse_subscribers 5"),
        "{}",
        metrics.text
    );
    drop(held);
    world.shutdown().await;
}
