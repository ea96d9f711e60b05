//! Planning an append: the pure part every store shares. Given what the log already holds
//! (through [`Lookup`]), it checks each event against the log's rules, assigns positions and
//! versions, stamps and hashes — or refuses with a [`Rejection`] naming the event and field.

use hashbrown::HashMap;

use jiancha_events::stream::org_is_under;
use jiancha_events::{EventData, Hash, NewEvent, RawEvent, StreamKind, Timestamp};

use crate::error::{Rejection, RejectionKind};
use crate::owner::{district, CaseOwner, OwnerMove};

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
    /// Who did it.
    pub actor: String,
    /// The org it was done in.
    pub org: String,
}

impl ExistingId {
    /// What a stored event tells of its id.
    pub(crate) fn of(raw: &RawEvent) -> ExistingId {
        ExistingId {
            position: raw.position,
            stream: raw.stream.clone(),
            event_type: raw.event_type.clone(),
            occurred_at: raw.occurred_at.clone(),
            data: raw.data.clone(),
            actor: raw.actor.clone(),
            org: raw.org.clone(),
        }
    }
}

/// What the planner needs to know about the log beyond the head.
pub trait Lookup {
    /// The current version of a stream (0 when it does not exist).
    fn stream_version(&self, stream: &str) -> u64;
    /// The event stored under an id, if any.
    fn find_id(&self, id: &str) -> Option<ExistingId>;
    /// Who answers for a stored case, as of the log's last committed event; `None` when the
    /// case is not stored or was not looked up (a scoped append is then refused).
    fn case_owner(&self, stream: &str) -> Option<CaseOwner>;
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

/// Running state of one transaction: the head and the versions assigned or looked up so far.
#[derive(Debug, Clone)]
pub struct TxState {
    /// The head including what this transaction planned.
    pub head: Head,
    /// Versions known in this transaction, by stream (assigned, or looked up in the log).
    pub versions: HashMap<String, u64>,
    /// Ids planned in this transaction, kept when `track_ids` is set (group commits, the
    /// memory store); a large import instead finds its own ids through the database.
    pub ids: HashMap<String, ExistingId>,
    /// Whether to keep the ids of planned events in `ids`.
    pub track_ids: bool,
    /// The accountable org of the cases this transaction looked up or began, as its planned
    /// events leave them; kept by every batch when `track_owners` is set (a group commit with
    /// a scoped batch in it), else by scoped batches only. An import is never scoped and keeps
    /// none.
    pub owners: HashMap<String, CaseOwner>,
    /// Whether to keep `owners`.
    pub track_owners: bool,
    /// The stamp of this transaction.
    pub recorded_at: Timestamp,
    /// The stamp's canonical text.
    pub recorded_at_text: String,
    /// Whether moved (exported) events may be appended: into a log that was empty when the
    /// transaction began, or by `import --moved` ([`crate::ImportMode::Moved`]). Otherwise an
    /// export-shaped line could stamp any `recorded_at` it likes onto the head of a live log.
    pub moved_allowed: bool,
}

impl TxState {
    /// A transaction starting at `head`, stamped `recorded_at`.
    pub fn new(head: Head, recorded_at: Timestamp) -> Self {
        TxState {
            head,
            versions: HashMap::new(),
            ids: HashMap::new(),
            track_ids: true,
            owners: HashMap::new(),
            track_owners: true,
            recorded_at,
            recorded_at_text: jiancha_events::format_timestamp(&recorded_at),
            moved_allowed: head.position == 0,
        }
    }

    /// Takes in what a planned batch changed, once its rows are written.
    pub fn apply(&mut self, delta: Delta) {
        self.head = delta.head;
        self.versions.extend(delta.versions);
        if self.track_ids {
            self.ids.extend(delta.ids);
        }
        self.owners.extend(delta.owners);
    }
}

/// What [`TxState::apply_undoable`] replaced, to put it back with [`TxState::undo`].
#[derive(Debug)]
pub struct Undo {
    head: Head,
    versions: Vec<(String, Option<u64>)>,
    ids: Vec<String>,
}

impl TxState {
    /// Applies a delta whose rows may still fail to be written (an import chunk in flight),
    /// keeping what it replaced. Owners are not put back by [`TxState::undo`]: an import does
    /// not track them.
    pub fn apply_undoable(&mut self, delta: Delta) -> Undo {
        let undo = Undo {
            head: self.head,
            versions: delta
                .versions
                .keys()
                .map(|s| (s.clone(), self.versions.get(s).copied()))
                .collect(),
            ids: delta.ids.keys().cloned().collect(),
        };
        self.apply(delta);
        undo
    }

