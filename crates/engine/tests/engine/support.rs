//! Shared helpers: a log with a clock (memory, SQLite or PostgreSQL), the item and case of the scenarios,
//! starting engines, waiting until an engine has nothing left to do, and reading the bus.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use jiancha_engine::{
    alert_bus, AlertChange, AlertChangeKind, Clock, Engine, EngineConfig, ManualClock,
};
use jiancha_events::{
    Accepted, CardIssued, Channel, Concluded, Decided, EventData, ItemDefined, NewEvent, Outcome,
    StepCompleted, StoredEvent, StreamName, Submitted, Timestamp,
};
use jiancha_store::EventStore;
use tokio::sync::broadcast;

/// The longest any wait in these tests may take before the test fails instead of hanging.
pub const WAIT_MAX: Duration = Duration::from_secs(30);

pub const ITEM: &str = "permit-01";
pub const ORG: &str = "jiangjin/center/dept-03";
pub const CASE: &str = "case-2026-000001";
/// The item's fee standard.
pub const FEE_CENTS: u64 = 1_000;

pub const PROMISED_OVERDUE: &str = "deadline.promised.overdue";
pub const STATUTORY_OVERDUE: &str = "deadline.statutory.overdue";

/// The instant of an RFC 3339 text.
pub fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().to_utc()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Memory,
    Sqlite,
    /// A fresh schema of the test server (see `postgres.rs`).
    Postgres,
}

/// Two tests of the async scenario `$scenario`, which takes the [`Backend`] to run on, each on
/// a runtime of two worker threads: `$memory` on the in-memory store, `$sqlite` on SQLite.
macro_rules! on_memory_and_sqlite {
    ($scenario:ident: $memory:ident, $sqlite:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $memory() {
            $scenario($crate::support::Backend::Memory).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $sqlite() {
            $scenario($crate::support::Backend::Sqlite).await;
        }
    };
}
pub(crate) use on_memory_and_sqlite;

/// A log and the manual clock that stamps it.
pub struct World {
    pub store: Arc<dyn EventStore>,
    pub clock: ManualClock,
    /// The URL of the log, to open it again as another process would.
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    _schema: Option<crate::postgres::Schema>,
}

impl World {
    pub async fn new(backend: Backend, start: &str) -> World {
        let clock = ManualClock::new(at(start));
        let (mut dir, mut schema) = (None, None);
        let url = match backend {
            Backend::Memory => "memory:".to_owned(),
            Backend::Sqlite => {
                let d = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}", d.path().join("jiancha.db").display());
                dir = Some(d);
                url
            }
            Backend::Postgres => schema.insert(crate::postgres::Schema::new()).url(),
        };
        let store = jiancha_store::open(&url, Arc::new(clock.clone()))
            .await
            .unwrap_or_else(|e| {
                panic!("cannot open the log {url}: {e} (the PostgreSQL tests need the server JIANCHA_TEST_PG names; they never skip)")
            });
        World {
            store,
            clock,
            url,
            _dir: dir,
            _schema: schema,
        }
    }

    /// The same log opened again: its own writer, connections and follower, as in another
    /// process (for a file or a database; `memory:` would be a new log).
    pub async fn another_store(&self) -> Arc<dyn EventStore> {
        jiancha_store::open(&self.url, Arc::new(self.clock.clone()))
            .await
            .unwrap()
    }

    /// Moves the clock to `text`.
    pub fn set(&self, text: &str) {
        self.clock.set(at(text));
    }

    /// The clock's instant at +08:00.
    pub fn now(&self) -> Timestamp {
        self.clock.now().with_timezone(&jiancha_events::time::CHINA)
    }

    /// Appends an event occurring now, by a clerk of [`ORG`]; returns its position.
    pub async fn append(&self, stream: &str, data: EventData) -> u64 {
        self.append_via(self.store.as_ref(), stream, data).await
    }

    /// Appends like [`World::append`], through another store of the same log.
    pub async fn append_via(&self, store: &dyn EventStore, stream: &str, data: EventData) -> u64 {
        let event = NewEvent::new(
            StreamName::parse(stream).unwrap(),
            self.now(),
            "clerk-1",
            ORG,
            data,
        );
        store.append(vec![event]).await.unwrap().positions[0]
    }

    /// Defines [`ITEM`]: promised 2, statutory 5 working days, fee [`FEE_CENTS`].
    pub async fn define_item(&self) -> u64 {
        self.append("catalog", EventData::ItemDefined(item())).await
    }
}

/// [`ITEM`]'s definition: promised 2, statutory 5 working days, fee [`FEE_CENTS`].
pub fn item() -> ItemDefined {
    {
        ItemDefined {
            code: ITEM.into(),
            name: "Permit".into(),
            org: ORG.into(),
            statutory_days: 5,
            promised_days: 2,
            fee_cents: FEE_CENTS,
            steps: vec!["review".into(), "decide".into()],
            required_materials: vec!["id-card".into()],
            in_center: true,
            warning: None,
            max_extension_days: None,
            suspension_expected_days: None,
        }
    }
}

impl World {
    /// Submits a case with every material, now.
    pub async fn submit(&self, case: &str) -> u64 {
        let data = Submitted {
            item: ITEM.into(),
            channel: Channel::Window,
            materials: vec!["id-card".into()],
        };
        self.append(case, EventData::Submitted(data)).await
    }

