//! The runner task: folds the log into the projections, follows it live, and runs the deadline
//! scheduler. One task does all three, so the scheduler always evaluates a fold that no other
//! writer is changing, and each event's consequences (alerts published, cards appended, the
//! case rescheduled) are done before the next event and before its position is announced.
//!
//! Locks on the projections are held only between awaits, never across one.

use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use futures::stream::BoxStream;
use futures::StreamExt;
use jiancha_events::{EventData, NewEvent, StoredEvent, StreamName};
use jiancha_projections::{alert_id, AlertView, Applied, Millis, Projections};
use jiancha_store::{subscribe, Clock, EventStore, StoreError};
use tokio::sync::{broadcast, mpsc, watch};

use crate::bus::{AlertChange, AlertChangeKind};
use crate::cards::{self, Now, Retry};
use crate::repeats::{Level, Repeats};
use crate::scheduler::Scheduler;
use crate::{Command, EngineError, APPLY_CHUNK_EVENTS, SLEEP_MAX, TAIL_RETRY_INTERVAL};

/// The followed log: `None` once its first read has answered (so a recovery shows on an idle
/// log too), then each event.
type Tail = BoxStream<'static, Result<Option<StoredEvent>, StoreError>>;

fn read(p: &RwLock<Projections>) -> RwLockReadGuard<'_, Projections> {
    p.read().unwrap_or_else(PoisonError::into_inner)
}

fn write(p: &RwLock<Projections>) -> RwLockWriteGuard<'_, Projections> {
    p.write().unwrap_or_else(PoisonError::into_inner)
}

/// Folds every event of the log into `projections`, page by page, publishing nothing; returns
/// the last position applied.
pub(crate) async fn catch_up(
    store: &dyn EventStore,
    projections: &RwLock<Projections>,
    position: &watch::Sender<u64>,
) -> Result<u64, StoreError> {
    let mut pages = store.pages(read(projections).position());
    while let Some(page) = pages.next().await? {
        for chunk in page.chunks(APPLY_CHUNK_EVENTS) {
            let mut p = write(projections);
            for event in chunk {
                p.apply(event);
            }
        }
        position.send_replace(pages.after());
    }
    Ok(pages.after())
}

/// What a runner is made of.
pub(crate) struct Parts {
    pub store: Arc<dyn EventStore>,
    pub clock: Arc<dyn Clock>,
    pub projections: Arc<RwLock<Projections>>,
    pub bus: broadcast::Sender<AlertChange>,
    pub position: watch::Sender<u64>,
    pub scheduler_entries_max: usize,
}

/// What one evaluation of a case found.
struct Found {
    case: String,
    /// Alerts already in the fold to deliver (at startup only).
    folded: Vec<AlertView>,
    /// Alerts the clock raised since the case's last event.
    pending: Vec<AlertView>,
    /// The case's next threshold after the instant of evaluation.
    next: Option<Millis>,
}

/// The runner's state.
pub(crate) struct Runner {
    parts: Parts,
    supervision: StreamName,
    scheduler: Scheduler,
    retry: Retry,
    /// The highest position of a card this runner appended (or found already there).
    cards_reached: u64,
    /// Failures to follow the log (every [`TAIL_RETRY_INTERVAL`] while the database is down).
    tail_failures: Repeats,
    /// Failures to append cards.
    card_failures: Repeats,
}

impl Runner {
    pub(crate) fn new(parts: Parts) -> Result<Runner, EngineError> {
        let supervision = StreamName::supervision();
        let scheduler = Scheduler::new(parts.scheduler_entries_max);
        Ok(Runner {
            parts,
            supervision,
            scheduler,
            retry: Retry::default(),
            cards_reached: 0,
            tail_failures: Repeats::new(
                Level::Error,
                "cannot follow the event log",
                "following the event log again",
            ),
            card_failures: Repeats::new(
                Level::Warn,
                "cannot append cards",
                "appending cards again",
            ),
        })
    }

    fn now(&self) -> Now {
        Now::of(self.parts.clock.now())
    }

