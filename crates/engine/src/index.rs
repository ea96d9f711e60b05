//! Keeping the case index (`jiancha_store::index`) up to the log: which cases a question at an
//! instant must fold.
//!
//! A question at an instant T (`alerts --now T`, `report --period P --now T`) is answered as a
//! full replay answers it — the events that occurred by T, folded in position order — but only
//! over the cases concerned (their contexts: [`jiancha_events::Contexts`]). Each case's state
//! depends on its context alone, so the cases left out change nothing *if* they could not have
//! counted. The index's rows say which could:
//!
//! - **A report for P at T** counts ledger entries in P's months and the cases open and overdue
//!   at min(end of P, T). An entry lands in the month of the act behind it (an event, a
//!   clock-raised card, or the order, rating or complaint it belongs to), never before the
//!   case's first event nor after its last one unless the clock can still raise something on
//!   it. So a case whose first event occurred after min(end of P, T), or whose last event
//!   occurred before min(start of P, T) and which is no longer active (the fold of the whole
//!   log says so, and a fold at T holds all its events then), counts nothing.
//! - **The alerts at T** come from cases that existed by T and that the whole log's fold ever
//!   alerted, or that are active, or that are *irregular*. A regular case's events that
//!   occurred by T are a prefix of its context in position order, so its fold at T is the whole
//!   fold stopped there; the alerts the clock raises by T on that state are raised, with the
//!   same calendar, when the next event arrives, and never removed. Irregular: one of its
//!   events occurred before an earlier event of its context (a late entry, relative to its own
//!   events or to a calendar, catalog or threshold definition), or a calendar or threshold
//!   change was folded while it was active (its clock-raised alerts may then be computed with a
//!   calendar a fold at T would not know), or it is a procurement project (`proc.split` reads
//!   every project).
//!
//! The rows are decided by [`Indexer`], a pure observer of the events in position order, with
//! the fold of the cases beside it for the two flags only a fold knows (active, alerted). The
//! property tests compare every answer with a full replay.

use std::collections::{BTreeMap, BTreeSet};

use jiancha_events::{EventData, StoredEvent, StreamKind};
use jiancha_projections::snapshot::SNAPSHOT_FORMAT;
use jiancha_projections::{Applied, KeptCase, Projections};
use jiancha_store::{IndexRow, IndexState, IndexWrite, KeptAlerts, StoreError};

/// Which case an event belongs to in the index: its own stream's (a case or a project), or the
/// case a supervision act names.
pub fn concerned(event: &StoredEvent) -> Option<&str> {
    match event.data.stream_kind() {
        StreamKind::Case | StreamKind::Procurement => Some(&event.stream),
        StreamKind::Supervision => event.data.concerns_case(),
        StreamKind::Catalog | StreamKind::Calendar => None,
    }
}

/// What a global event means for the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Global {
    /// A calendar, threshold or workflow limit change: the clock-raised alerts of active cases
    /// may move, and
    /// cases with events after the instant it occurred may be judged otherwise at an earlier
    /// instant.
    Clock,
    /// An item definition: read when a case is submitted or accepted.
    Definition,
    /// Names, closed periods, appeals, declarations: nothing the index follows.
    Other,
}

fn global(event: &StoredEvent) -> Global {
    match &event.data {
        EventData::CalendarAmended(_)
        | EventData::ThresholdDefined(_)
        | EventData::WorkflowLimitsDefined(_) => Global::Clock,
        _ if event.data.stream_kind() == StreamKind::Calendar => Global::Clock,
        EventData::ItemDefined(_) => Global::Definition,
        _ => Global::Other,
    }
}

fn millis(event: &StoredEvent) -> i64 {
    event.occurred_at.timestamp_millis()
}

/// One checkpoint's worth of index work: the rows the events since `from` touched, the marks
/// they call for, and the state they lead to.
#[derive(Debug, Clone)]
pub struct Indexer {
    from: u64,
    state: IndexState,
    /// The rows loaded or made in this checkpoint, by stream.
    rows: BTreeMap<String, IndexRow>,
    /// Streams whose stored row was asked for and found absent.
    absent: BTreeSet<String>,
    /// The streams with an event in this checkpoint.
    touched: BTreeSet<String>,
    mark_after: Option<i64>,
    mark_active: bool,
    /// Whether the fold beside the observer keeps every touched row's active flag exact.
    exact: bool,
}

