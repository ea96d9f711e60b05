//! Several engine processes on one PostgreSQL log: two `jiancha serve` processes share a schema.
//! Both take appends; each follows every event in the log's order (the same case views, alert
//! lists and live-stream messages on both); each live stream carries every alert raised and
//! closed while it is open; and however the two engines race for the same overdue deadline —
//! both delivering it at startup, or both finding it on the same event — each alert gets
//! exactly one `CardIssued`.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::postgres_cli::PgLog;
use crate::server_api::{changes, get_json, post_events, Message, Served, Stream, WAIT_MAX};
use crate::support::{line, step, submitted, Run, Workspace};

/// The instant both processes, and the commands run beside them, read from their clock: the
/// third working day after the cases were accepted, so their promised limit of 2 working days
/// has passed.
const CLOCK: &str = "2026-03-05T10:00:00+08:00";

/// The item `support::submitted` applies for: promised 2, statutory 5 working days, fee 10 yuan.
const ITEM: &str = r#"{"code":"BL-001","name":"许可","org":"jiangjin/center/dept-03","statutory_days":5,"promised_days":2,"fee_cents":1000,"steps":["审查","决定"],"required_materials":["身份证"],"in_center":true}"#;

const ACCEPTED_AT: &str = "2026-03-02T09:30:00+08:00";
const CONCLUDED_AT: &str = "2026-03-05T09:00:00+08:00";

/// How often a wait looks again.
const POLL: Duration = Duration::from_millis(50);

fn accepted(case: &str) -> String {
    line(case, "Accepted", ACCEPTED_AT, "{}")
}

/// Runs the binary on the log with the clock frozen at [`CLOCK`].
fn run(ws: &Workspace, db: &str, args: &[&str], stdin: &str) -> Run {
    let r =
        tokio::task::block_in_place(|| ws.run_env(db, &[("JIANCHA_CLOCK", CLOCK)], args, stdin));
    assert_eq!(r.code, 0, "jiancha {args:?}: {r:?}");
    r
}

/// A JSON document the server answers 200 to.
async fn document(served: &Served, path: &str) -> Value {
    let (status, doc) = get_json(&served.url(path), None).await;
    assert_eq!(status, 200, "GET {path} on {}: {doc}", served.addr);
    doc
}

/// Appends `lines` through `served`, which must write them all; returns their positions.
async fn append(served: &Served, lines: &[String]) -> Vec<u64> {
    let (status, body) = post_events(&served.url(""), None, &lines.join("\n")).await;
    assert_eq!(status, 201, "POST to {}: {body}", served.addr);
    let answer: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["appended"], lines.len(), "{body}");
    let positions: Vec<u64> = answer["positions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_u64().unwrap())
        .collect();
    assert_eq!(positions.len(), lines.len(), "{body}");
    positions
}

/// The log's head, as the chain verification through `served` counts it.
async fn head(served: &Served) -> u64 {
    let verify = document(served, "/api/v1/verify").await;
    assert_eq!(verify["ok"], true, "{verify}");
    verify["events"].as_u64().unwrap()
}

/// The position the engine behind `served` has folded in.
async fn engine_position(served: &Served) -> u64 {
    document(served, "/healthz").await["position"]
        .as_u64()
        .unwrap()
}

/// Whether every alert the engine behind `served` knows has its card folded in.
async fn all_delivered(served: &Served) -> bool {
    let list = document(served, "/api/v1/alerts").await;
    let alerts = list["alerts"].as_array().unwrap();
    alerts.iter().all(|a| a["delivered"] == true)
}

/// Waits until every engine has folded in the whole log, has every alert's card (so the
/// delivery at startup, which runs after the catch-up is announced, is done too), and the log no
/// longer grows (an engine announces a position only after appending the cards it caused, so no
/// card is left to come); returns the head.
async fn settled(servers: &[&Served]) -> u64 {
    let started = Instant::now();
    loop {
        let before = head(servers[0]).await;
        let mut positions = Vec::new();
        let mut delivered = true;
        for served in servers {
            positions.push(engine_position(served).await);
            delivered &= all_delivered(served).await;
        }
        let reached = positions.iter().all(|p| *p >= before);
        if reached && delivered && head(servers[0]).await == before {
            return before;
        }
        assert!(
            started.elapsed() < WAIT_MAX,
            "the engines did not settle: head {before}, engines at {positions:?}, every alert \
             carded: {delivered}"
        );
        tokio::time::sleep(POLL).await;
    }
}

/// Opens the live stream of `served` once its journal has reached `head`: a new stream's
/// `ready` message names the position it continues after.
async fn stream_after(served: &Served, head: u64) -> Stream {
    let started = Instant::now();
    loop {
        let mut stream = Stream::connect(&served.url(""), None, None).await;
        let ready = stream
            .next()
            .await
            .expect("a new stream starts with `ready`");
        assert_eq!(ready.0, "ready", "{ready:?}");
        if ready.1 == head.to_string() {
            return stream;
        }
        assert!(
            started.elapsed() < WAIT_MAX,
            "the live stream of {} stays at {} below {head}",
            served.addr,
            ready.1
        );
        tokio::time::sleep(POLL).await;
    }
}

