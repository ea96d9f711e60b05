//! `jiancha verify`: reads the log and checks it against its hash chain — positions without
//! gaps, each event linked to its predecessor, each hash matching its stored bytes, each
//! stream's versions following each other, each row readable — names the first position that
//! does not hold, compares every stored snapshot with the fold rebuilt from the log (naming a
//! forged one), rebuilds the case index and compares the stored one with it, and prints
//! checkpoint heads (position and hash) for external attestation.

use std::io::Write as _;
use std::sync::Arc;

use jiancha_engine::verify::{
    verify, CloseVerdict, IndexVerdict, SnapshotVerdict, Verification, VerifyError, VerifyOptions,
};
use jiancha_events::Hash;
use jiancha_store::Clock;

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
    positions and at the head, a line per stored snapshot, one for the case index and one per \
    period's close (whether the figures it keeps hash to its digest), then exits 0; or names \
    the first bad position, a forged snapshot, an index that says less than the log or a \
    close whose kept figures are not the ones its digest fixes, and exits 1. \
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

/// Runs the verification (`jiancha_engine::verify`, the same as `GET /api/v1/verify`).
pub async fn run(db: &str, clock: Arc<dyn Clock>, args: &VerifyArgs) -> anyhow::Result<()> {
    let attested = match &args.head {
        Some(h) => Some(
            h.parse::<Hash>()
                .map_err(|e| user_error(format!("--head: {e}")))?,
        ),
        None => None,
    };
    let store = crate::open_existing_store(db, clock).await?;
    let options = VerifyOptions {
        from: args.from.unwrap_or(0),
        attested,
        every: args.every,
    };
    // A spinner: the walk reports no progress of its own.
    let bar = crate::progress::spinner("verify");
    let result = verify(&*store, options).await;
    bar.finish_and_clear();
    store.close().await;
    match result {
        Ok(v) => report(&v, &crate::shown_url(db)),
        Err(VerifyError::NoSuchPosition(p)) => Err(user_error(format!(
            "--from: the log has no event at position {p}"
        ))),
        Err(VerifyError::Store(e)) => Err(e.into()),
    }
}

/// Prints the verdict on the log `log` (shown without its password: with many districts, the
/// operator reads which one was verified).
fn report(v: &Verification, log: &str) -> anyhow::Result<()> {
    let mut out = crate::stdout::lock();
    if let Some(b) = &v.broken {
        writeln!(out, "broken at {b}")?;
        if v.attested_differs {
            // Every link holds: which event differs from the attested log is not known.
            writeln!(
                out,
                "{} events hold together, but their head is not the attested one (an event \
                 rewritten with its hash, or events missing or added at the end)",
                v.checked
            )?;
        } else {
            writeln!(out, "{} events before it hold", v.checked)?;
        }
        snapshot_lines(&mut out, v)?;
        index_lines(&mut out, v)?;
        close_lines(&mut out, v)?;
        writeln!(out, "log: {log}")?;
        return Err(anyhow::Error::new(CheckFailed(format!(
            "the log {log} fails verification at {b}"
        ))));
    }
    writeln!(out, "ok: {} events, head {}", v.checked, v.head)?;
    if v.start > 0 {
        writeln!(out, "verified from checkpoint {}", v.start)?;
    }
    for (p, h) in &v.checkpoints {
        writeln!(out, "checkpoint {p} {h}")?;
    }
    if v.last_position > 0 && v.checkpoints.last().map(|c| c.0) != Some(v.last_position) {
        writeln!(out, "checkpoint {} {}", v.last_position, v.head)?;
    }
    snapshot_lines(&mut out, v)?;
    index_lines(&mut out, v)?;
    close_lines(&mut out, v)?;
    writeln!(out, "log: {log}")?;
    if let Some((s, _)) = v.forged().next() {
        return Err(CheckFailed(format!(
            "the chain holds, but snapshot {} is forged: it is not the log's fold",
            s.name
        ))
        .into());
    }
    if let Some((c, why)) = v.differing_closes().next() {
        return Err(CheckFailed(format!(
            "the chain holds, but the close of {} at position {} keeps figures its digest does \
             not fix: {why}",
            c.period, c.position
        ))
        .into());
    }
    if let IndexVerdict::Differs(d) = &v.index.verdict {
        return Err(CheckFailed(format!(
            "the chain holds, but the case index at position {} says less than the log in {} \
             places: questions at an instant (--now) may leave cases out; drop its rows to \
             have it rebuilt (README, security), or ask with --replay",
            v.index.position, d.count
        ))
        .into());
    }
    Ok(())
}

/// One line per period's close: `close PERIOD at P: VERDICT`.
fn close_lines(out: &mut impl std::io::Write, v: &Verification) -> std::io::Result<()> {
    for c in &v.closes {
        let verdict = match &c.verdict {
            CloseVerdict::Kept => "figures kept, hashing to its digest".to_owned(),
            CloseVerdict::NotKept => "no figures kept (its digest alone)".to_owned(),
            CloseVerdict::Differs(why) => format!("KEPT FIGURES DIFFER: {why}"),
        };
        writeln!(out, "close {} at {}: {verdict}", c.period, c.position)?;
    }
    Ok(())
}

/// The case index's line (`index at P: VERDICT`), and one line per difference named.
fn index_lines(out: &mut impl std::io::Write, v: &Verification) -> std::io::Result<()> {
    let p = v.index.position;
    match &v.index.verdict {
        IndexVerdict::Absent => writeln!(out, "index: none stored"),
        IndexVerdict::Matches(d) => writeln!(
            out,
            "index at {p}: matches the log ({} rows, {} kept)",
            d.rows, d.kept
        ),
        IndexVerdict::Unchecked(why) => writeln!(out, "index at {p}: not checked: {why}"),
        IndexVerdict::Differs(d) => {
            writeln!(
                out,
                "index at {p}: DIFFERS from the log in {} places ({} rows, {} kept)",
                d.count, d.rows, d.kept
            )?;
            for what in &d.named {
                writeln!(out, "  {what}")?;
            }
            if d.count > d.named.len() {
                writeln!(out, "  … and {} more", d.count - d.named.len())?;
            }
            Ok(())
        }
    }
}

/// One line per stored snapshot: `snapshot NAME at P: VERDICT[: why]`.
fn snapshot_lines(out: &mut impl std::io::Write, v: &Verification) -> std::io::Result<()> {
    for s in &v.snapshots {
        let (word, why) = match &s.verdict {
            SnapshotVerdict::Matches => ("matches the log", None),
            SnapshotVerdict::Forged(why) => ("FORGED", Some(why)),
            SnapshotVerdict::Ignored(why) => ("ignored (never loaded)", Some(why)),
            SnapshotVerdict::Unchecked(why) => ("not checked", Some(why)),
        };
        match why {
            Some(why) => writeln!(out, "snapshot {} at {}: {word}: {why}", s.name, s.position)?,
            None => writeln!(out, "snapshot {} at {}: {word}", s.name, s.position)?,
        }
    }
    Ok(())
}
