//! The one chain verifier: what `jiancha verify`, `GET /api/v1/verify`, the evidence pack and
//! a writer's start-up check all run. A stored row holds when its position follows the last
//! one without a gap, it links to its predecessor's hash, its own hash matches its stored
//! bytes (never a re-encoding), its stream's version follows the stream's previous one, and
//! this build can read it; a row whose values are of the wrong type is tampering at its
//! position too, never a driver failure.

use hashbrown::HashMap;
use jiancha_events::{ChainBreak, ChainVerifier, Hash, RawEvent, StoredEvent};

use crate::error::StoreError;
use crate::{EventStore, READ_PAGE_EVENTS};

/// Checks stored rows one after the other, in position order.
#[derive(Debug, Clone)]
pub struct ChainWalk {
    chain: ChainVerifier,
    /// The last version seen of each stream (a walk from a checkpoint knows only those after
    /// it).
    versions: HashMap<String, u64>,
    from_start: bool,
}

impl ChainWalk {
    /// A walk expecting the row after `last_position`, whose stored hash is `head` (0 and
    /// `GENESIS_HASH` for a whole log).
    pub fn new(last_position: u64, head: Hash) -> Self {
        ChainWalk {
            chain: ChainVerifier::new(last_position, head),
            versions: HashMap::new(),
            from_start: last_position == 0,
        }
    }

    /// Checks the next stored row and returns it decoded.
    pub fn check(&mut self, raw: &RawEvent) -> Result<StoredEvent, ChainBreak> {
        self.chain.check(raw)?;
        let at = |reason: String| ChainBreak {
            position: raw.position,
            reason,
        };
        match self.versions.get(raw.stream.as_str()) {
            Some(last) if raw.version != last + 1 => {
                return Err(at(format!(
                    "{} version {} follows version {last} of its stream",
                    raw.stream, raw.version
                )))
            }
            // A walk from the start knows every stream from its first event.
            None if self.from_start && raw.version != 1 => {
                return Err(at(format!(
                    "{} begins at version {}, not 1",
                    raw.stream, raw.version
                )))
            }
            _ => {}
        }
        self.versions.insert(raw.stream.clone(), raw.version);
        raw.decode().map_err(|e| {
            at(format!(
                "{e} (the chain holds, but this build cannot read it)"
            ))
        })
    }

    /// The last position checked (or the anchor).
    pub fn last_position(&self) -> u64 {
        self.chain.last_position()
    }

    /// The stored hash at [`ChainWalk::last_position`].
    pub fn head(&self) -> Hash {
        self.chain.head()
    }

    /// How many rows were checked.
    pub fn checked(&self) -> u64 {
        self.chain.checked()
    }
}

/// What a walk over the log found.
#[derive(Debug, Clone)]
pub struct Walked {
    /// The walk, at the last row that held.
    pub walk: ChainWalk,
    /// The first row that does not hold.
    pub broken: Option<ChainBreak>,
}

/// Walks the log after `last_position` (whose stored hash is `head`) to its end or its first
/// break, handing each row that holds, with its decoded form, to `each`.
pub async fn walk(
    store: &dyn EventStore,
    last_position: u64,
    head: Hash,
    mut each: impl FnMut(&RawEvent, &StoredEvent),
) -> Result<Walked, StoreError> {
    walk_while(store, last_position, head, |raw, event| {
        each(raw, event);
        true
    })
    .await
}

/// [`walk`], stopping early (with no break) once `each` answers `false` (a reader that went
/// away).
pub async fn walk_while(
    store: &dyn EventStore,
    last_position: u64,
    head: Hash,
    mut each: impl FnMut(&RawEvent, &StoredEvent) -> bool,
) -> Result<Walked, StoreError> {
    let mut walk = ChainWalk::new(last_position, head);
    let mut limit = READ_PAGE_EVENTS;
    loop {
        let page = match store.read_raw_after(walk.last_position(), limit).await {
            Ok(page) => page,
            Err(StoreError::Undecodable { position, reason }) => {
                if limit > 1 {
                    // Read up to the unreadable row, to check what comes before it first.
                    let before = position.saturating_sub(walk.last_position() + 1);
                    limit = usize::try_from(before).unwrap_or(1).clamp(1, limit / 2);
                    continue;
                }
                let broken = unreadable_next(walk.last_position(), position, reason);
                return Ok(Walked {
                    walk,
                    broken: Some(broken),
                });
            }
            Err(e) => return Err(e),
        };
        if page.is_empty() {
            return Ok(Walked { walk, broken: None });
        }
        for raw in &page {
            match walk.check(raw) {
                Ok(event) => {
                    if !each(raw, &event) {
                        return Ok(Walked { walk, broken: None });
                    }
                }
                Err(b) => {
                    return Ok(Walked {
                        walk,
                        broken: Some(b),
                    })
                }
            }
        }
        limit = READ_PAGE_EVENTS;
    }
}

/// The break when the next stored row after `last` is at `position` and cannot be read: a gap
/// before it comes first.
fn unreadable_next(last: u64, position: u64, reason: String) -> ChainBreak {
    if position > last + 1 {
        return ChainBreak {
            position: last + 1,
            reason: format!("missing: the next stored event is at position {position}"),
        };
    }
    ChainBreak {
        position,
        reason: format!("the stored row cannot be read as an event: {reason}"),
    }
}

/// Checks one stored row against the stored row before it (`None` for position 1): the same
/// check a walk makes, for a reader holding only a few rows (an evidence pack).
pub fn check_against(previous: Option<&RawEvent>, raw: &RawEvent) -> Result<(), ChainBreak> {
    let (last, head) = previous.map_or((raw.position.saturating_sub(1), Hash::default()), |p| {
        (p.position, p.hash)
    });
    ChainVerifier::new(last, head).check(raw)?;
    raw.decode().map(|_| ()).map_err(|e| ChainBreak {
        position: raw.position,
        reason: e.to_string(),
    })
}