impl Indexer {
    /// A checkpoint starting from the stored state.
    pub fn new(stored: IndexState) -> Self {
        Indexer {
            from: stored.position,
            state: stored,
            rows: BTreeMap::new(),
            absent: BTreeSet::new(),
            touched: BTreeSet::new(),
            mark_after: None,
            mark_active: false,
            exact: false,
        }
    }

    /// The position the events observed reach.
    pub fn position(&self) -> u64 {
        self.state.position
    }

    /// How many streams have an event in this checkpoint.
    pub fn touched(&self) -> usize {
        self.touched.len()
    }

    /// The streams `events` concern whose rows are not loaded yet (load them with
    /// [`Indexer::load`] before observing the events), sorted.
    pub fn to_load<'a>(&self, events: impl IntoIterator<Item = &'a StoredEvent>) -> Vec<String> {
        let mut out = BTreeSet::new();
        for e in events {
            if let Some(case) = concerned(e) {
                if !self.rows.contains_key(case) && !self.absent.contains(case) {
                    out.insert(case.to_owned());
                }
            }
        }
        out.into_iter().collect()
    }

    /// Takes the stored rows of `asked` (those found are `found`): the marks this checkpoint
    /// made so far apply to them as they stood.
    pub fn load(&mut self, asked: &[String], found: Vec<IndexRow>) {
        for mut row in found {
            if self.mark_after.is_some_and(|m| row.max_occurred > m)
                || (self.mark_active && row.active)
            {
                row.irregular = true;
            }
            self.rows.insert(row.stream.clone(), row);
        }
        for s in asked {
            if !self.rows.contains_key(s) {
                self.absent.insert(s.clone());
            }
        }
    }

    /// Observes the next event (rows of the case it concerns loaded). With the fold beside it
    /// (`folded`: the projections after applying the event, and what applying it changed), the
    /// case's active and alerted flags follow; without, [`Indexer::judge`] sets them at the end.
    pub fn observe(&mut self, event: &StoredEvent, folded: Option<(&Projections, &Applied)>) {
        self.state.position = self.state.position.max(event.position);
        let at = millis(event);
        let Some(case) = concerned(event) else {
            self.observe_global(event, at);
            return;
        };
        let project = event.data.stream_kind() == StreamKind::Procurement
            || case.starts_with(jiancha_events::stream::PROJECT_STREAM_PREFIX);
        self.absent.remove(case);
        let globals = self.state.globals_max_occurred;
        let row = self
            .rows
            .entry(case.to_owned())
            .or_insert_with(|| IndexRow {
                stream: case.to_owned(),
                min_occurred: at,
                max_occurred: at,
                reach: at,
                active: false,
                alerted: false,
                irregular: false,
            });
        if at < row.max_occurred || at < globals || project {
            row.irregular = true;
        }
        row.min_occurred = row.min_occurred.min(at);
        row.max_occurred = row.max_occurred.max(at);
        row.reach = row.reach.max(at);
        if project {
            // Always in view: `proc.split` reads every project.
            row.active = true;
        }
        self.touched.insert(case.to_owned());
        if let Some((p, applied)) = folded {
            judge_row(row, p, Some(applied));
            self.exact = true;
        }
    }

    fn observe_global(&mut self, event: &StoredEvent, at: i64) {
        match global(event) {
            Global::Clock => {
                // The clock-raised alerts of every case active now may move.
                self.mark_active = true;
                // Without the fold beside, a case touched in this checkpoint may have been.
                for (stream, row) in &mut self.rows {
                    if row.active || (!self.exact && self.touched.contains(stream)) {
                        row.irregular = true;
                    }
                }
                // Entered after events it may change: a fold at an instant between sees it
                // before them.
                self.mark_after = Some(self.mark_after.map_or(at, |m| m.min(at)));
                for row in self.rows.values_mut() {
                    if row.max_occurred > at {
                        row.irregular = true;
                    }
                }
                self.state.globals_max_occurred = self.state.globals_max_occurred.max(at);
            }
            Global::Definition => {
                self.state.globals_max_occurred = self.state.globals_max_occurred.max(at);
            }
            Global::Other => {}
        }
    }

    /// Sets the active and alerted flags of the touched `case` from a fold of it (its own
    /// context folded whole, or the district's); `alerted` says whether that fold raised an
    /// alert on it at any event.
    pub fn judge(&mut self, case: &str, p: &Projections, alerted: bool) {
        if let Some(row) = self.rows.get_mut(case) {
            judge_row(row, p, None);
            row.alerted |= alerted;
        }
    }

    /// The kept alerts of the touched rows among `streams` that are settled and were alerted,
    /// from `p`, a fold that holds them (see `jiancha_store::KeptAlerts`).
    pub fn kept(&self, streams: &[String], p: &Projections) -> Vec<KeptAlerts> {
        streams
            .iter()
            .filter_map(|s| self.rows.get(s))
            .filter(|r| r.alerted && r.settled_by(i64::MAX) && self.touched.contains(&r.stream))
            .filter_map(|r| {
                KeptCase::of(p, &r.stream).map(|k| KeptAlerts {
                    stream: r.stream.clone(),
                    body: k.encode(),
                })
            })
            .collect()
    }

    /// The streams with an event in this checkpoint, sorted.
    pub fn touched_streams(&self) -> Vec<String> {
        self.touched.iter().cloned().collect()
    }

    /// The checkpoint to write: the touched rows, the marks and the state.
    pub fn write(&self) -> IndexWrite {
        IndexWrite {
            from: self.from,
            // Written by this build's fold.
            state: IndexState {
                fold_format: SNAPSHOT_FORMAT,
                ..self.state
            },
            mark_after: self.mark_after,
            mark_active: self.mark_active,
            rows: self
                .touched
                .iter()
                .filter_map(|s| self.rows.get(s).cloned())
                .collect(),
            kept: Vec::new(),
        }
    }

    /// The next checkpoint, after this one was written: its rows stay loaded.
    pub fn next(self) -> Self {
        // The marks are written: the stored rows carry them, and so do the loaded ones.
        Indexer {
            from: self.state.position,
            state: self.state,
            rows: self.rows,
            absent: self.absent,
            touched: BTreeSet::new(),
            mark_after: None,
            mark_active: false,
            exact: self.exact,
        }
    }
}

