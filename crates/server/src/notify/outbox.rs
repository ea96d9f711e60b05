//! The outbox: finds the notifications owed and sends them, at least once each.
//!
//! The log is the outbox. A notification is owed for an alert raised (by the engine's clock)
//! within `max_age` that a recipient wants, until a `NotificationSent` or `NotificationFailed`
//! with its id is in the log. The dispatcher finds them in the alerts the engine publishes as
//! raised, and by a scan of the projections at start and whenever something was left owed (a
//! full queue, a lagging bus, a record that could not be appended). Each is checked against the
//! log (`read_concerning` its case) just before it is sent, so a restart or a second engine does
//! not send again what is recorded; the record's event id, `notification:<id>`, makes a second
//! record a no-op. An engine stopped between a delivery and its record sends it again on the
//! next start: the receiver drops the duplicate by its id.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use jiancha_engine::{AlertChange, AlertChangeKind, Engine, ENGINE_ACTOR};
use jiancha_events::time::CHINA;
use jiancha_events::{EventData, NewEvent, NotificationFailed, NotificationSent, StreamName};
use jiancha_projections::AlertView;
use jiancha_store::{RejectionKind, StoreError};
use tokio::sync::{broadcast, mpsc, watch, Notify, Semaphore};
use tokio::task::{JoinHandle, JoinSet};

use super::webhook::{self, Outcome};
use super::{NotifyConfig, NotifyConfigError};

/// The prefix of the event id of a notification's record: `notification:<id>`.
pub const NOTIFICATION_ID_PREFIX: &str = "notification:";

/// Notifications being sent at once (each may wait between its attempts).
pub const SENDS_AT_ONCE: usize = 16;

/// Attempts to append a record before the notification is left owed.
const RECORD_ATTEMPTS: u32 = 5;
/// The wait between two attempts to append a record.
const RECORD_RETRY: Duration = Duration::from_secs(1);

/// A running outbox; [`Notifier::shutdown`] stops it (notifications in flight stay owed).
#[derive(Debug)]
pub struct Notifier {
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl Notifier {
    /// Whether nothing is on its way: the first scan of the log is done, and every
    /// notification queued since is recorded (or left owed for the next scan).
    pub fn is_idle(&self) -> bool {
        self.shared.scans.load(Ordering::Relaxed) > 0 && lock(&self.shared.in_flight).is_empty()
    }

    /// How many scans of the log for owed notifications were made.
    pub fn scans(&self) -> u64 {
        self.shared.scans.load(Ordering::Relaxed)
    }

    /// Stops the dispatcher and the deliveries in flight, and waits for them. Calling it again
    /// does nothing.
    pub async fn shutdown(&self) {
        crate::stop_task(&self.stop, &self.task).await;
    }
}

/// What the dispatcher and the senders share.
#[derive(Debug)]
struct Shared {
    engine: Arc<Engine>,
    config: NotifyConfig,
    client: reqwest::Client,
    /// Notifications known to be recorded in the log.
    recorded: Mutex<BTreeSet<String>>,
    /// Notifications queued or being sent.
    in_flight: Mutex<BTreeSet<String>>,
    /// Something was left owed: scan again after `rescan`.
    owed: AtomicBool,
    wake: Notify,
    /// Scans made so far.
    scans: AtomicU64,
}

impl Shared {
    fn left_owed(&self) {
        self.owed.store(true, Ordering::Relaxed);
        self.wake.notify_one();
    }

