//! The live runtime: an [`Engine`] folds the log into the projections as it grows, publishes
//! alert changes on a bus, and watches the clock so that a deadline passing raises its alert and
//! issues its card (`CardIssued`) with no new event.
//!
//! The projections stay a pure function of the log: the engine never changes them when time
//! passes. It appends `CardIssued` events instead, which come back through the tail into the
//! fold like any other event. A card's id is `card:<alert id>`, and the store makes a repeated
//! id a no-op, so a restarted engine, or two engines on one log, issue each card once. (An
//! alert whose id was already carded for another due instant — an event dated earlier moved its
//! threshold after the card — is carded as `card:<alert id>@<due>`.)

#![warn(missing_docs)]

pub mod bus;
mod cards;
pub mod closing;
pub mod error;
pub mod evidence;
pub mod index;
pub mod index_verify;
pub mod province;
mod repeats;
mod runner;
pub mod scheduler;
pub mod snapshots;
pub mod travel;
pub mod verify;

use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard};
use std::time::Duration;

use jiancha_projections::{AlertConfig, Millis, Projections, Scoring};
use jiancha_store::EventStore;
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::task::JoinHandle;

pub use bus::{alert_bus, AlertChange, AlertChangeKind, ALERT_BUS_CAPACITY};
pub use cards::{
    CARD_BATCH_EVENTS_MAX, CARD_RETRY_INTERVAL, CARD_RETRY_MAX, DUE_SEPARATOR,
    WITHDRAWN_LATE_EVENT, WITHDRAWN_NOT_RAISED,
};
pub use error::EngineError;
pub use jiancha_store::{Clock, ManualClock, SystemClock};

/// The most cases the scheduler keeps a wake-up for. Beyond it the latest thresholds are
/// dropped (with a warning) and every open case is evaluated again when the earliest dropped one
/// comes due, so nothing is missed, only found later by a full pass.
pub const SCHEDULER_ENTRIES_MAX: usize = 1_000_000;

/// Commands (ticks, shutdown) that may wait for the runner at once.
pub const COMMAND_QUEUE_MAX: usize = 64;

/// Events folded under one write lock during the catch-up, so readers get in between.
pub const APPLY_CHUNK_EVENTS: usize = 1_000;

/// The longest the runner sleeps before reading the clock again, whatever the next threshold:
/// an injected clock may jump, and the system clock may be set.
pub const SLEEP_MAX: Duration = Duration::from_secs(60);

/// How long the runner waits before following the log again after a read failed.
pub const TAIL_RETRY_INTERVAL: Duration = Duration::from_secs(1);

/// The actor of every event the engine writes.
pub const ENGINE_ACTOR: &str = "engine";

/// The prefix of a card's event id: `card:<alert id>`.
pub const CARD_ID_PREFIX: &str = jiancha_projections::CARD_ID_PREFIX;

/// How the engine runs.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// The alert thresholds the projections evaluate with.
    pub alerts: AlertConfig,
    /// The most cases the scheduler keeps a wake-up for ([`SCHEDULER_ENTRIES_MAX`]).
    pub scheduler_entries_max: usize,
    /// The bus to publish alert changes on, for a caller that subscribes before the engine
    /// starts (and so sees the alerts delivered at startup); a new one ([`alert_bus`]) when
    /// `None`.
    pub bus: Option<broadcast::Sender<AlertChange>>,
    /// The scoring scheme of the assessment ledger the engine keeps for reports.
    pub scoring: Scoring,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            alerts: AlertConfig::default(),
            scheduler_entries_max: SCHEDULER_ENTRIES_MAX,
            bus: None,
            scoring: Scoring::default(),
        }
    }
}

// The server shares one engine between request handlers.
const _: fn() = || {
    fn shared<T: Send + Sync>() {}
    shared::<Engine>();
};

/// What the runner is asked to do.
#[derive(Debug)]
enum Command {
    /// Evaluate the clock's instant now; answer with the position to wait for.
    Tick(oneshot::Sender<u64>),
    /// Stop after the work at hand.
    Shutdown,
}

/// The live runtime over one event log. Readers (the HTTP server) take short read locks on the
/// projections; one runner task applies events, runs the scheduler and issues cards.
#[derive(Debug)]
pub struct Engine {
    store: Arc<dyn EventStore>,
    clock: Arc<dyn Clock>,
    projections: Arc<RwLock<Projections>>,
    position: watch::Receiver<u64>,
    bus: broadcast::Sender<AlertChange>,
    commands: mpsc::Sender<Command>,
    runner: Mutex<Option<JoinHandle<()>>>,
}

