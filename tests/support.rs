//! Running the binary and building input files for the end-to-end tests.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// A command for the binary under test, with no `JIANCHA_*` variables leaking in, nor the
/// locale (which chooses the language of tables for people: English unless a test says).
pub fn jiancha() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_jiancha-under-test"));
    cmd.env_remove("JIANCHA_DB")
        .env_remove("JIANCHA_LOG")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env_remove("LANG");
    cmd
}

/// What a run of the binary did.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

/// The simulator seeds a property test runs: 1 to 3, or 1 to N with `JIANCHA_SEEDS=N`.
pub fn seeds() -> Vec<u64> {
    let n = std::env::var("JIANCHA_SEEDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    (1..=n).collect()
}

/// A scratch directory with its own log.
pub struct Workspace {
    pub dir: tempfile::TempDir,
}

impl Workspace {
    pub fn new() -> Self {
        Workspace {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn db(&self) -> String {
        format!("sqlite://{}", self.path("jiancha.db").display())
    }

    /// Runs `work` on a connection of its own to this log's SQLite file, behind the program's
    /// back.
    fn behind_the_back<T>(&self, work: impl AsyncFnOnce(&mut sqlx::SqliteConnection) -> T) -> T {
        let url = self.db();
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async move {
                use sqlx::Connection;
                let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
                let out = work(&mut conn).await;
                conn.close().await.unwrap();
                out
            })
    }

    /// Applies SQL to the log behind the writer's back, as an intruder with the file would
    /// (dropping every append-only trigger first).
    pub fn tamper(&self, sql: &[&str]) {
        self.behind_the_back(async |conn| {
            for s in [
                "DROP TRIGGER IF EXISTS events_no_update",
                "DROP TRIGGER IF EXISTS events_no_delete",
                "DROP TRIGGER IF EXISTS events_insert_at_head",
                "DROP TRIGGER IF EXISTS events_insert_new",
            ]
            .iter()
            .chain(sql)
            {
                sqlx::query(s).execute(&mut *conn).await.unwrap();
            }
        })
    }

    /// How many rows the log's table holds, read behind the program's back (an export stops
    /// at a row that does not hold).
    pub fn stored_rows(&self) -> i64 {
        self.behind_the_back(async |conn| {
            sqlx::query_scalar("SELECT count(*) FROM events")
                .fetch_one(&mut *conn)
                .await
                .unwrap()
        })
    }

    /// Runs `jiancha --db <this log> ARGS` with `stdin` as standard input.
    pub fn run(&self, args: &[&str], stdin: &str) -> Run {
        self.run_db(&self.db(), args, stdin)
    }

    pub fn run_db(&self, db: &str, args: &[&str], stdin: &str) -> Run {
        self.run_env(db, &[], args, stdin)
    }

    /// Runs `jiancha --db DB ARGS` with the variables `envs` set (`JIANCHA_CLOCK`, say).
    /// Runs `jiancha ARGS` on this workspace's log with the clock frozen at `clock` (the
    /// writer stamps `recorded_at` with it; a debug build honours `JIANCHA_CLOCK`).
    pub fn run_at(&self, clock: &str, args: &[&str], stdin: &str) -> Run {
        self.run_env(&self.db(), &[("JIANCHA_CLOCK", clock)], args, stdin)
    }

    pub fn run_env(&self, db: &str, envs: &[(&str, &str)], args: &[&str], stdin: &str) -> Run {
        let mut command = jiancha();
        command
            .envs(envs.iter().copied())
            .arg("--db")
            .arg(db)
            .args(args)
            .current_dir(self.dir.path());
        with_stdin(command, stdin).into()
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    /// The log's export, or empty when the log is empty.
    pub fn export(&self) -> String {
        // No log file yet is an empty log (reading commands refuse to create one).
        if !self.path("jiancha.db").exists() {
            return String::new();
        }
        let r = self.run(&["export"], "");
        assert_eq!(r.code, 0, "{r:?}");
        r.stdout
    }
}

/// Runs `command` with `stdin` as its standard input and collects its output. The input is
/// written from a thread, so a large answer cannot block the child while it is written.
pub fn with_stdin(mut command: Command, stdin: &str) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let text = stdin.to_owned();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(text.as_bytes());
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

/// One `[[token]]` entry of an auth file, a blank line after it: `name` with `role`, bound to
/// `org` when there is one, the secret `token` kept as its hash.
pub fn token_entry(name: &str, role: &str, org: Option<&str>, token: &str) -> String {
    let mut entry = format!(
        "[[token]]\nname = \"{name}\"\nrole = \"{role}\"\nsha256 = \"{}\"\n",
        jiancha_server::token_hash(token)
    );
    if let Some(org) = org {
        entry.push_str(&format!("org = \"{org}\"\n"));
    }
    entry.push('\n');
    entry
}

/// One interchange line.
pub fn line(stream: &str, ty: &str, at: &str, data: &str) -> String {
    format!(
        r#"{{"stream":"{stream}","type":"{ty}","occurred_at":"{at}","actor":"clerk-1","org":"jiangjin/town-01/window-1","data":{data}}}"#
    )
}

pub fn submitted(case: &str) -> String {
    line(
        case,
        "Submitted",
        "2026-03-02T09:15:00+08:00",
        r#"{"item":"BL-001","channel":"window","materials":["身份证"]}"#,
    )
}

pub fn step(case: &str, name: &str) -> String {
    line(
        case,
        "StepCompleted",
        "2026-03-03T10:00:00+08:00",
        &format!(r#"{{"step":"{name}"}}"#),
    )
}

/// A file of `cases` cases with `steps` steps each, every event with an id.
pub fn big_file(path: &Path, cases: usize, steps: usize) -> usize {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut n = 0;
    for c in 0..cases {
        let case = format!("case-2026-{c:06}");
        let mut lines = vec![submitted(&case)];
        lines.extend((0..steps).map(|s| step(&case, &format!("审查-{s}"))));
        for l in lines {
            let with_id = l.replacen('{', &format!(r#"{{"id":"big-{n}","#), 1);
            writeln!(f, "{with_id}").unwrap();
            n += 1;
        }
    }
    f.flush().unwrap();
    n
}

/// The event catalogue as a client sends it, in two imports: first every example a client may
/// send (the engine's and the commands' own events — `HistoryImported`, `PeriodClosed`,
/// `CardWithdrawn` — are refused as input), with the two cases its events need submitted
/// first; then its appeal, which must name an entry already in the log (`19/rated`: the
/// catalogue's rating, at position 19 behind the two submissions).
pub fn catalogue_input() -> (String, String) {
    let catalogue = include_str!("../events/catalogue/v2.jsonl");
    let mut first = String::new();
    for case in ["case-2026-000124", "case-2026-000125"] {
        first.push_str(&submitted(case));
        first.push('\n');
    }
    let mut appeal = String::new();
    for l in catalogue.lines() {
        if [
            "HistoryImported",
            "PeriodClosed",
            "CardWithdrawn",
            "NotificationSent",
            "NotificationFailed",
        ]
        .iter()
        .any(|t| l.contains(&format!("\"type\":\"{t}\"")))
        {
            continue;
        }
        if l.contains("\"type\":\"AppealUpheld\"") {
            appeal.push_str(l);
            appeal.push('\n');
        } else {
            first.push_str(l);
            first.push('\n');
        }
    }
    (first, appeal)
}

/// The sample district, `examples/district.jsonl`.
pub fn sample_district() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/district.jsonl"
    ))
    .unwrap()
}
