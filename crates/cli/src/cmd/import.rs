//! `jiancha import`: append a JSONL file to the log in one transaction.
//!
//! A reader thread parses lines and sends chunks to the store's writer, which plans, hashes
//! and inserts them while the next chunk is parsed. The first bad line aborts the import and
//! nothing of the file is written.
//!
//! `--historical` declares the events history: the input is read once to count its events (a
//! standard input is spooled to a temporary file first), then imported behind the store's
//! `HistoryImported` declaration, which must cover exactly the positions written. Exported
//! lines are taken only into an empty log or with `--moved`.

use std::fs::File;
use std::io::{BufReader, Read, Seek as _, Write as _};
use std::path::PathBuf;
use std::sync::Arc;

use jiancha_events::{read_jsonl, LineError};
use jiancha_store::historical::DECLARATION_TAG;
use jiancha_store::{
    Clock, HistoricalImport, ImportChunk, ImportMode, StoreError, IMPORT_CHUNK_EVENTS,
};
use tokio::sync::mpsc;

use crate::error::user_error;

/// Arguments of `jiancha import`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    jiancha import events.jsonl\n  \
    jiancha simulate --cases 1000 --seed 7 | jiancha import --historical -\n  \
    jiancha export --db sqlite://old.db | jiancha import --db sqlite://new.db\n  \
    jiancha import --historical --reason \"2025 paper records\" records.jsonl\n\n\
    Each line is one event: {\"stream\":\"case-2026-000123\",\"type\":\"Accepted\",\
    \"occurred_at\":\"2026-03-02T09:15:00+08:00\",\"actor\":\"clerk-17\",\
    \"org\":\"jiangjin/town-07/window-2\",\"data\":{}}\n\
    Optional: \"id\" (a retried import skips ids already in the log) and \"expected_version\".\n\
    Lines of an export (with position, recorded_at and hash) are moved as they are, only into \
    an empty log, or with --moved onto this log's head: each must land at its position, link \
    to the head and keep its hash; elsewhere such a line is refused on its `position`.\n\
    On a bad line the command prints `line L: <field>: <what is wrong>`, exits with code 2 \
    and imports nothing.\n\
    --historical declares the events history entered after the fact: a HistoryImported \
    event (actor --actor, default \"import\"; org --org, default the first segment of the \
    first event's org) is written first, covering exactly the imported positions, so they \
    raise no data.backdated and count at their occurred_at. Such an import holds new events \
    only: an id already in the log, or an exported line, is refused (exit 2).")]
pub struct ImportArgs {
    /// The JSONL file; `-` or nothing reads standard input.
    pub file: Option<PathBuf>,
    /// Declare the events history entered after the fact (HistoryImported, written first).
    #[arg(long)]
    pub historical: bool,
    /// Why the history is entered late (with --historical).
    #[arg(long, requires = "historical", value_name = "TEXT")]
    pub reason: Option<String>,
    /// The declaration's actor (with --historical; default "import").
    #[arg(long, requires = "historical")]
    pub actor: Option<String>,
    /// The declaration's org (with --historical; default the first segment of the first
    /// event's org).
    #[arg(long, requires = "historical")]
    pub org: Option<String>,
    /// The file is an export continuing this log (`export --from P` of the log it was
    /// copied from): every line must be an exported one, landing at its position, linked to the
    /// head and with its hash. Without it exported lines go only into an empty log.
    #[arg(long)]
    pub moved: bool,
}

/// The reason of a historical import when none is given.
pub const DEFAULT_HISTORY_REASON: &str = "historical import";
/// The actor of a historical import's declaration when none is given.
pub const DEFAULT_HISTORY_ACTOR: &str = "import";

type Input = (Box<dyn Read + Send>, Option<u64>, String);