impl Engine {
    /// Folds the whole log into fresh projections, then starts the runner, which delivers the
    /// alerts still open and undelivered on open cases, and from then on follows the log and
    /// the clock. Returns once the catch-up is done.
    pub async fn start(
        store: Arc<dyn EventStore>,
        clock: Arc<dyn Clock>,
        config: EngineConfig,
    ) -> Result<Engine, EngineError> {
        let (restored, how) =
            snapshots::restore_or_replay(store.as_ref(), config.alerts, config.scoring).await?;
        tracing::info!(snapshot = ?how.snapshot, replayed = how.replayed, "projections restored");
        let (position_tx, position) = watch::channel(restored.position());
        let projections = Arc::new(RwLock::new(restored));
        let caught_up = runner::catch_up(store.as_ref(), &projections, &position_tx).await?;
        let bus = config.bus.clone().unwrap_or_else(|| alert_bus().0);
        let (commands, commands_rx) = mpsc::channel(COMMAND_QUEUE_MAX);
        let runner = runner::Runner::new(runner::Parts {
            store: store.clone(),
            clock: clock.clone(),
            projections: projections.clone(),
            bus: bus.clone(),
            position: position_tx,
            scheduler_entries_max: config.scheduler_entries_max,
        })?;
        let handle = tokio::spawn(runner.run(commands_rx, caught_up));
        Ok(Engine {
            store,
            clock,
            projections,
            position,
            bus,
            commands,
            runner: Mutex::new(Some(handle)),
        })
    }

    /// The projections, shared. Hold a read lock briefly: the runner waits for it to apply.
    pub fn projections(&self) -> Arc<RwLock<Projections>> {
        self.projections.clone()
    }

    /// A read lock on the projections (a poisoned lock is read anyway: the fold never panics
    /// on an event already in the log, so its state is whole).
    pub fn read(&self) -> RwLockReadGuard<'_, Projections> {
        self.projections
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The last position applied, with everything it caused (cards for the alerts it raised)
    /// already appended. The alerts found open when the engine started are delivered after
    /// the catch-up, so right after start their cards may still be on their way.
    pub fn position(&self) -> u64 {
        *self.position.borrow()
    }

    /// Waits until the engine has applied at least `position`, and returns the position it has
    /// reached.
    pub async fn wait_for(&self, position: u64) -> Result<u64, EngineError> {
        let mut rx = self.position.clone();
        let reached = rx
            .wait_for(|p| *p >= position)
            .await
            .map_err(|_| EngineError::Stopped)?;
        Ok(*reached)
    }

    /// A receiver of alert changes from now on. A receiver that falls more than
    /// [`ALERT_BUS_CAPACITY`] changes behind loses the oldest (`RecvError::Lagged`) and should
    /// read the current alerts from the projections.
    pub fn alerts(&self) -> broadcast::Receiver<AlertChange> {
        self.bus.subscribe()
    }

    /// Evaluates the clock's current instant at once (as the scheduler does when it wakes), and
    /// returns once the cards it issued are folded in, with the position reached. Tests and a
    /// "check now" button use it; the runner does the same by itself when the clock moves.
    pub async fn tick(&self) -> Result<u64, EngineError> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(Command::Tick(reply))
            .await
            .map_err(|_| EngineError::Stopped)?;
        let target = answer.await.map_err(|_| EngineError::Stopped)?;
        self.wait_for(target).await
    }

    /// The current instant of the engine's clock.
    pub fn now(&self) -> Millis {
        self.clock.now().timestamp_millis()
    }

    /// The engine's clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The event log the engine follows.
    pub fn store(&self) -> &Arc<dyn EventStore> {
        &self.store
    }

    /// Stops the runner after the work at hand (an event being applied, cards being appended)
    /// and waits for it. Calling it again does nothing.
    pub async fn shutdown(&self) -> Result<(), EngineError> {
        let handle = self
            .runner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let Some(handle) = handle else { return Ok(()) };
        // A closed queue means the runner already ended; the join below says how.
        let _ = self.commands.send(Command::Shutdown).await;
        handle
            .await
            .map_err(|e| EngineError::Bug(format!("the engine's runner failed: {e}")))?;
        // The next start loads this and replays only what comes after it.
        self.save_snapshot().await
    }

    /// Keeps a snapshot of the projections beside the log, for a fast restart.
    pub async fn save_snapshot(&self) -> Result<(), EngineError> {
        let (position, bytes) = {
            let p = self.read();
            (p.position(), p.snapshot(p.head()))
        };
        match bytes {
            Ok(bytes) if position > 0 => self
                .store
                .save_snapshot(
                    snapshots::PROJECTIONS_SNAPSHOT,
                    position,
                    snapshots::seal(&bytes),
                )
                .await
                .map_err(EngineError::Store),
            Ok(_) => Ok(()),
            Err(e) => {
                tracing::warn!(error = %e, "projection snapshot not saved");
                Ok(())
            }
        }
    }
}