/// Reads a live stream up to the message at position `last`, which must come.
async fn read_through(stream: &mut Stream, last: u64) -> Vec<Message> {
    let mut messages = Vec::new();
    loop {
        let Some(message) = stream.next().await else {
            panic!("the stream ended before position {last}: {messages:?}");
        };
        let id: u64 = message.1.parse().unwrap();
        messages.push(message);
        if id >= last {
            assert_eq!(id, last, "no message at {last}: {messages:?}");
            return messages;
        }
    }
}

/// Checks what one stream carried: `alerts` messages at strictly increasing positions after
/// `after`; returns how often each (kind, alert id) came.
fn tally(messages: &[Message], after: u64) -> BTreeMap<(String, String), usize> {
    let mut last = after;
    let mut counts = BTreeMap::new();
    for (event, id, data) in messages {
        assert_eq!(event, "alerts", "{messages:?}");
        let id: u64 = id.parse().unwrap();
        assert!(id > last, "message ids must increase: {messages:?}");
        last = id;
        for change in changes(data) {
            *counts.entry(change).or_insert(0) += 1;
        }
    }
    counts
}

/// Starts two `jiancha serve` processes on `db` at once (so that both catch up with the same
/// log and deliver its alerts at the same time).
fn start_two(db: &str) -> (Served, Served) {
    let env = [("JIANCHA_CLOCK", CLOCK)];
    tokio::task::block_in_place(|| {
        std::thread::scope(|s| {
            let a = s.spawn(|| Served::start(db, &env));
            let b = s.spawn(|| Served::start(db, &env));
            (a.join().unwrap(), b.join().unwrap())
        })
    })
}

/// What was appended through which process.
struct Posted {
    through: &'static str,
    lines: Vec<String>,
    positions: Vec<u64>,
}

#[test]
fn two_serve_processes_on_one_postgres_log_share_every_event_alert_and_card() {
    let pg = PgLog::new("serve2");
    let ws = Workspace::new();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(two_engines(&ws, &pg.url()));
}

async fn two_engines(ws: &Workspace, db: &str) {
    // A case whose promised limit passed while no engine ran: each engine finds its alerts
    // undelivered at startup, unless the other's cards for them came first.
    let before = [
        line("catalog", "ItemDefined", "2026-03-01T09:00:00+08:00", ITEM),
        submitted("case-m0"),
        accepted("case-m0"),
    ];
    run(ws, db, &["import"], &before.join("\n"));
    let (a, b) = start_two(db);
    let started = settled(&[&a, &b]).await;
    let mut streams = [
        stream_after(&a, started).await,
        stream_after(&b, started).await,
    ];
    let posted = append_in_turn(&a, &b).await;
    let last = posted.last().unwrap().positions[0];
    let final_head = settled(&[&a, &b]).await;
    let heard = [
        read_through(&mut streams[0], last).await,
        read_through(&mut streams[1], last).await,
    ];
    let views = follows_the_same_log(&a, &b, final_head).await;

    // Both stop cleanly (each keeps a snapshot beside the shared log), and their streams end
    // with nothing after the wrong fee's message.
    for served in [a, b] {
        let (status, said) = tokio::task::block_in_place(|| served.interrupt());
        assert!(status.success(), "{said}");
    }
    for (stream, heard) in streams.iter_mut().zip(&heard) {
        let after = stream.next().await;
        assert!(after.is_none(), "after {heard:?} came {after:?}");
    }

    let log: Vec<Value> = run(ws, db, &["export"], "")
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        u64::try_from(log.len()).unwrap(),
        final_head,
        "nothing was appended after settling"
    );
    both_appended(&posted, &log);
    let alerts: Vec<Value> =
        serde_json::from_str(&run(ws, db, &["alerts", "--format", "json"], "").stdout).unwrap();
    assert_eq!(
        views, alerts,
        "each engine's alerts are the log's, evaluated at the clock"
    );
    every_stream_carried_every_alert(&heard, &alerts, started, last);
    one_card_per_alert(&log, &alerts);
}

