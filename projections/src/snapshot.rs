//! Snapshots of the projections: the whole fold at a position, in a versioned binary format,
//! so a restart loads it and replays only the tail. A snapshot names the position it covers
//! and the hash of the event there; one whose format, position or hash does not match the log
//! is ignored and rebuilt, never trusted blindly.

use jiancha_events::Hash;

use crate::Projections;

/// The current snapshot format. Bump it whenever the folded state changes shape, or what the
/// same events fold to (13: one card per crossing of a threshold, order and complaint lateness
/// in their month, one overdue order counted once, no order on a closed card; 14: no second
/// order on an ordered card and none on a prompt, a repeated rating's record closed as raised;
/// 15: one card per episode of a condition, a lateness stands while one of its cards does, no
/// order on a card closed when folded or on a card about a card, a citizen's act is no action
/// on a stalled case).
pub const SNAPSHOT_FORMAT: u32 = 15;

const MAGIC: &[u8; 8] = b"JCSNAP\0\0";
const HEADER_BYTES: usize = 8 + 4 + 8 + 32;

/// What a snapshot says about itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotHeader {
    /// The format it was written in.
    pub format: u32,
    /// The last position folded in.
    pub position: u64,
    /// The hash of the event at that position.
    pub head: Hash,
}

/// Why a snapshot cannot be used; the caller rebuilds from the log instead.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// Not a snapshot at all, or cut short.
    #[error("not a jiancha snapshot (bad magic or too short)")]
    NotASnapshot,
    /// Written in another format version.
    #[error("snapshot format {found} is not the current format {SNAPSHOT_FORMAT}")]
    Format {
        /// The format found.
        found: u32,
    },
    /// The body does not decode.
    #[error("snapshot body does not decode: {0}")]
    Body(String),
    /// It does not belong to this log at its position.
    #[error("snapshot at position {position} does not match the log ({reason})")]
    Mismatch {
        /// Its position.
        position: u64,
        /// What does not match.
        reason: String,
    },
}

/// Appends `value` behind its length (8 bytes, little-endian).
fn section<T: serde::Serialize + ?Sized>(
    out: &mut Vec<u8>,
    value: &T,
) -> Result<(), postcard::Error> {
    let at = out.len();
    out.extend_from_slice(&0u64.to_le_bytes());
    postcard::to_io(value, &mut *out)?;
    let len = (out.len() - at - 8) as u64;
    out[at..at + 8].copy_from_slice(&len.to_le_bytes());
    Ok(())
}

/// The section at the start of `rest` (behind its length), and what follows it.
fn take(rest: &[u8]) -> Result<(&[u8], &[u8]), SnapshotError> {
    let cut = || SnapshotError::Body("a section's length runs past the snapshot's end".into());
    let (len, rest) = rest.split_first_chunk::<8>().ok_or_else(cut)?;
    let len = usize::try_from(u64::from_le_bytes(*len)).map_err(|_| cut())?;
    if len > rest.len() {
        return Err(cut());
    }
    Ok(rest.split_at(len))
}

/// A snapshot's sections, after its header.
pub(crate) struct Sections<'a> {
    /// The projections but the ledger.
    pub body: &'a [u8],
    /// The ledger.
    pub ledger: &'a [u8],
    /// The tables both were written through.
    pub tables: &'a [u8],
}

/// A snapshot's sections.
pub(crate) fn sections(bytes: &[u8]) -> Result<Sections<'_>, SnapshotError> {
    let rest = bytes
        .get(HEADER_BYTES..)
        .ok_or(SnapshotError::NotASnapshot)?;
    let (body, rest) = take(rest)?;
    let (ledger, tables) = take(rest)?;
    Ok(Sections {
        body,
        ledger,
        tables,
    })
}

/// Reads a snapshot's header without decoding the body.
pub fn header(bytes: &[u8]) -> Result<SnapshotHeader, SnapshotError> {
    if bytes.len() < HEADER_BYTES || &bytes[..8] != MAGIC {
        return Err(SnapshotError::NotASnapshot);
    }
    let mut format = [0u8; 4];
    format.copy_from_slice(&bytes[8..12]);
    let mut position = [0u8; 8];
    position.copy_from_slice(&bytes[12..20]);
    let mut head = [0u8; 32];
    head.copy_from_slice(&bytes[20..52]);
    Ok(SnapshotHeader {
        format: u32::from_le_bytes(format),
        position: u64::from_le_bytes(position),
        head: Hash(head),
    })
}

impl Projections {
    /// The projections as snapshot bytes; `head` is the hash of the event at
    /// [`Projections::position`].
    ///
    /// After the header, three sections: the body (the projections but the ledger), the
    /// ledger, each behind its length (8 bytes, little-endian), then the tables their strings
    /// and item definitions were written through (`crate::shared`). A restore decodes the
    /// tables first, then the body and the ledger side by side.
    pub fn snapshot(&self, head: Hash) -> Result<Vec<u8>, SnapshotError> {
        let mut out = Vec::with_capacity(HEADER_BYTES + 1024);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&SNAPSHOT_FORMAT.to_le_bytes());
        out.extend_from_slice(&self.position().to_le_bytes());
        out.extend_from_slice(&head.0);
        let (written, tables) = crate::shared::write(|| {
            section(&mut out, self)?;
            section(&mut out, &self.ledger)
        })
        .map_err(|e| SnapshotError::Body(e.to_string()))?;
        written.map_err(|e| SnapshotError::Body(e.to_string()))?;
        out.extend_from_slice(&tables);
        Ok(out)
    }

    /// Restores projections from snapshot bytes, checking the format first.
    pub fn restore(bytes: &[u8]) -> Result<(Projections, SnapshotHeader), SnapshotError> {
        let h = header(bytes)?;
        if h.format != SNAPSHOT_FORMAT {
            return Err(SnapshotError::Format { found: h.format });
        }
        let Sections {
            body,
            ledger,
            tables,
        } = sections(bytes)?;
        let tables =
            crate::shared::decode(tables).map_err(|e| SnapshotError::Body(e.to_string()))?;
        let body_error = |e: &dyn std::fmt::Display| SnapshotError::Body(e.to_string());
        // The ledger's entries are most of a large snapshot: decoded on a thread of their own.
        let (p, ledger) = std::thread::scope(|s| {
            let ledger = s.spawn(|| {
                crate::shared::reading(&tables, || {
                    postcard::from_bytes::<Option<Box<crate::ledger::Ledger>>>(ledger)
                })
            });
            let mut p =
                crate::shared::reading(&tables, || postcard::from_bytes::<Projections>(body));
            // What snapshots do not keep, rebuilt while the ledger may still be decoding.
            if let Ok(Ok(p)) = &mut p {
                p.rebuild_watched();
            }
            let ledger = ledger
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (p, ledger)
        });
        let mut p = p.map_err(|e| body_error(&e))?.map_err(|e| body_error(&e))?;
        p.ledger = ledger
            .map_err(|e| body_error(&e))?
            .map_err(|e| body_error(&e))?;
        if p.position() != h.position {
            return Err(SnapshotError::Mismatch {
                position: h.position,
                reason: format!("the body covers position {}", p.position()),
            });
        }
        Ok((p, h))
    }
}
