//! `jiancha evidence`: one case's evidence pack for supervision and appeals, built by
//! `jiancha_engine::evidence::pack` (the builder the server's `GET /api/v1/cases/{id}/evidence`
//! shares) and printed as pretty JSON.

use std::io::Write as _;
use std::sync::Arc;

use jiancha_engine::evidence::{self, EvidenceError};
use jiancha_store::Clock;

use crate::cmd::replay;
use crate::error::user_error;

/// Arguments of `jiancha evidence`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    jiancha evidence case-2026-000102 > pack.json\n  \
    jiancha evidence case-2026-000102 --now 2026-04-30 > pack.json\n\n\
    The pack is JSON: events (each as stored, with prev_hash and hash, and whether its hash \
    checks out), the log head, the item definition and alert thresholds in force, the \
    calendar days from the clock start to the due date or conclusion (working or not, and \
    why), the case's state, its cards, its ledger entries and its notifications (who was told \
    what and when: each NotificationSent or NotificationFailed with its recording instant).")]
pub struct EvidenceArgs {
    /// The case stream.
    pub case: String,
    /// The instant of evaluation (RFC 3339, or a date meaning its end); defaults to now.
    #[arg(long)]
    pub now: Option<String>,
}

/// Runs `jiancha evidence`.
pub async fn run(db: &str, clock: Arc<dyn Clock>, args: &EvidenceArgs) -> anyhow::Result<()> {
    let now = replay::parse_now(args.now.as_deref(), &*clock)?;
    let store = crate::open_existing_store(db, clock).await?;
    let pack = evidence::pack(&*store, &args.case, now).await;
    store.close().await;
    let pack = pack.map_err(|e| match e {
        EvidenceError::NoSuchCase { .. } => user_error(e.to_string()),
        EvidenceError::Store(e) => anyhow::Error::new(e),
        EvidenceError::Encode(_) => anyhow::Error::new(e),
    })?;
    let mut out = crate::stdout::lock();
    writeln!(out, "{}", serde_json::to_string_pretty(&pack)?)?;
    Ok(())
}