/// Active and alerted from the fold (the alerts raised by the event just applied, when given).
fn judge_row(row: &mut IndexRow, p: &Projections, applied: Option<&Applied>) {
    let Some(case) = p.case(&row.stream) else {
        return;
    };
    let project = row
        .stream
        .starts_with(jiancha_events::stream::PROJECT_STREAM_PREFIX);
    row.active = project || case.is_active(&p.config);
    // A conclusion entered late counts when entered (the cursor); an event entered late
    // raises `data.backdated` when entered.
    let raised = case.alerts.iter().map(|a| a.raised_at).max();
    row.reach = row.reach.max(case.cursor).max(raised.unwrap_or(i64::MIN));
    row.alerted |= !case.alerts.is_empty() || applied.is_some_and(|a| !a.raised.is_empty());
}

/// Events in a log past which a new index is built by folding the district once instead of
/// each touched case.
pub const BULK_AFTER_EVENTS: u64 = 50_000;

/// Touched cases whose contexts a catch-up reads and folds together.
pub const JUDGE_CHUNK_CASES: usize = 2_000;

/// Events a bulk catch-up folds between two checkpoints of the index.
pub const CHECKPOINT_EVENTS: usize = 1_000_000;

/// What a catch-up did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CaughtUp {
    /// The position the index covered before.
    pub from: u64,
    /// The position it covers now.
    pub to: u64,
    /// Cases and projects whose rows were written.
    pub cases: usize,
    /// Whether the district was folded (a long lag) rather than each touched case.
    pub bulk: bool,
}

/// The projections the index's flags are judged with: the thresholds and the scoring the
/// commands' replays use (`Scoring::default()`: no default rating).
pub fn judging() -> Projections {
    Projections::new(jiancha_projections::AlertConfig::default())
        .with_ledger(jiancha_projections::Scoring::default())
}

