//! Planning an append: the pure part every store shares. Given what the log already holds
//! (through [`Lookup`]), it checks each event against the log's rules, assigns positions and
//! versions, stamps and hashes — or refuses with a [`Rejection`] naming the event and field.

use std::collections::HashMap;

use jiancha_events::{Hash, NewEvent, RawEvent, StreamKind, Timestamp};

use crate::error::{Rejection, RejectionKind};

/// What the log already holds under an id, enough to tell a retry from a reuse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExistingId {
    /// Where the event with that id is.
    pub position: u64,
    /// Its stream.
    pub stream: String,
    /// Its type name.
    pub event_type: String,
    /// Its business time, canonical text.
    pub occurred_at: String,
    /// Its data text.
    pub data: String,
}

/// What the planner needs to know about the log beyond the head.
pub trait Lookup {
    /// The current version of a stream (0 when it does not exist).
    fn stream_version(&self, stream: &str) -> u64;
    /// The event stored under an id, if any.
    fn find_id(&self, id: &str) -> Option<ExistingId>;
}

/// The head of the log: the last position and its hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Head {
    /// Last position (0 for an empty log).
    pub position: u64,
    /// Its hash ([`jiancha_events::GENESIS_HASH`] for an empty log).
    pub hash: Hash,
}

/// One event of a batch after planning.
#[derive(Debug, Clone)]
pub enum Planned {
    /// The id was already in the log: nothing to write, here is where it is.
    Duplicate(u64),
    /// A new event, sealed at its position.
    New(Box<RawEvent>),
}

/// Running state of one transaction: the head and the versions assigned so far.
#[derive(Debug, Clone)]
pub struct TxState {
    /// The head including what this transaction planned.
    pub head: Head,
    /// Versions assigned or looked up in this transaction, by stream.
    pub versions: HashMap<String, u64>,
    /// Ids planned in this transaction, with their position.
    pub ids: HashMap<String, ExistingId>,
    /// The stamp of this transaction.
    pub recorded_at: Timestamp,
}

impl TxState {
    /// A transaction starting at `head`, stamped `recorded_at`.
    pub fn new(head: Head, recorded_at: Timestamp) -> Self {
        TxState {
            head,
            versions: HashMap::new(),
            ids: HashMap::new(),
            recorded_at,
        }
    }
}

/// Plans a batch of tagged events. On success the state has advanced past them; on a refusal
/// it is left exactly as it was, so the next batch of a group commit plans from the same head.
pub fn plan_batch(
    state: &mut TxState,
    lookup: &dyn Lookup,
    events: &[(u64, NewEvent)],
) -> Result<Vec<Planned>, Rejection> {
    let mut scratch = Scratch {
        head: state.head,
        versions: HashMap::new(),
        ids: HashMap::new(),
    };
    let mut out = Vec::with_capacity(events.len());
    for (tag, event) in events {
        out.push(plan_one(state, &mut scratch, lookup, *tag, event)?);
    }
    state.head = scratch.head;
    state.versions.extend(scratch.versions);
    state.ids.extend(scratch.ids);
    Ok(out)
}

struct Scratch {
    head: Head,
    versions: HashMap<String, u64>,
    ids: HashMap<String, ExistingId>,
}

fn plan_one(
    state: &TxState,
    scratch: &mut Scratch,
    lookup: &dyn Lookup,
    tag: u64,
    event: &NewEvent,
) -> Result<Planned, Rejection> {
    let reject = |field: &str, message: String| Rejection::invalid(tag, field, message);
    if let Some(id) = &event.id {
        let known = scratch.ids.get(id).or_else(|| state.ids.get(id)).cloned();
        if let Some(existing) = known.or_else(|| lookup.find_id(id)) {
            return duplicate(tag, event, existing);
        }
    }
    let stream = event.stream.as_str();
    let current = match scratch
        .versions
        .get(stream)
        .or_else(|| state.versions.get(stream))
    {
        Some(v) => *v,
        None => lookup.stream_version(stream),
    };
    if let Some(expected) = event.expected_version {
        if expected != current {
            return Err(Rejection::conflict(tag, stream, expected, current));
        }
    }
    if event.stream.kind() == StreamKind::Case
        && current == 0
        && event.data.type_name() != "Submitted"
    {
        return Err(reject(
            "stream",
            format!("{stream} was never submitted: a case begins with a Submitted event"),
        ));
    }
    let version = current + 1;
    let position = scratch.head.position + 1;
    let raw = RawEvent::seal(
        event,
        position,
        version,
        &state.recorded_at,
        scratch.head.hash,
    );
    if let Some(moved) = &event.moved {
        check_moved(tag, moved, &raw, current)?;
    }
    if raw.id.starts_with(jiancha_events::envelope::AUTO_ID_PREFIX)
        && event.id.is_some()
        && event.id.as_deref() != Some(jiancha_events::auto_id(stream, version).as_str())
    {
        return Err(reject(
            "id",
            format!("{:?} is not the id the log assigns here", raw.id),
        ));
    }
    scratch.head = Head {
        position,
        hash: raw.hash,
    };
    scratch.versions.insert(stream.to_owned(), version);
    if event.id.is_some() {
        scratch.ids.insert(
            raw.id.clone(),
            ExistingId {
                position,
                stream: raw.stream.clone(),
                event_type: raw.event_type.clone(),
                occurred_at: raw.occurred_at.clone(),
                data: raw.data.clone(),
            },
        );
    }
    Ok(Planned::New(Box::new(raw)))
}

fn duplicate(tag: u64, event: &NewEvent, existing: ExistingId) -> Result<Planned, Rejection> {
    let same = existing.stream == event.stream.as_str()
        && existing.event_type == event.data.type_name()
        && existing.occurred_at == jiancha_events::format_timestamp(&event.occurred_at)
        && existing.data == event.data_json;
    if same {
        Ok(Planned::Duplicate(existing.position))
    } else {
        Err(Rejection {
            tag,
            field: "id".into(),
            message: format!(
                "id already names a different event (position {}, {} on {})",
                existing.position, existing.event_type, existing.stream
            ),
            kind: RejectionKind::IdReused {
                position: existing.position,
            },
        })
    }
}

fn check_moved(
    tag: u64,
    moved: &jiancha_events::Moved,
    raw: &RawEvent,
    current: u64,
) -> Result<(), Rejection> {
    let reject = |field: &str, message: String| Err(Rejection::invalid(tag, field, message));
    if let Some(version) = moved.version {
        if version != raw.version {
            return Err(Rejection::conflict(
                tag,
                &raw.stream,
                version.saturating_sub(1),
                current,
            ));
        }
    }
    if let Some(position) = moved.position {
        if position != raw.position {
            return reject(
                "position",
                format!(
                    "the moved event was at position {position} but would land at {}: a moved log must be imported where it left off",
                    raw.position
                ),
            );
        }
    }
    if let Some(prev) = moved.prev_hash {
        if prev != raw.prev_hash {
            return reject(
                "prev_hash",
                format!("{prev} does not link to this log's head {}", raw.prev_hash),
            );
        }
    }
    if moved.hash != raw.hash {
        return reject(
            "hash",
            format!(
                "{} does not match the event's contents ({})",
                moved.hash, raw.hash
            ),
        );
    }
    Ok(())
}
