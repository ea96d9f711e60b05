//! Property tests of the folds: a state folded in pieces equals one folded whole; re-applying a
//! page is harmless; and what a view at instant `t` shows does not depend on events after `t`
//! (the clock-raised alerts of the views agree with what the fold raises later).

use proptest::prelude::*;

use jiancha_events::*;

use crate::tests::fold;
use crate::{Millis, Projections};

const START: &str = "2026-09-21T09:00:00+08:00";

fn item() -> NewEvent {
    NewEvent::new(
        StreamName::parse("catalog").unwrap(),
        parse_timestamp("2026-01-05T09:00:00+08:00").unwrap(),
        "admin",
        "jiangjin/center",
        EventData::ItemDefined(ItemDefined {
            code: "BL-001".into(),
            name: "测试".into(),
            org: "jiangjin/center/dept-03".into(),
            statutory_days: 8,
            promised_days: 3,
            fee_cents: 1000,
            steps: vec!["审查".into(), "决定".into()],
            required_materials: vec!["身份证".into()],
            in_center: true,
            warning: None,
            max_extension_days: None,
            suspension_expected_days: None,
        }),
    )
}

fn action(kind: u8, case: usize) -> EventData {
    if kind >= 200 {
        return workflow_act(kind - 200, case);
    }
    match kind % 12 {
        0 => EventData::Accepted(Accepted::default()),
        1 => EventData::StepCompleted(StepCompleted {
            step: "审查".into(),
        }),
        2 => EventData::StepCompleted(StepCompleted {
            step: "决定".into(),
        }),
        3 => EventData::Suspended(Suspended {
            reason: "inspection".into(),
            notice: Some("n".into()),
            expected_days: Some(2),
        }),
        4 => EventData::Suspended(Suspended {
            reason: "lunch".into(),
            notice: None,
            expected_days: None,
        }),
        5 => EventData::Resumed(Resumed {}),
        6 => EventData::Extended(Extended {
            days: 3 + u32::from(kind % 11),
            approved_by: "h".into(),
            reason: "r".into(),
        }),
        7 => EventData::FeeCharged(FeeCharged {
            amount_cents: u64::from(kind % 2) * 1000 + 1000,
        }),
        8 => EventData::Decided(Decided {
            outcome: Outcome::Approved,
        }),
        9 => EventData::Concluded(Concluded {}),
        10 => EventData::CorrectionRequested(CorrectionRequested {
            missing: vec!["x".into()],
        }),
        _ => EventData::Rated(Rated {
            score: 1 + kind % 5,
        }),
    }
}

/// A supervision act on case `case` (the workflow: acknowledgements, orders, report-backs,
/// verifications, rating and complaint acts), naming cards the case may or may not have.
fn workflow_act(kind: u8, case: usize) -> EventData {
    let c = format!("case-{case}");
    let card = format!(
        "{c}/{}/1",
        ["deadline.promised.overdue", "fee.mismatch", "rating.bad"][usize::from(kind % 3)]
    );
    match kind % 14 {
        0 | 1 => EventData::AlertAcknowledged(AlertAcknowledged {
            card_at: None,
            alert: card,
            note: None,
        }),
        2 | 3 => EventData::CorrectionOrdered(CorrectionOrdered {
            card_at: None,
            case: c,
            alert: card,
            days: 1 + u32::from(kind % 4),
        }),
        4 | 5 => EventData::CorrectionCompleted(CorrectionCompleted {
            card_at: None,
            case: c,
            alert: card,
            report: None,
        }),
        6 | 7 => EventData::CorrectionVerified(CorrectionVerified {
            card_at: None,
            case: c,
            alert: card,
            accepted: kind.is_multiple_of(2),
            note: None,
        }),
        8 => EventData::RatingVerified(RatingVerified {
            case: c,
            verdict: [
                RatingVerdict::Valid,
                RatingVerdict::Mistaken,
                RatingVerdict::Malicious,
            ][usize::from(kind % 3)],
            note: None,
        }),
        9 => EventData::RatingRectified(RatingRectified {
            case: c,
            report: "r".into(),
        }),
        10 => EventData::RatingCallback(RatingCallback {
            case: c,
            score: 1 + kind % 5,
        }),
        11 => EventData::ComplaintAccepted(ComplaintAccepted {
            complaint: format!("{c}/complaint/1"),
            route_to: None,
        }),
        12 => EventData::ComplaintAnswered(ComplaintAnswered {
            complaint: format!("{c}/complaint/1"),
            finding: Finding::Upheld,
            reply: "r".into(),
        }),
        _ => EventData::Complained(Complained {
            category: "收费".into(),
        }),
    }
}