fn open_input(file: Option<&PathBuf>) -> anyhow::Result<Input> {
    match file {
        Some(path) if path.as_os_str() != "-" => {
            let name = path.display().to_string();
            let f = File::open(path).map_err(|e| user_error(format!("cannot read {name}: {e}")))?;
            let size = f.metadata().ok().map(|m| m.len());
            Ok((Box::new(f), size, name))
        }
        _ => Ok((Box::new(std::io::stdin()), None, "standard input".into())),
    }
}

/// Whether `db` names a PostgreSQL district whose schema exists already: an import that
/// creates one and is refused drops it again. A SQLite file is never removed (another process
/// may have written to it meanwhile, and a file cannot be taken back from it safely); an empty
/// one holds an empty log, which the roll-up refuses. An answer that cannot be had counts as
/// yes, so that nothing is dropped on a guess.
async fn log_exists(db: &str) -> bool {
    if db.starts_with("postgres://") || db.starts_with("postgresql://") {
        return jiancha_store::postgres::schema_exists(db)
            .await
            .unwrap_or(true);
    }
    true
}

/// Drops the district a refused or empty import created, when it holds no event (checked under
/// a lock of its log): a mistyped district does not linger as an empty one.
async fn undo_creation(db: &str) {
    if let Err(e) = jiancha_store::postgres::drop_empty_district(db).await {
        tracing::warn!(error = %e, "the empty district a refused import created was not dropped");
    }
}

/// Runs the import.
pub async fn run(db: &str, clock: Arc<dyn Clock>, args: &ImportArgs) -> anyhow::Result<()> {
    let (reader, size, name) = open_input(args.file.as_ref())?;
    let (reader, declared) = if args.historical {
        let (file, declared) = tokio::task::spawn_blocking({
            let name = name.clone();
            let (reason, actor, org) = (args.reason.clone(), args.actor.clone(), args.org.clone());
            move || survey(reader, &name, (reason, actor, org))
        })
        .await??;
        (Box::new(file) as Box<dyn Read + Send>, declared)
    } else {
        (reader, None)
    };
    let now = clock.now().timestamp_millis();
    let created = !log_exists(db).await;
    let store = crate::open_store(db, clock).await?;
    let bar = crate::progress::bytes_bar(size, "import");
    let (tx, rx) = mpsc::channel(4);
    let producer = {
        let bar = bar.clone();
        let first = declared.clone().map(ImportChunk::Historical);
        let moved = args.moved;
        tokio::task::spawn_blocking(move || produce(bar.wrap_read(reader), first, tx, (moved, now)))
    };
    let mode = if args.moved {
        ImportMode::Moved
    } else {
        ImportMode::Plain
    };
    // The writer holds the import's transaction open until the input is read and its appeals
    // are checked against the log as it stood before (another connection reads it).
    let finish = async {
        let produced = producer.await?;
        let Some(tx) = produced.tx else {
            return Ok::<_, anyhow::Error>((produced.bad_line.map(|e| e.to_string()), None));
        };
        let refusal = check_appeals(&store, &produced.appeals).await?;
        let last = match &refusal {
            Some(why) => ImportChunk::Abort(why.clone()),
            None => ImportChunk::Commit,
        };
        let _ = tx.send(last).await;
        Ok((refusal, produced.ahead))
    };
    let (result, finished) = tokio::join!(store.import_with(rx, mode), finish);
    let (bad_line, ahead) = finished?;
    store.close().await;
    bar.finish_and_clear();
    // Refused, or nothing in it: a district the import created holds nothing and goes again.
    let nothing = matches!(&result, Ok(o) if o.range.is_none());
    if created && (bad_line.is_some() || result.is_err() || nothing) {
        undo_creation(db).await;
    }
    if let Some(e) = bad_line {
        return Err(refused(&e, &name));
    }
    match result {
        Ok(outcome) => {
            let mut out = crate::stdout::lock();
            match outcome.range {
                Some((a, b)) if declared.is_some() => writeln!(
                    out,
                    "imported {} events (positions {}..{b}) as history, declared at position {a}",
                    outcome.appended.saturating_sub(1),
                    a + 1
                )?,
                Some((a, b)) => writeln!(
                    out,
                    "imported {} events (positions {a}..{b})",
                    outcome.appended
                )?,
                None => writeln!(out, "imported 0 events")?,
            }
            if outcome.duplicates > 0 {
                writeln!(
                    out,
                    "skipped {} events already in the log (same id)",
                    outcome.duplicates
                )?;
            }
            if let Some((count, latest)) = ahead {
                let _ = writeln!(
                    std::io::stderr(),
                    "warning: {count} new events occur after now, the latest at {}: the \
                     answers with no instant count them already, those at an instant (--now) \
                     only from then on (the server refuses such events)",
                    jiancha_events::format_timestamp(&latest)
                );
            }
            Ok(())
        }
        Err(StoreError::Rejected(r)) if r.tag == DECLARATION_TAG => Err(user_error(format!(
            "the historical declaration: --{}: {}; nothing was imported from {name}",
            r.field, r.message
        ))),
        Err(StoreError::Rejected(r)) => Err(refused(
            &format!("line {}: {}: {}", r.tag, r.field, r.message),
            &name,
        )),
        Err(e) => {
            Err(anyhow::Error::new(e)
                .context(format!("importing {name} failed; nothing was imported")))
        }
    }
}

