//! The events a set of cases depends on, as one filter: what a fold of those cases alone must
//! see so that each of them ends in the state a fold of the whole log gives it.
//!
//! A case's state depends on its own stream, the catalog (its item's definitions, the org
//! names), the calendar, the supervision acts that name it, and the supervision events that name
//! no case (declared historical imports, closed periods, upheld appeals, which name a ledger
//! entry by its position). A procurement project also reads every project's registration
//! (`proc.split` sums a purchaser's pieces). Everything else — other cases' streams and the acts
//! on them — never touches it.
//!
//! The SQL stores narrow a read by index and then keep exactly what [`Contexts::keeps`] keeps;
//! the in-memory store and the tests filter the whole log with it.

use std::collections::BTreeSet;

use crate::{EventData, StoredEvent, StreamKind};

/// A set of case and project streams, and the filter of the events their states depend on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Contexts {
    cases: BTreeSet<String>,
    projects: bool,
}

impl Contexts {
    /// The contexts of `streams` (case and project stream names).
    pub fn new<S: Into<String>>(streams: impl IntoIterator<Item = S>) -> Self {
        let cases: BTreeSet<String> = streams.into_iter().map(Into::into).collect();
        let projects = cases
            .iter()
            .any(|s| s.starts_with(crate::stream::PROJECT_STREAM_PREFIX));
        Contexts { cases, projects }
    }

    /// The streams, sorted.
    pub fn streams(&self) -> impl Iterator<Item = &str> {
        self.cases.iter().map(String::as_str)
    }

    /// How many streams.
    pub fn len(&self) -> usize {
        self.cases.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.cases.is_empty()
    }

    /// Whether any of the streams is a procurement project's (so every registration counts).
    pub fn has_projects(&self) -> bool {
        self.projects
    }

    /// Whether the state of one of the streams may depend on `event`.
    pub fn keeps(&self, event: &StoredEvent) -> bool {
        match event.data.stream_kind() {
            StreamKind::Catalog | StreamKind::Calendar => true,
            StreamKind::Supervision => match event.data.concerns_case() {
                Some(case) => self.cases.contains(case),
                None => true,
            },
            StreamKind::Case => self.cases.contains(&event.stream),
            StreamKind::Procurement => {
                self.cases.contains(&event.stream)
                    || (self.projects && matches!(event.data, EventData::ProcurementRegistered(_)))
            }
        }
    }

    /// The events of `log` (in position order) the streams depend on, in position order.
    pub fn filter<'a>(
        &'a self,
        log: impl IntoIterator<Item = &'a StoredEvent> + 'a,
    ) -> impl Iterator<Item = &'a StoredEvent> + 'a {
        log.into_iter().filter(move |e| self.keeps(e))
    }
}
