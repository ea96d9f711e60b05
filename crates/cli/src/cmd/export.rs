//! `jiancha export`: the log as JSONL, every stored field included, so that importing the
//! export into an empty log reproduces it byte for byte (same hashes).

use std::io::{BufWriter, ErrorKind, Write};
use std::sync::Arc;

use jiancha_events::write_export_line;
use jiancha_store::Clock;

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
    let mut pages = store.raw_pages(args.from.saturating_sub(1));
    let mut line = String::with_capacity(1024);
    let result: anyhow::Result<()> = async {
        while let Some(page) = pages.next().await? {
            for raw in &page {
                line.clear();
                write_export_line(raw, &mut line);
                line.push('\n');
                out.write_all(line.as_bytes())?;
            }
            bar.inc(page.len() as u64);
        }
        out.flush()?;
        Ok(())
    }
    .await;
    bar.finish_and_clear();
    store.close().await;
    match result {
        Err(e) if is_broken_pipe(&e) => Ok(()),
        other => other,
    }
}

/// A reader that stopped reading (`export | head`) is not an error of ours.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.downcast_ref::<std::io::Error>()
        .is_some_and(|io| io.kind() == ErrorKind::BrokenPipe)
}
