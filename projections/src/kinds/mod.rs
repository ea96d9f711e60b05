//! Case kinds: the seam between the shared machinery and what one kind of case knows.
//!
//! A kind owns a stream prefix, an event vocabulary (its [`jiancha_events::StreamKind`]) and a
//! rule set (one variant of [`crate::Rule`] wrapping the kind's own rule enum). Everything else
//! is shared: the log, the calendar, the alert record ([`crate::Alert`], numbered per rule,
//! ids `<stream>/<code>/<n>`), cards and their lifecycle (delivery, acknowledgement, correction
//! orders, escalation: [`crate::workflow`]), the supervision stream's acts, the views and the
//! audit trail. A case of any kind is a [`CaseState`] — the shared record: status, accountable
//! org, alerts, workflow, fold cursor — whose `kind` holds the kind's own facts ([`KindState`];
//! `None` is an approval case, whose facts are the record's own fields, kept inline because
//! the approval fold is the hot path).
//!
//! What a kind implements ([`Kind`]): how its opening event makes the record, how each of its
//! events changes its facts and raises event-driven alerts, and the instants at which the clock
//! raises its time-driven ones. The fold ([`crate::Projections::apply`]) dispatches on the
//! event's stream kind; the case's own `pending` and `settle` ask the kind for its clock. A
//! third kind is a module like [`procurement`], one variant here, one in `Rule`, one arm in the
//! fold's dispatch.

pub mod procurement;

use serde::{Deserialize, Serialize};

use crate::case::{Alert, CaseState, Ctx, Step};
use crate::instant::Millis;
use crate::ledger::Measure;

/// The facts of a case of a kind other than approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum KindState {
    /// A procurement or tendering project (`proc-…`).
    Procurement(procurement::Project),
}

/// What a kind of case implements over the shared record.
pub trait Kind {
    /// The kind's state shared across its cases (thresholds, cross-case indexes).
    type Book;

    /// The stream prefix (`proc-`).
    const PREFIX: &'static str;

    /// The kind's name on the command line and in the API (`procurement`).
    const NAME: &'static str;

    /// The record an opening event makes, or `None` when the event does not open a case.
    fn open(step: &Step<'_>, book: &mut Self::Book) -> Option<CaseState>;

    /// What an opening counts in the ledger.
    const OPENING_COUNTS: &'static [Measure];

    /// Folds one event of the kind into an existing case: facts, and the alerts it raises;
    /// returns what it counts in the ledger.
    fn apply(
        case: &mut CaseState,
        book: &mut Self::Book,
        ctx: &Ctx<'_>,
        step: &Step<'_>,
    ) -> Vec<Measure>;
}

impl KindState {
    /// The alerts the kind's clock raises on `case` up to `t` (not numbered yet).
    pub(crate) fn pending(&self, case: &CaseState, ctx: &Ctx<'_>, t: Millis) -> Vec<Alert> {
        match self {
            KindState::Procurement(p) => p.pending(case, ctx, t),
        }
    }

    /// The next instant the kind's clock raises an alert on `case`, `Millis::MAX` for none.
    pub(crate) fn next_at(&self, case: &CaseState, ctx: &Ctx<'_>) -> Millis {
        match self {
            KindState::Procurement(p) => p.next_at(case, ctx),
        }
    }

    /// Whether the kind's clock may still raise an alert.
    pub(crate) fn waits(&self) -> bool {
        match self {
            KindState::Procurement(p) => p.waits(),
        }
    }
}

/// The kind a stream name belongs to: `None` for approval cases (`case-…`) and other streams.
pub fn kind_of_stream(stream: &str) -> Option<&'static str> {
    use procurement::Procurement;
    stream
        .starts_with(<Procurement as Kind>::PREFIX)
        .then_some(<Procurement as Kind>::NAME)
}