    /// Puts back what [`TxState::apply_undoable`] replaced.
    pub fn undo(&mut self, undo: Undo) {
        self.head = undo.head;
        for (stream, version) in undo.versions {
            match version {
                Some(v) => self.versions.insert(stream, v),
                None => self.versions.remove(&stream),
            };
        }
        for id in undo.ids {
            self.ids.remove(&id);
        }
    }
}

/// What planning a batch changes in its transaction's state.
#[derive(Debug, Clone)]
pub struct Delta {
    head: Head,
    versions: HashMap<String, u64>,
    ids: HashMap<String, ExistingId>,
    owners: HashMap<String, CaseOwner>,
}

/// Plans a batch of tagged events against `state` without changing it: the caller writes the
/// rows and then applies the returned [`Delta`], or drops it on failure, so a refused batch
/// (or one whose write failed) leaves the transaction exactly as it was. With a `scope` (an
/// org path), every case event must be on a case handled at or under it (see
/// [`crate::owner`]); the caller must have looked up the owners of the stored cases the batch
/// touches.
pub fn plan_batch(
    state: &TxState,
    lookup: &dyn Lookup,
    events: &[(u64, NewEvent)],
    scope: Option<&str>,
) -> Result<(Vec<Planned>, Delta), Rejection> {
    let mut scratch = Delta {
        head: state.head,
        versions: HashMap::new(),
        ids: HashMap::new(),
        owners: HashMap::new(),
    };
    let mut batch = Batch {
        out: Vec::with_capacity(events.len()),
        ids: HashMap::new(),
    };
    for (tag, event) in events {
        let planned = plan_one(state, &mut scratch, &batch, lookup, (*tag, scope), event)?;
        if let (Some(id), Planned::New(_)) = (&event.id, &planned) {
            batch.ids.insert(id.as_str(), batch.out.len());
        }
        batch.out.push(planned);
    }
    if state.track_ids {
        for (id, at) in batch.ids {
            if let Some(Planned::New(raw)) = batch.out.get(at) {
                scratch.ids.insert(id.to_owned(), ExistingId::of(raw));
            }
        }
    }
    Ok((batch.out, scratch))
}

/// The batch planned so far, and where each of its ids is in it (the rows are cloned into
/// [`ExistingId`]s only for a transaction that keeps its ids).
struct Batch<'a> {
    out: Vec<Planned>,
    ids: HashMap<&'a str, usize>,
}

impl Batch<'_> {
    fn find_id(&self, id: &str) -> Option<ExistingId> {
        match self.out.get(*self.ids.get(id)?)? {
            Planned::New(raw) => Some(ExistingId::of(raw)),
            Planned::Duplicate(_) => None,
        }
    }
}

