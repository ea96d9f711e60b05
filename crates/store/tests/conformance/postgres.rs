//! PostgreSQL only: fresh schemas for the shared checks, and what only a shared server can show
//! — eight writers in each of two processes with a follower in a third, a writer killed with
//! its transaction open, wake-ups across processes, COPY's escapes, the append-only triggers.
//!
//! The other processes are this test binary run again with `--exact postgres::child` and the
//! role in `JIANCHA_TEST_PG_CHILD`: real processes with their own store, writer task and
//! connections, without a helper binary to build. Run without that variable, `child` does
//! nothing.

use std::collections::{BTreeMap, HashSet};
use std::hash::{BuildHasher, Hasher};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use jiancha_events::{ChainVerifier, NewEvent, RawEvent, StoredEvent, GENESIS_HASH};
use jiancha_store::{subscribe, EventStore, ImportChunk, ManualClock, StoreError};
use sqlx::{Connection, PgConnection};
use tokio::sync::mpsc;

use crate::checks::{all_raw, case_with_ids, step, submitted};

const CHILD_ROLE: &str = "JIANCHA_TEST_PG_CHILD";
const CHILD_URL: &str = "JIANCHA_TEST_PG_CHILD_URL";

/// The longest any wait here may take before the test fails instead of hanging.
const WAIT_MAX: Duration = Duration::from_secs(120);

/// Appends per writer task (every fifth a batch of three).
const APPENDS_PER_TASK: i64 = 60;
const BATCH_EVERY: i64 = 5;
const BATCH_EVENTS: i64 = 3;
const TASKS_PER_PROCESS: i64 = 8;
/// Tasks of each process appending to the one stream all processes share; the others have a
/// stream each.
const SHARED_TASKS: i64 = 4;

/// Events one writer process appends.
fn process_events() -> usize {
    let batches = APPENDS_PER_TASK / BATCH_EVERY;
    let per_task = APPENDS_PER_TASK - batches + batches * BATCH_EVENTS;
    ((TASKS_PER_PROCESS - SHARED_TASKS) + TASKS_PER_PROCESS * per_task) as usize
}

/// Chunks the killed importer sends before it stops, of this many events each.
const HOLD_CHUNKS: usize = 4;
const HOLD_CHUNK_EVENTS: usize = 1_000;

fn base_url() -> String {
    std::env::var("JIANCHA_TEST_PG").unwrap_or_else(|_| crate::PG_DEFAULT.to_owned())
}

/// The URL of a log in `schema` of the test database.
fn url_in(schema: &str) -> String {
    let base = base_url();
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}options=-c%20search_path%3D{schema}")
}

async fn connect(url: &str) -> PgConnection {
    match PgConnection::connect(url).await {
        Ok(c) => c,
        Err(e) => panic!(
            "PostgreSQL at {url} is unreachable ({e}). The PostgreSQL tests need a server: \
             start one (.ci/run does) or point JIANCHA_TEST_PG at one; they never skip."
        ),
    }
}

/// A fresh schema of the test database, dropped with everything in it when this is dropped.
#[derive(Debug)]
pub struct Schema {
    name: String,
}

impl Schema {
    pub async fn create() -> Schema {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let random = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish();
        let name = format!(
            "jiancha_test_{}_{}_{:x}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            random & 0xffff_ffff
        );
        let mut conn = connect(&base_url()).await;
        sqlx::raw_sql(&format!("CREATE SCHEMA {name}"))
            .execute(&mut conn)
            .await
            .unwrap();
        Schema { name }
    }

    pub fn url(&self) -> String {
        url_in(&self.name)
    }

    /// A connection of our own into the schema, beside the store's.
    async fn admin(&self) -> PgConnection {
        connect(&self.url()).await
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        let sql = format!(
            "SET lock_timeout = '10s'; DROP SCHEMA IF EXISTS {} CASCADE",
            self.name
        );
        // A thread of its own: this may run inside the test's runtime.
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let mut conn = PgConnection::connect(&base_url()).await.ok()?;
                sqlx::raw_sql(&sql).execute(&mut conn).await.ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(_))) {
            eprintln!("could not drop test schema {}", self.name);
        }
    }
}

