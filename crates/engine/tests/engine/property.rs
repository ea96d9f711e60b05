//! A property: restarting the engine between any two steps changes nothing that is published
//! or carded. A small random history of two cases (events and clock moves) is played twice on
//! fresh logs, once with one engine throughout and once with a restart at a random step; the
//! alerts published, the final alerts and the cards in the log must be the same.

use std::collections::BTreeMap;

use jiancha_engine::AlertChangeKind;
use jiancha_events::{
    Accepted, Concluded, Decided, EventData, Extended, FeeCharged, Outcome, Rated, Resumed,
    StepCompleted, Suspended,
};
use jiancha_projections::AlertView;
use proptest::prelude::*;

use crate::support::*;

const CASES: [&str; 2] = ["case-2026-000001", "case-2026-000002"];

#[derive(Debug, Clone)]
enum Step {
    /// Move the clock forward by this many hours.
    Advance(u32),
    /// An event on one of the cases.
    Event(usize, u8),
}

fn data(kind: u8) -> EventData {
    match kind {
        0 => EventData::Accepted(Accepted::default()),
        1 => EventData::FeeCharged(FeeCharged {
            amount_cents: FEE_CENTS + 1,
        }),
        2 => EventData::StepCompleted(StepCompleted {
            step: "review".into(),
        }),
        3 => EventData::Extended(Extended {
            days: 2,
            approved_by: "head-1".into(),
            reason: "site visit".into(),
        }),
        4 => EventData::Suspended(Suspended {
            reason: "lunch".into(),
            notice: None,
            expected_days: None,
        }),
        5 => EventData::Resumed(Resumed {}),
        6 => EventData::Decided(Decided {
            outcome: Outcome::Approved,
        }),
        7 => EventData::Concluded(Concluded {}),
        _ => EventData::Rated(Rated { score: 1 }),
    }
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (1u32..=96).prop_map(Step::Advance),
        (0..CASES.len(), 0u8..=8).prop_map(|(c, k)| Step::Event(c, k)),
    ]
}

/// What a play produced.
#[derive(Debug, PartialEq, Eq)]
struct Outcome_ {
    /// How often each alert id was published as raised, over every engine of the play.
    published: BTreeMap<String, usize>,
    /// The alerts at the end.
    alerts: Vec<AlertView>,
    /// The card ids in the log, in log order.
    cards: Vec<String>,
}

async fn play(steps: &[Step], restart_at: Option<usize>) -> Outcome_ {
    let w = World::new(Backend::Memory, "2026-09-28T09:00:00+08:00").await;
    w.define_item().await;
    for case in CASES {
        w.submit(case).await;
    }
    let (mut engine, mut rx) = w.start().await;
    let mut published = BTreeMap::new();
    let mut collect = |rx: &mut tokio::sync::broadcast::Receiver<_>| {
        for change in drain(rx) {
            let change: jiancha_engine::AlertChange = change;
            if change.kind == AlertChangeKind::Raised {
                *published.entry(change.alert.id).or_insert(0) += 1;
            }
        }
    };
    settle(&engine, w.store.as_ref()).await;
    for (i, s) in steps.iter().enumerate() {
        if restart_at == Some(i) {
            collect(&mut rx);
            engine.shutdown().await.unwrap();
            (engine, rx) = w.start().await;
        }
        match s {
            Step::Advance(hours) => w.clock.advance(chrono::Duration::hours(i64::from(*hours))),
            Step::Event(case, kind) => {
                w.append(CASES[*case], data(*kind)).await;
            }
        }
        settle(&engine, w.store.as_ref()).await;
    }
    collect(&mut rx);
    let alerts = engine.read().alerts(engine.now());
    engine.shutdown().await.unwrap();
    let cards = w.cards().await.into_iter().map(|(e, _)| e.id).collect();
    Outcome_ {
        published,
        alerts,
        cards,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn restarting_changes_nothing_published_or_carded(
        steps in proptest::collection::vec(step(), 1..14),
        restart in any::<proptest::sample::Index>(),
    ) {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let at = restart.index(steps.len() + 1);
        let (straight, restarted) = rt.block_on(async {
            (play(&steps, None).await, play(&steps, Some(at)).await)
        });
        prop_assert!(straight.published.values().all(|n| *n == 1), "{:?}", straight.published);
        let mut carded: Vec<_> = straight.cards.clone();
        carded.sort();
        carded.dedup();
        prop_assert_eq!(carded.len(), straight.cards.len(), "a card issued twice");
        // Every alert published was carded, and every alert at the end was published.
        for id in straight.published.keys() {
            prop_assert!(straight.cards.contains(&format!("card:{id}")), "{} not carded", id);
        }
        for a in &straight.alerts {
            prop_assert!(straight.published.contains_key(&a.id), "{} never published", a.id);
            prop_assert!(a.delivered, "{} not delivered", a.id);
        }
        prop_assert_eq!(straight, restarted);
    }
}