/// A log of a few cases whose actions come in time order, hours to days apart.
fn log_strategy() -> impl Strategy<Value = Vec<StoredEvent>> {
    proptest::collection::vec((0usize..4, 0u8..=255, 1i64..80), 1..40).prop_map(|steps| {
        let start = parse_timestamp(START).unwrap();
        let mut at = start;
        let mut events = vec![item()];
        let mut submitted = [false; 4];
        for (case, kind, hours) in steps {
            at += chrono::Duration::hours(hours);
            let stream = StreamName::parse(&format!("case-{case}")).unwrap();
            let data = if submitted[case] {
                action(kind, case)
            } else {
                submitted[case] = true;
                EventData::Submitted(Submitted {
                    item: "BL-001".into(),
                    channel: Channel::Window,
                    materials: vec![],
                })
            };
            events.push(NewEvent::new(
                stream,
                at,
                "clerk",
                "jiangjin/town-01/window-1",
                data,
            ));
        }
        for e in &mut events {
            if e.data.stream_kind() == StreamKind::Supervision {
                e.stream = StreamName::supervision();
            }
        }
        seal(&events)
    })
}

fn seal(events: &[NewEvent]) -> Vec<StoredEvent> {
    let mut versions = std::collections::HashMap::new();
    let mut prev = GENESIS_HASH;
    events
        .iter()
        .enumerate()
        .map(|(i, ev)| {
            let v = versions
                .entry(ev.stream.as_str().to_owned())
                .or_insert(0u64);
            *v += 1;
            let raw = RawEvent::seal(
                ev,
                i as u64 + 1,
                *v,
                &format_timestamp(&ev.occurred_at),
                prev,
            );
            prev = raw.hash;
            raw.to_stored(ev.occurred_at, ev.occurred_at, ev.data.clone())
        })
        .collect()
}

fn millis(e: &StoredEvent) -> Millis {
    e.occurred_at.timestamp_millis()
}

