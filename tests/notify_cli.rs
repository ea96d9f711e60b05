//! Notifications through the real binary: `jiancha serve --notify` killed between a webhook's
//! POST and its record delivers it again after the restart under the same notification id,
//! records it once, and sends nothing on a further restart; a bad notification file stops
//! `serve` before it listens, naming the recipient and the field.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use crate::server_api::{case_jsonl, Served, WAIT_MAX};
use crate::support::{jiancha, Workspace};

const CLOCK: &str = "2026-03-02T10:00:00+08:00";
const ITEM_JSONL: &str = r#"{"stream":"catalog","type":"ItemDefined","occurred_at":"2026-03-01T09:00:00+08:00","data":{"code":"permit-01","name":"许可","org":"jiangjin/center/dept-03","statutory_days":5,"promised_days":2,"fee_cents":1000,"steps":["审查","决定"],"required_materials":["身份证"],"in_center":true}}"#;

/// One POST the receiver read.
#[derive(Debug, Clone)]
struct Post {
    headers: BTreeMap<String, String>,
    body: Vec<u8>,
}

/// A webhook receiver on 127.0.0.1, written on plain sockets: it holds the first POST
/// unanswered (and tells the test it came), and answers every later one 200.
struct Receiver {
    port: u16,
    posts: Arc<Mutex<Vec<Post>>>,
    first: mpsc::Receiver<()>,
}

impl Receiver {
    fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let posts = Arc::new(Mutex::new(Vec::new()));
        let (told, first) = mpsc::channel();
        let kept = posts.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (posts, told) = (kept.clone(), told.clone());
                std::thread::spawn(move || serve(stream, &posts, &told));
            }
        });
        Receiver { port, posts, first }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook", self.port)
    }

    fn posts(&self) -> Vec<Post> {
        self.posts.lock().unwrap().clone()
    }
}

/// Reads one request; holds the first POST of all unanswered, answers the others 200.
fn serve(stream: TcpStream, posts: &Mutex<Vec<Post>>, told: &mpsc::Sender<()>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut stream = stream;
    let mut headers = BTreeMap::new();
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).unwrap_or(0) == 0 {
            return;
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
        }
    }
    let length: usize = headers
        .get("content-length")
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let count = {
        let mut posts = posts.lock().unwrap();
        posts.push(Post { headers, body });
        posts.len()
    };
    if count == 1 {
        let _ = told.send(());
        // Never answered: the engine is killed while it waits; the read ends with it.
        let _ = reader.read(&mut [0; 1]);
        return;
    }
    let answer = "HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";
    let _ = stream.write_all(answer.as_bytes());
}

const ENV: &[(&str, &str)] = &[
    ("JIANCHA_CLOCK", CLOCK),
    ("JIANCHA_LOG", "warn,jiancha_server::notify=info"),
];

/// Serves the workspace's log with notifications on.
fn serve_notify(ws: &Workspace, file: &str) -> Served {
    Served::start_with(&ws.db(), ENV, &["--notify", file])
}

/// The notification records in the log.
fn records(ws: &Workspace) -> Vec<serde_json::Value> {
    ws.export()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|e| {
            matches!(
                e["type"].as_str(),
                Some("NotificationSent" | "NotificationFailed")
            )
        })
        .collect()
}

