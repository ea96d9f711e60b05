//! `jiancha export`: the log as JSONL, every stored field included, so that importing the
//! export into an empty log reproduces it byte for byte (same hashes).
//!
//! Every row is checked against the chain as it is written (the check `verify` makes): a row
//! altered outside the program stops the export before it, with exit code 1, instead of
//! handing on a line that `import` would refuse.

use std::io::{BufWriter, ErrorKind, Write};
use std::sync::Arc;

use jiancha_events::ChainBreak;
use jiancha_events::{write_export_line, GENESIS_HASH};
use jiancha_store::verify::walk_while;
use jiancha_store::Clock;

use crate::error::CheckFailed;

/// Arguments of `jiancha export`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    jiancha export > log.jsonl\n  \
    jiancha export --from 1000001 > tail.jsonl\n  \
    jiancha export --db sqlite://district.db | jiancha import --db sqlite://copy.db\n\n\
    Each line carries position, stream, version, id, type, schema, occurred_at, recorded_at, \
    actor, org, data, prev_hash and hash.")]
pub struct ExportArgs {
    /// The first position to write (positions start at 1).
    #[arg(long, default_value_t = 1, value_name = "P")]
    pub from: u64,
}

/// Runs the export.
pub async fn run(db: &str, clock: Arc<dyn Clock>, args: &ExportArgs) -> anyhow::Result<()> {
    let store = crate::open_existing_store(db, clock).await?;
    let head = store.head().await?.position;
    let bar = crate::progress::bar(
        Some(head.saturating_sub(args.from.saturating_sub(1))),
        "export",
    );
    let mut out = BufWriter::with_capacity(1 << 16, crate::stdout::lock());
    let after = args.from.saturating_sub(1);
    // The walk starts at the stored hash of the row before the first one written.
    let anchor = match after {
        0 => GENESIS_HASH,
        p => match store.read_raw_at(p).await {
            Ok(Some(raw)) => raw.hash,
            Ok(None) => GENESIS_HASH,
            Err(e) => {
                store.close().await;
                return Err(e.into());
            }
        },
    };
    // A row is written once the next one checked: a row rewritten with its own hash holds by
    // itself, and only its successor's link names it.
    let mut pending: Option<(u64, String)> = None;
    let mut failed: Option<std::io::Error> = None;
    let walked = walk_while(&*store, after, anchor, |raw, _| {
        let mut line = String::with_capacity(1024);
        write_export_line(raw, &mut line);
        line.push('\n');
        if let Some((_, previous)) = pending.replace((raw.position, line)) {
            if let Err(e) = out.write_all(previous.as_bytes()) {
                failed = Some(e);
                return false;
            }
        }
        bar.inc(1);
        true
    })
    .await;
    let result: anyhow::Result<()> = match (walked, failed) {
        (_, Some(e)) => Err(e.into()),
        (Err(e), None) => Err(e.into()),
        (Ok(walked), None) => finish(&mut out, pending, walked.broken, walked.walk.checked()),
    };
    bar.finish_and_clear();
    store.close().await;
    match result {
        Err(e) if is_broken_pipe(&e) => Ok(()),
        other => other,
    }
}

/// Writes the last row held back, unless the break names it, and says where the log does not
/// hold.
fn finish(
    out: &mut impl Write,
    pending: Option<(u64, String)>,
    broken: Option<ChainBreak>,
    checked: u64,
) -> anyhow::Result<()> {
    let mut written = checked;
    if let Some((position, line)) = pending {
        if broken.as_ref().is_none_or(|b| position < b.position) {
            out.write_all(line.as_bytes())?;
        } else {
            written -= 1;
        }
    }
    out.flush()?;
    match broken {
        None => Ok(()),
        Some(b) => Err(anyhow::Error::new(CheckFailed(format!(
            "the log does not hold at position {}: {}. The {written} lines before it were \
             written; `jiancha verify` tells what the chain holds",
            b.position, b.reason
        )))),
    }
}

/// A reader that stopped reading (`export | head`) is not an error of ours.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.downcast_ref::<std::io::Error>()
        .is_some_and(|io| io.kind() == ErrorKind::BrokenPipe)
}