fn snapshot(p: &Projections, now: Millis) -> String {
    crate::tests::render(p, now)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(64),
        ..ProptestConfig::default()
    })]

    #[test]
    fn folding_in_pieces_equals_folding_whole(events in log_strategy(), cut in any::<prop::sample::Index>()) {
        let end = millis(events.last().unwrap()) + 40 * 86_400_000;
        let whole = fold(&events);
        let k = cut.index(events.len());
        let mut pieces = fold(&events[..k]);
        let restarted = pieces.clone();
        // A follower that re-reads a page it already applied changes nothing.
        for e in &events[..k] {
            pieces.apply(e);
        }
        let mut resumed = restarted;
        for e in &events[k..] {
            pieces.apply(e);
            resumed.apply(e);
        }
        prop_assert_eq!(snapshot(&pieces, end), snapshot(&whole, end));
        prop_assert_eq!(snapshot(&resumed, end), snapshot(&whole, end));
    }

    #[test]
    fn a_view_at_t_does_not_depend_on_later_events(events in log_strategy(), at in 0i64..(60 * 24)) {
        let t = parse_timestamp(START).unwrap().timestamp_millis() + at * 3_600_000;
        let known: Vec<StoredEvent> = events.iter().filter(|e| millis(e) <= t).cloned().collect();
        let prefix = fold(&known);
        let whole = fold(&events);
        prop_assert_eq!(
            serde_json::to_string(&prefix.alerts(t)).unwrap(),
            serde_json::to_string(&whole.alerts(t)).unwrap()
        );
        for (stream, _) in prefix.cases_sorted() {
            let a = prefix.case_view(stream, t).map(|v| (v.promised_due_on, v.used_days, v.status));
            let b = whole.case_view(stream, t).map(|v| (v.promised_due_on, v.used_days, v.status));
            if whole.case(stream).is_some_and(|c| c.cursor <= t) {
                prop_assert_eq!(a, b);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn a_restart_from_a_snapshot_equals_a_full_replay(events in log_strategy(), cut in any::<prop::sample::Index>()) {
        let end = millis(events.last().unwrap()) + 40 * 86_400_000;
        let fold_all = |evs: &[StoredEvent]| {
            let mut p = Projections::default().with_ledger(crate::Scoring::default());
            for e in evs {
                p.apply(e);
            }
            p
        };
        let whole = fold_all(&events);
        let k = cut.index(events.len()).max(1);
        let part = fold_all(&events[..k]);
        let bytes = part.snapshot(events[k - 1].hash).unwrap();
        let (mut restored, header) = Projections::restore(&bytes).unwrap();
        prop_assert_eq!(header.position, events[k - 1].position);
        for e in &events[k..] {
            restored.apply(e);
        }
        prop_assert_eq!(snapshot(&restored, end), snapshot(&whole, end));
        prop_assert_eq!(restored.ledger(), whole.ledger());
        // Byte-identical state: the restored fold snapshots to the same bytes.
        let last = events.last().unwrap().hash;
        prop_assert_eq!(restored.snapshot(last).unwrap(), whole.snapshot(last).unwrap());
    }
}

#[test]
fn a_corrupt_or_outdated_snapshot_is_refused() {
    let p = Projections::default();
    let good = p.snapshot(GENESIS_HASH).unwrap();
    assert!(Projections::restore(&good).is_ok());
    assert!(matches!(
        Projections::restore(&good[..10]),
        Err(crate::snapshot::SnapshotError::NotASnapshot)
    ));
    let mut old = good.clone();
    old[8] = 0; // format 0
    assert!(matches!(
        Projections::restore(&old),
        Err(crate::snapshot::SnapshotError::Format { found: 0 })
    ));
    let mut moved = good.clone();
    moved[12] = 7; // claims position 7
    assert!(matches!(
        Projections::restore(&moved),
        Err(crate::snapshot::SnapshotError::Mismatch { .. })
    ));
    let mut garbled = good;
    garbled.truncate(crate::snapshot::header(&garbled).map(|_| 52).unwrap());
    garbled.extend_from_slice(&[0xff; 3]);
    assert!(Projections::restore(&garbled).is_err());
}

/// Folds with the ledger kept.
fn assess(events: &[StoredEvent]) -> Projections {
    let mut p = Projections::default().with_ledger(crate::Scoring::default());
    for e in events {
        p.apply(e);
    }
    p
}

/// The log with `extra` inserted before the event at index `at` (positions and chain
/// renumbered).
fn with_inserted(events: &[StoredEvent], at: usize, extra: NewEvent) -> Vec<StoredEvent> {
    let mut news: Vec<NewEvent> = events.iter().map(as_new).collect();
    news.insert(at, extra);
    seal(&news)
}

fn as_new(e: &StoredEvent) -> NewEvent {
    NewEvent::new(
        StreamName::parse(&e.stream).unwrap(),
        e.occurred_at,
        e.actor.clone(),
        e.org.clone(),
        e.data.clone(),
    )
}

/// Every case's due dates at `now`.
fn dues(
    p: &Projections,
    now: Millis,
) -> Vec<(String, Option<chrono::NaiveDate>, Option<chrono::NaiveDate>)> {
    p.cases_sorted()
        .into_iter()
        .filter_map(|(s, _)| p.case_view(s, now))
        .map(|v| (v.stream, v.promised_due_on, v.statutory_due_on))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(64),
        ..ProptestConfig::default()
    })]

    /// Rules v2: a suspension outside Art. 45's list, or without a notice, stops no clock.
    #[test]
    fn an_unlawful_suspension_never_changes_a_due_date(
        events in log_strategy(),
        at in any::<prop::sample::Index>(),
        case in 0usize..4,
        noticed in any::<bool>(),
    ) {
        let end = millis(events.last().unwrap()) + 40 * 86_400_000;
        let k = at.index(events.len() - 1) + 1;
        let stream = format!("case-{case}");
        prop_assume!(events[..k].iter().any(|e| e.stream == stream));
        let unlawful = NewEvent::new(
            StreamName::parse(&stream).unwrap(),
            events[k - 1].occurred_at,
            "clerk",
            "jiangjin/town-01/window-1",
            EventData::Suspended(Suspended {
                // Either a reason off the list with a notice, or a lawful reason without one.
                reason: if noticed { "awaiting_leader".into() } else { "testing".into() },
                notice: noticed.then(|| "通知".into()),
                expected_days: Some(3),
            }),
        );
        let with = fold(&with_inserted(&events, k, unlawful));
        let without = fold(&events);
        prop_assert_eq!(dues(&with, end), dues(&without, end));
    }

    /// Rules v2: an extension asked for after the promised due date is overtime: it changes no
    /// case's outcome.
    #[test]
    fn no_extension_after_the_promised_due_date_changes_on_time(
        events in log_strategy(),
        at in any::<prop::sample::Index>(),
        case in 0usize..4,
        days in 1u32..15,
    ) {
        let end = millis(events.last().unwrap()) + 40 * 86_400_000;
        let k = at.index(events.len() - 1) + 1;
        let stream = format!("case-{case}");
        let before = fold(&events[..k]);
        let when = events[k - 1].occurred_at;
        let due = before
            .case_view(&stream, when.timestamp_millis())
            .and_then(|v| v.promised_due_on);
        let today = when.with_timezone(&jiancha_events::time::CHINA).date_naive();
        prop_assume!(due.is_some_and(|d| today > d));
        let late = NewEvent::new(
            StreamName::parse(&stream).unwrap(),
            when,
            "clerk",
            "jiangjin/town-01/window-1",
            EventData::Extended(Extended {
                days,
                approved_by: "head-1".into(),
                reason: "r".into(),
            }),
        );
        let with = fold(&with_inserted(&events, k, late));
        let without = fold(&events);
        let outcome = |p: &Projections| -> Vec<_> {
            p.cases_sorted()
                .into_iter()
                .filter_map(|(s, _)| p.case_view(s, end))
                .map(|v| (v.stream, v.on_time, v.early, v.statutory_on_time, v.promised_due_on))
                .collect()
        };
        prop_assert_eq!(outcome(&with), outcome(&without));
    }

    /// Rates are parts over wholes whatever is appended: appeals of any entry, exemptions,
    /// conclusions entered late.
    #[test]
    fn no_sequence_of_appends_makes_a_rate_exceed_one(
        events in log_strategy(),
        acts in proptest::collection::vec((any::<prop::sample::Index>(), any::<prop::sample::Index>(), 0u8..3), 0..6),
    ) {
        let mut news: Vec<NewEvent> = events.iter().map(as_new).collect();
        for (at, pick, kind) in acts {
            // Fold what precedes, and appeal or exempt something it holds.
            let k = at.index(news.len() - 1) + 1;
            let p = assess(&seal(&news[..k]));
            let when = news[k - 1].occurred_at;
            let data = match kind {
                0 | 1 => {
                    let entries: Vec<_> = p.ledger().unwrap().entries().collect();
                    if entries.is_empty() {
                        continue;
                    }
                    let entry = &entries[pick.index(entries.len())];
                    // Both forms: naming the case (as `POST /appeals` does) and the entry alone.
                    EventData::AppealUpheld(AppealUpheld {
                        entry: entry.key(),
                        case: (kind == 0).then(|| entry.case.to_string()),
                        reason: None,
                    })
                }
                _ => EventData::Exempted(Exempted {
                    case: format!("case-{}", pick.index(4)),
                    reason: "r".into(),
                }),
            };
            news.insert(k, NewEvent::new(StreamName::parse("supervision").unwrap(), when, "inspector", "jiangjin/supervision", data));
        }
        let log = seal(&news);
        let p = assess(&log);
        let now = millis(log.last().unwrap()) + 60 * 86_400_000;
        for period in ["2026-09", "2026-10", "2026-11", "2026-Q4", "2026"] {
            for by in [crate::ledger::Dimension::Org, crate::ledger::Dimension::Item] {
                let q = crate::tests::report_query(period, by);
                for r in p.report(&q, now).unwrap().rows {
                    prop_assert!(r.on_time <= r.concluded && r.early <= r.concluded
                        && r.statutory_on_time <= r.concluded && r.satisfied <= r.rated
                        && r.bad_rated <= r.rated, "{r:?}");
                    for rate in [&r.on_time_rate, &r.early_rate, &r.satisfaction_rate].into_iter().flatten() {
                        prop_assert!(rate.get() <= "1.0000", "{period}: {r:?}");
                    }
                }
            }
        }
    }

    /// Entry ids are stable: the ids a report shows for cards still pending at `t` are the
    /// ids the ledger gives them once folded, and a restart from a snapshot keeps every id.
    #[test]
    fn entry_ids_are_the_same_live_from_a_snapshot_and_at_an_instant(
        events in log_strategy(),
        cut in any::<prop::sample::Index>(),
    ) {
        let whole = assess(&events);
        let ids = |p: &Projections| -> std::collections::BTreeSet<String> {
            p.ledger().unwrap().entries().map(|e| e.key()).collect()
        };
        let k = cut.index(events.len() - 1) + 1;
        let prefix = assess(&events[..k]);
        let t = events.get(k).map_or(Millis::MAX / 2, millis);
        let mut known = ids(&whole);
        known.extend(crate::report::pending_entries(&whole, whole.ledger().unwrap(), t).iter().map(|e| e.key()));
        for e in crate::report::pending_entries(&prefix, prefix.ledger().unwrap(), t) {
            prop_assert!(known.contains(&e.key()), "pending {} at {t} not in the ledger", e.key());
        }
        let bytes = prefix.snapshot(events[k - 1].hash).unwrap();
        let (mut restored, _) = Projections::restore(&bytes).unwrap();
        for e in &events[k..] {
            restored.apply(e);
        }
        prop_assert_eq!(ids(&restored), ids(&whole));
    }

    /// A case's entries read along its chain are those of the whole list that name it, and
    /// the packed list reads back what a snapshot of it wrote.
    #[test]
    fn a_case_entries_are_those_of_the_whole_list_that_name_it(events in log_strategy()) {
        let p = assess(&events);
        let ledger = p.ledger().unwrap();
        let all: Vec<_> = ledger.entries().collect();
        prop_assert_eq!(all.len(), ledger.len());
        for (i, e) in all.iter().enumerate() {
            prop_assert_eq!(e.index, i as u64 + 1);
        }
        let mut streams: Vec<&str> = all.iter().map(|e| &*e.case).collect();
        streams.sort_unstable();
        streams.dedup();
        for stream in streams {
            let by_list: Vec<_> = all.iter().filter(|e| &*e.case == stream).cloned().collect();
            prop_assert_eq!(p.case_entries(stream), by_list, "{}", stream);
        }
        let bytes = p.snapshot(events[events.len() - 1].hash).unwrap();
        let (restored, _) = Projections::restore(&bytes).unwrap();
        prop_assert_eq!(restored.ledger().unwrap().entries().collect::<Vec<_>>(), all);
    }

    /// The watched sets a report reads instead of the whole district miss nothing: at any
    /// instant, the clock-raised entries of the active cases and the cases open past their
    /// promise among the watched ones are those of every case, folded in pieces or whole.
    #[test]
    fn the_watched_cases_are_every_case_a_report_can_count(
        events in log_strategy(),
        cut in any::<prop::sample::Index>(),
        at in 0i64..(90 * 24),
    ) {
        use crate::ledger::Dimension;
        use crate::report::{overdue_open_of, pending_entries_of};
        let k = cut.index(events.len() - 1) + 1;
        let t = parse_timestamp(START).unwrap().timestamp_millis() + at * 3_600_000;
        let mut resumed = assess(&events[..k]);
        for e in &events[k..] {
            resumed.apply(e);
        }
        for p in [assess(&events[..k]), assess(&events), resumed] {
            let ledger = p.ledger().unwrap();
            let keys = |v: Vec<crate::Entry>| v.iter().map(|e| e.key()).collect::<Vec<_>>();
            prop_assert_eq!(
                keys(pending_entries_of(&p, ledger, t, p.active_cases())),
                keys(pending_entries_of(&p, ledger, t, p.cases()))
            );
            prop_assert_eq!(
                overdue_open_of(&p, Dimension::Org, t, p.maybe_overdue_at(t)),
                overdue_open_of(&p, Dimension::Org, t, p.cases())
            );
            let mut active: Vec<&str> = p.active_cases().map(|(s, _)| s).collect();
            active.sort_unstable();
            prop_assert_eq!(active, p.open_cases());
        }
    }
}
