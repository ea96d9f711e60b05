//! The HTTP server over a real socket (`127.0.0.1:0`) and a SQLite log: appends, reads, the live
//! stream resumed with `Last-Event-ID` after a disconnect, a refusal on the wire, and a
//! graceful shutdown while a stream is open. Also the helpers the dashboard test shares.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use jiancha_server::{token_hash, App, Auth, ServerConfig};
use jiancha_store::{EventStore, ManualClock};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The longest any wait may take before the test fails instead of hanging.
pub const WAIT_MAX: Duration = Duration::from_secs(30);
pub const SUPERVISOR: &str = "e2e-supervisor";
pub const CENTER: &str = "e2e-center";

/// A server listening on loopback over a scratch SQLite log.
pub struct LiveServer {
    pub addr: SocketAddr,
    pub store: Arc<dyn EventStore>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), jiancha_server::ServerError>>>,
    _dir: tempfile::TempDir,
}

fn auth() -> Auth {
    let text = format!(
        "[[token]]\nname = \"bureau\"\nrole = \"supervisor\"\norg = \"jiangjin/bureau\"\nsha256 = \"{}\"\n\n\
         [[token]]\nname = \"center\"\nrole = \"center\"\norg = \"jiangjin\"\nsha256 = \"{}\"\n",
        token_hash(SUPERVISOR),
        token_hash(CENTER)
    );
    Auth::parse(&text).unwrap()
}

/// The item every case applies for: promised 2, statutory 5 working days, fee 10 yuan.
const ITEM_JSONL: &str = r#"{"stream":"catalog","type":"ItemDefined","occurred_at":"2026-03-01T09:00:00+08:00","data":{"code":"permit-01","name":"许可","org":"jiangjin/center/dept-03","statutory_days":5,"promised_days":2,"fee_cents":1000,"steps":["审查","决定"],"required_materials":["身份证"],"in_center":true}}"#;

