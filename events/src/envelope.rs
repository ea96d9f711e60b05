//! The envelope around an event's data: what a caller appends ([`NewEvent`]), what the log
//! keeps byte for byte ([`RawEvent`]) and what readers fold over ([`StoredEvent`]).

use crate::chain::{event_hash, Hash, HashInput};
use crate::stream::StreamName;
use crate::time::{format_timestamp, parse_timestamp, Timestamp};
use crate::upcast::upcast;
use crate::vocab::{current_schema, DataError, EventData};

/// Fields carried by an event that is being moved from another log (an export): the original
/// stamp and chain links, kept as they were and checked on append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    /// The position the event had; the append fails unless it lands on the same one.
    pub position: Option<u64>,
    /// The stream version the event had; checked like an expected version.
    pub version: Option<u64>,
    /// The original recording instant, kept instead of a new stamp.
    pub recorded_at: Timestamp,
    /// The original predecessor hash, checked against the log's head.
    pub prev_hash: Option<Hash>,
    /// The original hash, checked against the recomputed one.
    pub hash: Hash,
}

/// An event to append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    /// The stream it goes to.
    pub stream: StreamName,
    /// An idempotency key: appending an id that is already in the log is a no-op.
    pub id: Option<String>,
    /// The stream version the caller saw before this event (0 for a new stream).
    pub expected_version: Option<u64>,
    /// Business time, with its offset.
    pub occurred_at: Timestamp,
    /// Who acted.
    pub actor: String,
    /// For which org.
    pub org: String,
    /// The typed payload.
    pub data: EventData,
    /// Schema number of `data_json`.
    pub schema: u32,
    /// The JSON text stored for `data`.
    pub data_json: String,
    /// Set when the event is moved from another log.
    pub moved: Option<Moved>,
}

impl NewEvent {
    /// A fresh event at the current schema, with no id and no expected version.
    pub fn new(
        stream: StreamName,
        occurred_at: Timestamp,
        actor: impl Into<String>,
        org: impl Into<String>,
        data: EventData,
    ) -> Self {
        let schema = current_schema(data.type_name()).unwrap_or(1);
        let data_json = data.to_json();
        NewEvent {
            stream,
            id: None,
            expected_version: None,
            occurred_at,
            actor: actor.into(),
            org: org.into(),
            data,
            schema,
            data_json,
            moved: None,
        }
    }

    /// Sets the idempotency id.
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// Sets the expected stream version.
    pub fn expecting(mut self, version: u64) -> Self {
        self.expected_version = Some(version);
        self
    }
}

/// The prefix of ids the log assigns itself (`auto:<stream>:<version>`); callers may not
/// choose such ids except to repeat the one the log would assign.
pub const AUTO_ID_PREFIX: &str = "auto:";

/// The id the log assigns to an event appended without one.
pub fn auto_id(stream: &str, version: u64) -> String {
    format!("{AUTO_ID_PREFIX}{stream}:{version}")
}

/// An event exactly as the log stores it: every field as text or integer, `data` as the stored
/// JSON bytes. Hashes are computed over this form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawEvent {
    /// Global position: gap-free, strictly increasing, commit order.
    pub position: u64,
    /// The stream.
    pub stream: String,
    /// 1, 2, … within the stream.
    pub version: u64,
    /// Unique id.
    pub id: String,
    /// The type name.
    pub event_type: String,
    /// The schema number of `data`.
    pub schema: u32,
    /// Business time, canonical RFC 3339.
    pub occurred_at: String,
    /// Recording time, canonical RFC 3339.
    pub recorded_at: String,
    /// Who acted.
    pub actor: String,
    /// For which org.
    pub org: String,
    /// The data's JSON text.
    pub data: String,
    /// The previous event's hash.
    pub prev_hash: Hash,
    /// This event's hash.
    pub hash: Hash,
}

/// Why a stored event could not be read back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("position {position}: {source}")]
pub struct DecodeError {
    /// The event's position.
    pub position: u64,
    /// What is wrong.
    pub source: DataError,
}

