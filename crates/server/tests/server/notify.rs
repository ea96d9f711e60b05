//! Notifications against a real HTTP receiver on 127.0.0.1 (nothing leaves the machine): a
//! card delivered after failed attempts, signed and recorded once, and not sent again after a
//! restart; a receiver that never succeeds, recorded as failed after the last attempt.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use hmac::{Hmac, Mac};
use jiancha_engine::ManualClock;
use jiancha_events::{EventData, StoredEvent};
use jiancha_server::notify::NotifyConfig;
use jiancha_server::{App, ServerConfig};
use jiancha_store::EventStore;
use sha2::Sha256;

use crate::support::{at, seed, ALERT_1, ALERT_10, CASE_1, TOWN_1, WAIT_MAX};

/// How the receiver answers one POST.
#[derive(Debug, Clone, Copy)]
enum Reply {
    Status(u16),
    /// Never answers.
    Hang,
}

#[derive(Debug, Clone)]
struct Got {
    headers: HeaderMap,
    body: Bytes,
}

#[derive(Debug)]
struct Script {
    first: Mutex<VecDeque<Reply>>,
    then: Reply,
    got: Mutex<Vec<Got>>,
}

/// A webhook receiver on 127.0.0.1: answers its first POSTs from a script, then always alike.
struct Receiver {
    addr: SocketAddr,
    script: Arc<Script>,
}

impl Receiver {
    async fn start(first: &[Reply], then: Reply) -> Receiver {
        let script = Arc::new(Script {
            first: Mutex::new(first.iter().copied().collect()),
            then,
            got: Mutex::new(Vec::new()),
        });
        let router = axum::Router::new()
            .route("/hook", axum::routing::post(receive))
            .with_state(script.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await });
        Receiver { addr, script }
    }

    fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    fn got(&self) -> Vec<Got> {
        self.script.got.lock().unwrap().clone()
    }
}

async fn receive(State(script): State<Arc<Script>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    script.got.lock().unwrap().push(Got { headers, body });
    let reply = script
        .first
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or(script.then);
    match reply {
        Reply::Status(code) => StatusCode::from_u16(code).unwrap(),
        Reply::Hang => std::future::pending().await,
    }
}

const DELIVERY: &str = "[delivery]\nattempts = 3\nfirst_retry_ms = 10\nretry_max_ms = 40\n\
                        timeout_ms = 2000\n";

fn recipient(name: &str, org: &str, url: &str, extra: &str) -> String {
    format!(
        "[[recipient]]\nname = \"{name}\"\norg = \"{org}\"\nwebhook = \"{url}\"\n\
         secret = \"secret-of-{name}\"\n{extra}\n"
    )
}

/// The seeded log (a red `fee.mismatch` on each town's case) and a server telling `notify`.
async fn start(store: Option<Arc<dyn EventStore>>, notify: &str) -> (Arc<dyn EventStore>, App) {
    let clock = ManualClock::new(at("2026-03-02T10:00:00+08:00"));
    let store = match store {
        Some(store) => store,
        None => {
            let store = jiancha_store::open("memory:", Arc::new(clock.clone()))
                .await
                .unwrap();
            seed(store.as_ref()).await;
            store
        }
    };
    let config = ServerConfig {
        notify: Some(NotifyConfig::parse(notify).unwrap()),
        ..ServerConfig::default()
    };
    let app = App::start(store.clone(), Arc::new(clock), config)
        .await
        .unwrap();
    (store, app)
}

