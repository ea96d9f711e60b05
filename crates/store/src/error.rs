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
    /// A `Submitted` on a stream that already holds its case (a case is submitted once, as
    /// its stream's first event): choose another case id. Says nothing of who holds it.
    AlreadySubmitted {
        /// The stream.
        stream: String,
    },
    /// The case is handled by an org outside the batch's scope (see
    /// [`crate::EventStore::append_scoped`]). Says nothing of who handles it.
    OutOfScope {
        /// The stream.
        stream: String,
    },
    /// A transfer names an org outside the sender's district (the first segment of its org
    /// path): a case leaves its district only by being ended there and opened anew elsewhere.
    OutsideDistrict,
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

impl Rejection {
    /// A second submission of a case.
    pub fn already_submitted(tag: u64, stream: &str) -> Self {
        Rejection {
            tag,
            field: "type".into(),
            message: if stream.starts_with("proc-") {
                format!(
                    "{stream} was already registered: a project stream holds one \
                     ProcurementRegistered, its first event; choose another project id"
                )
            } else {
                format!(
                    "{stream} was already submitted: a case stream holds one Submitted, its \
                     first event; choose another case id"
                )
            },
            kind: RejectionKind::AlreadySubmitted {
                stream: stream.to_owned(),
            },
        }
    }

    /// A case outside the batch's scope.
    pub fn out_of_scope(tag: u64, stream: &str, scope: &str) -> Self {
        Rejection {
            tag,
            field: "stream".into(),
            message: format!("{stream} is not handled at or under {scope:?}"),
            kind: RejectionKind::OutOfScope {
                stream: stream.to_owned(),
            },
        }
    }

    /// A transfer out of the sender's district.
    pub fn outside_district(tag: u64, to_org: &str, district: &str) -> Self {
        Rejection {
            tag,
            field: "data.to_org".into(),
            message: format!(
                "{to_org:?} lies outside the district {district:?}: a case is transferred \
                 within its district only"
            ),
            kind: RejectionKind::OutsideDistrict,
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
    /// The database failed during a bulk read of a SQLite log (a question at an instant):
    /// retry later or check the database; nothing was written.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A read's blocking task ended without an answer (the process is shutting down): ask
    /// again.
    #[error("a database read ended without an answer: {0}")]
    ReaderLost(String),
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
    /// The database holds no log of this district (no schema of that name with an event
    /// table): the user checks the name; reading commands never create a district.
    #[error("no district {name:?} in this database (no schema {name:?} holding an event log)")]
    NoDistrict {
        /// The district's name.
        name: String,
    },
    /// The district's log holds no event (a district created and never imported into): a
    /// roll-up refuses it rather than count it as a district with nothing to report.
    #[error(
        "district {name:?} holds an empty log: nothing was ever imported into it (import its \
         log, or leave it out)"
    )]
    EmptyDistrict {
        /// The district's name.
        name: String,
    },
    /// The case index was moved by another writer since it was read: read it again and redo
    /// the checkpoint; nothing was written.
    #[error("the case index moved from position {expected} to {found} while it was caught up")]
    IndexMoved {
        /// The position the write expected.
        expected: u64,
        /// The position stored.
        found: u64,
    },
    /// A case index checkpoint names a position beyond the log's head: nothing was written.
    #[error("the case index cannot cover position {position}: the log ends at {head}")]
    IndexAhead {
        /// The position named.
        position: u64,
        /// The log's head.
        head: u64,
    },
    /// The kept alerts of a case in the case index cannot be read by this build: the index is
    /// derived from the log; drop its tables (`case_index`, `case_index_state`,
    /// `case_alerts`) and ask again to rebuild it.
    #[error(
        "the case index's kept alerts of {stream} cannot be read ({reason}); the index is \
         derived from the log: drop its tables (case_index, case_index_state, case_alerts) \
         and ask again to rebuild it"
    )]
    KeptUnreadable {
        /// The case stream.
        stream: String,
        /// What is wrong with the body.
        reason: String,
    },
    /// The database URL cannot be used.
    #[error("bad database URL {url:?}: {reason}")]
    BadUrl {
        /// The URL given.
        url: String,
        /// Why it cannot be used.
        reason: String,
    },
}