fn plan_one(
    state: &TxState,
    scratch: &mut Delta,
    batch: &Batch<'_>,
    lookup: &dyn Lookup,
    (tag, scope): (u64, Option<&str>),
    event: &NewEvent,
) -> Result<Planned, Rejection> {
    let reject = |field: &str, message: String| Rejection::invalid(tag, field, message);
    let stream = event.stream.as_str();
    let current = match scratch
        .versions
        .get(stream)
        .or_else(|| state.versions.get(stream))
    {
        Some(v) => *v,
        None => lookup.stream_version(stream),
    };
    let kind = event.stream.kind();
    if let Some(id) = &event.id {
        let known = batch.find_id(id).or_else(|| state.ids.get(id).cloned());
        if let Some(existing) = known.or_else(|| lookup.find_id(id)) {
            // A scoped batch learns nothing of a case outside its scope through an id: its
            // event is refused as out of scope first, as without the id.
            if let (Some(scope), StreamKind::Case | StreamKind::Procurement) = (scope, kind) {
                in_scope(state, scratch, lookup, (tag, scope), event, current)?;
            }
            return duplicate(tag, event, existing, scope);
        }
    }
    if matches!(kind, StreamKind::Case | StreamKind::Procurement) {
        check_case(state, scratch, lookup, (tag, scope), event, current)?;
    }
    if let Some(expected) = event.expected_version {
        if expected != current {
            return Err(Rejection::conflict(tag, stream, expected, current));
        }
    }
    if kind == StreamKind::Case && current == 0 && !matches!(event.data, EventData::Submitted(_)) {
        return Err(reject(
            "stream",
            format!("{stream} was never submitted: a case begins with a Submitted event"),
        ));
    }
    if kind == StreamKind::Procurement
        && current == 0
        && !matches!(event.data, EventData::ProcurementRegistered(_))
    {
        return Err(reject(
            "stream",
            format!(
                "{stream} was never registered: a project begins with a ProcurementRegistered event"
            ),
        ));
    }
    let version = current + 1;
    let position = scratch.head.position + 1;
    let raw = RawEvent::seal(
        event,
        position,
        version,
        &state.recorded_at_text,
        scratch.head.hash,
    );
    if let Some(moved) = &event.moved {
        if !state.moved_allowed {
            return Err(reject(
                "position",
                format!(
                    "an exported event (with position {}) is moved only into an empty log, or with `import --moved` continuing this log's head exactly",
                    moved.position.map_or_else(|| "and hash".to_owned(), |p| p.to_string())
                ),
            ));
        }
        check_moved(tag, moved, &raw, current)?;
    }
    // Whoever built the event (a line read, an act of the server, a command): an id, actor or
    // org the reading of a line refuses would make the log impossible to export and import
    // again.
    if event.moved.is_none() {
        jiancha_events::check_who(&event.actor, &event.org).map_err(|(f, m)| reject(&f, m))?;
        jiancha_events::check_new_actor(&event.actor).map_err(|m| reject("actor", m))?;
    }
    if let Some(id) = &event.id {
        if event.moved.is_none() {
            jiancha_events::check_id(id).map_err(|m| reject("id", m))?;
        }
        if id.starts_with(jiancha_events::envelope::AUTO_ID_PREFIX)
            && *id != jiancha_events::auto_id(stream, version)
        {
            return Err(reject(
                "id",
                format!("{id:?} is not the id the log assigns here"),
            ));
        }
    }
    if let EventData::Transferred(t) = &event.data {
        let home = district(&event.org);
        if !org_is_under(&t.to_org, home) {
            return Err(Rejection::outside_district(tag, &t.to_org, home));
        }
    }
    scratch.head = Head {
        position,
        hash: raw.hash,
    };
    match scratch.versions.get_mut(stream) {
        Some(v) => *v = version,
        None => {
            scratch.versions.insert(stream.to_owned(), version);
        }
    }
    Ok(Planned::New(Box::new(raw)))
}

/// The rules of a case stream that depend on who holds it: one `Submitted`, as the first
/// event; a scoped batch writes only to cases handled within its scope, judged as the case
/// stood before the event (the log's last committed event, then what this transaction planned
/// before it). Keeps the case's accountable org up to date in `scratch` when the transaction
/// tracks owners (always for a scoped batch).
fn check_case(
    state: &TxState,
    scratch: &mut Delta,
    lookup: &dyn Lookup,
    (tag, scope): (u64, Option<&str>),
    event: &NewEvent,
    current: u64,
) -> Result<(), Rejection> {
    let stream = event.stream.as_str();
    let opened = CaseOwner::opened_by(&event.data, &event.org);
    let submitted = opened.is_some();
    if submitted && current > 0 {
        return Err(Rejection::already_submitted(tag, stream));
    }
    let tracking = state.track_owners || scope.is_some();
    if !tracking {
        return Ok(());
    }
    let before = scoped_owner(state, scratch, lookup, (tag, scope), event, current)?;
    let after = if let Some(opened) = opened {
        Some(opened)
    } else {
        before.map(|mut owner| {
            owner.apply(OwnerMove::of(&event.data, &event.org));
            owner
        })
    };
    if let Some(owner) = after {
        scratch.owners.insert(stream.to_owned(), owner);
    }
    Ok(())
}

