//! `jiancha import`: append a JSONL file to the log in one transaction.
//!
//! A reader thread parses lines and sends chunks to the store's writer, which plans, hashes
//! and inserts them while the next chunk is parsed. The first bad line aborts the import and
//! nothing of the file is written. Exported lines are taken only into an empty log or with
//! `--moved`.

use std::fs::File;
use std::io::{BufReader, Read, Write as _};
use std::path::PathBuf;
use std::sync::Arc;

use jiancha_events::{read_jsonl, LineError};
use jiancha_store::{Clock, ImportChunk, ImportMode, StoreError, IMPORT_CHUNK_EVENTS};
use tokio::sync::mpsc;

use crate::error::user_error;

/// Arguments of `jiancha import`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    jiancha import events.jsonl\n  \
    jiancha simulate --cases 1000 --seed 7 | jiancha import -\n  \
    jiancha export --db sqlite://old.db | jiancha import --db sqlite://new.db\n\n\
    Each line is one event: {\"stream\":\"case-2026-000123\",\"type\":\"Accepted\",\
    \"occurred_at\":\"2026-03-02T09:15:00+08:00\",\"actor\":\"clerk-17\",\
    \"org\":\"jiangjin/town-07/window-2\",\"data\":{}}\n\
    Optional: \"id\" (a retried import skips ids already in the log) and \"expected_version\".\n\
    Lines of an export (with position, recorded_at and hash) are moved as they are, only into \
    an empty log, or with --moved onto this log's head: each must land at its position, link \
    to the head and keep its hash; elsewhere such a line is refused on its `position`.\n\
    On a bad line the command prints `line L: <field>: <what is wrong>`, exits with code 2 \
    and imports nothing.")]
pub struct ImportArgs {
    /// The JSONL file; `-` or nothing reads standard input.
    pub file: Option<PathBuf>,
    /// The file is an export continuing this log (`export --from P` of the log it was
    /// copied from): every line must be an exported one, landing at its position, linked to the
    /// head and with its hash. Without it exported lines go only into an empty log.
    #[arg(long)]
    pub moved: bool,
}

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

/// Runs the import.
pub async fn run(db: &str, clock: Arc<dyn Clock>, args: &ImportArgs) -> anyhow::Result<()> {
    let (reader, size, name) = open_input(args.file.as_ref())?;
    let store = crate::open_store(db, clock).await?;
    let bar = crate::progress::bytes_bar(size, "import");
    let (tx, rx) = mpsc::channel(4);
    let producer = {
        let bar = bar.clone();
        let moved = args.moved;
        tokio::task::spawn_blocking(move || produce(bar.wrap_read(reader), tx, moved))
    };
    let mode = if args.moved {
        ImportMode::Moved
    } else {
        ImportMode::Plain
    };
    let result = store.import_with(rx, mode).await;
    let bad_line = producer.await?;
    store.close().await;
    bar.finish_and_clear();
    if let Some(e) = bad_line {
        return Err(refused(&e.to_string(), &name));
    }
    match result {
        Ok(outcome) => {
            let mut out = std::io::stdout().lock();
            match outcome.range {
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
            Ok(())
        }
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

/// Parses the input into chunks; returns the first bad line, after which it sends an abort.
fn produce<R: std::io::Read>(
    reader: R,
    tx: mpsc::Sender<ImportChunk>,
    moved_only: bool,
) -> Option<LineError> {
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
                chunk.push((line as u64, event));
                if chunk.len() == IMPORT_CHUNK_EVENTS {
                    let full =
                        std::mem::replace(&mut chunk, Vec::with_capacity(IMPORT_CHUNK_EVENTS));
                    if tx.blocking_send(ImportChunk::Events(full)).is_err() {
                        // The writer refused an earlier chunk; its answer says why.
                        return None;
                    }
                }
            }
            Err(e) => {
                let _ = tx.blocking_send(ImportChunk::Abort(e.to_string()));
                return Some(e);
            }
        }
    }
    if !chunk.is_empty() && tx.blocking_send(ImportChunk::Events(chunk)).is_err() {
        return None;
    }
    let _ = tx.blocking_send(ImportChunk::Commit);
    None
}