impl RawEvent {
    /// The fields covered by the hash.
    pub fn hash_input(&self) -> HashInput<'_> {
        HashInput {
            position: self.position,
            stream: &self.stream,
            version: self.version,
            id: &self.id,
            event_type: &self.event_type,
            schema: self.schema,
            occurred_at: &self.occurred_at,
            recorded_at: &self.recorded_at,
            actor: &self.actor,
            org: &self.org,
            data: &self.data,
            prev_hash: &self.prev_hash,
        }
    }

    /// Recomputes the hash from the stored fields.
    pub fn compute_hash(&self) -> Hash {
        event_hash(&self.hash_input())
    }

    /// Seals a new event at its assigned place: fills in position, version, id and stamp (the
    /// canonical text of the writer's instant; a moved event keeps its own), and computes the
    /// hash over them and `prev_hash`.
    pub fn seal(
        event: &NewEvent,
        position: u64,
        version: u64,
        recorded_at: &str,
        prev_hash: Hash,
    ) -> RawEvent {
        let recorded_at = match &event.moved {
            Some(moved) => format_timestamp(&moved.recorded_at),
            None => recorded_at.to_owned(),
        };
        let mut raw = RawEvent {
            position,
            stream: event.stream.as_str().to_owned(),
            version,
            id: event
                .id
                .clone()
                .unwrap_or_else(|| auto_id(event.stream.as_str(), version)),
            event_type: event.data.type_name().to_owned(),
            schema: event.schema,
            occurred_at: format_timestamp(&event.occurred_at),
            recorded_at,
            actor: event.actor.clone(),
            org: event.org.clone(),
            data: event.data_json.clone(),
            prev_hash,
            hash: Hash::default(),
        };
        raw.hash = raw.compute_hash();
        raw
    }

    /// Decodes the stored text into a typed event, upcasting old schemas.
    pub fn decode(&self) -> Result<StoredEvent, DecodeError> {
        let (occurred_at, recorded_at, data) = self.decode_parts()?;
        Ok(self.to_stored(occurred_at, recorded_at, data))
    }

    /// [`RawEvent::decode`], moving the texts into the typed event rather than copying them:
    /// for the many rows of a read.
    pub fn into_decoded(self) -> Result<StoredEvent, DecodeError> {
        let (occurred_at, recorded_at, data) = self.decode_parts()?;
        Ok(StoredEvent {
            position: self.position,
            stream: self.stream,
            version: self.version,
            id: self.id,
            occurred_at,
            recorded_at,
            actor: self.actor,
            org: self.org,
            data,
            prev_hash: self.prev_hash,
            hash: self.hash,
        })
    }

    /// The two instants and the typed data. Data at its type's current schema is read straight
    /// from its text; older data, and data the straight reading refuses, through a JSON value
    /// (upcast first), whose answer and error are the ones given: the straight reading only
    /// ever agrees with it (`decode_str` and `decode` read the same types).
    fn decode_parts(&self) -> Result<(Timestamp, Timestamp, EventData), DecodeError> {
        let fail = |source: DataError| DecodeError {
            position: self.position,
            source,
        };
        let ts = |field: &str, text: &str| {
            parse_timestamp(text).map_err(|e| DataError {
                field: field.into(),
                message: e.to_string(),
            })
        };
        let occurred_at = ts("occurred_at", &self.occurred_at).map_err(fail)?;
        let recorded_at = ts("recorded_at", &self.recorded_at).map_err(fail)?;
        if current_schema(&self.event_type) == Some(self.schema) {
            if let Ok(data) = EventData::decode_str(&self.event_type, &self.data) {
                return Ok((occurred_at, recorded_at, data));
            }
        }
        let value: serde_json::Value = serde_json::from_str(&self.data).map_err(|e| {
            fail(DataError {
                field: "data".into(),
                message: format!("malformed JSON: {e}"),
            })
        })?;
        let value = upcast(&self.event_type, self.schema, value).map_err(fail)?;
        let data = EventData::decode(&self.event_type, value).map_err(fail)?;
        Ok((occurred_at, recorded_at, data))
    }

    /// Builds the typed event when the data is already at hand (the writer has it).
    pub fn to_stored(
        &self,
        occurred_at: Timestamp,
        recorded_at: Timestamp,
        data: EventData,
    ) -> StoredEvent {
        StoredEvent {
            position: self.position,
            stream: self.stream.clone(),
            version: self.version,
            id: self.id.clone(),
            occurred_at,
            recorded_at,
            actor: self.actor.clone(),
            org: self.org.clone(),
            data,
            prev_hash: self.prev_hash,
            hash: self.hash,
        }
    }
}

/// A stored event, typed, as projections read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    /// Global position.
    pub position: u64,
    /// The stream.
    pub stream: String,
    /// 1, 2, … within the stream.
    pub version: u64,
    /// Unique id.
    pub id: String,
    /// Business time.
    pub occurred_at: Timestamp,
    /// Recording time, stamped by the writer.
    pub recorded_at: Timestamp,
    /// Who acted.
    pub actor: String,
    /// For which org.
    pub org: String,
    /// The typed payload, at the current schema.
    pub data: EventData,
    /// The previous event's hash.
    pub prev_hash: Hash,
    /// This event's hash.
    pub hash: Hash,
}