/// A fresh log holding a submitted case and one step.
async fn log_of_two() -> crate::Fixture {
    let f = crate::postgres().await;
    f.store
        .append(vec![submitted("case-a"), step("case-a", 1)])
        .await
        .unwrap();
    f
}

async fn open(url: &str) -> Arc<dyn EventStore> {
    let clock = ManualClock::new(crate::start_instant());
    jiancha_store::open(url, Arc::new(clock)).await.unwrap()
}

/// This binary run again as a child process in `role`.
fn spawn_child(role: &str, url: &str) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "postgres::child",
            "--exact",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(CHILD_ROLE, role)
        .env(CHILD_URL, url)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

/// The child process's work; nothing when run as an ordinary test.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn child() {
    let (Ok(role), Ok(url)) = (std::env::var(CHILD_ROLE), std::env::var(CHILD_URL)) else {
        return;
    };
    match role.split_once(':').unwrap_or((&role, "")) {
        ("writers", n) => writers(&url, n.parse().unwrap()).await,
        ("hold", _) => hold(&url).await,
        _ => panic!("unknown child role {role:?}"),
    }
}

/// Eight tasks appending single events and batches: half to the stream every process shares,
/// half to a stream of their own.
async fn writers(url: &str, process: i64) {
    let store = open(url).await;
    let mut tasks = Vec::new();
    for t in 0..TASKS_PER_PROCESS {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let actor = format!("p{process}-t{t}");
            let case = if t < SHARED_TASKS {
                "case-shared".to_owned()
            } else {
                let case = format!("case-{actor}");
                store.append(vec![submitted(&case)]).await.unwrap();
                case
            };
            for i in 0..APPENDS_PER_TASK {
                let size = if i % BATCH_EVERY == 0 {
                    BATCH_EVENTS
                } else {
                    1
                };
                let batch = (0..size)
                    .map(|k| {
                        let mut ev = step(&case, (i * BATCH_EVENTS + k) * 10);
                        ev.actor = actor.clone();
                        ev.org = format!("jiangjin/town-01/batch-{process}-{t}-{i}");
                        ev
                    })
                    .collect();
                store.append(batch).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    store.close().await;
}

/// Events for the killed importer, every one with an id.
fn held_chunk(c: usize) -> Vec<(u64, NewEvent)> {
    let case = format!("case-held-{c}");
    case_with_ids(&case, &format!("held-{c}"), HOLD_CHUNK_EVENTS as i64)
        .into_iter()
        .enumerate()
        .map(|(i, ev)| ((c * HOLD_CHUNK_EVENTS + i) as u64, ev))
        .collect()
}

/// Sends an import's chunks, then keeps its transaction open until the parent kills us.
async fn hold(url: &str) {
    let store = open(url).await;
    let (tx, rx) = mpsc::channel(1);
    let import = tokio::spawn({
        let store = store.clone();
        async move { store.import(rx).await }
    });
    for c in 0..HOLD_CHUNKS {
        tx.send(ImportChunk::Events(held_chunk(c))).await.unwrap();
    }
    println!("holding");
    std::io::stdout().flush().unwrap();
    tokio::time::sleep(WAIT_MAX).await;
    drop(tx);
    let _ = import.await;
}

/// Follows the log from the start until `expected` events came, each the one after the last.
async fn follow(store: Arc<dyn EventStore>, expected: usize) -> Vec<StoredEvent> {
    let mut stream = Box::pin(subscribe(store, 0));
    let mut seen: Vec<StoredEvent> = Vec::with_capacity(expected);
    while seen.len() < expected {
        let next = tokio::time::timeout(WAIT_MAX, stream.next())
            .await
            .expect("the follower is woken")
            .unwrap()
            .unwrap();
        let want = seen.last().map_or(1, |e| e.position + 1);
        assert_eq!(next.position, want, "the follower never skips a position");
        seen.push(next);
    }
    seen
}

async fn wait_child(child: Child) -> std::process::Output {
    tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap()
}

fn verify_chain(raws: &[RawEvent]) {
    let mut verifier = ChainVerifier::new(0, GENESIS_HASH);
    for r in raws {
        verifier.check(r).unwrap();
    }
}

/// Each transaction's events sit together, and transactions follow each other in position
/// order: the ids of the writing transactions never go down along the log.
async fn assert_commit_order(admin: &mut PgConnection) {
    let xids: Vec<(i64, i64)> =
        sqlx::query_as("SELECT position, xid::text::int8 FROM events ORDER BY position")
            .fetch_all(&mut *admin)
            .await
            .unwrap();
    for w in xids.windows(2) {
        assert!(
            w[0].1 <= w[1].1,
            "position {} was written by transaction {} after {} by {}",
            w[1].0,
            w[1].1,
            w[0].0,
            w[0].1
        );
    }
    let transactions: HashSet<i64> = xids.iter().map(|(_, x)| *x).collect();
    assert!(transactions.len() > 1);
}

/// Per stream versions 1, 2, …; per task its steps in its own order; each batch contiguous.
fn assert_streams_tasks_and_batches(raws: &[RawEvent]) {
    let mut versions: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    let mut steps: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    let mut batches: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    for r in raws {
        versions.entry(&r.stream).or_default().push(r.version);
        if r.event_type == "StepCompleted" {
            let v: serde_json::Value = serde_json::from_str(&r.data).unwrap();
            let n: i64 = v["step"].as_str().unwrap()[5..].parse().unwrap();
            steps.entry(&r.actor).or_default().push(n);
            batches.entry(&r.org).or_default().push(r.position);
        }
    }
    for (s, v) in versions {
        assert!(v.iter().zip(1..).all(|(a, b)| *a == b), "{s}: {v:?}");
    }
    assert_eq!(steps.len(), 2 * TASKS_PER_PROCESS as usize);
    for (t, s) in steps {
        assert!(s.windows(2).all(|w| w[0] < w[1]), "{t} in its own order");
    }
    for (b, p) in batches {
        assert!(p.windows(2).all(|w| w[1] == w[0] + 1), "batch {b}: {p:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_writers_in_each_of_two_processes_and_a_follower_in_a_third() {
    let f = crate::postgres().await;
    let schema = f._schema.as_ref().unwrap();
    let store = f.store.clone();
    store.append(vec![submitted("case-shared")]).await.unwrap();
    let expected = 1 + 2 * process_events();
    let follower = tokio::spawn(follow(store.clone(), expected));
    let children: Vec<Child> = (0..2)
        .map(|p| spawn_child(&format!("writers:{p}"), &schema.url()))
        .collect();
    for child in children {
        let out = wait_child(child).await;
        assert!(out.status.success(), "a writer process failed: {out:?}");
    }
    let seen = follower.await.unwrap();
    let raws = all_raw(&*store).await;
    assert_eq!(raws.len(), expected, "nothing lost, nothing extra");
    let ids: HashSet<&str> = raws.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids.len(), expected, "no event twice");
    for (s, r) in seen.iter().zip(&raws) {
        assert_eq!((s.position, &s.id, s.hash), (r.position, &r.id, r.hash));
    }
    verify_chain(&raws);
    assert_streams_tasks_and_batches(&raws);
    assert_commit_order(&mut schema.admin().await).await;
}

/// Whether a transaction holding the log's lock has written rows (has a transaction id).
async fn lock_held_with_writes(admin: &mut PgConnection) -> bool {
    let n: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
         WHERE l.locktype = 'advisory' AND l.granted AND l.objid = 'events'::regclass::oid \
         AND a.backend_xid IS NOT NULL",
    )
    .fetch_one(&mut *admin)
    .await
    .unwrap();
    n > 0
}

/// Reads the child's standard output until a line ends with `line` (the test harness writes
/// the test's name before it on the same line).
async fn wait_for_line(child: &mut Child, line: &'static str) {
    let stdout = child.stdout.take().unwrap();
    tokio::task::spawn_blocking(move || {
        let found = BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .any(|l| l.ends_with(line));
        assert!(found, "the child never said {line:?}");
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_killed_mid_transaction_leaves_no_partial_batch_and_no_gap() {
    let f = crate::postgres().await;
    let schema = f._schema.as_ref().unwrap();
    let store = f.store.clone();
    store
        .append(vec![
            submitted("case-a"),
            step("case-a", 1),
            step("case-a", 2),
        ])
        .await
        .unwrap();
    let follower = tokio::spawn(follow(store.clone(), 4));
    let mut child = spawn_child("hold", &schema.url());
    wait_for_line(&mut child, "holding").await;
    let mut admin = schema.admin().await;
    tokio::time::timeout(WAIT_MAX, async {
        while !lock_held_with_writes(&mut admin).await {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the child's import holds the lock with rows written");
    // An append now waits for the lock the child's open transaction holds.
    let blocked = tokio::spawn({
        let store = store.clone();
        async move { store.append(vec![step("case-a", 3)]).await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!blocked.is_finished(), "the append waits for the writer");
    child.kill().unwrap(); // SIGKILL
    let _ = wait_child(child).await;
    let outcome = tokio::time::timeout(WAIT_MAX, blocked)
        .await
        .expect("the lock is freed when the writer dies")
        .unwrap()
        .unwrap();
    assert_eq!(
        outcome.positions,
        vec![4],
        "the dead writer's positions are reused"
    );
    let raws = all_raw(&*store).await;
    assert_eq!(raws.len(), 4, "nothing of the killed import is visible");
    assert!(raws.iter().all(|r| !r.id.starts_with("held-")));
    verify_chain(&raws);
    let seen = follower.await.unwrap();
    assert_eq!(
        seen.iter().map(|e| e.position).collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
    // The killed import's ids are free: importing its first chunk now lands right after.
    let (tx, rx) = mpsc::channel(2);
    tx.send(ImportChunk::Events(held_chunk(0))).await.unwrap();
    tx.send(ImportChunk::Commit).await.unwrap();
    let imported = store.import(rx).await.unwrap();
    assert_eq!(imported.range, Some((5, 4 + HOLD_CHUNK_EVENTS as u64)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_of_another_process_wakes_followers_before_they_poll() {
    let f = crate::postgres().await;
    let schema = f._schema.as_ref().unwrap();
    // Another store on the same schema has its own writer, connections and listener, as
    // another process would.
    let other = open(&schema.url()).await;
    let mut committed = f.store.committed();
    other.append(vec![submitted("case-a")]).await.unwrap();
    let mut woken = false;
    for n in 1..=20 {
        // The listener connects in the background; a commit before it listens is missed.
        other.append(vec![step("case-a", n)]).await.unwrap();
        if tokio::time::timeout(Duration::from_secs(1), committed.changed())
            .await
            .is_ok()
        {
            woken = true;
            break;
        }
    }
    assert!(
        woken,
        "a notification moved committed() without a commit here"
    );
    // The notifications carry the new head. (A `Ref` of the watch is never held across an
    // await: the listener would block on it.)
    let head = other.head().await.unwrap().position;
    let reached = tokio::time::timeout(WAIT_MAX, committed.wait_for(|p| *p >= head))
        .await
        .expect("the last notification arrives")
        .map(|p| *p)
        .unwrap();
    assert_eq!(reached, head);
}

/// Data texts with what COPY's text format treats specially: tab, newline and carriage return
/// between JSON tokens, and backslash sequences (`\n`, `\\`, `\N`, `\.`) inside strings.
fn awkward(case: &str, n: i64) -> NewEvent {
    let mut ev = step(case, n);
    ev.data_json =
        format!("{{\n\t\"step\" :\r\n \"step-{n} \\\\ \\n \\t \\\\N \\\\. 审查\\r\"\t}}");
    ev
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_and_unnest_keep_every_byte() {
    let f = crate::postgres().await;
    let s = &*f.store;
    // Appends go through UNNEST.
    s.append(vec![submitted("case-a"), awkward("case-a", 1)])
        .await
        .unwrap();
    // Imports through COPY.
    let (tx, rx) = mpsc::channel(2);
    let chunk = (2..6).map(|n| (n as u64, awkward("case-a", n))).collect();
    tx.send(ImportChunk::Events(chunk)).await.unwrap();
    tx.send(ImportChunk::Commit).await.unwrap();
    s.import(rx).await.unwrap();
    let raws = all_raw(s).await;
    assert_eq!(raws.len(), 6);
    for r in &raws[1..] {
        let n: i64 = (r.position - 1) as i64;
        assert_eq!(
            r.data,
            awkward("case-a", n).data_json,
            "position {}",
            r.position
        );
    }
    verify_chain(&raws);
    let decoded = s.read_after(0, 10).await.unwrap();
    assert_eq!(decoded.len(), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_refuses_update_delete_and_truncate() {
    let f = crate::postgres().await;
    let schema = f._schema.as_ref().unwrap();
    f.store.append(vec![submitted("case-a")]).await.unwrap();
    let mut admin = schema.admin().await;
    for sql in [
        "UPDATE events SET actor = 'someone-else'",
        "DELETE FROM events",
        "TRUNCATE events",
    ] {
        let e = sqlx::query(sql).execute(&mut admin).await.unwrap_err();
        assert!(e.to_string().contains("append-only"), "{sql}: {e}");
    }
    assert_eq!(all_raw(&*f.store).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_head_stops_appends() {
    let f = log_of_two().await;
    let schema = f._schema.as_ref().unwrap();
    let mut admin = schema.admin().await;
    for sql in [
        "ALTER TABLE events DISABLE TRIGGER events_no_update",
        "UPDATE events SET org = 'jiangjin/elsewhere' WHERE position = 2",
    ] {
        sqlx::query(sql).execute(&mut admin).await.unwrap();
    }
    let e = f.store.append(vec![step("case-a", 2)]).await.unwrap_err();
    assert!(matches!(e, StoreError::ChainBroken(_)), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_schema_is_created_on_open() {
    let schema = Schema::create().await;
    let name = format!("{}_new", schema.name);
    let fresh = Schema { name };
    let store = open(&fresh.url()).await;
    assert_eq!(
        store
            .append(vec![submitted("case-a")])
            .await
            .unwrap()
            .positions,
        [1]
    );
    // A second store on the same URL finds the same log.
    let again = open(&fresh.url()).await;
    assert_eq!(again.head().await.unwrap().position, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_in_two_schemas_are_independent() {
    let a = crate::postgres().await;
    let b = crate::postgres().await;
    a.store.append(vec![submitted("case-a")]).await.unwrap();
    let out = b.store.append(vec![submitted("case-b")]).await.unwrap();
    assert_eq!(out.positions, [1]);
    assert_eq!(all_raw(&*a.store).await[0].stream, "case-a");
}

/// A read replica (here: sessions read-only by default) opens the log without migrating it,
/// serves reads, keeps no snapshot, and refuses appends without writing anything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_replica_serves_reads_and_refuses_appends() {
    let f = log_of_two().await;
    let schema = f._schema.as_ref().unwrap();
    let replica = format!("{}%20-c%20default_transaction_read_only%3Don", schema.url());
    let store = open(&replica).await;
    assert_eq!(all_raw(&*store).await, all_raw(&*f.store).await);
    assert_eq!(store.head().await.unwrap(), f.store.head().await.unwrap());
    store.save_snapshot("ledger", 2, vec![1]).await.unwrap();
    assert_eq!(store.load_snapshot("ledger").await.unwrap(), None);
    let refused = store.append(vec![step("case-a", 2)]).await.unwrap_err();
    assert!(refused.to_string().contains("read-only"), "{refused}");
    assert_eq!(f.store.head().await.unwrap().position, 2);
}

/// The server ends every connection of a store (a restart, an administrator): the next append
/// reconnects and succeeds, and so do reads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_whose_connections_were_ended_reconnects() {
    let f = log_of_two().await;
    let schema = f._schema.as_ref().unwrap();
    let name = format!("jt_{}", schema.name);
    // The URL's name follows the store's own, `jiancha <process> <district tag> <schema>`: its
    // connections are those named by the district's tag.
    let store = open(&format!("{}&application_name={name}", schema.url())).await;
    store.append(vec![step("case-a", 2)]).await.unwrap();
    assert_eq!(store.head().await.unwrap().position, 3);
    let mut admin = schema.admin().await;
    let ended: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE split_part(application_name, ' ', 3) = $1) t",
    )
    .bind(jiancha_store::postgres::district_tag(&schema.name))
    .fetch_one(&mut admin)
    .await
    .unwrap();
    assert!(ended >= 2, "the writer's and a reader's connections");
    let out = store.append(vec![step("case-a", 3)]).await.unwrap();
    assert_eq!(out.positions, [4]);
    assert_eq!(store.head().await.unwrap().position, 4);
    verify_chain(&all_raw(&*store).await);
}
