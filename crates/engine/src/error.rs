//! The engine's errors: what can stop it from starting, or from answering a caller.

use jiancha_store::StoreError;

/// Everything that can go wrong when starting or asking the engine.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// Reading the log failed during the catch-up (the database is unavailable, or an event
    /// cannot be decoded by this build): check the database and start the engine again.
    #[error("cannot read the event log: {0}")]
    Store(#[from] StoreError),
    /// The engine has stopped (it was shut down, or its runner ended): start a new one.
    #[error("the engine has stopped")]
    Stopped,
    /// An invariant of this build failed (the runner panicked): the log is intact; start a new
    /// engine, and report the message as a bug.
    #[error("engine bug: {0}")]
    Bug(String),
}
