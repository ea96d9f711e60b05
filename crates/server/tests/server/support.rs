//! Shared helpers: a log seeded with an item and two cases (one in `jiangjin/town-1`, one in
//! `jiangjin/town-10`, each with a red `fee.mismatch` alert), a started server with a token per
//! role, requests through the router without a socket, and reading a live stream.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use chrono::{DateTime, Utc};
use http_body_util::BodyExt;
use jiancha_engine::ManualClock;
use jiancha_events::{
    Accepted, Channel, EventData, FeeCharged, ItemDefined, NewEvent, StreamName, Submitted,
    Timestamp,
};
use jiancha_server::{token_hash, App, Auth, Limits, ServerConfig};
use jiancha_store::EventStore;
use tower::ServiceExt;

/// The longest any wait may take before the test fails instead of hanging.
pub const WAIT_MAX: Duration = Duration::from_secs(30);

pub const ITEM: &str = "permit-01";
pub const FEE_CENTS: u64 = 1_000;
pub const CASE_1: &str = "case-t1";
pub const CASE_10: &str = "case-t10";
pub const TOWN_1: &str = "jiangjin/town-1";
pub const TOWN_10: &str = "jiangjin/town-10";
/// The red alert of each seeded case.
pub const ALERT_1: &str = "case-t1/fee.mismatch/1";
pub const ALERT_10: &str = "case-t10/fee.mismatch/1";
pub const ALERT_1_PATH: &str = "case-t1%2Ffee.mismatch%2F1";

/// Who asks, in the order of the role matrix's columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    /// No Authorization header.
    Nobody,
    /// A token not in the auth file.
    Stranger,
    Supervisor,
    Center,
    /// A unit at `jiangjin/town-1`.
    Unit1,
    /// A unit at `jiangjin/town-10` (a sibling whose name has town-1 as a prefix).
    Unit10,
    Evaluator,
}

pub const EVERYONE: [Who; 7] = [
    Who::Nobody,
    Who::Stranger,
    Who::Supervisor,
    Who::Center,
    Who::Unit1,
    Who::Unit10,
    Who::Evaluator,
];

impl Who {
    pub fn token(self) -> Option<&'static str> {
        match self {
            Who::Nobody => None,
            Who::Stranger => Some("not-a-known-token"),
            Who::Supervisor => Some("tok-supervisor"),
            Who::Center => Some("tok-center"),
            Who::Unit1 => Some("tok-town-1"),
            Who::Unit10 => Some("tok-town-10"),
            Who::Evaluator => Some("tok-evaluator"),
        }
    }
}

/// The auth file of the tests: one token per role, stored as hashes.
pub fn auth_file() -> String {
    let entries = [
        (
            "bureau-li",
            "supervisor",
            Some("jiangjin/bureau"),
            "tok-supervisor",
        ),
        ("center-wang", "center", Some("jiangjin"), "tok-center"),
        ("town-1-window", "unit", Some(TOWN_1), "tok-town-1"),
        ("town-10-window", "unit", Some(TOWN_10), "tok-town-10"),
        ("evaluator-zhao", "evaluator", None, "tok-evaluator"),
    ];
    let mut out = String::new();
    for (name, role, org, token) in entries {
        out.push_str(&format!(
            "[[token]]\nname = \"{name}\"\nrole = \"{role}\"\nsha256 = \"{}\"\n",
            token_hash(token)
        ));
        if let Some(org) = org {
            out.push_str(&format!("org = \"{org}\"\n"));
        }
        out.push('\n');
    }
    out
}

/// The public secret of the tests' servers.
pub fn public_secret() -> jiancha_server::public::PublicSecret {
    jiancha_server::public::PublicSecret::from_bytes(b"the tests' public secret, 32 b\n").unwrap()
}

pub fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().to_utc()
}

/// A seeded log, its clock and a started server.
pub struct World {
    pub store: Arc<dyn EventStore>,
    pub clock: ManualClock,
    pub app: App,
    pub router: Router,
}

/// A response, read whole.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub text: String,
    pub json: serde_json::Value,
    /// The body's bytes (a workbook is not text).
    pub bytes: Vec<u8>,
}

impl Answer {
    /// Checks a refusal: `status`, naming `field` (the body in the message when not).
    pub fn refused(&self, status: StatusCode, field: &str) {
        assert_eq!(
            (self.status, self.json["field"].as_str()),
            (status, Some(field)),
            "{}",
            self.text
        );
    }

    /// An answer with its body read as text and, when it is JSON, as JSON.
    fn of(status: StatusCode, headers: axum::http::HeaderMap, bytes: &[u8]) -> Answer {
        let text = String::from_utf8_lossy(bytes).into_owned();
        let json = serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
        Answer {
            status,
            headers,
            text,
            json,
            bytes: bytes.to_vec(),
        }
    }
}