/// Brings the case index up to the log's head and checkpoints it (rows and position in one
/// transaction). Another process catching up at the same time makes this one read the index
/// again and go on from where that one got to.
pub async fn catch_up(store: &dyn jiancha_store::EventStore) -> Result<CaughtUp, StoreError> {
    catch_up_with(store, BULK_AFTER_EVENTS).await
}

/// [`catch_up`], folding the district once when the index is new and the log holds more than
/// `bulk_after` events.
pub async fn catch_up_with(
    store: &dyn jiancha_store::EventStore,
    bulk_after: u64,
) -> Result<CaughtUp, StoreError> {
    catch_up_reporting(store, bulk_after, &mut |_| {}).await
}

/// [`catch_up_with`], telling `progress` the log position reached after each page read (for a
/// command's progress bar).
pub async fn catch_up_reporting(
    store: &dyn jiancha_store::EventStore,
    bulk_after: u64,
    progress: &mut (dyn FnMut(u64) + Send),
) -> Result<CaughtUp, StoreError> {
    let mut attempts = 0;
    loop {
        match catch_up_once(store, bulk_after, progress).await {
            Err(StoreError::IndexMoved { .. }) if attempts < 3 => attempts += 1,
            done => return done,
        }
    }
}

async fn catch_up_once(
    store: &dyn jiancha_store::EventStore,
    bulk_after: u64,
    progress: &mut (dyn FnMut(u64) + Send),
) -> Result<CaughtUp, StoreError> {
    let mut state = store.index_state().await?;
    // An index another build's fold wrote says what that fold judged: dropped and built again.
    if state.position > 0 && state.fold_format != SNAPSHOT_FORMAT {
        tracing::info!(
            stored = state.fold_format,
            current = SNAPSHOT_FORMAT,
            "the case index was written by another fold: it is built again"
        );
        store.reset_index(state).await?;
        state = store.index_state().await?;
    }
    let head = store.head().await?.position;
    if state.position >= head && (state.position == 0 || state.fold_format == SNAPSHOT_FORMAT) {
        return Ok(CaughtUp {
            from: state.position,
            to: state.position,
            ..CaughtUp::default()
        });
    }
    // The district is folded once only for a new index: from a later position, the snapshot
    // beside the log (kept past it) could not be used, and a replay from the start costs more
    // than folding the touched cases.
    if state.position == 0 && head > bulk_after {
        bulk(store, state, progress).await
    } else {
        each_case(store, state, progress).await
    }
}

/// Loads the rows a page of events concerns.
async fn load_for(
    store: &dyn jiancha_store::EventStore,
    ix: &mut Indexer,
    page: &[StoredEvent],
) -> Result<(), StoreError> {
    let need = ix.to_load(page);
    if !need.is_empty() {
        let found = store.index_rows(&need).await?;
        ix.load(&need, found);
    }
    Ok(())
}

/// A short lag: observe the new events, then fold each touched case's context on its own.
async fn each_case(
    store: &dyn jiancha_store::EventStore,
    state: IndexState,
    progress: &mut (dyn FnMut(u64) + Send),
) -> Result<CaughtUp, StoreError> {
    let mut ix = Indexer::new(state);
    let mut pages = store.pages(state.position);
    while let Some(page) = pages.next().await? {
        load_for(store, &mut ix, &page).await?;
        for e in &page {
            ix.observe(e, None);
        }
        progress(ix.position());
    }
    let touched = ix.touched_streams();
    let to = ix.position();
    let mut kept = Vec::new();
    for chunk in touched.chunks(JUDGE_CHUNK_CASES) {
        // The cases are independent: their contexts folded together judge each alike. Events
        // appended since the pages were read are left for the next catch-up.
        let mut context = store.read_contexts(chunk).await?;
        context.retain(|e| e.position <= to);
        let mut p = judging();
        let mut alerted = BTreeSet::new();
        for e in &context {
            let applied = p.apply(e);
            if let (Some(case), false) = (&applied.case, applied.raised.is_empty()) {
                alerted.insert(case.to_string());
            }
        }
        for case in chunk {
            ix.judge(case, &p, alerted.contains(case));
        }
        kept.extend(ix.kept(chunk, &p));
    }
    let to = ix.position();
    let mut write = ix.write();
    write.kept = kept;
    store.write_index(write).await?;
    Ok(CaughtUp {
        from: state.position,
        to,
        cases: touched.len(),
        bulk: false,
    })
}

