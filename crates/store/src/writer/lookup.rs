//! What a plan needs read from the log before it runs, in this transaction and in as few
//! statements as the keys allow: the versions of the streams a batch writes, the events already
//! stored under its ids (to tell a retry from a reuse), and who answers for the stored cases a
//! scoped batch touches.

use hashbrown::{HashMap, HashSet};

use jiancha_events::envelope::AUTO_ID_PREFIX;
use jiancha_events::{EventData, NewEvent};

use super::connection::LOOKUP_KEYS_MAX;
use super::{LogConnection, OwnerRow, Writer};
use crate::error::StoreError;
use crate::owner::CaseOwner;
use crate::plan::{ExistingId, Lookup, TxState};
use crate::rows::to_i64;

/// How much [`Writer::prefetch`] reads before a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Prefetch {
    /// Everything the plan may meet: the version of every stream the transaction does not know,
    /// and the events stored under the batch's ids (a group commit, or an import chunk planned
    /// again after the database refused it).
    LookedUp,
    /// The import's fast path: no ids, and a stream whose first event here is a `Submitted` is
    /// taken to be new without asking. Planning counts it at version 0; if it does exist, the
    /// unique index refuses the rows and the chunk is looked up properly.
    FastPath,
}

/// The ids the planner may meet, and the owners of the stored cases scoped batches touch,
/// fetched before planning.
#[derive(Default)]
pub(super) struct IdLookup {
    /// The stored events under the batch's ids, by id.
    pub(super) ids: HashMap<String, ExistingId>,
    /// Who answers for each stored case a scoped batch touches, by stream.
    pub(super) owners: HashMap<String, CaseOwner>,
}

impl Lookup for IdLookup {
    fn stream_version(&self, _stream: &str) -> u64 {
        // Every stream of a batch is fetched into the transaction state before planning.
        0
    }

    fn find_id(&self, id: &str) -> Option<ExistingId> {
        self.ids.get(id).cloned()
    }

    fn case_owner(&self, stream: &str) -> Option<CaseOwner> {
        self.owners.get(stream).cloned()
    }
}

/// Folds owner rows (in stream and version order) into each case's owner.
fn fold_owners(rows: &[OwnerRow], into: &mut HashMap<String, CaseOwner>) {
    let mut rest = rows;
    while let Some((first, _)) = rest.split_first() {
        let stream = first.0.as_str();
        let end = rest
            .iter()
            .position(|r| r.0 != stream)
            .unwrap_or(rest.len());
        let (case, after) = rest.split_at(end);
        let events = case
            .iter()
            .map(|(_, t, org, data)| (t.as_str(), org.as_str(), data.as_str()));
        if let Some(owner) = CaseOwner::fold_rows(events) {
            into.insert(stream.to_owned(), owner);
        }
        rest = after;
    }
}

impl<C: LogConnection> Writer<C> {
    /// Loads the versions of streams the transaction does not know yet, and, when `how` says
    /// so, the events already stored under the batch's ids.
    pub(super) async fn prefetch(
        &mut self,
        state: &mut TxState,
        events: &[&(u64, NewEvent)],
        how: Prefetch,
    ) -> Result<IdLookup, StoreError> {
        let mut missing: Vec<&str> = Vec::new();
        let mut seen = HashSet::new();
        for (_, e) in events {
            let s = e.stream.as_str();
            if state.versions.contains_key(s) || !seen.insert(s) {
                continue;
            }
            let taken_new = how == Prefetch::FastPath && matches!(e.data, EventData::Submitted(_));
            if !taken_new {
                missing.push(s);
            }
        }
        for keys in missing.chunks(LOOKUP_KEYS_MAX) {
            let found = self.conn.stream_versions(keys).await?;
            for k in keys {
                state.versions.insert((*k).to_owned(), 0);
            }
            state.versions.extend(found);
        }
        let mut found = IdLookup::default();
        if how == Prefetch::LookedUp {
            self.fetch_ids(events, &mut found.ids).await?;
        }
        Ok(found)
    }

    /// Reads, in this transaction, who answers for each stored case these (scoped) events
    /// touch, unless the transaction already knows.
    pub(super) async fn fetch_owners(
        &mut self,
        state: &TxState,
        events: &[&(u64, NewEvent)],
        owners: &mut HashMap<String, CaseOwner>,
    ) -> Result<(), StoreError> {
        let mut streams: Vec<&str> = Vec::new();
        let mut seen = HashSet::new();
        for (_, e) in events {
            let s = e.stream.as_str();
            let stored = state.versions.get(s).is_some_and(|v| *v > 0);
            let case = matches!(
                e.stream.kind(),
                jiancha_events::StreamKind::Case | jiancha_events::StreamKind::Procurement
            );
            if case && stored && !state.owners.contains_key(s) && seen.insert(s) {
                streams.push(s);
            }
        }
        for keys in streams.chunks(LOOKUP_KEYS_MAX) {
            let rows = self.conn.owner_rows(keys).await?;
            fold_owners(&rows, owners);
        }
        Ok(())
    }

    /// Finds the stored events under the batch's ids. Ids the log assigned are not in the id
    /// index; they come only with moved events, which say their position, so those positions
    /// are read instead.
    async fn fetch_ids(
        &mut self,
        events: &[&(u64, NewEvent)],
        found: &mut HashMap<String, ExistingId>,
    ) -> Result<(), StoreError> {
        let mut given: Vec<&str> = Vec::new();
        let mut positions: Vec<i64> = Vec::new();
        for (_, e) in events {
            match e.id.as_deref() {
                Some(id) if id.starts_with(AUTO_ID_PREFIX) => {
                    if let Some(p) = e.moved.as_ref().and_then(|m| m.position) {
                        positions.push(to_i64(p));
                    }
                }
                Some(id) => given.push(id),
                None => {}
            }
        }
        for keys in given.chunks(LOOKUP_KEYS_MAX) {
            found.extend(self.conn.find_ids(keys).await?);
        }
        for keys in positions.chunks(LOOKUP_KEYS_MAX) {
            found.extend(self.conn.find_positions(keys).await?);
        }
        Ok(())
    }
}