fn refused(line_message: &str, name: &str) -> anyhow::Error {
    let _ = writeln!(std::io::stderr(), "{line_message}");
    user_error(format!("nothing was imported from {name}"))
}

/// The first pass of a historical import: the input in a file that can be read again (standard
/// input spooled to a temporary one), and the declaration — with the exact number of events —
/// or `None` when there are none. A bad line or an exported (moved) line is refused here.
fn survey(
    mut reader: Box<dyn Read + Send>,
    name: &str,
    (reason, actor, org): (Option<String>, Option<String>, Option<String>),
) -> anyhow::Result<(File, Option<HistoricalImport>)> {
    let mut file = tempfile::tempfile()
        .map_err(|e| anyhow::Error::new(e).context("cannot spool the input"))?;
    std::io::copy(&mut reader, &mut file)
        .map_err(|e| user_error(format!("cannot read {name}: {e}")))?;
    file.rewind()?;
    let mut events = 0u64;
    let mut first_org = None;
    for item in read_jsonl(BufReader::with_capacity(1 << 16, &mut file)) {
        let (line, event) = item.map_err(|e| refused(&e.to_string(), name))?;
        if event.moved.is_some() {
            let why = "hash: an exported line keeps its own history: a historical import holds \
                       new events only (import an export without --historical)";
            return Err(refused(&format!("line {line}: {why}"), name));
        }
        // The workflow's limits take effect when recorded: they are never history.
        if matches!(
            event.data,
            jiancha_events::EventData::WorkflowLimitsDefined(_)
        ) {
            let why = "type: WorkflowLimitsDefined takes effect when it is recorded: import it \
                       without --historical";
            return Err(refused(&format!("line {line}: {why}"), name));
        }
        first_org.get_or_insert(event.org);
        events += 1;
    }
    file.rewind()?;
    let Some(first_org) = first_org else {
        return Ok((file, None));
    };
    let root = first_org.split('/').next().unwrap_or_default().to_owned();
    let declared = HistoricalImport {
        events,
        reason: reason.unwrap_or_else(|| DEFAULT_HISTORY_REASON.to_owned()),
        actor: actor.unwrap_or_else(|| DEFAULT_HISTORY_ACTOR.to_owned()),
        org: org.unwrap_or(root),
    };
    Ok((file, Some(declared)))
}

/// What reading the input found: the first bad line (after which an abort was sent), the
/// appeals to check before the commit, and the sender to commit with (`None` once the import
/// is over: refused, or aborted).
struct Produced {
    bad_line: Option<LineError>,
    appeals: Vec<(u64, String, Option<String>, i64)>,
    tx: Option<mpsc::Sender<ImportChunk>>,
    /// The new events dated after the clock's reading (beyond
    /// [`jiancha_events::time::AHEAD_MAX_MILLIS`]): how many, and the latest instant.
    ahead: Option<(u64, jiancha_events::Timestamp)>,
}