/// Waits until the outbox has nothing on its way and the log holds a record of each of `ids`.
async fn records(store: &dyn EventStore, app: &App, ids: &[&str]) -> Vec<StoredEvent> {
    let notifier = app.notifier().expect("notifications are on");
    tokio::time::timeout(WAIT_MAX, async {
        loop {
            let found = notification_records(store).await;
            let all = ids
                .iter()
                .all(|id| found.iter().any(|e| notification_of(e) == Some(*id)));
            if all && notifier.is_idle() {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the notifications are recorded")
}

async fn notification_records(store: &dyn EventStore) -> Vec<StoredEvent> {
    let events = store.read_stream("supervision").await.unwrap();
    events
        .into_iter()
        .filter(|e| notification_of(e).is_some())
        .collect()
}

fn notification_of(e: &StoredEvent) -> Option<&str> {
    match &e.data {
        EventData::NotificationSent(n) => Some(&n.notification),
        EventData::NotificationFailed(n) => Some(&n.notification),
        _ => None,
    }
}

fn hmac_hex(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

#[tokio::test]
async fn a_card_is_delivered_after_two_failures_signed_and_recorded_once() {
    let hook = Receiver::start(
        &[Reply::Status(503), Reply::Status(503)],
        Reply::Status(200),
    )
    .await;
    let url = hook.url();
    let notify = format!(
        "{DELIVERY}{}{}",
        recipient("town-1 leader", TOWN_1, &url, "severities = [\"red\"]"),
        // Cards of yellow only: the red fee cards are not for it.
        recipient("yellow desk", "jiangjin", &url, "severities = [\"yellow\"]"),
    );
    let (store, app) = start(None, &notify).await;
    let id = format!("{ALERT_1}/town-1 leader");
    let found = records(store.as_ref(), &app, &[&id]).await;
    assert_eq!(found.len(), 1, "one record: {found:?}");
    let EventData::NotificationSent(sent) = &found[0].data else {
        panic!("not sent: {found:?}");
    };
    assert_eq!(sent.attempts, 3);
    assert_eq!(sent.recipient, "town-1 leader");
    assert_eq!(found[0].actor, "engine");
    assert_eq!(found[0].id, format!("notification:{id}"));

    // Three POSTs of the same notification (town-10's card is not under town-1), each signed.
    let got = hook.got();
    assert_eq!(got.len(), 3);
    for post in &got {
        assert_eq!(post.headers["x-jiancha-notification"], id.as_str());
        let expected = format!("sha256={}", hmac_hex("secret-of-town-1 leader", &post.body));
        assert_eq!(post.headers["x-jiancha-signature"], expected.as_str());
        assert_ne!(
            post.headers["x-jiancha-signature"],
            format!("sha256={}", hmac_hex("another secret", &post.body)).as_str()
        );
        let body: serde_json::Value = serde_json::from_slice(&post.body).unwrap();
        assert_eq!(body["notification"], id.as_str());
        assert_eq!(body["recipient"], "town-1 leader");
        assert_eq!(body["case"], CASE_1);
        assert_eq!(body["alert"]["id"], ALERT_1);
        assert_eq!(body["alert"]["severity"], "red");
        assert_ne!(body["alert"]["id"], ALERT_10);
    }

    // A restart over the same log sends nothing again.
    app.shutdown().await.unwrap();
    let (store, again) = start(Some(store), &notify).await;
    let found = records(store.as_ref(), &again, &[&id]).await;
    assert_eq!(found.len(), 1);
    assert_eq!(hook.got().len(), 3, "sent again after a restart");
    again.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_receiver_that_never_succeeds_is_recorded_as_failed_after_the_last_attempt() {
    let failing = Receiver::start(&[], Reply::Status(500)).await;
    let silent = Receiver::start(&[], Reply::Hang).await;
    let notify = format!(
        "{}{}{}",
        DELIVERY.replace("timeout_ms = 2000", "timeout_ms = 100"),
        recipient("failing", TOWN_1, &failing.url(), ""),
        recipient("silent", TOWN_1, &silent.url(), ""),
    );
    let (store, app) = start(None, &notify).await;
    let ids = [format!("{ALERT_1}/failing"), format!("{ALERT_1}/silent")];
    let found = records(store.as_ref(), &app, &[&ids[0], &ids[1]]).await;
    assert_eq!(found.len(), 2, "{found:?}");
    for (id, error) in [(&ids[0], "HTTP 500"), (&ids[1], "timed out")] {
        let failed = found
            .iter()
            .find_map(|e| match &e.data {
                EventData::NotificationFailed(f) if &f.notification == id => Some(f),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no NotificationFailed for {id}: {found:?}"));
        assert!(failed.error.contains(error), "{failed:?}");
    }
    assert_eq!(failing.got().len(), 3, "three attempts");
    assert_eq!(silent.got().len(), 3, "three attempts");

    app.shutdown().await.unwrap();
}

/// Needs the projections to raise `supervision.notify.failed` from a `NotificationFailed`.
#[tokio::test]
async fn a_failed_notification_raises_its_yellow_card() {
    let failing = Receiver::start(&[], Reply::Status(500)).await;
    let notify = format!(
        "{DELIVERY}{}",
        recipient("failing", TOWN_1, &failing.url(), "")
    );
    let (store, app) = start(None, &notify).await;
    let id = format!("{ALERT_1}/failing");
    records(store.as_ref(), &app, &[&id]).await;
    let engine = app.engine();
    let head = store.head().await.unwrap().position;
    engine.wait_for(head).await.unwrap();
    let alerts = engine.read().alerts(engine.now());
    let failed: Vec<_> = alerts
        .iter()
        .filter(|a| a.rule == "supervision.notify.failed")
        .collect();
    assert!(
        failed
            .iter()
            .any(|a| a.case == CASE_1 && a.severity == "yellow"),
        "no supervision.notify.failed alert: {alerts:?}"
    );
    // Shown, never sent: the failing channel is not asked to carry its own failure.
    assert_eq!(failing.got().len(), 3);
    app.shutdown().await.unwrap();
}