/// The checkpoint to write, with the kept alerts of its settled rows from the district's fold.
fn with_kept(ix: &Indexer, p: &Projections) -> IndexWrite {
    let mut write = ix.write();
    write.kept = ix.kept(&ix.touched_streams(), p);
    write
}

/// A new index over a long log (a fresh import): fold the district once, checkpointing as it
/// goes.
async fn bulk(
    store: &dyn jiancha_store::EventStore,
    state: IndexState,
    progress: &mut (dyn FnMut(u64) + Send),
) -> Result<CaughtUp, StoreError> {
    let mut p = judging();
    let mut ix = Indexer::new(state);
    let mut cases = 0;
    let mut since = 0;
    let mut pages = store.pages(state.position);
    while let Some(page) = pages.next().await? {
        load_for(store, &mut ix, &page).await?;
        for e in &page {
            let applied = p.apply(e);
            ix.observe(e, Some((&p, &applied)));
        }
        since += page.len();
        progress(ix.position());
        if since >= CHECKPOINT_EVENTS {
            cases += ix.touched();
            store.write_index(with_kept(&ix, &p)).await?;
            tracing::debug!(position = ix.position(), "case index checkpointed");
            ix = ix.next();
            since = 0;
        }
    }
    cases += ix.touched();
    let to = ix.position();
    store.write_index(with_kept(&ix, &p)).await?;
    Ok(CaughtUp {
        from: state.position,
        to,
        cases,
        bulk: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiancha_events::*;

    /// Events sealed at positions 1, 2, … (recorded when they occurred).
    fn sealed(events: &[NewEvent]) -> Vec<StoredEvent> {
        let mut versions = std::collections::BTreeMap::new();
        let mut prev = GENESIS_HASH;
        events
            .iter()
            .enumerate()
            .map(|(i, ev)| {
                let v = versions
                    .entry(ev.stream.as_str().to_owned())
                    .or_insert(0u64);
                *v += 1;
                let at = format_timestamp(&ev.occurred_at);
                let raw = RawEvent::seal(ev, i as u64 + 1, *v, &at, prev);
                prev = raw.hash;
                raw.to_stored(ev.occurred_at, ev.occurred_at, ev.data.clone())
            })
            .collect()
    }

    fn at(day: u32) -> Timestamp {
        parse_timestamp(&format!("2026-03-{day:02}T10:00:00+08:00")).unwrap_or_else(|_| {
            parse_timestamp("2026-03-01T10:00:00+08:00").expect("a valid instant")
        })
    }

    fn case_event(case: &str, day: u32, data: EventData) -> NewEvent {
        NewEvent::new(
            StreamName::parse(case).expect("a case stream"),
            at(day),
            "clerk",
            "jiangjin/center/dept-01/window-1",
            data,
        )
    }

    fn submitted(case: &str, day: u32) -> NewEvent {
        case_event(
            case,
            day,
            EventData::Submitted(Submitted {
                item: "BL-001".into(),
                channel: Channel::Window,
                materials: vec![],
            }),
        )
    }

    fn amended(day: u32) -> NewEvent {
        NewEvent::new(
            StreamName::calendar(),
            at(day),
            "admin",
            "jiangjin/center",
            EventData::CalendarAmended(CalendarAmended {
                jurisdiction: "national".into(),
                date: chrono::NaiveDate::from_ymd_opt(2026, 3, 20).expect("a date"),
                kind: AmendmentKind::Holiday,
                reason: "test".into(),
            }),
        )
    }

    /// Observes `events` from an empty index, with the rows `stored` already kept.
    fn observe(stored: Vec<IndexRow>, events: &[NewEvent]) -> IndexWrite {
        let events = sealed(events);
        let mut ix = Indexer::new(IndexState::EMPTY);
        let asked = ix.to_load(&events);
        ix.load(&asked, stored);
        for e in &events {
            ix.observe(e, None);
        }
        ix.write()
    }

    fn row<'a>(w: &'a IndexWrite, stream: &str) -> &'a IndexRow {
        w.rows
            .iter()
            .find(|r| r.stream == stream)
            .expect("a row for the stream")
    }

    #[test]
    fn an_event_entered_after_a_later_one_makes_its_case_irregular() {
        let w = observe(
            vec![],
            &[
                submitted("case-a", 2),
                case_event("case-a", 9, EventData::Accepted(Accepted::default())),
                case_event("case-a", 5, EventData::Concluded(Concluded {})),
                submitted("case-b", 3),
                case_event("case-b", 4, EventData::Accepted(Accepted::default())),
            ],
        );
        let a = row(&w, "case-a");
        assert!(a.irregular);
        assert_eq!(a.min_occurred, at(2).timestamp_millis());
        assert_eq!(a.max_occurred, at(9).timestamp_millis());
        assert!(!row(&w, "case-b").irregular);
        assert_eq!(w.mark_after, None);
        assert!(!w.mark_active);
    }

    #[test]
    fn a_calendar_change_marks_the_active_cases_and_those_it_was_entered_after() {
        let stored = |stream: &str, max: u32, active: bool| IndexRow {
            stream: stream.into(),
            min_occurred: at(1).timestamp_millis(),
            max_occurred: at(max).timestamp_millis(),
            reach: at(max).timestamp_millis(),
            active,
            alerted: false,
            irregular: false,
        };
        // The amendment occurred on the 6th, entered after case-late's event of the 8th.
        let w = observe(
            vec![
                stored("case-open", 2, true),
                stored("case-done", 2, false),
                stored("case-late", 8, false),
            ],
            &[
                case_event("case-open", 3, EventData::Resumed(Resumed {})),
                case_event("case-done", 3, EventData::Rated(Rated { score: 5 })),
                case_event("case-late", 8, EventData::Rated(Rated { score: 5 })),
                amended(6),
                submitted("case-new", 7),
            ],
        );
        // Without the fold beside, every case touched before the change may have been active.
        assert!(row(&w, "case-open").irregular);
        assert!(row(&w, "case-done").irregular);
        assert!(row(&w, "case-late").irregular);
        // A case submitted after the change and after everything it depends on is regular.
        assert!(!row(&w, "case-new").irregular);
        // The stored rows not loaded get the same marks in the write.
        assert_eq!(w.mark_after, Some(at(6).timestamp_millis()));
        assert!(w.mark_active);
    }

    #[test]
    fn marks_made_earlier_in_a_checkpoint_reach_rows_loaded_later() {
        let events = sealed(&[
            amended(6),
            case_event("case-x", 9, EventData::Rated(Rated { score: 4 })),
        ]);
        let mut ix = Indexer::new(IndexState::EMPTY);
        ix.observe(&events[0], None);
        let asked = ix.to_load(&events[1..]);
        assert_eq!(asked, vec!["case-x".to_owned()]);
        ix.load(
            &asked,
            vec![IndexRow {
                stream: "case-x".into(),
                min_occurred: at(1).timestamp_millis(),
                max_occurred: at(8).timestamp_millis(),
                reach: at(8).timestamp_millis(),
                active: false,
                alerted: false,
                irregular: false,
            }],
        );
        ix.observe(&events[1], None);
        assert!(
            ix.write().rows[0].irregular,
            "its stored row lay after the change"
        );
    }

    #[test]
    fn a_project_is_always_in_view() {
        let project = NewEvent::new(
            StreamName::parse("proc-1").expect("a project stream"),
            at(2),
            "buyer",
            "jiangjin/center/dept-01",
            EventData::ProcurementClosed(jiancha_events::procurement::ProcurementClosed {}),
        );
        let w = observe(vec![], &[project]);
        let p = row(&w, "proc-1");
        assert!(p.active && p.irregular);
    }

    #[test]
    fn supervision_acts_count_for_the_case_they_name() {
        let ack = NewEvent::new(
            StreamName::supervision(),
            at(12),
            "unit",
            "jiangjin/center/dept-01",
            EventData::AlertAcknowledged(AlertAcknowledged {
                card_at: None,
                alert: "case-a/fee.mismatch/1".into(),
                note: None,
            }),
        );
        let w = observe(vec![], &[submitted("case-a", 2), ack]);
        assert_eq!(row(&w, "case-a").max_occurred, at(12).timestamp_millis());
        assert_eq!(w.rows.len(), 1);
    }
}