/// The [`seed`]ed log in memory and the manual clock that stamps it, standing at
/// 2026-03-02T10:00+08:00.
pub async fn seeded_log() -> (ManualClock, Arc<dyn EventStore>) {
    let clock = ManualClock::new(at("2026-03-02T10:00:00+08:00"));
    let store = jiancha_store::open("memory:", Arc::new(clock.clone()))
        .await
        .unwrap();
    seed(store.as_ref()).await;
    (clock, store)
}

impl World {
    /// The seeded log with every role's token.
    pub async fn new() -> World {
        World::with(Some(Auth::parse(&auth_file()).unwrap()), Limits::default()).await
    }

    /// The seeded log with the given auth and limits.
    pub async fn with(auth: Option<Auth>, limits: Limits) -> World {
        let (clock, store) = seeded_log().await;
        let config = ServerConfig {
            auth,
            limits,
            public_secret: Some(public_secret()),
            ..ServerConfig::default()
        };
        let app = App::start(store.clone(), Arc::new(clock.clone()), config)
            .await
            .unwrap();
        let router = app.router();
        let world = World {
            store,
            clock,
            app,
            router,
        };
        world.settle_journal().await;
        world
    }

    /// Waits until the engine has folded in everything, cards included.
    pub async fn settle(&self) {
        let engine = self.app.engine();
        tokio::time::timeout(WAIT_MAX, async {
            loop {
                engine.tick().await.unwrap();
                let head = self.head().await;
                engine.wait_for(head).await.unwrap();
                if self.head().await == head {
                    break;
                }
            }
        })
        .await
        .expect("the engine settles");
    }

    /// Waits until the engine has folded in everything and the live stream has caught up
    /// with it.
    pub async fn settle_journal(&self) {
        self.settle().await;
        let target = self.app.engine().position();
        tokio::time::timeout(WAIT_MAX, async {
            while self.app.live_position() < target {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await
        .expect("the live stream catches up");
    }

    /// The log's last position.
    pub async fn head(&self) -> u64 {
        self.store.head().await.unwrap().position
    }

    /// Sends a request and reads the whole answer.
    pub async fn send(&self, request: Request<Body>) -> Answer {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = tokio::time::timeout(WAIT_MAX, response.into_body().collect())
            .await
            .expect("the body ends")
            .unwrap()
            .to_bytes();
        Answer::of(status, headers, &bytes)
    }

    /// The status of a GET, with the body read only when it is a refusal (a live stream
    /// never ends).
    pub async fn status_of(&self, path: &str, who: Who) -> Answer {
        let response = self
            .router
            .clone()
            .oneshot(request("GET", path, who, None, ""))
            .await
            .unwrap();
        if response.status().is_success() {
            return Answer {
                status: response.status(),
                headers: response.headers().clone(),
                text: String::new(),
                json: serde_json::Value::Null,
                bytes: Vec::new(),
            };
        }
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        Answer::of(status, headers, &bytes)
    }

    pub async fn get(&self, path: &str, who: Who) -> Answer {
        self.send(request("GET", path, who, None, "")).await
    }

    pub async fn post_json(&self, path: &str, who: Who, body: &str) -> Answer {
        self.send(request("POST", path, who, Some("application/json"), body))
            .await
    }

    pub async fn post_jsonl(&self, path: &str, who: Who, body: &str) -> Answer {
        self.send(request(
            "POST",
            path,
            who,
            Some("application/x-ndjson"),
            body,
        ))
        .await
    }

    pub async fn shutdown(self) {
        self.app.shutdown().await.unwrap();
    }
}

/// A request with `who`'s token.
pub fn request(
    method: &str,
    path: &str,
    who: Who,
    content_type: Option<&str>,
    body: &str,
) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(path);
    if let Some(token) = who.token() {
        builder = builder.header("authorization", format!("Bearer {token}"));
    }
    if let Some(ct) = content_type {
        builder = builder.header("content-type", ct);
    }
    builder.body(Body::from(body.to_owned())).unwrap()
}

fn ts(text: &str) -> Timestamp {
    jiancha_events::parse_timestamp(text).unwrap()
}

fn event(stream: &str, at: &str, org: &str, data: EventData) -> NewEvent {
    NewEvent::new(
        StreamName::parse(stream).unwrap(),
        ts(at),
        "clerk-1",
        org,
        data,
    )
}

/// The item, then a case per town, each accepted and charged a wrong fee (a red alert).
pub async fn seed(store: &dyn EventStore) {
    let item = ItemDefined {
        code: ITEM.into(),
        name: "Permit".into(),
        org: "jiangjin/center/dept-03".into(),
        statutory_days: 5,
        promised_days: 2,
        fee_cents: FEE_CENTS,
        steps: vec!["review".into(), "decide".into()],
        required_materials: vec!["id-card".into()],
        in_center: true,
        warning: None,
        max_extension_days: None,
        suspension_expected_days: None,
    };
    let mut events = vec![event(
        "catalog",
        "2026-03-01T09:00:00+08:00",
        "jiangjin/center",
        EventData::ItemDefined(item),
    )];
    for (case, org) in [(CASE_1, TOWN_1), (CASE_10, TOWN_10)] {
        events.extend(case_events(case, org, FEE_CENTS + 500));
    }
    store.append(events).await.unwrap();
}

/// A case submitted, accepted and charged `fee_cents` at `org` on 2026-03-02.
pub fn case_events(case: &str, org: &str, fee_cents: u64) -> Vec<NewEvent> {
    let submitted = Submitted {
        item: ITEM.into(),
        channel: Channel::Window,
        materials: vec!["id-card".into()],
    };
    vec![
        event(
            case,
            "2026-03-02T09:00:00+08:00",
            org,
            EventData::Submitted(submitted),
        ),
        event(
            case,
            "2026-03-02T09:10:00+08:00",
            org,
            EventData::Accepted(Accepted::default()),
        ),
        event(
            case,
            "2026-03-02T09:20:00+08:00",
            org,
            EventData::FeeCharged(FeeCharged {
                amount_cents: fee_cents,
            }),
        ),
    ]
}

/// The same three events as JSONL lines without actor and org (the token sets them).
pub fn case_jsonl(case: &str, fee_cents: u64) -> String {
    format!(
        "{{\"stream\":\"{case}\",\"type\":\"Submitted\",\"occurred_at\":\"2026-03-02T09:00:00+08:00\",\"data\":{{\"item\":\"{ITEM}\",\"channel\":\"window\",\"materials\":[\"id-card\"]}}}}\n\
         {{\"stream\":\"{case}\",\"type\":\"Accepted\",\"occurred_at\":\"2026-03-02T09:10:00+08:00\",\"data\":{{}}}}\n\
         {{\"stream\":\"{case}\",\"type\":\"FeeCharged\",\"occurred_at\":\"2026-03-02T09:20:00+08:00\",\"data\":{{\"amount_cents\":{fee_cents}}}}}\n"
    )
}

/// One event of an existing case, as JSON, optionally with an org.
pub fn step_json(case: &str, org: Option<&str>) -> String {
    let org = org.map(|o| format!(",\"org\":\"{o}\"")).unwrap_or_default();
    format!(
        "{{\"stream\":\"{case}\",\"type\":\"StepCompleted\",\"occurred_at\":\"2026-03-02T09:30:00+08:00\"{org},\"data\":{{\"step\":\"review\"}}}}"
    )
}

/// One SSE event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    pub event: String,
    pub id: Option<String>,
    pub data: String,
}

impl SseEvent {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.data).unwrap()
    }

    /// The ids of the alerts an `alerts` message raised.
    pub fn raised(&self) -> Vec<String> {
        self.json()["changes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["kind"] == "raised")
            .map(|c| c["alert"]["id"].as_str().unwrap().to_owned())
            .collect()
    }
}