/// Appends through both processes in turn: case-m1 is submitted through one and accepted
/// through the other (both engines find its overdue deadline on the acceptance), then
/// concluded; case-m2 is accepted and, once everything before has settled, charged a wrong fee
/// through `a` — the alert it raises at its own position is the last message each stream must
/// carry.
async fn append_in_turn(a: &Served, b: &Served) -> Vec<Posted> {
    let conclude_m1 = vec![
        step("case-m1", "审查"),
        step("case-m1", "决定"),
        line(
            "case-m1",
            "Decided",
            CONCLUDED_AT,
            r#"{"outcome":"approved"}"#,
        ),
        line("case-m1", "Concluded", CONCLUDED_AT, "{}"),
    ];
    let batches = [
        ("a", vec![submitted("case-m1")]),
        ("b", vec![accepted("case-m1")]),
        ("a", vec![submitted("case-m2"), accepted("case-m2")]),
        ("b", conclude_m1),
    ];
    let mut posted = Vec::new();
    for (through, lines) in batches {
        let served = if through == "a" { a } else { b };
        let positions = append(served, &lines).await;
        posted.push(Posted {
            through,
            lines,
            positions,
        });
    }
    settled(&[a, b]).await;
    let wrong_fee = vec![line(
        "case-m2",
        "FeeCharged",
        CONCLUDED_AT,
        r#"{"amount_cents":1}"#,
    )];
    let positions = append(a, &wrong_fee).await;
    posted.push(Posted {
        through: "a",
        lines: wrong_fee,
        positions,
    });
    posted
}

/// Both engines are at the head and show the same cases and alerts; returns the alerts.
async fn follows_the_same_log(a: &Served, b: &Served, head: u64) -> Vec<Value> {
    assert_eq!(engine_position(a).await, head);
    assert_eq!(engine_position(b).await, head);
    for case in ["case-m0", "case-m1", "case-m2"] {
        let path = format!("/api/v1/cases/{case}");
        let on_a = document(a, &path).await;
        assert_eq!(on_a, document(b, &path).await, "{case}");
    }
    let on_a = document(a, "/api/v1/alerts").await;
    assert_eq!(on_a, document(b, "/api/v1/alerts").await);
    assert_eq!(on_a["position"], head, "{on_a}");
    on_a["alerts"].as_array().unwrap().clone()
}

/// Each process wrote what it was sent, at the positions it answered, in the order sent.
fn both_appended(posted: &[Posted], log: &[Value]) {
    let mut last = 0;
    for p in posted {
        for (text, position) in p.lines.iter().zip(&p.positions) {
            let sent: Value = serde_json::from_str(text).unwrap();
            let stored = &log[usize::try_from(*position).unwrap() - 1];
            assert_eq!(stored["position"], *position);
            for field in ["stream", "type", "occurred_at", "data"] {
                assert_eq!(stored[field], sent[field], "through {}: {text}", p.through);
            }
            assert!(
                *position > last,
                "positions follow the order of the appends"
            );
            last = *position;
        }
    }
    let through: BTreeSet<&str> = posted.iter().map(|p| p.through).collect();
    assert_eq!(through, BTreeSet::from(["a", "b"]));
}

/// Both streams carried the same messages: every alert of the cases appended while they were
/// open raised once, every one that closed closed once, and the wrong fee at its position.
fn every_stream_carried_every_alert(
    heard: &[Vec<Message>; 2],
    alerts: &[Value],
    after: u64,
    fee_position: u64,
) {
    assert_eq!(heard[0], heard[1], "the two streams differ");
    let live: Vec<&Value> = alerts.iter().filter(|a| a["case"] != "case-m0").collect();
    let mut want = BTreeMap::new();
    for alert in &live {
        let id = alert["id"].as_str().unwrap().to_owned();
        want.insert(("raised".to_owned(), id.clone()), 1);
        if !alert["closed_at"].is_null() {
            want.insert(("closed".to_owned(), id), 1);
        }
    }
    for must in [
        ("raised", "case-m1/deadline.promised.overdue/1"),
        ("closed", "case-m1/deadline.promised.overdue/1"),
        ("raised", "case-m2/deadline.promised.overdue/1"),
        ("raised", "case-m2/fee.mismatch/1"),
    ] {
        let key = (must.0.to_owned(), must.1.to_owned());
        assert!(want.contains_key(&key), "{must:?} is among {want:?}");
    }
    for messages in heard {
        assert_eq!(tally(messages, after), want, "{messages:?}");
    }
    let (_, id, data) = heard[0].last().unwrap();
    assert_eq!(id, &fee_position.to_string());
    assert!(
        changes(data).contains(&("raised".to_owned(), "case-m2/fee.mismatch/1".to_owned())),
        "{data}"
    );
}

/// Every alert, including those both engines delivered at startup, has exactly one card, under
/// its own id, and there is no other card.
fn one_card_per_alert(log: &[Value], alerts: &[Value]) {
    let cards: Vec<&str> = log
        .iter()
        .filter(|e| e["type"] == "CardIssued")
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    let mut want: Vec<String> = alerts
        .iter()
        .map(|a| format!("card:{}", a["id"].as_str().unwrap()))
        .collect();
    want.sort();
    let mut got: Vec<&str> = cards.clone();
    got.sort_unstable();
    assert_eq!(got, want, "cards in log order: {cards:?}");
    assert!(
        want.contains(&"card:case-m0/deadline.promised.overdue/1".to_owned()),
        "{want:?}"
    );
    for alert in alerts {
        assert_eq!(alert["delivered"], true, "{alert}");
    }
}
