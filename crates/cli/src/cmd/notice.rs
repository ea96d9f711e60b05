//! `jiancha notice`: the 监察建议书 (supervision notice) of an escalated card, as a printable
//! HTML page (A4, Chinese) — the page the dashboard serves at `/dashboard/notices/{alert id}`,
//! with its style sheet inlined so the file prints on its own.

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;

use jiancha_server::notice::{self, NoticeError, Style};
use jiancha_store::Clock;

use crate::cmd::replay;
use crate::error::user_error;

/// Arguments of `jiancha notice`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    jiancha notice 'case-2026-000123/supervision.escalated/1' --output notice.html\n  \
    jiancha notice 'case-2026-000123/deadline.promised.overdue/1' > notice.html\n  \
    jiancha notice 'case-2026-000123/supervision.escalated/1' --now 2026-04-30 -o notice.html\n  \
    chromium --headless --no-pdf-header-footer --print-to-pdf=notice.pdf notice.html\n\n\
    ALERT is the escalated alert (supervision.escalated, with escalated_to) or the card it is \
    about. The notice states the case, the facts (its events and the supervision events \
    concerning it, each with its log position and hash), the rules broken with their legal \
    basis, and the correction required with its deadline counted on the case's calendar. An \
    alert that is not escalated has no notice: exit code 2.")]
pub struct NoticeArgs {
    /// The escalated alert's id, or its card's id (`<case>/<rule>/<n>`).
    pub alert: String,
    /// Write the page to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// The instant of evaluation and issue date (RFC 3339, or a date meaning its end);
    /// defaults to now.
    #[arg(long)]
    pub now: Option<String>,
}

/// Runs `jiancha notice`.
pub async fn run(db: &str, clock: Arc<dyn Clock>, args: &NoticeArgs) -> anyhow::Result<()> {
    let Some((case, _, _)) = jiancha_projections::parse_alert_id(&args.alert) else {
        return Err(user_error(
            NoticeError::NotAnAlert(args.alert.clone()).to_string(),
        ));
    };
    let now = replay::parse_now(args.now.as_deref(), &*clock)?;
    let store = crate::open_existing_store(db, clock).await?;
    let explicit = args.now.as_ref().map(|_| now);
    let projections =
        replay::current(&store, explicit, jiancha_projections::Scoring::default()).await;
    let events = replay::case_events(&store, &case).await;
    store.close().await;
    let (projections, events) = (projections?, events?);
    let notice = notice::gather(&projections, &events, &args.alert, now)
        .map_err(|e| user_error(e.to_string()))?;
    let html = notice::render(&notice, Style::Inline);
    match &args.output {
        Some(path) => crate::output::write("--output", path, html.as_bytes())?,
        None => {
            let mut out = crate::stdout::lock();
            out.write_all(html.as_bytes())?;
            out.flush()?;
        }
    }
    Ok(())
}