    /// Delivers what is open and undelivered, then follows the log and the clock until told to
    /// stop (or until the engine is dropped).
    pub(crate) async fn run(mut self, mut commands: mpsc::Receiver<Command>, after: u64) {
        self.deliver_at_startup().await;
        let mut tail: Option<Tail> = Some(follow(self.parts.store.clone(), after));
        let mut tail_retry_at = tokio::time::Instant::now();
        let mut clock_changes = self.parts.clock.changes();
        loop {
            self.run_due().await;
            let wake = self.sleep_for();
            tokio::select! {
                biased;
                command = commands.recv() => match command {
                    Some(Command::Tick(reply)) => {
                        self.run_due().await;
                        let _ = reply.send(self.reached());
                    }
                    Some(Command::Shutdown) | None => break,
                },
                item = next_event(&mut tail), if tail.is_some() => match item {
                    Some(Ok(event)) => {
                        self.tail_failures.succeeded(tokio::time::Instant::now());
                        if let Some(event) = event {
                            self.on_event(event).await;
                        }
                    }
                    Some(Err(error)) => {
                        self.tail_failures.failed(tokio::time::Instant::now(), &error);
                        tail = None;
                        tail_retry_at = tokio::time::Instant::now() + TAIL_RETRY_INTERVAL;
                    }
                    None => tail = None,
                },
                () = tokio::time::sleep_until(tail_retry_at), if tail.is_none() => {
                    let after = *self.parts.position.borrow();
                    tail = Some(follow(self.parts.store.clone(), after));
                }
                () = clock_moved(&mut clock_changes) => {}
                () = tokio::time::sleep(wake) => {}
            }
        }
    }

    /// The position a tick waits for: everything applied, and the cards appended so far.
    fn reached(&self) -> u64 {
        (*self.parts.position.borrow()).max(self.cards_reached)
    }

    /// How long to sleep: until the next wake-up or card retry, at most [`SLEEP_MAX`].
    fn sleep_for(&self) -> Duration {
        let mut wake = SLEEP_MAX;
        if let Some(at) = self.scheduler.earliest() {
            let ms = u64::try_from(at.saturating_sub(self.now().ms)).unwrap_or(0);
            wake = wake.min(Duration::from_millis(ms));
        }
        if let Some(at) = self.retry.due_at() {
            wake = wake.min(at.saturating_duration_since(tokio::time::Instant::now()));
        }
        wake
    }

    /// Evaluates the cases whose threshold has passed (every open case, when a full pass is
    /// due), and tries failed cards again when their time has come.
    async fn run_due(&mut self) {
        let now = self.now();
        let mut cases = self.scheduler.take_due(now.ms);
        if self.scheduler.take_full_pass(now.ms) {
            cases = read(&self.parts.projections)
                .open_cases()
                .into_iter()
                .map(str::to_owned)
                .collect();
        }
        let mut cards = self.retry.take_due();
        if !cases.is_empty() {
            cards.extend(self.evaluate(&cases, now));
        }
        self.issue(cards).await;
    }

    /// Folds one event in and does what it causes: publishes the alerts it raised and closed,
    /// cards the raised ones, and evaluates its case again (every open case after a calendar
    /// amendment or a definition of the workflow's limits, since the thresholds follow them).
    /// Then announces its position.
    async fn on_event(&mut self, event: StoredEvent) {
        let now = self.now();
        let (applied, amended) = {
            let mut p = write(&self.parts.projections);
            let applied = p.apply(&event);
            let amended = matches!(
                event.data,
                EventData::CalendarAmended(_) | EventData::WorkflowLimitsDefined(_)
            )
            .then(|| {
                p.open_cases()
                    .into_iter()
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            });
            (applied, amended)
        };
        let mut cards = self.publish_applied(&applied, event.position, now);
        let cases = match (amended, applied.case) {
            (Some(open), _) => open,
            (None, Some(case)) => vec![case.to_string()],
            (None, None) => Vec::new(),
        };
        cards.extend(self.evaluate(&cases, now));
        self.issue(cards).await;
        self.parts.position.send_replace(event.position);
    }

