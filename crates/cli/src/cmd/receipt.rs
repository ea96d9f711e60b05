//! `jiancha receipt`: the receipt number and the query code a citizen needs to look their case
//! up without a login (`/public/lookup`, `GET /public/v1/cases/{receipt}?code=`), as printed on
//! the acceptance receipt. The code comes from the case id and the server's public secret, the
//! same file `jiancha serve --public-secret` reads.

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;

use jiancha_projections::Lang;
use jiancha_server::public::PublicSecret;
use jiancha_store::Clock;

use crate::error::user_error;

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Lines for people.
    Table,
    /// JSON for programs: {"receipt", "code"}.
    Json,
}

/// Arguments of `jiancha receipt`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    head -c 32 /dev/urandom > /etc/jiancha/public.secret\n  \
    jiancha receipt case-2026-000101 --public-secret /etc/jiancha/public.secret\n  \
    jiancha receipt case-2026-000101 --public-secret public.secret --format json\n\n\
    The receipt number is the case id; the query code is 8 characters (digits and capitals \
    without 0, 1, I and O) derived from it with the secret. `jiancha serve --public-secret \
    FILE` with the same file answers the lookup; another secret gives other codes, so keep \
    the file private and do not change it while receipts are out.")]
pub struct ReceiptArgs {
    /// The case, e.g. case-2026-000101.
    pub case: String,
    /// The file of the public secret (at least 16 bytes; trailing line breaks are ignored).
    #[arg(long, value_name = "FILE", env = "JIANCHA_PUBLIC_SECRET")]
    pub public_secret: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Reads `--public-secret FILE`; a missing, unreadable or short file is a refusal naming it.
pub fn load_secret(path: &std::path::Path) -> anyhow::Result<PublicSecret> {
    PublicSecret::load(path).map_err(|e| user_error(format!("--public-secret: {e}")))
}

/// Runs `jiancha receipt`.
pub async fn run(
    db: &str,
    clock: Arc<dyn Clock>,
    args: &ReceiptArgs,
    lang: Lang,
) -> anyhow::Result<()> {
    let Some(path) = &args.public_secret else {
        return Err(user_error(
            "receipt needs --public-secret FILE (or JIANCHA_PUBLIC_SECRET): the query code is \
             derived from the case id with the secret that `jiancha serve --public-secret` \
             reads; make one with: head -c 32 /dev/urandom > public.secret",
        ));
    };
    let secret = load_secret(path)?;
    let store = crate::open_existing_store(db, clock).await?;
    let events = store.read_stream(&args.case).await;
    store.close().await;
    let submitted = events?
        .iter()
        .any(|e| matches!(e.data, jiancha_events::EventData::Submitted(_)));
    if !submitted {
        return Err(user_error(format!(
            "no case {:?} in the log: give the case id as `case show` takes it \
             (case-2026-000101)",
            args.case
        )));
    }
    let code = secret.query_code(&args.case);
    let mut out = crate::stdout::lock();
    match args.format {
        Format::Json => writeln!(
            out,
            "{}",
            serde_json::json!({ "receipt": args.case, "code": code })
        )?,
        Format::Table => {
            let (receipt_label, code_label) = match lang {
                Lang::Zh => ("受理单号", "查询码"),
                Lang::En => ("Receipt number", "Query code"),
            };
            writeln!(out, "{receipt_label}: {}", args.case)?;
            writeln!(out, "{code_label}: {code}")?;
        }
    }
    Ok(())
}
