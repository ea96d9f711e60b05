//! The injected clock: the only way anything in jiancha learns the time.

use std::fmt::Debug;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};
use tokio::sync::watch;

/// A source of the current instant. The writer stamps `recorded_at` from it; the engine's
/// scheduler sleeps on it. Tests and the demo use a [`ManualClock`].
pub trait Clock: Send + Sync + Debug {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;

    /// A receiver that changes when a manual clock is moved; `None` for the system clock,
    /// whose time passes by itself.
    fn changes(&self) -> Option<watch::Receiver<DateTime<Utc>>> {
        None
    }
}

/// The operating system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(
        clippy::disallowed_methods,
        reason = "the one place that reads the system clock"
    )]
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that moves only when told to; cloning shares the same time.
#[derive(Debug, Clone)]
pub struct ManualClock {
    inner: Arc<Mutex<watch::Sender<DateTime<Utc>>>>,
}

impl ManualClock {
    /// A clock standing at `at`.
    pub fn new(at: DateTime<Utc>) -> Self {
        let (tx, _rx) = watch::channel(at);
        ManualClock {
            inner: Arc::new(Mutex::new(tx)),
        }
    }

    /// Moves the clock to `at` (never backwards: an earlier instant is ignored).
    pub fn set(&self, at: DateTime<Utc>) {
        let tx = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        tx.send_if_modified(|now| {
            let moved = at > *now;
            if moved {
                *now = at;
            }
            moved
        });
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: chrono::Duration) {
        let at = self.now() + by;
        self.set(at);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self
            .inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .borrow()
    }

    fn changes(&self) -> Option<watch::Receiver<DateTime<Utc>>> {
        Some(
            self.inner
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .subscribe(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_forward_and_notifies() {
        let t0 = DateTime::parse_from_rfc3339("2026-03-02T00:00:00Z")
            .unwrap()
            .to_utc();
        let clock = ManualClock::new(t0);
        let mut rx = clock.changes().unwrap();
        clock.advance(chrono::Duration::hours(1));
        assert!(rx.has_changed().unwrap());
        assert_eq!(*rx.borrow_and_update(), t0 + chrono::Duration::hours(1));
        clock.set(t0);
        assert_eq!(clock.now(), t0 + chrono::Duration::hours(1));
        assert!(!rx.has_changed().unwrap());
    }
}
