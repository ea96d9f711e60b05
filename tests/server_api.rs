//! The HTTP server over a real socket (`127.0.0.1:0`) and a SQLite log: appends, reads, the live
//! stream resumed with `Last-Event-ID` after a disconnect, a refusal on the wire, and a
//! graceful shutdown while a stream is open. Also the helpers other tests share: a server in
//! this process, a `jiancha serve` child process, requests, and a reader of the live stream.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use jiancha_server::{token_hash, App, Auth, ServerConfig};
use jiancha_store::{EventStore, ManualClock};
use tokio::sync::oneshot;

use crate::loopback::{serve_on_loopback, ServerTask};

/// The longest any wait may take before the test fails instead of hanging.
pub const WAIT_MAX: Duration = Duration::from_secs(30);
pub const SUPERVISOR: &str = "e2e-supervisor";
pub const CENTER: &str = "e2e-center";

/// A server listening on loopback over a scratch SQLite log.
pub struct LiveServer {
    pub addr: SocketAddr,
    pub store: Arc<dyn EventStore>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<ServerTask>,
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
        LiveServer::start_with(auth()).await
    }

    /// Starts a server with the tokens of `auth`, which names [`CENTER`]; the clock stands at
    /// 2026-03-02T10:00+08:00 and the catalog holds the item `permit-01`, appended as the center.
    pub async fn start_with(auth: Auth) -> LiveServer {
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
            auth: Some(auth),
            ..ServerConfig::default()
        };
        let app = App::start(store.clone(), Arc::new(clock.clone()), config)
            .await
            .unwrap();
        let (addr, stop, task) = serve_on_loopback(app).await;
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
        post_events(&self.url(""), Some(token), jsonl).await
    }

    /// GETs a JSON document as `token`.
    pub async fn get(&self, token: &str, path: &str) -> (u16, serde_json::Value) {
        get_json(&self.url(path), Some(token)).await
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

/// Appends JSONL to the server at `base` (`http://ADDR`), as `token` or as nobody when the
/// server runs without an auth file: (status, body).
pub async fn post_events(base: &str, token: Option<&str>, jsonl: &str) -> (u16, String) {
    let mut request = reqwest::Client::new()
        .post(format!("{base}/api/v1/events"))
        .header("content-type", "application/x-ndjson")
        .body(jsonl.to_owned());
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// GETs a JSON document, as `token` or as nobody: (status, document).
pub async fn get_json(url: &str, token: Option<&str>) -> (u16, serde_json::Value) {
    let mut request = reqwest::Client::new().get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let bytes = response.bytes().await.unwrap();
    (status, serde_json::from_slice(&bytes).unwrap_or_default())
}

/// An SSE stream read over the wire.
pub struct Stream {
    body: futures::stream::BoxStream<'static, reqwest::Result<Vec<u8>>>,
    buffer: String,
}

/// (event, id, data) of one SSE message.
pub type Message = (String, String, String);

impl Stream {
    async fn open(server: &LiveServer, last_id: Option<&str>) -> Stream {
        Stream::connect(&server.url(""), Some(SUPERVISOR), last_id).await
    }

    /// Opens the live alert stream of the server at `base` (`http://ADDR`), as `token` or as
    /// nobody, resuming after `last_id` when given.
    pub async fn connect(base: &str, token: Option<&str>, last_id: Option<&str>) -> Stream {
        let mut request = reqwest::Client::new().get(format!("{base}/api/v1/alerts/stream"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
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

    /// The next message, `None` when the stream ended; fails the test after [`WAIT_MAX`].
    pub async fn next(&mut self) -> Option<Message> {
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

/// The (kind, alert id) of each change an `alerts` message carries, in order.
pub fn changes(data: &str) -> Vec<(String, String)> {
    let v: serde_json::Value = serde_json::from_str(data).unwrap();
    v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let kind = c["kind"].as_str().unwrap().to_owned();
            (kind, c["alert"]["id"].as_str().unwrap().to_owned())
        })
        .collect()
}

/// The ids of the alerts an `alerts` message raised.
fn raised(data: &str) -> Vec<String> {
    changes(data)
        .into_iter()
        .filter(|(kind, _)| kind == "raised")
        .map(|(_, id)| id)
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
    let ws = crate::support::Workspace::new();
    let refused = ws.run(&["serve", "--addr", "0.0.0.0:0"], "");
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(refused.stderr.contains("loopback"), "{}", refused.stderr);
    let served = Served::start(&ws.db(), &[]);
    let said = served.stderr();
    assert!(said.contains("every request is trusted"), "{said}");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (status, health) = runtime.block_on(get_json(&served.url("/healthz"), None));
    assert_eq!(status, 200);
    assert_eq!(health["ok"], true);
    let (status, said) = served.interrupt();
    assert!(status.success(), "{said}");
    assert!(said.contains("stopped"), "{said}");
}

/// A `jiancha serve` child process on a free loopback port, without an auth file (every
/// request is trusted); killed when dropped. Its standard error is collected as it comes.
pub struct Served {
    child: std::process::Child,
    /// `IP:PORT`, as the process announced it.
    pub addr: String,
    stderr: Arc<std::sync::Mutex<String>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Served {
    /// Starts `jiancha --db DB serve --addr 127.0.0.1:0` with the variables `envs` set, and
    /// waits (at most [`WAIT_MAX`]) for the line that says where it listens.
    pub fn start(db: &str, envs: &[(&str, &str)]) -> Served {
        Served::start_with(db, envs, &[])
    }

    /// As [`Served::start`], with more arguments to `serve` (`--auth FILE`, say).
    pub fn start_with(db: &str, envs: &[(&str, &str)], args: &[&str]) -> Served {
        use std::io::BufRead as _;
        let mut child = crate::support::jiancha()
            .envs(envs.iter().copied())
            .args(["--db", db, "serve", "--addr", "127.0.0.1:0"])
            .args(args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let pipe = std::io::BufReader::new(child.stderr.take().unwrap());
        let stderr = Arc::new(std::sync::Mutex::new(String::new()));
        let (found, listening) = std::sync::mpsc::channel();
        let text = stderr.clone();
        // Reading on to the end keeps the pipe from filling up and blocking the process.
        let reader = std::thread::spawn(move || {
            for line in pipe.lines().map_while(Result::ok) {
                text.lock().unwrap().push_str(&format!("{line}\n"));
                let addr = line.split("http://").nth(1);
                if let Some(addr) = addr.and_then(|rest| rest.split_whitespace().next()) {
                    let _ = found.send(addr.to_owned());
                }
            }
        });
        let mut served = Served {
            child,
            addr: String::new(),
            stderr,
            reader: Some(reader),
        };
        match listening.recv_timeout(WAIT_MAX) {
            Ok(addr) => served.addr = addr,
            Err(e) => panic!(
                "jiancha serve over {db} did not say where it listens ({e}): {}",
                served.stderr()
            ),
        }
        served
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// What the process wrote to standard error so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Sends SIGINT (Ctrl-C) and waits (at most [`WAIT_MAX`]) for the process to end: its
    /// exit status and everything it wrote to standard error.
    pub fn interrupt(mut self) -> (std::process::ExitStatus, String) {
        let interrupted = std::process::Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(interrupted.success());
        let started = std::time::Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                started.elapsed() < WAIT_MAX,
                "jiancha serve did not stop on SIGINT: {}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        if let Some(reader) = self.reader.take() {
            reader.join().unwrap();
        }
        (status, self.stderr())
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        // Already ended after `interrupt`; then both calls only fail.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