    /// Publishes what an event changed, and returns the cards for the alerts it raised that
    /// this engine had not published (as pending) and nobody has delivered yet.
    fn publish_applied(&mut self, applied: &Applied, position: u64, now: Now) -> Vec<NewEvent> {
        let Some(case) = &applied.case else {
            return Vec::new();
        };
        let mut cards = Vec::new();
        for alert in &applied.raised {
            if self
                .scheduler
                .take_published(case, &alert_id(case, alert), alert.raised_at)
            {
                continue;
            }
            let view = AlertView::new(case, alert, Millis::MAX);
            if !view.delivered {
                cards.extend(cards::card(&self.supervision, &view, now));
            }
            self.publish(AlertChangeKind::Raised, view, position);
        }
        for alert in &applied.closed {
            let view = AlertView::new(case, alert, Millis::MAX);
            self.publish(AlertChangeKind::Closed, view, position);
        }
        cards
    }

    /// Looks at cases at `now`: publishes the alerts the clock raised on them that were not
    /// published yet, reschedules each at its next threshold, and returns their cards.
    fn evaluate(&mut self, cases: &[String], now: Now) -> Vec<NewEvent> {
        let (found, position) = {
            let p = read(&self.parts.projections);
            let found: Vec<Found> = cases.iter().map(|c| find(&p, c, now.ms, false)).collect();
            (found, p.position())
        };
        self.deliver(found, position, now)
    }

    /// After the catch-up: delivers every alert open and undelivered on an open case (whatever
    /// raised it while no engine was running), but none of the closed ones of history, and
    /// schedules every open case.
    async fn deliver_at_startup(&mut self) {
        let now = self.now();
        let (found, orphans, position) = {
            let p = read(&self.parts.projections);
            let open = p.open_cases();
            let found: Vec<Found> = open.iter().map(|c| find(&p, c, now.ms, true)).collect();
            let orphans: Vec<(String, String, Millis)> = p
                .orphan_cards()
                .filter_map(|(id, due)| {
                    let (case, rule, n) = jiancha_projections::parse_alert_id(id)?;
                    // An id the fold has since given to an alert of its own (or the clock is
                    // about to) names that alert now: withdrawing it would take that alert off
                    // the board.
                    let taken = p
                        .case(&case)
                        .is_some_and(|c| c.alerts.iter().any(|a| a.rule == rule && a.n == n))
                        || p.pending_alerts(&case, now.ms).iter().any(|a| a.id == id);
                    (!taken).then(|| (case, id.to_owned(), due))
                })
                .collect();
            (found, orphans, p.position())
        };
        // Cards the log issued that the fold holds no alert for (issued under rules that no
        // longer raise them, or by an engine stopped before withdrawing them): withdrawn, so
        // the log's record of issued cards ends where the fold does.
        let mut cards: Vec<NewEvent> = orphans
            .iter()
            .filter_map(|(case, id, due)| {
                self.withdraw(
                    (case, id),
                    *due,
                    (position, cards::WITHDRAWN_NOT_RAISED),
                    now,
                )
            })
            .collect();
        cards.extend(self.deliver(found, position, now));
        tracing::info!(position, cards = cards.len(), "engine caught up");
        self.issue(cards).await;
    }

    /// Publishes what evaluations found that is new, in the order the alerts were raised
    /// (then by case: the same whichever path found them), reschedules the cases, and returns
    /// the cards.
    fn deliver(&mut self, found: Vec<Found>, position: u64, now: Now) -> Vec<NewEvent> {
        let mut fresh: Vec<AlertView> = Vec::new();
        let mut withdrawn: Vec<NewEvent> = Vec::new();
        for f in found {
            fresh.extend(f.folded);
            let still: Vec<(&str, Millis)> = f
                .pending
                .iter()
                .map(|v| (v.id.as_str(), v.raised_at_millis()))
                .collect();
            for (id, raised_at) in self.scheduler.retain_published(&f.case, &still) {
                withdrawn.extend(self.withdraw(
                    (&f.case, &id),
                    raised_at,
                    (position, cards::WITHDRAWN_LATE_EVENT),
                    now,
                ));
            }
            for view in f.pending {
                if self
                    .scheduler
                    .mark_published(&f.case, &view.id, view.raised_at_millis())
                {
                    fresh.push(view);
                }
            }
            self.scheduler.schedule(&f.case, f.next);
        }
        // Stable: within a case, the fold's order (by instant, then rule) stays.
        fresh.sort_by(|a, b| (a.raised_at_millis(), &a.case).cmp(&(b.raised_at_millis(), &b.case)));
        let mut cards = withdrawn;
        cards.reserve(fresh.len());
        for view in fresh {
            cards.extend(cards::card(&self.supervision, &view, now));
            self.publish(AlertChangeKind::Raised, view, position);
        }
        cards
    }

