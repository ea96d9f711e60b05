//! `jiancha verify`: reads the log and checks it against its hash chain — positions without
//! gaps, each event linked to its predecessor, each hash matching its bytes, each stream's
//! versions following each other, each event readable — names the first position that does not
//! hold, and prints checkpoint heads (position and hash) for external attestation.

use std::collections::HashMap;
use std::io::Write as _;
use std::sync::Arc;

use jiancha_events::{ChainVerifier, Hash, RawEvent, GENESIS_HASH};
use jiancha_store::{Clock, EventStore, READ_PAGE_EVENTS};

use crate::error::{user_error, CheckFailed};

/// Checkpoint heads printed by default: one every this many positions.
pub const CHECKPOINT_EVERY_DEFAULT: u64 = 100_000;

/// Arguments of `jiancha verify`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    jiancha verify\n  \
    jiancha verify --every 10000 > heads.txt\n  \
    jiancha verify --from 200000 --head 3f5a…   (resume from an attested checkpoint)\n\n\
    Prints `ok: N events, head <hash>` and a line `checkpoint <position> <hash>` every N \
    positions and at the head, then exits 0; or names the first bad position and exits 1. \
    Keep the checkpoint lines somewhere the log's operators cannot change them: an event \
    rewritten together with its hash is caught by its successor's link, but only an attested \
    head catches a rewritten last event.")]
pub struct VerifyArgs {
    /// Start at this checkpoint position: its stored hash (or --head) anchors the chain, and
    /// only what follows it is checked.
    #[arg(long, value_name = "P")]
    pub from: Option<u64>,
    /// The attested hash of the --from position (or, without --from, of the head).
    #[arg(long, value_name = "HASH")]
    pub head: Option<String>,
    /// Print a checkpoint head every N positions.
    #[arg(long, value_name = "N", default_value_t = CHECKPOINT_EVERY_DEFAULT)]
    pub every: u64,
}

/// Where verification starts: after `position`, linking to `hash`.
async fn anchor(store: &dyn EventStore, args: &VerifyArgs) -> anyhow::Result<(u64, Hash)> {
    let attested = match &args.head {
        Some(h) => Some(
            h.parse::<Hash>()
                .map_err(|e| user_error(format!("--head: {e}")))?,
        ),
        None => None,
    };
    let Some(from) = args.from.filter(|p| *p > 0) else {
        return Ok((0, GENESIS_HASH));
    };
    let row = store.read_raw_after(from - 1, 1).await?;
    let Some(raw) = row.first().filter(|r| r.position == from) else {
        return Err(user_error(format!(
            "--from: the log has no event at position {from}"
        )));
    };
    if let Some(h) = attested {
        if h != raw.hash {
            return Err(CheckFailed(format!(
                "position {from}: stored hash {} differs from the attested {h}",
                raw.hash
            ))
            .into());
        }
    }
    Ok((from, raw.hash))
}

struct Walk {
    verifier: ChainVerifier,
    versions: HashMap<String, u64>,
    checkpoints: Vec<(u64, Hash)>,
    every: u64,
}

impl Walk {
    fn check(&mut self, raw: &RawEvent) -> Result<(), String> {
        self.verifier.check(raw).map_err(|b| b.to_string())?;
        let last = self.versions.entry(raw.stream.clone()).or_insert(0);
        // A log verified from a checkpoint does not know the versions before it.
        if *last != 0 && raw.version != *last + 1 {
            return Err(format!(
                "position {}: {} version {} follows version {} of its stream",
                raw.position, raw.stream, raw.version, last
            ));
        }
        *last = raw.version;
        raw.decode()
            .map_err(|e| format!("{e} (the chain holds, but this build cannot read it)"))?;
        if self.every > 0 && raw.position.is_multiple_of(self.every) {
            self.checkpoints.push((raw.position, raw.hash));
        }
        Ok(())
    }
}

/// Runs the verification.
pub async fn run(db: &str, clock: Arc<dyn Clock>, args: &VerifyArgs) -> anyhow::Result<()> {
    let store = crate::open_store(db, clock).await?;
    let head = store.head().await?;
    let (start, anchor_hash) = anchor(&*store, args).await?;
    let bar = crate::progress::bar(Some(head.position.saturating_sub(start)), "verify");
    let mut walk = Walk {
        verifier: ChainVerifier::new(start, anchor_hash),
        versions: HashMap::new(),
        checkpoints: Vec::new(),
        every: args.every,
    };
    let mut failure = None;
    'pages: loop {
        let page = store
            .read_raw_after(walk.verifier.last_position(), READ_PAGE_EVENTS)
            .await?;
        if page.is_empty() {
            break;
        }
        for raw in &page {
            if let Err(what) = walk.check(raw) {
                failure = Some(what);
                break 'pages;
            }
        }
        bar.inc(page.len() as u64);
    }
    bar.finish_and_clear();
    store.close().await;
    report(args, &walk, failure, start)
}

fn report(
    args: &VerifyArgs,
    walk: &Walk,
    failure: Option<String>,
    start: u64,
) -> anyhow::Result<()> {
    let mut out = crate::stdout::lock();
    let v = &walk.verifier;
    if let Some(what) = failure {
        writeln!(out, "broken at {what}")?;
        writeln!(out, "{} events before it verify", v.checked())?;
        return Err(anyhow::Error::new(CheckFailed(format!(
            "the log fails verification at {what}"
        ))));
    }
    if args.from.is_none() {
        if let Some(h) = args.head.as_deref().and_then(|h| h.parse::<Hash>().ok()) {
            if h != v.head() {
                writeln!(
                    out,
                    "broken at position {}: head {} differs from the attested {h}",
                    v.last_position(),
                    v.head()
                )?;
                return Err(CheckFailed("the head differs from the attested one".into()).into());
            }
        }
    }
    writeln!(out, "ok: {} events, head {}", v.checked(), v.head())?;
    if start > 0 {
        writeln!(out, "verified from checkpoint {start}")?;
    }
    for (p, h) in &walk.checkpoints {
        writeln!(out, "checkpoint {p} {h}")?;
    }
    if v.last_position() > 0 && walk.checkpoints.last().map(|c| c.0) != Some(v.last_position()) {
        writeln!(out, "checkpoint {} {}", v.last_position(), v.head())?;
    }
    Ok(())
}