/// A live stream being read.
pub struct Sse {
    body: Body,
    buffer: String,
}

impl Sse {
    /// Opens the stream as `who`, resuming after `last_id` when given.
    pub async fn open(world: &World, who: Who, last_id: Option<&str>) -> Sse {
        let mut request = request("GET", "/api/v1/alerts/stream", who, None, "");
        if let Some(id) = last_id {
            request
                .headers_mut()
                .insert("last-event-id", id.parse().unwrap());
        }
        let response = world.router.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        Sse {
            body: response.into_body(),
            buffer: String::new(),
        }
    }

    /// The next event (comments skipped).
    pub async fn next(&mut self) -> SseEvent {
        tokio::time::timeout(WAIT_MAX, async {
            loop {
                if let Some(end) = self.buffer.find("\n\n") {
                    let block: String = self.buffer.drain(..end + 2).collect();
                    if let Some(event) = parse(&block) {
                        return event;
                    }
                    continue;
                }
                let frame = self
                    .body
                    .frame()
                    .await
                    .expect("the stream goes on")
                    .unwrap();
                if let Ok(data) = frame.into_data() {
                    self.buffer.push_str(&String::from_utf8_lossy(&data));
                }
            }
        })
        .await
        .expect("an event arrives")
    }

    /// The next `alerts` message.
    pub async fn next_alerts(&mut self) -> SseEvent {
        loop {
            let event = self.next().await;
            if event.event == "alerts" {
                return event;
            }
        }
    }
}

fn parse(block: &str) -> Option<SseEvent> {
    let mut event = SseEvent {
        event: "message".into(),
        id: None,
        data: String::new(),
    };
    let mut any = false;
    for line in block.lines() {
        if line.is_empty() || line.starts_with(':') {
            continue;
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        any = true;
        match field {
            "event" => event.event = value.to_owned(),
            "id" => event.id = Some(value.to_owned()),
            "data" => {
                if !event.data.is_empty() {
                    event.data.push('\n');
                }
                event.data.push_str(value);
            }
            _ => {}
        }
    }
    any.then_some(event)
}
