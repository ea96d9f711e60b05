//! Fast restart: the projections are kept as a snapshot beside the log (with the position and
//! hash they cover), loaded at start and caught up from there. A snapshot is used only when its
//! body matches the SHA-256 digest sealed with it, it decodes in the current format, was taken
//! with the same thresholds and scoring, and the log still holds the same event at its
//! position; otherwise it is ignored (with a warning) and the projections are rebuilt from the
//! log, never trusted blindly. The digest catches a body edited in place; a body forged
//! together with its digest is caught by `verify`, which rebuilds the fold and compares it with
//! every stored snapshot (`crate::verify`).

use jiancha_projections::snapshot::SnapshotHeader;
use jiancha_projections::{AlertConfig, Projections, Scoring};
use jiancha_store::{EventStore, StoreError};
use sha2::{Digest, Sha256};

/// The name the projections' snapshot is kept under.
pub const PROJECTIONS_SNAPSHOT: &str = "projections";

/// The first bytes of a sealed snapshot: the digest of its body follows, then the body (the
/// projections' own snapshot bytes, which name the position and hash they were folded to).
pub const SEAL_MAGIC: &[u8; 8] = b"JCSEAL\0\x01";

const SEAL_HEADER_BYTES: usize = SEAL_MAGIC.len() + 32;

/// Seals a snapshot body with its SHA-256 digest.
pub fn seal(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(SEAL_HEADER_BYTES + body.len());
    out.extend_from_slice(SEAL_MAGIC);
    out.extend_from_slice(&Sha256::digest(body));
    out.extend_from_slice(body);
    out
}

/// Why stored snapshot bytes were not opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// No seal: written before snapshots carried a digest, or not a snapshot at all.
    #[error("not a sealed snapshot (written by an older jiancha, or not a snapshot)")]
    Unsealed,
    /// The body is not the one the digest was taken of: it was changed after it was written.
    #[error("its body does not match the SHA-256 digest sealed with it")]
    Digest,
}

/// The body of a sealed snapshot, when it matches its digest.
pub fn unseal(bytes: &[u8]) -> Result<&[u8], SealError> {
    let (digest, body) = seal_parts(bytes)?;
    if Sha256::digest(body).as_slice() != digest {
        return Err(SealError::Digest);
    }
    Ok(body)
}

/// The digest and the body of a sealed snapshot, not yet compared.
fn seal_parts(bytes: &[u8]) -> Result<(&[u8], &[u8]), SealError> {
    if bytes.len() < SEAL_HEADER_BYTES || !bytes.starts_with(SEAL_MAGIC) {
        return Err(SealError::Unsealed);
    }
    Ok(bytes[SEAL_MAGIC.len()..].split_at(32))
}

/// The projections a sealed snapshot holds, when its body matches its digest: the digest is
/// taken on another thread while the body decodes (each reads the whole body, a gigabyte or
/// more for a decade's district), and the decoded projections are dropped if it does not
/// match. A mismatch is reported before a body that does not decode, as [`unseal`] would.
fn restore_sealed(bytes: &[u8]) -> Result<(Projections, SnapshotHeader), String> {
    let (digest, body) = seal_parts(bytes).map_err(|e| e.to_string())?;
    let (matches, restored) = std::thread::scope(|s| {
        let check = s.spawn(|| Sha256::digest(body).as_slice() == digest);
        let restored = Projections::restore(body);
        let matches = check
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (matches, restored)
    });
    if !matches {
        return Err(SealError::Digest.to_string());
    }
    restored.map_err(|e| e.to_string())
}

/// How the projections were obtained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    /// The position the snapshot covered, if one was used.
    pub snapshot: Option<u64>,
    /// Why a snapshot found was not used.
    pub ignored: Option<String>,
    /// Events folded after the snapshot (or from the start).
    pub replayed: u64,
}

/// Loads the snapshot when it can be trusted, or starts empty; then folds the rest of the log.
pub async fn restore_or_replay(
    store: &dyn EventStore,
    alerts: AlertConfig,
    scoring: Scoring,
) -> Result<(Projections, Restored), StoreError> {
    restore_until(store, alerts, scoring, u64::MAX).await
}

/// As [`restore_or_replay`], folding the log up to position `until` only (a closed period's
/// report): a snapshot taken after `until` cannot be used, an earlier one can.
pub async fn restore_until(
    store: &dyn EventStore,
    alerts: AlertConfig,
    scoring: Scoring,
    until: u64,
) -> Result<(Projections, Restored), StoreError> {
    let fresh = || Projections::new(alerts).with_ledger(scoring);
    let (mut projections, snapshot, ignored) = match trusted(store, alerts, scoring).await? {
        Ok(p) if p.position() <= until => {
            let at = p.position();
            (p, Some(at), None)
        }
        Ok(_) => (fresh(), None, None),
        Err(why) => (fresh(), None, why),
    };
    if let Some(reason) = &ignored {
        tracing::warn!(%reason, "projection snapshot ignored; rebuilding from the log");
    }
    let mut replayed = 0;
    let mut pages = store.pages(projections.position());
    while pages.after() < until {
        let Some(page) = pages.next().await? else {
            break;
        };
        for event in page.iter().take_while(|e| e.position <= until) {
            projections.apply(event);
            replayed += 1;
        }
    }
    Ok((
        projections,
        Restored {
            snapshot,
            ignored,
            replayed,
        },
    ))
}

/// The stored snapshot, or why it cannot be used (`None` when there is none).
async fn trusted(
    store: &dyn EventStore,
    alerts: AlertConfig,
    scoring: Scoring,
) -> Result<Result<Projections, Option<String>>, StoreError> {
    let Some((position, bytes)) = store.load_snapshot(PROJECTIONS_SNAPSHOT).await? else {
        return Ok(Err(None));
    };
    let (p, header) = match restore_sealed(&bytes) {
        Ok(r) => r,
        Err(why) => return Ok(Err(Some(why))),
    };
    if header.position != position {
        return Ok(Err(Some(format!(
            "kept for position {position} but covers {}",
            header.position
        ))));
    }
    match store.read_raw_at(position).await? {
        Some(raw) if raw.hash == header.head => {}
        _ => {
            return Ok(Err(Some(format!(
                "the log's event at position {position} is not the one it covers"
            ))))
        }
    }
    if p.config != alerts || p.ledger().map(|l| l.scoring) != Some(scoring) {
        return Ok(Err(Some("taken with other thresholds or scoring".into())));
    }
    Ok(Ok(p))
}

/// Keeps a snapshot of `projections` beside the log.
pub async fn save(store: &dyn EventStore, projections: &Projections) -> Result<(), StoreError> {
    if projections.position() == 0 {
        return Ok(());
    }
    match projections.snapshot(projections.head()) {
        Ok(bytes) => {
            store
                .save_snapshot(PROJECTIONS_SNAPSHOT, projections.position(), seal(&bytes))
                .await
        }
        Err(e) => {
            tracing::warn!(error = %e, "projection snapshot not saved");
            Ok(())
        }
    }
}