/// A case's accountable org as this transaction knows it: planned in this batch, in an
/// earlier batch, or as stored.
fn known_owner(
    state: &TxState,
    scratch: &Delta,
    lookup: &dyn Lookup,
    stream: &str,
) -> Option<CaseOwner> {
    scratch
        .owners
        .get(stream)
        .or_else(|| state.owners.get(stream))
        .cloned()
        .or_else(|| lookup.case_owner(stream))
}

/// Whether a scoped batch may write `event` to its case (see [`check_case`]), without changing
/// anything.
fn in_scope(
    state: &TxState,
    scratch: &Delta,
    lookup: &dyn Lookup,
    (tag, scope): (u64, &str),
    event: &NewEvent,
    current: u64,
) -> Result<(), Rejection> {
    scoped_owner(state, scratch, lookup, (tag, Some(scope)), event, current).map(|_| ())
}

/// Who held a case before the event (none before its first), once a scoped batch is found
/// allowed to write to it ([`in_scope_of`]).
fn scoped_owner(
    state: &TxState,
    scratch: &Delta,
    lookup: &dyn Lookup,
    (tag, scope): (u64, Option<&str>),
    event: &NewEvent,
    current: u64,
) -> Result<Option<CaseOwner>, Rejection> {
    let before = if current == 0 {
        None
    } else {
        known_owner(state, scratch, lookup, event.stream.as_str())
    };
    if let Some(scope) = scope {
        let opened = CaseOwner::opened_by(&event.data, &event.org);
        in_scope_of(
            before.as_ref(),
            opened.as_ref(),
            (tag, scope),
            event,
            current,
        )?;
    }
    Ok(before)
}

/// The batch speaks only for orgs under the scope, and only on cases they handle. A case never
/// submitted (version 0) is refused by the caller with its own message. A case opened here is
/// handled by the org it opens under: for a project, its purchaser, which the event names (a
/// unit may not open one for another org).
fn in_scope_of(
    before: Option<&CaseOwner>,
    opened: Option<&CaseOwner>,
    (tag, scope): (u64, &str),
    event: &NewEvent,
    current: u64,
) -> Result<(), Rejection> {
    let handled = match opened {
        Some(owner) => owner.within(scope),
        None => current == 0 || before.is_some_and(|o| o.within(scope)),
    };
    if handled && org_is_under(&event.org, scope) {
        Ok(())
    } else {
        Err(Rejection::out_of_scope(tag, event.stream.as_str(), scope))
    }
}

/// An event whose id the log (or the batch) holds already: the same event again (same stream,
/// type, instant, data, actor and org) is a duplicate, answered with its position; anything
/// else reuses the id. A scoped batch is told the position only of an event within its scope.
fn duplicate(
    tag: u64,
    event: &NewEvent,
    existing: ExistingId,
    scope: Option<&str>,
) -> Result<Planned, Rejection> {
    let same = existing.stream == event.stream.as_str()
        && existing.event_type == event.data.type_name()
        && existing.occurred_at == jiancha_events::format_timestamp(&event.occurred_at)
        && existing.data == event.data_json
        && existing.actor == event.actor
        && existing.org == event.org;
    if same {
        return Ok(Planned::Duplicate(existing.position));
    }
    // Its position at most: the event may be another org's, whose stream and content are not
    // the caller's to see; a scoped caller is not told where another org's event is.
    let foreign = scope.is_some_and(|scope| !org_is_under(&existing.org, scope));
    let message = if foreign {
        "id already names another event: choose another id".to_owned()
    } else {
        format!(
            "id already names a different event (position {}): choose another id",
            existing.position
        )
    };
    Err(Rejection {
        tag,
        field: "id".into(),
        message,
        kind: RejectionKind::IdReused {
            position: existing.position,
        },
    })
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
    let (Some(position), Some(prev)) = (moved.position, moved.prev_hash) else {
        let field = if moved.position.is_none() {
            "position"
        } else {
            "prev_hash"
        };
        return reject(
            field,
            "missing: a moved event names where it was exported from (position and prev_hash)"
                .into(),
        );
    };
    if position != raw.position {
        return reject(
            "position",
            format!(
                "the moved event was at position {position} but would land at {}: a moved log must be imported where it left off",
                raw.position
            ),
        );
    }
    if prev != raw.prev_hash {
        return reject(
            "prev_hash",
            format!("{prev} does not link to this log's head {}", raw.prev_hash),
        );
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
