//! The event vocabulary of jiancha: every fact the log can hold, the envelope that carries it,
//! the JSONL interchange format, schema versions with their upcasters, and the hash chain.
//!
//! This crate is pure: it does no I/O, spawns nothing and reads no clock. Everything above it
//! (store, projections, engine, server, CLI) speaks in these types.

#![warn(missing_docs)]

pub mod chain;
pub mod context;
pub mod entry;
pub mod envelope;
pub mod jsonl;
pub mod procurement;
pub mod reference;
pub mod stream;
pub mod time;
pub mod upcast;
pub mod vocab;

pub use chain::{event_hash, ChainBreak, ChainVerifier, Hash, GENESIS_HASH};
pub use context::Contexts;
pub use entry::{EntryId, EntryIdError, APPEALABLE_MEASURES, ENTRY_MEASURES};
pub use envelope::{auto_id, DecodeError, Moved, NewEvent, RawEvent, StoredEvent};
pub use jsonl::{
    check_id, check_new_actor, check_who, parse_line, read_jsonl, write_export_line, LineError,
};
pub use procurement::{BondKind, ExpertSelection, Method, Regime};
pub use stream::{
    StreamKind, StreamName, StreamNameError, CALENDAR_STREAM, CATALOG_STREAM, SUPERVISION_STREAM,
};
pub use time::{format_timestamp, parse_timestamp, Timestamp};
pub use vocab::*;
