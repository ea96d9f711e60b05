//! The alert bus: every alert the engine sees raised or closed while it runs, on a tokio
//! broadcast channel, for live views (the server's SSE stream).

use jiancha_projections::AlertView;
use tokio::sync::broadcast;

/// Alert changes the bus keeps for a slow receiver before it loses the oldest.
pub const ALERT_BUS_CAPACITY: usize = 4_096;

/// What happened to an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AlertChangeKind {
    /// It was raised: by an event, or by the clock passing its threshold.
    Raised,
    /// An event closed it.
    Closed,
    /// This engine published it ahead of the fold, and the log, as it now stands, never raises
    /// it (a `CardWithdrawn` event records the withdrawal of its card).
    Withdrawn,
}

impl AlertChangeKind {
    /// The wire name: `raised`, `closed` or `withdrawn`.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertChangeKind::Raised => "raised",
            AlertChangeKind::Closed => "closed",
            AlertChangeKind::Withdrawn => "withdrawn",
        }
    }
}

/// One alert raised or closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertChange {
    /// Raised or closed.
    pub kind: AlertChangeKind,
    /// The alert as the engine saw it then.
    pub alert: AlertView,
    /// The position the engine had applied when it saw the change: the event that raised or
    /// closed the alert, or, for an alert the clock raised, the last event folded in.
    pub position: u64,
}

/// A new bus of [`ALERT_BUS_CAPACITY`], with a first receiver.
pub fn alert_bus() -> (
    broadcast::Sender<AlertChange>,
    broadcast::Receiver<AlertChange>,
) {
    broadcast::channel(ALERT_BUS_CAPACITY)
}
