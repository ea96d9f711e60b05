//! The calendars in force: the national data plus every `CalendarAmended` so far, resolved per
//! org. An org's calendar is that of the most specific amended jurisdiction above it, which
//! inherits its prefixes' amendments; orgs under no local amendment share the national one.

use std::collections::HashMap;

use jiancha_calendar::{Amendment, AmendmentKind, Calendar, NATIONAL};
use jiancha_events::{AmendmentKind as EventKind, CalendarAmended};

/// Amendments so far and the calendars built from them. Only the amendments (with the log
/// position each was folded at) are serialised; the calendars are rebuilt from them.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[serde(from = "Kept", into = "Kept")]
pub struct Calendars {
    amendments: Vec<Amendment>,
    /// The log position each amendment was folded at, in order.
    folded_at: Vec<u64>,
    /// Calendars by jurisdiction, rebuilt lazily after each amendment.
    built: HashMap<String, Calendar>,
    national: Calendar,
    /// Whether any amendment is for a jurisdiction below the national one.
    local: bool,
    /// Calendars as they stood after the first k amendments, by (jurisdiction, k): the
    /// calendar of a case that ended before later amendments (see [`Calendars::peek_as_of`]).
    earlier: std::sync::Mutex<HashMap<(String, usize), Calendar>>,
}

/// What a snapshot keeps of the calendars.
#[derive(serde::Serialize, serde::Deserialize)]
struct Kept {
    amendments: Vec<Amendment>,
    folded_at: Vec<u64>,
}

impl Default for Calendars {
    fn default() -> Self {
        Calendars::from(Kept {
            amendments: Vec::new(),
            folded_at: Vec::new(),
        })
    }
}

impl Clone for Calendars {
    fn clone(&self) -> Self {
        // The earlier calendars are a cache of this value's amendments: a clone starts its own.
        Calendars {
            amendments: self.amendments.clone(),
            folded_at: self.folded_at.clone(),
            built: self.built.clone(),
            national: self.national.clone(),
            local: self.local,
            earlier: std::sync::Mutex::default(),
        }
    }
}

impl From<Kept> for Calendars {
    fn from(kept: Kept) -> Self {
        let Kept {
            amendments,
            mut folded_at,
        } = kept;
        // Every amendment has its position (a shorter list, of a damaged body, counts the
        // missing ones as folded at the start).
        folded_at.resize(amendments.len(), 0);
        let local = amendments.iter().any(|a| a.jurisdiction != NATIONAL);
        let national = Calendar::for_jurisdiction(NATIONAL, &amendments);
        Calendars {
            amendments,
            folded_at,
            built: HashMap::new(),
            national,
            local,
            earlier: std::sync::Mutex::default(),
        }
    }
}

impl From<Calendars> for Kept {
    fn from(c: Calendars) -> Self {
        Kept {
            amendments: c.amendments,
            folded_at: c.folded_at,
        }
    }
}

impl Calendars {
    /// Records an amendment; every calendar it reaches is rebuilt on next use, so due dates
    /// derived afterwards follow it.
    pub fn amend(&mut self, event: &CalendarAmended, position: u64) {
        let kind = match event.kind {
            EventKind::Holiday => AmendmentKind::Holiday,
            EventKind::RestDay => AmendmentKind::RestDay,
            EventKind::Workday => AmendmentKind::Workday,
            EventKind::YearDeclared => AmendmentKind::YearDeclared,
        };
        self.amendments.push(Amendment {
            jurisdiction: event.jurisdiction.clone(),
            date: event.date,
            kind,
            reason: event.reason.clone(),
        });
        self.folded_at.push(position);
        self.built.clear();
        self.local |= event.jurisdiction != NATIONAL;
        self.national = Calendar::for_jurisdiction(NATIONAL, &self.amendments);
        self.built
            .insert(NATIONAL.to_owned(), self.national.clone());
    }

    /// How many amendments have been recorded.
    pub fn amendment_count(&self) -> usize {
        self.amendments.len()
    }

    /// The jurisdiction whose calendar applies to `org`.
    pub fn jurisdiction_of<'a>(&'a self, org: &str) -> &'a str {
        jurisdiction_among(&self.amendments, org)
    }

    /// The calendar that applied to `org` once the log was folded to `position`: the current
    /// one when no amendment was folded after it, else the one built from the amendments
    /// folded by then (kept for the next case that asks). A case that ended at `position` is
    /// judged by it: a later amendment re-derives the due dates of running cases only.
    pub fn peek_as_of(&self, org: &str, position: u64) -> Calendar {
        let k = self.folded_at.partition_point(|p| *p <= position);
        if k >= self.amendments.len() {
            return self.peek(org);
        }
        let before = &self.amendments[..k];
        let jurisdiction = jurisdiction_among(before, org);
        let mut earlier = self
            .earlier
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        earlier
            .entry((jurisdiction.to_owned(), k))
            .or_insert_with(|| Calendar::for_jurisdiction(jurisdiction, before))
            .clone()
    }

    /// The calendar that applies to `org`, building it on first use.
    pub fn for_org(&mut self, org: &str) -> Calendar {
        self.resolve(org).clone()
    }

    /// The calendar that applies to `org`, building it on first use; borrowed, for the fold.
    pub fn resolve(&mut self, org: &str) -> &Calendar {
        if !self.local {
            return &self.national;
        }
        let jurisdiction = self.jurisdiction_of(org);
        if jurisdiction == NATIONAL {
            return &self.national;
        }
        if self.built.contains_key(jurisdiction) {
            return &self.built[jurisdiction];
        }
        let jurisdiction = jurisdiction.to_owned();
        let calendar = Calendar::for_jurisdiction(&jurisdiction, &self.amendments);
        self.built.entry(jurisdiction).or_insert(calendar)
    }

    /// The calendar that applies to `org`, for read-only views: the one built, or else built
    /// afresh for this call and not kept (the national one needs no building).
    pub fn peek(&self, org: &str) -> Calendar {
        if !self.local {
            return self.national.clone();
        }
        let jurisdiction = self.jurisdiction_of(org);
        match self.built.get(jurisdiction) {
            Some(c) => c.clone(),
            None if jurisdiction == NATIONAL => self.national.clone(),
            None => Calendar::for_jurisdiction(jurisdiction, &self.amendments),
        }
    }
}

/// The jurisdiction among `amendments` whose calendar applies to `org`: the most specific one
/// above it, else the national one.
fn jurisdiction_among<'a>(amendments: &'a [Amendment], org: &str) -> &'a str {
    amendments
        .iter()
        .map(|a| a.jurisdiction.as_str())
        .filter(|j| *j != NATIONAL && jiancha_events::stream::org_is_under(org, j))
        .max_by_key(|j| j.len())
        .unwrap_or(NATIONAL)
}
