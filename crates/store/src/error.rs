//! The store's errors: refusals a caller can act on, and failures of the machinery.

use jiancha_events::{ChainBreak, DecodeError};

/// Why one event of a batch was refused. Nothing of the batch was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The caller's tag for the event: its index in the batch, or its line number.
    pub tag: u64,
    /// The field at fault.
    pub field: String,
    /// What is wrong, for a clerk to act on.
    pub message: String,
    /// The kind of refusal, for callers that branch on it (HTTP status, retries).
    pub kind: RejectionKind,
}

/// The kinds of refusal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RejectionKind {
    /// The event breaks a rule of the log (a case event before its submission, a bad id).
    Invalid,
    /// The stream is not at the version the caller expected: re-read and decide again.
    Conflict {
        /// The stream.
        stream: String,
        /// The version the caller expected.
        expected: u64,
        /// The stream's actual version.
        actual: u64,
    },
    /// The id is already used by a different event.
    IdReused {
        /// Where that event is.
        position: u64,
    },
}

impl Rejection {
    /// A rule violation.
    pub fn invalid(tag: u64, field: &str, message: String) -> Self {
        Rejection {
            tag,
            field: field.to_owned(),
            message,
            kind: RejectionKind::Invalid,
        }
    }

    /// A version conflict.
    pub fn conflict(tag: u64, stream: &str, expected: u64, actual: u64) -> Self {
        Rejection {
            tag,
            field: "expected_version".into(),
            message: format!(
                "version conflict on {stream}: expected version {expected}, actual {actual}"
            ),
            kind: RejectionKind::Conflict {
                stream: stream.to_owned(),
                expected,
                actual,
            },
        }
    }
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "event {}: {}: {}", self.tag, self.field, self.message)
    }
}

/// Everything that can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// An event was refused and nothing of its batch was written: show it to the user, who can
    /// correct the event and try again.
    #[error("{0}")]
    Rejected(Rejection),
    /// The stored log fails its own chain check: the writer refuses to append until the log is
    /// repaired. Run `jiancha verify` and restore from a good copy.
    #[error(
        "the event log's hash chain is broken ({0}); appends are refused until it is repaired"
    )]
    ChainBroken(ChainBreak),
    /// A stored event cannot be decoded by this build: a newer schema, or a damaged row.
    #[error("cannot read stored event: {0}")]
    Decode(#[from] DecodeError),
    /// A stored row holds a value of the wrong type (a `data` stored as a BLOB, a `version`
    /// stored as text): the log was changed behind jiancha's back at that position. `verify`
    /// reports it as tampering there.
    #[error("the stored row at position {position} cannot be read as an event ({reason})")]
    Undecodable {
        /// The row's position.
        position: u64,
        /// What the driver could not read.
        reason: String,
    },
    /// The database failed: retry later or check the database; nothing of the batch was written.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The schema migration failed: the database is of another program or a newer jiancha.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The transaction that carried this batch failed (with other batches of its group
    /// commit); nothing of it was written. Retry.
    #[error("the append failed and nothing was written: {0}")]
    GroupFailed(String),
    /// The writer task has stopped (the store was closed, or a previous failure ended it).
    #[error("the event log's writer has stopped")]
    WriterGone,
    /// The import's producer gave up (bad input after some events were sent); nothing was
    /// written.
    #[error("import aborted: {0}")]
    Aborted(String),
    /// The database URL cannot be used.
    #[error("bad database URL {url:?}: {reason}")]
    BadUrl {
        /// The URL given.
        url: String,
        /// Why it cannot be used.
        reason: String,
    },
}
