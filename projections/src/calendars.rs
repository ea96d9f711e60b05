//! The calendars in force: the national data plus every `CalendarAmended` so far, resolved per
//! org. An org's calendar is that of the most specific amended jurisdiction above it, which
//! inherits its prefixes' amendments; orgs under no local amendment share the national one.

use std::collections::HashMap;

use jiancha_calendar::{Amendment, AmendmentKind, Calendar, NATIONAL};
use jiancha_events::{AmendmentKind as EventKind, CalendarAmended};

/// Amendments so far and the calendars built from them. Only the amendments are serialised;
/// the calendars are rebuilt from them.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(from = "Vec<Amendment>", into = "Vec<Amendment>")]
pub struct Calendars {
    amendments: Vec<Amendment>,
    /// Calendars by jurisdiction, rebuilt lazily after each amendment.
    built: HashMap<String, Calendar>,
    national: Calendar,
    /// Whether any amendment is for a jurisdiction below the national one.
    local: bool,
}

impl Default for Calendars {
    fn default() -> Self {
        Calendars {
            amendments: Vec::new(),
            built: HashMap::new(),
            national: Calendar::national(),
            local: false,
        }
    }
}

impl From<Vec<Amendment>> for Calendars {
    fn from(amendments: Vec<Amendment>) -> Self {
        let local = amendments.iter().any(|a| a.jurisdiction != NATIONAL);
        let national = Calendar::for_jurisdiction(NATIONAL, &amendments);
        Calendars {
            amendments,
            built: HashMap::new(),
            national,
            local,
        }
    }
}

impl From<Calendars> for Vec<Amendment> {
    fn from(c: Calendars) -> Self {
        c.amendments
    }
}

impl Calendars {
    /// Records an amendment; every calendar it reaches is rebuilt on next use, so due dates
    /// derived afterwards follow it.
    pub fn amend(&mut self, event: &CalendarAmended) {
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
        self.amendments
            .iter()
            .map(|a| a.jurisdiction.as_str())
            .filter(|j| *j != NATIONAL && jiancha_events::stream::org_is_under(org, j))
            .max_by_key(|j| j.len())
            .unwrap_or(NATIONAL)
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