    /// Accepts a case now.
    pub async fn accept(&self, case: &str) -> u64 {
        self.append(case, EventData::Accepted(Accepted::default()))
            .await
    }

    /// Concludes a case now, approved after every step of [`item`]; returns the position of
    /// its conclusion.
    pub async fn conclude(&self, case: &str) -> u64 {
        for step in item().steps {
            self.append(case, EventData::StepCompleted(StepCompleted { step }))
                .await;
        }
        self.append(
            case,
            EventData::Decided(Decided {
                outcome: Outcome::Approved,
            }),
        )
        .await;
        self.append(case, EventData::Concluded(Concluded {})).await
    }

    /// Starts an engine publishing on a bus subscribed before it starts.
    pub async fn start(&self) -> (Engine, broadcast::Receiver<AlertChange>) {
        self.start_with(EngineConfig::default()).await
    }

    pub async fn start_with(
        &self,
        config: EngineConfig,
    ) -> (Engine, broadcast::Receiver<AlertChange>) {
        self.start_on(self.store.clone(), config).await
    }

    /// Starts an engine with the default configuration and no bus (for tests that read the
    /// log and its snapshots, not the alerts published).
    pub async fn engine(&self) -> Engine {
        let clock: Arc<dyn Clock> = Arc::new(self.clock.clone());
        Engine::start(self.store.clone(), clock, EngineConfig::default())
            .await
            .unwrap()
    }

    /// Starts an engine on another store of the same log.
    pub async fn start_on(
        &self,
        store: Arc<dyn EventStore>,
        config: EngineConfig,
    ) -> (Engine, broadcast::Receiver<AlertChange>) {
        let (bus, rx) = alert_bus();
        let config = EngineConfig {
            bus: Some(bus),
            ..config
        };
        let clock: Arc<dyn Clock> = Arc::new(self.clock.clone());
        let engine = Engine::start(store, clock, config).await.unwrap();
        (engine, rx)
    }

    /// Every `CardIssued` event in the log.
    pub async fn cards(&self) -> Vec<(StoredEvent, CardIssued)> {
        let events = self.store.read_stream("supervision").await.unwrap();
        events
            .into_iter()
            .filter_map(|e| match &e.data {
                EventData::CardIssued(c) => {
                    let c = c.clone();
                    Some((e, c))
                }
                _ => None,
            })
            .collect()
    }

    /// How many cards each event id names.
    pub async fn card_ids(&self) -> BTreeMap<String, usize> {
        let mut ids = BTreeMap::new();
        for (e, _) in self.cards().await {
            *ids.entry(e.id).or_insert(0) += 1;
        }
        ids
    }
}

/// Waits until the engine has evaluated the clock's instant and folded in everything in the
/// log, including whatever that caused.
pub async fn settle(engine: &Engine, store: &dyn EventStore) {
    tokio::time::timeout(WAIT_MAX, async {
        loop {
            engine.tick().await.unwrap();
            let head = store.head().await.unwrap().position;
            engine.wait_for(head).await.unwrap();
            if store.head().await.unwrap().position == head {
                break;
            }
        }
    })
    .await
    .expect("the engine settles");
}

/// Every change waiting on a receiver.
pub fn drain(rx: &mut broadcast::Receiver<AlertChange>) -> Vec<AlertChange> {
    let mut out = Vec::new();
    loop {
        match rx.try_recv() {
            Ok(change) => out.push(change),
            Err(broadcast::error::TryRecvError::Empty) => return out,
            Err(e) => panic!("the bus failed: {e}"),
        }
    }
}

/// The ids of the alerts raised among `changes`, in order.
pub fn raised(changes: &[AlertChange]) -> Vec<String> {
    changes
        .iter()
        .filter(|c| c.kind == AlertChangeKind::Raised)
        .map(|c| c.alert.id.clone())
        .collect()
}

/// The id of a case's first alert of a rule.
pub fn first(case: &str, rule: &str) -> String {
    format!("{case}/{rule}/1")
}

/// The ids of the alerts raised on the bus since it was last drained, sorted.
pub fn raised_sorted(rx: &mut broadcast::Receiver<AlertChange>) -> Vec<String> {
    let mut ids = raised(&drain(rx));
    ids.sort();
    ids
}

/// The changes to alerts of `rule`, in the order they were published.
pub fn of_rule<'a>(changes: &'a [AlertChange], rule: &str) -> Vec<&'a AlertChange> {
    changes.iter().filter(|c| c.alert.rule == rule).collect()
}

/// The card id of a case's first alert of a rule.
pub fn card_id(case: &str, rule: &str) -> String {
    format!("card:{}", first(case, rule))
}

/// A world on `backend` at 2026-09-28 09:00 with the item defined and [`CASE`] submitted, then
/// accepted at 10:00 (Monday: promised 2 working days, due 09-30, overdue from 10-01 00:00).
pub async fn accepted_case(backend: Backend) -> World {
    let w = World::new(backend, "2026-09-28T09:00:00+08:00").await;
    w.define_item().await;
    w.submit(CASE).await;
    w.set("2026-09-28T10:00:00+08:00");
    w.accept(CASE).await;
    w
}
