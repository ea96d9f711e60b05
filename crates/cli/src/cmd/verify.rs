//! `jiancha verify`: reads the whole log and checks it against its hash chain — positions
//! without gaps, each event linked to its predecessor, each hash matching its bytes, each
//! event readable — and names the first position that does not hold.

use std::io::Write as _;
use std::sync::Arc;

use jiancha_events::{ChainVerifier, GENESIS_HASH};
use jiancha_store::{Clock, READ_PAGE_EVENTS};

use crate::error::CheckFailed;

/// Arguments of `jiancha verify`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    jiancha verify\n  \
    jiancha --db sqlite://district.db verify\n\n\
    Prints `ok: N events, head <hash>` and exits 0, or names the first bad position and \
    exits 1.")]
pub struct VerifyArgs {}

/// Runs the verification.
pub async fn run(db: &str, clock: Arc<dyn Clock>, _args: &VerifyArgs) -> anyhow::Result<()> {
    let store = crate::open_store(db, clock).await?;
    let head = store.head().await?;
    let bar = crate::progress::bar(Some(head.position), "verify");
    let mut verifier = ChainVerifier::new(0, GENESIS_HASH);
    let mut failure = None;
    'pages: loop {
        let page = store
            .read_raw_after(verifier.last_position(), READ_PAGE_EVENTS)
            .await?;
        if page.is_empty() {
            break;
        }
        for raw in &page {
            if let Err(b) = verifier.check(raw) {
                failure = Some(b.to_string());
                break 'pages;
            }
            if let Err(e) = raw.decode() {
                failure = Some(format!(
                    "{e} (the chain holds, but this build cannot read it)"
                ));
                break 'pages;
            }
        }
        bar.inc(page.len() as u64);
    }
    bar.finish_and_clear();
    store.close().await;
    let mut out = std::io::stdout().lock();
    match failure {
        None => {
            writeln!(
                out,
                "ok: {} events, head {}",
                verifier.checked(),
                verifier.head()
            )?;
            Ok(())
        }
        Some(what) => {
            writeln!(out, "broken at {what}")?;
            writeln!(out, "{} events before it verify", verifier.checked())?;
            Err(anyhow::Error::new(CheckFailed(format!(
                "the log fails verification at {what}"
            ))))
        }
    }
}