    fn done(&self, id: &str, recorded: bool) {
        if recorded {
            lock(&self.recorded).insert(id.to_owned());
        }
        lock(&self.in_flight).remove(id);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One notification to send.
#[derive(Debug)]
struct Job {
    id: String,
    recipient: usize,
    alert: AlertView,
}

/// Starts the outbox over a running engine. `alerts` is a receiver of the engine's alert bus,
/// subscribed before the engine started so the alerts it delivers at startup are seen.
pub fn start(
    engine: Arc<Engine>,
    alerts: broadcast::Receiver<AlertChange>,
    config: NotifyConfig,
) -> Result<Notifier, NotifyConfigError> {
    let client = reqwest::Client::builder()
        .connect_timeout(config.delivery.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| NotifyConfigError::Client(e.to_string()))?;
    let shared = Arc::new(Shared {
        engine,
        config,
        client,
        recorded: Mutex::new(BTreeSet::new()),
        in_flight: Mutex::new(BTreeSet::new()),
        owed: AtomicBool::new(false),
        wake: Notify::new(),
        scans: AtomicU64::new(0),
    });
    let (stop, stop_rx) = watch::channel(false);
    let task = tokio::spawn(dispatch(shared.clone(), alerts, stop_rx));
    Ok(Notifier {
        shared,
        stop,
        task: Mutex::new(Some(task)),
    })
}

/// The dispatcher: scans at start, then queues the notifications of each alert raised, and
/// scans again when something was left owed.
async fn dispatch(
    shared: Arc<Shared>,
    mut alerts: broadcast::Receiver<AlertChange>,
    mut stop: watch::Receiver<bool>,
) {
    let (queue, jobs) = mpsc::channel(shared.config.delivery.queue);
    let senders = tokio::spawn(send_all(shared.clone(), jobs));
    load_recorded(&shared).await;
    scan(&shared, &queue);
    let mut bus_open = true;
    let mut rescan_at: Option<tokio::time::Instant> = None;
    loop {
        if shared.owed.swap(false, Ordering::Relaxed) && rescan_at.is_none() {
            rescan_at = Some(tokio::time::Instant::now() + shared.config.delivery.rescan);
        }
        tokio::select! {
            biased;
            _ = stop.changed() => break,
            change = alerts.recv(), if bus_open => match change {
                Ok(c) if c.kind == AlertChangeKind::Raised => offer_alert(&shared, &queue, &c.alert),
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "notifications: alert changes missed; the log is \
                                            scanned again");
                    shared.left_owed();
                }
                Err(broadcast::error::RecvError::Closed) => bus_open = false,
            },
            () = shared.wake.notified() => {}
            () = sleep_until(rescan_at) => {
                rescan_at = None;
                scan(&shared, &queue);
            }
        }
    }
    // Dropping the senders' task aborts the deliveries in flight: they stay owed in the log.
    senders.abort();
    let _ = senders.await;
}

async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Learns the notifications the log records, with one read of the supervision stream at start
/// (the SQL stores do not find a notification's record by its case yet, so the check before
/// each send may miss what an earlier run recorded). A failed read leaves the check alone.
async fn load_recorded(shared: &Shared) {
    match shared
        .engine
        .store()
        .read_stream(jiancha_events::SUPERVISION_STREAM)
        .await
    {
        Ok(events) => {
            let mut recorded = lock(&shared.recorded);
            recorded.extend(
                events
                    .iter()
                    .filter_map(|e| notification_of(e).map(str::to_owned)),
            );
            tracing::info!(recorded = recorded.len(), "notifications: records read");
        }
        Err(error) => tracing::warn!(%error, "notifications: cannot read the records"),
    }
}

/// The notification an event records, if it is a `NotificationSent` or `NotificationFailed`.
fn notification_of(e: &jiancha_events::StoredEvent) -> Option<&str> {
    match &e.data {
        EventData::NotificationSent(n) => Some(&n.notification),
        EventData::NotificationFailed(n) => Some(&n.notification),
        _ => None,
    }
}

/// The earliest raising instant still owed a notification, by the engine's clock.
fn age_floor(shared: &Shared) -> i64 {
    let max_age = i64::try_from(shared.config.delivery.max_age.as_millis()).unwrap_or(i64::MAX);
    shared.engine.now().saturating_sub(max_age)
}

/// Offers every notification owed for the alerts raised within `max_age`, as the projections
/// see them at the engine's clock.
fn scan(shared: &Shared, queue: &mpsc::Sender<Job>) {
    let now = shared.engine.now();
    let floor = age_floor(shared);
    let alerts = shared.engine.read().alerts(now);
    let mut offered = 0usize;
    for alert in alerts.iter().filter(|a| a.raised_at_millis() >= floor) {
        offered += offer(shared, queue, alert);
    }
    shared.scans.fetch_add(1, Ordering::Relaxed);
    tracing::info!(offered, "notifications: the log scanned for what is owed");
}

fn offer_alert(shared: &Shared, queue: &mpsc::Sender<Job>, alert: &AlertView) {
    if alert.raised_at_millis() >= age_floor(shared) {
        offer(shared, queue, alert);
    }
}

/// Queues the notifications of one alert not recorded nor on their way; returns how many.
fn offer(shared: &Shared, queue: &mpsc::Sender<Job>, alert: &AlertView) -> usize {
    let mut offered = 0;
    for (index, recipient) in shared.config.recipients.iter().enumerate() {
        if !recipient.wants(alert) {
            continue;
        }
        let id = recipient.notification_id(alert);
        if NOTIFICATION_ID_PREFIX.len() + id.len() > jiancha_events::jsonl::ID_BYTES_MAX {
            tracing::error!(%id, "notification id too long to record; not sent");
            continue;
        }
        if lock(&shared.recorded).contains(&id) || !lock(&shared.in_flight).insert(id.clone()) {
            continue;
        }
        let job = Job {
            id: id.clone(),
            recipient: index,
            alert: alert.clone(),
        };
        match queue.try_send(job) {
            Ok(()) => offered += 1,
            Err(e) => {
                lock(&shared.in_flight).remove(&id);
                if matches!(e, mpsc::error::TrySendError::Full(_)) {
                    tracing::warn!(%id, "notification queue full; left owed for the next scan");
                    shared.left_owed();
                }
            }
        }
    }
    offered
}

/// Runs the queued notifications, [`SENDS_AT_ONCE`] at a time.
async fn send_all(shared: Arc<Shared>, mut jobs: mpsc::Receiver<Job>) {
    let slots = Arc::new(Semaphore::new(SENDS_AT_ONCE));
    let mut running = JoinSet::new();
    while let Some(job) = jobs.recv().await {
        while running.try_join_next().is_some() {}
        let Ok(slot) = slots.clone().acquire_owned().await else {
            break;
        };
        let shared = shared.clone();
        running.spawn(async move {
            send(&shared, job).await;
            drop(slot);
        });
    }
}

/// Sends one notification unless the log already records it, then records how it went.
async fn send(shared: &Shared, job: Job) {
    match already_recorded(shared, &job).await {
        Ok(true) => {
            tracing::debug!(id = %job.id, "notification already recorded");
            return shared.done(&job.id, true);
        }
        Ok(false) => {}
        Err(error) => {
            tracing::warn!(id = %job.id, %error, "cannot check the log for a notification; \
                                                  left owed");
            shared.done(&job.id, false);
            return shared.left_owed();
        }
    }
    let Some(recipient) = shared.config.recipients.get(job.recipient) else {
        return shared.done(&job.id, false);
    };
    let body = match webhook::payload(&job.id, &recipient.name, &job.alert) {
        Ok(body) => body,
        Err(error) => {
            tracing::error!(id = %job.id, %error, "cannot encode a notification");
            return shared.done(&job.id, false);
        }
    };
    let outcome = webhook::deliver(
        &shared.client,
        recipient,
        &shared.config.delivery,
        &job.id,
        body,
    )
    .await;
    let data = match outcome {
        Outcome::Sent { attempts } => EventData::NotificationSent(NotificationSent {
            notification: job.id.clone(),
            recipient: recipient.name.clone(),
            attempts,
        }),
        Outcome::Failed { error } => EventData::NotificationFailed(NotificationFailed {
            notification: job.id.clone(),
            recipient: recipient.name.clone(),
            error,
        }),
    };
    let recorded = record(shared, &job, data).await;
    shared.done(&job.id, recorded);
    if !recorded {
        shared.left_owed();
    }
}

/// Whether the log holds a record of the notification (by this engine or another).
async fn already_recorded(shared: &Shared, job: &Job) -> Result<bool, StoreError> {
    let events = shared
        .engine
        .store()
        .read_concerning(&job.alert.case)
        .await?;
    Ok(events
        .iter()
        .any(|e| notification_of(e) == Some(job.id.as_str())))
}

/// Appends the record, a few times if the database fails; whether the log now holds one.
async fn record(shared: &Shared, job: &Job, data: EventData) -> bool {
    let ms = shared.engine.now();
    let Some(at) = chrono::DateTime::from_timestamp_millis(ms).map(|t| t.with_timezone(&CHINA))
    else {
        tracing::error!(id = %job.id, ms, "the engine's clock is out of range; not recorded");
        return false;
    };
    let event = NewEvent::new(
        StreamName::supervision(),
        at,
        ENGINE_ACTOR,
        job.alert.org.clone(),
        data,
    )
    .with_id(format!("{NOTIFICATION_ID_PREFIX}{}", job.id));
    for attempt in 1..=RECORD_ATTEMPTS {
        match shared.engine.store().append(vec![event.clone()]).await {
            Ok(_) => return true,
            Err(StoreError::Rejected(r)) if matches!(r.kind, RejectionKind::IdReused { .. }) => {
                tracing::debug!(id = %job.id, "notification recorded by another engine");
                return true;
            }
            Err(StoreError::Rejected(r)) => {
                // The log refuses it for good: sending again would not change that.
                tracing::error!(id = %job.id, refusal = %r, "notification record refused");
                return true;
            }
            Err(error) => {
                tracing::warn!(id = %job.id, attempt, %error, "cannot record a notification");
                if attempt < RECORD_ATTEMPTS {
                    tokio::time::sleep(RECORD_RETRY).await;
                }
            }
        }
    }
    false
}