impl Produced {
    fn over(bad_line: Option<LineError>) -> Produced {
        Produced {
            bad_line,
            appeals: Vec::new(),
            tx: None,
            ahead: None,
        }
    }
}

/// An appeal must name a card or rating entry the log holds before the import (rules v2);
/// returns why the first one that does not is refused.
async fn check_appeals(
    store: &Arc<dyn jiancha_store::EventStore>,
    appeals: &[(u64, String, Option<String>, i64)],
) -> anyhow::Result<Option<String>> {
    if appeals.is_empty() {
        return Ok(None);
    }
    let p = super::replay::assessment(store, jiancha_projections::Millis::MAX, Default::default())
        .await?;
    let checked = p.check_appeal_batch(
        appeals
            .iter()
            .map(|(_, entry, case, at)| (entry.as_str(), case.as_deref(), *at)),
    );
    Ok(checked.err().map(|(i, field, why)| {
        let line = appeals.get(i).map_or(0, |a| a.0);
        format!("line {line}: {field}: {why}")
    }))
}

/// Parses the input into chunks, after `first` (a historical declaration) if any. The commit
/// is left to the caller (see [`Produced`]).
fn produce<R: std::io::Read>(
    reader: R,
    first: Option<ImportChunk>,
    tx: mpsc::Sender<ImportChunk>,
    (moved_only, now): (bool, i64),
) -> Produced {
    let mut ahead: Option<(u64, jiancha_events::Timestamp)> = None;
    let later = now.saturating_add(jiancha_events::time::AHEAD_MAX_MILLIS);
    if let Some(first) = first {
        if tx.blocking_send(first).is_err() {
            return Produced::over(None);
        }
    }
    let mut appeals = Vec::new();
    let reader = BufReader::with_capacity(1 << 16, reader);
    let mut chunk = Vec::with_capacity(IMPORT_CHUNK_EVENTS);
    for item in read_jsonl(reader) {
        let item = item.and_then(|(line, event)| {
            if moved_only && event.moved.is_none() {
                return Err(LineError {
                    line,
                    field: "hash".into(),
                    message: "missing: import --moved takes exported lines only".into(),
                });
            }

            Ok((line, event))
        });
        match item {
            Ok((line, event)) => {
                // A moved (exported) appeal was checked in its own log, against entries it
                // may bring along in the same import.
                if let (jiancha_events::EventData::AppealUpheld(a), None) =
                    (&event.data, &event.moved)
                {
                    appeals.push((
                        line as u64,
                        a.entry.clone(),
                        a.case.clone(),
                        event.occurred_at.timestamp_millis(),
                    ));
                }
                if event.moved.is_none() && event.occurred_at.timestamp_millis() > later {
                    let (count, latest) = ahead.get_or_insert((0, event.occurred_at));
                    *count += 1;
                    *latest = (*latest).max(event.occurred_at);
                }
                chunk.push((line as u64, event));
                if chunk.len() == IMPORT_CHUNK_EVENTS {
                    let full =
                        std::mem::replace(&mut chunk, Vec::with_capacity(IMPORT_CHUNK_EVENTS));
                    if tx.blocking_send(ImportChunk::Events(full)).is_err() {
                        // The writer refused an earlier chunk; its answer says why.
                        return Produced::over(None);
                    }
                }
            }
            Err(e) => {
                let _ = tx.blocking_send(ImportChunk::Abort(e.to_string()));
                return Produced::over(Some(e));
            }
        }
    }
    if !chunk.is_empty() && tx.blocking_send(ImportChunk::Events(chunk)).is_err() {
        return Produced::over(None);
    }
    Produced {
        bad_line: None,
        appeals,
        tx: Some(tx),
        ahead,
    }
}