/// A case in `org` submitted, accepted and charged `fee_cents` (1000 is right; else a red card).
pub fn case_jsonl(case: &str, org: &str, fee_cents: u64) -> String {
    [
        format!(r#"{{"stream":"{case}","type":"Submitted","occurred_at":"2026-03-02T09:00:00+08:00","org":"{org}","data":{{"item":"permit-01","channel":"window","materials":["身份证"]}}}}"#),
        format!(r#"{{"stream":"{case}","type":"Accepted","occurred_at":"2026-03-02T09:10:00+08:00","org":"{org}","data":{{}}}}"#),
        format!(r#"{{"stream":"{case}","type":"FeeCharged","occurred_at":"2026-03-02T09:20:00+08:00","org":"{org}","data":{{"amount_cents":{fee_cents}}}}}"#),
    ]
    .join("\n")
}

impl LiveServer {
    /// Starts a server with a supervisor and a center token; the clock stands at
    /// 2026-03-02T10:00+08:00.
    pub async fn start() -> LiveServer {
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::new(
            chrono::DateTime::parse_from_rfc3339("2026-03-02T10:00:00+08:00")
                .unwrap()
                .to_utc(),
        );
        let url = format!("sqlite://{}", dir.path().join("jiancha.db").display());
        let store = jiancha_store::open(&url, Arc::new(clock.clone()))
            .await
            .unwrap();
        let config = ServerConfig {
            auth: Some(auth()),
            ..ServerConfig::default()
        };
        let app = App::start(store.clone(), Arc::new(clock.clone()), config)
            .await
            .unwrap();
        let listener = jiancha_server::bind("127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(jiancha_server::run(
            listener,
            async move {
                let _ = stopped.await;
            },
            app,
        ));
        let server = LiveServer {
            addr,
            store,
            stop: Some(stop),
            task: Some(task),
            _dir: dir,
        };
        let answer = server.post(CENTER, ITEM_JSONL).await;
        assert_eq!(answer.0, 201, "{}", answer.1);
        server
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Appends JSONL as `token`: (status, body).
    pub async fn post(&self, token: &str, jsonl: &str) -> (u16, String) {
        let response = reqwest::Client::new()
            .post(self.url("/api/v1/events"))
            .bearer_auth(token)
            .header("content-type", "application/x-ndjson")
            .body(jsonl.to_owned())
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    /// GETs a JSON document as `token`.
    pub async fn get(&self, token: &str, path: &str) -> (u16, serde_json::Value) {
        let response = reqwest::Client::new()
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let bytes = response.bytes().await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap_or_default())
    }

    /// Stops the server and waits for it to end.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(WAIT_MAX, task)
                .await
                .expect("the server stops")
                .unwrap()
                .unwrap();
        }
        self.store.close().await;
    }
}

/// An SSE stream read over the wire.
struct Stream {
    body: futures::stream::BoxStream<'static, reqwest::Result<Vec<u8>>>,
    buffer: String,
}

/// (event, id, data) of one SSE message.
type Message = (String, String, String);

impl Stream {
    async fn open(server: &LiveServer, last_id: Option<&str>) -> Stream {
        let mut request = reqwest::Client::new()
            .get(server.url("/api/v1/alerts/stream"))
            .bearer_auth(SUPERVISOR);
        if let Some(id) = last_id {
            request = request.header("last-event-id", id);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status().as_u16(), 200);
        Stream {
            body: response
                .bytes_stream()
                .map(|r| r.map(|b| b.to_vec()))
                .boxed(),
            buffer: String::new(),
        }
    }

    async fn next(&mut self) -> Option<Message> {
        tokio::time::timeout(WAIT_MAX, async {
            loop {
                if let Some(end) = self.buffer.find("\n\n") {
                    let block: String = self.buffer.drain(..end + 2).collect();
                    let mut m = (String::new(), String::new(), String::new());
                    for line in block.lines() {
                        if let Some(v) = line.strip_prefix("event: ") {
                            m.0 = v.to_owned();
                        } else if let Some(v) = line.strip_prefix("id: ") {
                            m.1 = v.to_owned();
                        } else if let Some(v) = line.strip_prefix("data: ") {
                            m.2 = v.to_owned();
                        }
                    }
                    if !m.0.is_empty() {
                        return Some(m);
                    }
                    continue;
                }
                match self.body.next().await {
                    Some(chunk) => self.buffer.push_str(&String::from_utf8_lossy(&chunk.ok()?)),
                    None => return None,
                }
            }
        })
        .await
        .expect("a message or the end arrives")
    }
}

fn raised(data: &str) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(data).unwrap();
    v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == "raised")
        .map(|c| c["alert"]["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_the_wire_a_stream_resumes_and_the_server_stops_gracefully() {
    let server = LiveServer::start().await;
    let mut stream = Stream::open(&server, None).await;
    assert_eq!(stream.next().await.unwrap().0, "ready");
    let (status, body) = server
        .post(CENTER, &case_jsonl("case-w0", "jiangjin/town-1", 1500))
        .await;
    assert_eq!(status, 201, "{body}");
    let first = stream.next().await.unwrap();
    assert_eq!(first.0, "alerts");
    assert_eq!(raised(&first.2), ["case-w0/fee.mismatch/1"]);
    let fee_position: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(first.1, fee_position["positions"][2].to_string());
    drop(stream);

    for case in ["case-w1", "case-w2"] {
        let (status, body) = server
            .post(CENTER, &case_jsonl(case, "jiangjin/town-1", 1)) // wrong fee
            .await;
        assert_eq!(status, 201, "{body}");
    }
    let mut stream = Stream::open(&server, Some(&first.1)).await;
    let mut got = Vec::new();
    for _ in 0..2 {
        let m = stream.next().await.unwrap();
        assert_eq!(m.0, "alerts");
        got.extend(raised(&m.2));
    }
    assert_eq!(got, ["case-w1/fee.mismatch/1", "case-w2/fee.mismatch/1"]);

    let (status, case) = server.get(SUPERVISOR, "/api/v1/cases/case-w1").await;
    assert_eq!(status, 200);
    assert_eq!(case["org"], "jiangjin/town-1");
    let (status, verify) = server.get(CENTER, "/api/v1/verify").await;
    assert_eq!(status, 200);
    assert_eq!(verify["ok"], true);

    // Stopping ends the open stream and the server.
    server.stop().await;
    assert!(stream.next().await.is_none(), "the stream ends at shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_on_the_wire_append_nothing() {
    let server = LiveServer::start().await;
    let head = server.store.head().await.unwrap().position;
    // A body declared larger than the limit is refused from its headers alone, before the
    // client sends it (as a client waiting on `Expect: 100-continue` would).
    let head_only = format!(
        "POST /api/v1/events HTTP/1.1\r\nhost: {}\r\nauthorization: Bearer {CENTER}\r\n\
         content-type: application/x-ndjson\r\ncontent-length: {}\r\n\r\n",
        server.addr,
        jiancha_server::limits::BODY_BYTES_MAX + 1
    );
    let answer = {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut socket = tokio::net::TcpStream::connect(server.addr).await.unwrap();
        socket.write_all(head_only.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        let _ = tokio::time::timeout(WAIT_MAX, socket.read_to_end(&mut answer)).await;
        String::from_utf8_lossy(&answer).into_owned()
    };
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("larger than"), "{answer}");
    let (status, body) = server.post("wrong-token", ITEM_JSONL).await;
    assert_eq!(status, 401, "{body}");
    let (status, body) = server.post(SUPERVISOR, ITEM_JSONL).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(server.store.head().await.unwrap().position, head);
    server.stop().await;
}

#[test]
fn jiancha_serve_listens_on_loopback_and_stops_on_ctrl_c() {
    use std::io::BufRead as _;
    let ws = crate::support::Workspace::new();
    let refused = ws.run(&["serve", "--addr", "0.0.0.0:0"], "");
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(refused.stderr.contains("loopback"), "{}", refused.stderr);
    let mut child = crate::support::jiancha()
        .args(["--db", &ws.db(), "serve", "--addr", "127.0.0.1:0"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    assert!(line.contains("every request is trusted"), "{line}");
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap()
        .to_owned();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let health = runtime.block_on(async {
        let body = reqwest::get(format!("http://{addr}/healthz"))
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        serde_json::from_slice::<serde_json::Value>(&body).unwrap()
    });
    assert_eq!(health["ok"], true);
    let interrupted = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > WAIT_MAX {
            let _ = child.kill();
            panic!("jiancha serve did not stop on SIGINT");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    assert!(status.success(), "{rest}");
    assert!(rest.contains("stopped"), "{rest}");
}
