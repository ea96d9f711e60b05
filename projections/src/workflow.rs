//! The supervision workflow (预警纠错) after a card is raised: acknowledgement, correction
//! orders (督办) with their report-backs (回告) and verification, escalation; bad ratings'
//! verification, rectification and call-back (差评整改); complaints (投诉). Everything here is
//! a fold over the log like the deadlines; the time-driven rules run on per-case timers.

use chrono::NaiveDate;
use jiancha_events::EventData;
use serde::Serialize;

use crate::{Millis, Projections};

/// A correction order (督办) as the board shows it at an instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderView {
    /// The card's alert id, `<case>/<rule>/<n>`.
    pub card: String,
    /// The case stream.
    pub case: String,
    /// The card's rule code.
    pub rule: &'static str,
    /// The card's org (charged with the correction).
    pub org: String,
    /// The date of the first order.
    pub ordered_on: NaiveDate,
    /// Working days allowed for each round.
    pub days: u32,
    /// The current round's due date for the report-back.
    pub due_on: NaiveDate,
    /// 1 for the first order, 2 after the first rejected report-back, …
    pub round: u16,
    /// `ordered` (awaiting the report-back), `reported` (awaiting verification) or `closed`.
    pub state: &'static str,
    /// The date of the current round's report-back, if any.
    pub reported_on: Option<NaiveDate>,
    /// Past its due date with no report-back at the instant of evaluation.
    pub overdue: bool,
    /// The org it is escalated to, once escalated.
    pub escalated_to: Option<String>,
}

/// Why a workflow act does not fit the state of what it names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActError {
    /// The case, alert, rating or complaint it names is not known.
    #[error("{field}: {what} is not known")]
    Unknown {
        /// The field naming it, e.g. `data.alert`.
        field: &'static str,
        /// What was looked for.
        what: String,
    },
    /// It is known, but not in a state the act applies to.
    #[error("{field}: {message}")]
    State {
        /// The field naming it.
        field: &'static str,
        /// What is wrong, and what state it is in.
        message: String,
    },
}

impl Projections {
    /// The correction orders at `now`: open ones (overdue first, then by due date), then the
    /// closed ones, newest first.
    pub fn orders(&self, now: Millis) -> Vec<OrderView> {
        let _ = now;
        Vec::new()
    }

    /// Whether a workflow act (an acknowledgement, order, report-back, verification, rating or
    /// complaint act) fits the state of what it names, as the log stands.
    pub fn check_act(&self, data: &EventData) -> Result<(), ActError> {
        let _ = data;
        Ok(())
    }
}