fn poll<T>(what: &str, served: &Served, mut f: impl FnMut() -> Option<T>) -> T {
    let started = Instant::now();
    loop {
        if let Some(t) = f() {
            return t;
        }
        assert!(
            started.elapsed() < WAIT_MAX,
            "timed out waiting for {what}: {}",
            served.stderr()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn an_engine_killed_between_post_and_record_delivers_again_under_the_same_id_and_records_once() {
    let ws = Workspace::new();
    // The interchange format names the actor (the server sets it from the token).
    let input = format!(
        "{ITEM_JSONL}\n{}\n",
        case_jsonl("case-n1", "jiangjin/town-1", 1500)
    )
    .replace(r#""occurred_at""#, r#""actor":"clerk-1","occurred_at""#)
    .replace(
        r#""data":{"code""#,
        r#""org":"jiangjin/center","data":{"code""#,
    );
    let imported = ws.run_at(CLOCK, &["import"], &input);
    assert_eq!(imported.code, 0, "{imported:?}");
    let hook = Receiver::start();
    let file = ws.write(
        "notify.toml",
        &format!(
            "[delivery]\nfirst_retry_ms = 50\nretry_max_ms = 200\ntimeout_ms = 60000\n\n\
             [[recipient]]\nname = \"town-1 leader\"\norg = \"jiangjin/town-1\"\n\
             webhook = \"{}\"\nsecret = \"s\"\n",
            hook.url()
        ),
    );
    let file = file.to_str().unwrap();
    let id = "case-n1/fee.mismatch/1/town-1 leader";

    // The first engine posts, and is killed before the answer comes (so before its record).
    let first = serve_notify(&ws, file);
    hook.first
        .recv_timeout(WAIT_MAX)
        .unwrap_or_else(|e| panic!("no POST ({e}): {}", first.stderr()));
    drop(first); // SIGKILL
    assert!(records(&ws).is_empty(), "recorded before the answer");

    // The next one delivers it again, under the same id, and records it.
    let second = serve_notify(&ws, file);
    let recorded = poll("the record", &second, || {
        let r = records(&ws);
        (!r.is_empty()).then_some(r)
    });
    let (status, said) = second.interrupt();
    assert!(status.success(), "{said}");
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    assert_eq!(recorded[0]["type"], "NotificationSent");
    assert_eq!(recorded[0]["data"]["notification"], id);
    assert_eq!(recorded[0]["data"]["attempts"], 1);
    assert_eq!(recorded[0]["actor"], "engine");
    let posts = hook.posts();
    assert_eq!(posts.len(), 2, "one duplicate at most: {posts:?}");
    for post in &posts {
        assert_eq!(post.headers["x-jiancha-notification"], id);
        assert!(post.headers["x-jiancha-signature"].starts_with("sha256="));
        let body: serde_json::Value = serde_json::from_slice(&post.body).unwrap();
        assert_eq!(body["notification"], id);
        // The alert as the engine saw it when it sent (its card may be folded in by then).
        assert_eq!(body["alert"]["id"], "case-n1/fee.mismatch/1");
    }

    // A further restart finds it recorded and sends nothing.
    let third = serve_notify(&ws, file);
    poll("the outbox's first scan", &third, || {
        let said = third.stderr();
        (said.contains("records read recorded=1") && said.contains("owed offered=0")).then_some(())
    });
    let (status, said) = third.interrupt();
    assert!(status.success(), "{said}");
    assert_eq!(hook.posts().len(), 2, "sent again after a further restart");
    assert_eq!(records(&ws).len(), 1);

    // `evidence` lists who was told what and when.
    let evidence = ws.run_at(CLOCK, &["evidence", "case-n1"], "");
    assert_eq!(evidence.code, 0, "{evidence:?}");
    let pack: serde_json::Value = serde_json::from_str(&evidence.stdout).unwrap();
    let told = pack["notifications"].as_array().unwrap();
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0]["notification"], id);
    assert_eq!(told[0]["recipient"], "town-1 leader");
    assert_eq!(told[0]["outcome"], "sent");
    assert_eq!(told[0]["attempts"], 1);
    assert_eq!(told[0]["recorded_at"], recorded[0]["recorded_at"]);
}

#[test]
fn a_bad_notification_file_stops_serve_before_it_listens_naming_the_field() {
    let ws = Workspace::new();
    let cases = [
        (
            "[[recipient]]\nname = \"a\"\norg = \"jiangjin\"\nwebhook = \"nowhere\"\nsecret = \"k\"\n",
            "--notify: the notification file's recipient 1 (\"a\"): webhook: not a URL",
        ),
        (
            "[[recipient]]\nname = \"a\"\norg = \"jiangjin\"\nwebhook = \"http://127.0.0.1/\"\n\
             secret = \"k\"\ncolour = \"red\"\n",
            "recipient 1.colour: unknown field `colour`",
        ),
    ];
    for (text, expected) in cases {
        let file = ws.write("bad.toml", text);
        let mut child = jiancha()
            .env("JIANCHA_CLOCK", CLOCK)
            .args([
                "--db",
                &ws.db(),
                "serve",
                "--addr",
                "127.0.0.1:0",
                "--notify",
            ])
            .arg(&file)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let started = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if started.elapsed() > WAIT_MAX {
                let _ = child.kill();
                panic!("serve accepted a bad notification file: {text}");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        assert_eq!(status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(expected), "{stderr:?} lacks {expected:?}");
        assert!(!stderr.contains("listening"), "{stderr}");
    }
}