    /// An alert this engine published ahead of the fold that the fold will never raise: tells
    /// the followers it is withdrawn and returns the `CardWithdrawn` that records it, so the
    /// live board ends where a replay of the log begins.
    fn withdraw(
        &self,
        (case, id): (&str, &str),
        raised_at: Millis,
        (position, why): (u64, &str),
        now: Now,
    ) -> Option<NewEvent> {
        let (org, rule, n) = {
            let p = read(&self.parts.projections);
            let org = p.case(case).map(|c| c.org().to_string())?;
            let (_, rule, n) = jiancha_projections::parse_alert_id(id)?;
            (org, rule, n)
        };
        let alert = jiancha_projections::Alert {
            rule,
            n,
            raised_at,
            closed_at: None,
            raised_by: 0,
            closed_by: None,
            org: org.as_str().into(),
            delivered: true,
            acknowledged: false,
            acknowledged_at: None,
            about: None,
        };
        let view = AlertView::new(case, &alert, Millis::MAX);
        tracing::info!(%id, "alert withdrawn: the log no longer raises it");
        self.publish(AlertChangeKind::Withdrawn, view, position);
        cards::withdrawal(&self.supervision, (case, id), raised_at, &org, why, now)
    }

    fn publish(&self, kind: AlertChangeKind, alert: AlertView, position: u64) {
        tracing::debug!(kind = kind.as_str(), id = %alert.id, position, "alert");
        // No receiver is not an error: nobody is watching live.
        let _ = self.parts.bus.send(AlertChange {
            kind,
            alert,
            position,
        });
    }

    /// Appends cards; failed ones wait for a retry.
    async fn issue(&mut self, cards: Vec<NewEvent>) {
        if cards.is_empty() {
            return;
        }
        let store = self.parts.store.as_ref();
        let (reached, failed) = cards::append(store, cards, &mut self.card_failures).await;
        self.cards_reached = self.cards_reached.max(reached);
        self.retry.keep(failed);
    }
}

/// One case at `now`: its pending alerts and next threshold, and with `folded`, the alerts in
/// the fold that are open and undelivered.
fn find(p: &Projections, case: &str, now: Millis, folded: bool) -> Found {
    let folded = match p.case(case).filter(|_| folded) {
        Some(state) => state
            .alerts
            .iter()
            .filter(|a| a.closed_at.is_none() && !a.delivered)
            .map(|a| AlertView::new(case, a, Millis::MAX))
            .collect(),
        None => Vec::new(),
    };
    Found {
        case: case.to_owned(),
        folded,
        pending: p.pending_alerts(case, now),
        next: p.next_threshold(case, now),
    }
}

/// Follows the log after `after` (see [`Tail`]): a read of one event answers for the database
/// (the event is read again by the follower that comes next).
fn follow(store: Arc<dyn EventStore>, after: u64) -> Tail {
    let first = {
        let store = store.clone();
        async move { store.read_after(after, 1).await.map(|_| None) }
    };
    futures::stream::once(first)
        .chain(subscribe(store, after).map(|item| item.map(Some)))
        .boxed()
}

/// The tail's next item; never ready without a tail.
async fn next_event(tail: &mut Option<Tail>) -> Option<Result<Option<StoredEvent>, StoreError>> {
    match tail {
        Some(t) => t.next().await,
        None => std::future::pending().await,
    }
}

/// Ready when a manual clock moves; never for the system clock.
async fn clock_moved(changes: &mut Option<watch::Receiver<chrono::DateTime<chrono::Utc>>>) {
    if let Some(rx) = changes {
        if rx.changed().await.is_ok() {
            return;
        }
    }
    // No manual clock, or it is gone: time passes only by the sleep.
    std::future::pending().await
}
