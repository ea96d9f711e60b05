//! Snapshots of the projections: the whole fold at a position, in a versioned binary format,
//! so a restart loads it and replays only the tail. A snapshot names the position it covers
//! and the hash of the event there; one whose format, position or hash does not match the log
//! is ignored and rebuilt, never trusted blindly.

use jiancha_events::Hash;

use crate::Projections;

/// The current snapshot format. Bump it whenever the folded state changes shape.
pub const SNAPSHOT_FORMAT: u32 = 6;

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
    pub fn snapshot(&self, head: Hash) -> Result<Vec<u8>, SnapshotError> {
        let mut out = Vec::with_capacity(HEADER_BYTES + 1024);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&SNAPSHOT_FORMAT.to_le_bytes());
        out.extend_from_slice(&self.position().to_le_bytes());
        out.extend_from_slice(&head.0);
        postcard::to_io(self, &mut out).map_err(|e| SnapshotError::Body(e.to_string()))?;
        Ok(out)
    }

    /// Restores projections from snapshot bytes, checking the format first.
    pub fn restore(bytes: &[u8]) -> Result<(Projections, SnapshotHeader), SnapshotError> {
        let h = header(bytes)?;
        if h.format != SNAPSHOT_FORMAT {
            return Err(SnapshotError::Format { found: h.format });
        }
        let mut p: Projections = postcard::from_bytes(&bytes[HEADER_BYTES..])
            .map_err(|e| SnapshotError::Body(e.to_string()))?;
        if p.position() != h.position {
            return Err(SnapshotError::Mismatch {
                position: h.position,
                reason: format!("the body covers position {}", p.position()),
            });
        }
        p.reintern();
        Ok((p, h))
    }
}
