//! Interchange tests: every refusal names its line and field; every type round-trips.

use proptest::prelude::*;

use super::*;
use crate::chain::{ChainVerifier, GENESIS_HASH};
use crate::time::{parse_timestamp, CHINA};
use crate::vocab::*;

fn refuse(line: &str) -> (String, String) {
    let e = parse_line(7, line).unwrap_err();
    assert_eq!(e.line, 7);
    (e.field, e.message)
}

const GOOD: &str = r#"{"stream":"case-1","type":"Submitted","occurred_at":"2026-03-02T09:15:00+08:00","actor":"a","org":"jiangjin","data":{"item":"X","channel":"window","materials":[]}}"#;

#[test]
fn a_good_line_parses() {
    let ev = parse_line(1, GOOD).unwrap();
    assert_eq!(ev.stream.as_str(), "case-1");
    assert_eq!(ev.data.type_name(), "Submitted");
    assert_eq!(
        ev.data_json,
        r#"{"item":"X","channel":"window","materials":[]}"#
    );
    assert!(ev.moved.is_none());
}

#[test]
fn each_refusal_names_its_field() {
    assert_eq!(refuse("{not json").0, "json");
    let (field, message) = refuse(&format!("\u{feff}{GOOD}"));
    assert_eq!(field, "json");
    assert!(message.contains("byte order mark"), "{message}");
    assert_eq!(refuse("[1]").0, "json");
    assert_eq!(
        refuse(&GOOD.replace("Submitted", "Teleported")),
        ("type".into(), "unknown event type \"Teleported\"".into())
    );
    assert_eq!(
        refuse(&GOOD.replace(r#""actor":"a","#, "")),
        ("actor".into(), "missing".into())
    );
    let (f, m) = refuse(&GOOD.replace("+08:00", ""));
    assert_eq!(f, "occurred_at");
    assert!(m.contains("without offset"), "{m}");
    assert_eq!(
        refuse(&GOOD.replace(r#""item":"X","#, "")),
        ("data.item".into(), "missing".into())
    );
    // A place serde finds within `data` is not a place in the line: the path says where.
    let (f, m) = refuse(&GOOD.replace(r#""item":"X","#, r#""item":"X","bogus":1,"#));
    assert_eq!(f, "data.bogus");
    assert!(m.starts_with("unknown field (expected"), "{m}");
    assert!(!m.contains("column"), "{m}");
    let (f, m) = refuse(&GOOD.replace(r#""channel":"window""#, r#""channel":"windw""#));
    assert_eq!(f, "data.channel");
    assert!(!m.contains("column"), "{m}");
    let (f, m) = refuse(&GOOD.replace("2026-03-02T09:15:00+08:00", "2026-03-02T09:15:60+08:00"));
    assert_eq!(f, "occurred_at");
    assert!(m.contains("leap second"), "{m}");
    let (f, m) = refuse(&GOOD.replace(r#""actor":"a""#, r#""actor":"clerk\u202e9-kerc""#));
    assert_eq!(f, "actor");
    assert!(m.contains("U+202E"), "{m}");
    let (f, _) = refuse(&GOOD.replace(r#""actor":"a""#, "\"actor\":\"cl\u{200f}erk\""));
    assert_eq!(f, "actor");
    let (f, m) = refuse(&GOOD.replace(r#""materials":[]"#, r#""materials":["\ud800"]"#));
    assert!(f.starts_with("data"), "{f}: {m}");
    assert!(!m.contains("column"), "{m}");
    assert_eq!(refuse(&GOOD.replace("case-1", "catalog")).0, "stream");
    assert_eq!(refuse(&GOOD.replace("case-1", "cases")).0, "stream");
    assert_eq!(
        refuse(&GOOD.replace(r#""org":"jiangjin""#, r#""org":"a/../b""#)).0,
        "org"
    );
    assert_eq!(
        refuse(&GOOD.replace("occurred_at", "occured_at")).0,
        "occured_at"
    );
    assert_eq!(
        refuse(&GOOD.replace(r#""stream":"case-1""#, r#""stream":5"#)).0,
        "stream"
    );
    assert_eq!(
        refuse(&GOOD.replace(r#""actor":"a""#, r#""actor":"a","id":"auto:x""#)).0,
        "id"
    );
    assert_eq!(
        refuse(&GOOD.replace(
            r#""actor":"a""#,
            r#""actor":"a","recorded_at":"2026-03-02T09:15:00+08:00""#
        ))
        .0,
        "recorded_at"
    );
    assert_eq!(refuse(&format!("{GOOD} x")).0, "json");
}

/// A new event occurs on a date in China the working-day calendar covers (1990 to 2100):
/// outside it, no deadline rule could ever judge it, and a mistyped year would put a case
/// beyond supervision without a word.
#[test]
fn a_new_event_occurs_within_the_calendars_dates() {
    let at = |ts: &str| GOOD.replace("2026-03-02T09:15:00+08:00", ts);
    for ts in [
        "1989-12-31T23:59:59+08:00",
        "1989-12-31T15:59:59Z",
        "2101-01-01T00:00:00+08:00",
        "2100-12-31T16:00:00Z",
        "0001-01-01T00:00:00+08:00",
        "9999-12-31T23:59:59+08:00",
    ] {
        let (field, message) = refuse(&at(ts));
        assert_eq!(field, "occurred_at", "{ts}");
        assert!(
            message.contains("1990-01-01 to 2100-12-31"),
            "{ts}: {message}"
        );
    }
    // A calendar amendment declares a day the calendar covers.
    for date in ["1989-12-31", "2101-01-01", "2200-01-01"] {
        let line = line_of(
            "calendar",
            "CalendarAmended",
            &format!(
                r#"{{"jurisdiction":"national","date":"{date}","kind":"holiday","reason":"x"}}"#
            ),
        );
        let (field, message) = refuse(&line);
        assert_eq!(field, "data.date", "{date}");
        assert!(
            message.contains("1990-01-01 to 2100-12-31"),
            "{date}: {message}"
        );
    }
    let line = line_of(
        "calendar",
        "CalendarAmended",
        r#"{"jurisdiction":"national","date":"2100-12-31","kind":"holiday","reason":"x"}"#,
    );
    parse_line(1, &line).unwrap();
    for ts in [
        "1990-01-01T00:00:00+08:00",
        "1989-12-31T16:00:00Z",
        "2100-12-31T23:59:59+08:00",
        "2100-12-31T15:59:59Z",
    ] {
        parse_line(1, &at(ts)).unwrap();
    }
}

/// A line of `stream` and `type` with the given data, otherwise as [`GOOD`].
fn line_of(stream: &str, event_type: &str, data: &str) -> String {
    format!(
        r#"{{"stream":"{stream}","type":"{event_type}","occurred_at":"2026-03-02T09:15:00+08:00","actor":"a","org":"jiangjin","data":{data}}}"#
    )
}

const ITEM_DATA: &str = r#"{"code":"a","name":"n","org":"jiangjin/x","statutory_days":S,"promised_days":P,"fee_cents":0,"steps":[],"required_materials":[],"in_center":true}"#;

#[test]
fn limits_are_bounded_at_append() {
    let item = |s: u32, p: u32| {
        let data = ITEM_DATA
            .replace('S', &s.to_string())
            .replace('P', &p.to_string());
        line_of("catalog", "ItemDefined", &data)
    };
    assert!(parse_line(1, &item(20, 5)).is_ok());
    assert!(parse_line(1, &item(LIMIT_DAYS_MAX, 1)).is_ok());
    let (f, m) = refuse(&item(4_294_967_295, 5));
    assert_eq!(f, "data.statutory_days");
    assert!(m.contains("250"), "{m}");
    assert_eq!(refuse(&item(251, 5)).0, "data.statutory_days");
    assert_eq!(refuse(&item(20, 0)).0, "data.promised_days");
    assert_eq!(refuse(&item(20, 21)).0, "data.promised_days");

    let accepted = |data: &str| line_of("case-1", "Accepted", data);
    assert!(parse_line(1, &accepted("{}")).is_ok());
    assert!(parse_line(1, &accepted(r#"{"promised_days":5,"statutory_days":5}"#)).is_ok());
    assert_eq!(
        refuse(&accepted(r#"{"promised_days":0}"#)).0,
        "data.promised_days"
    );
    let (f, m) = refuse(&accepted(r#"{"promised_days":10,"statutory_days":5}"#));
    assert_eq!(f, "data.promised_days");
    assert!(m.contains("statutory_days (5)"), "{m}");
    assert_eq!(
        refuse(&accepted(r#"{"statutory_days":0}"#)).0,
        "data.statutory_days"
    );
    assert_eq!(
        refuse(&accepted(r#"{"statutory_days":4294967295}"#)).0,
        "data.statutory_days"
    );
}

#[test]
fn a_correction_act_names_an_alert_of_its_case() {
    let act = |ty: &str, case: &str, alert: &str, more: &str| {
        line_of(
            "supervision",
            ty,
            &format!(r#"{{"case":"{case}","alert":"{alert}"{more}}}"#),
        )
    };
    let ordered = |case: &str, alert: &str| act("CorrectionOrdered", case, alert, r#","days":3"#);
    assert!(parse_line(1, &ordered("case-5", "case-5/fee.mismatch/1")).is_ok());
    for alert in ["case-6/fee.mismatch/1", "fee.mismatch/1", "case-5", ""] {
        let (f, m) = refuse(&ordered("case-5", alert));
        assert_eq!(f, "data.alert", "{alert}");
        assert!(m.contains("case-5"), "{m}");
    }
    let completed = act("CorrectionCompleted", "case-5", "case-6/fee.mismatch/1", "");
    assert_eq!(refuse(&completed).0, "data.alert");
    let verified = act(
        "CorrectionVerified",
        "case-5",
        "case-6/fee.mismatch/1",
        r#","accepted":true"#,
    );
    assert_eq!(refuse(&verified).0, "data.alert");
}

#[test]
fn a_calendar_jurisdiction_is_a_clean_path() {
    let amended = |j: &str| {
        line_of(
            "calendar",
            "CalendarAmended",
            &format!(
                r#"{{"jurisdiction":"{j}","date":"2027-02-06","kind":"holiday","reason":"r"}}"#
            ),
        )
    };
    assert!(parse_line(1, &amended("national")).is_ok());
    assert!(parse_line(1, &amended("cq/jiangjin")).is_ok());
    for bad in [
        "../..",
        "cq/../x",
        "cq//x",
        "/cq",
        "cq/",
        ".",
        "cq/\u{200B}x",
        "",
    ] {
        assert_eq!(refuse(&amended(bad)).0, "data.jurisdiction", "{bad:?}");
    }
}

#[test]
fn odd_case_ids_and_invisible_orgs_are_refused() {
    for stream in ["case-..", "case-.", "case-a..b", "case-.hidden"] {
        assert_eq!(
            refuse(&GOOD.replace("case-1", stream)).0,
            "stream",
            "{stream}"
        );
    }
    for org in [
        "jiangjin\u{200B}",
        "jiang\u{202E}jin",
        "jiangjin/\u{2066}x",
        "\u{FEFF}jiangjin",
    ] {
        let line = GOOD.replace(r#""org":"jiangjin""#, &format!(r#""org":"{org}""#));
        assert_eq!(refuse(&line).0, "org", "{org:?}");
    }
}

#[test]
fn duplicate_keys_are_refused_naming_the_line() {
    let twice = GOOD.replace(r#""actor":"a""#, r#""actor":"a","actor":"b""#);
    let e = parse_line(3, &twice).unwrap_err();
    assert_eq!((e.line, e.field.as_str()), (3, "actor"));
    assert!(e.message.contains("duplicate field"), "{e}");
    let inner = GOOD.replace(r#""item":"X""#, r#""item":"X","item":"Y""#);
    assert!(parse_line(3, &inner)
        .unwrap_err()
        .message
        .contains("duplicate field"));
}

#[test]
fn a_moved_event_keeps_the_rules_of_its_time() {
    // An exported event is checked against its hash, not against rules added after it was
    // written: a log from before the limits were bounded still moves.
    let raw = seal_all(&[EventData::Accepted(Accepted {
        promised_days: Some(0),
        statutory_days: None,
    })]);
    let mut line = String::new();
    write_export_line(&raw[0], &mut line);
    assert!(parse_line(1, &line).is_ok());
}

#[test]
fn blank_lines_are_skipped_and_numbers_kept() {
    let text = format!("\n{GOOD}\n\n{{bad\n");
    let out: Vec<_> = read_jsonl(text.as_bytes()).collect();
    assert_eq!(out.len(), 2);
    assert_eq!(out[0].as_ref().unwrap().0, 2);
    assert_eq!(out[1].as_ref().unwrap_err().line, 4);
}

fn text() -> impl Strategy<Value = String> {
    "[a-z0-9 审查决定\"\\\\]{1,8}".prop_filter("non-blank", |s| !s.trim().is_empty())
}

fn days() -> impl Strategy<Value = u32> {
    1u32..60
}

fn data_strategy() -> impl Strategy<Value = EventData> {
    let ts = (0i64..400_000_000).prop_map(|s| {
        parse_timestamp("2020-01-01T00:00:00+08:00").unwrap() + chrono::Duration::seconds(s)
    });
    let date = (0i64..3000).prop_map(|d| {
        chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap() + chrono::Duration::days(d)
    });
    let list = || proptest::collection::vec(text(), 0..3);
    prop_oneof![
        (
            text(),
            text(),
            days(),
            any::<u64>(),
            list(),
            list(),
            any::<bool>(),
            prop::option::of(0u32..5)
        )
            .prop_map(
                |(code, name, s, fee, steps, mats, c, w)| EventData::ItemDefined(ItemDefined {
                    code,
                    name,
                    org: "jiangjin/center".into(),
                    statutory_days: s + 5,
                    promised_days: s,
                    fee_cents: fee,
                    steps,
                    required_materials: mats,
                    in_center: c,
                    warning: w.map(WarningThreshold::DaysLeft),
                    max_extension_days: w.map(|d| d + 10),
                    suspension_expected_days: None,
                })
            ),
        (
            date,
            text(),
            prop_oneof![
                Just(AmendmentKind::Holiday),
                Just(AmendmentKind::Workday),
                Just(AmendmentKind::YearDeclared)
            ]
        )
            .prop_map(
                |(date, reason, kind)| EventData::CalendarAmended(CalendarAmended {
                    jurisdiction: "national".into(),
                    date,
                    kind,
                    reason
                })
            ),
        (
            text(),
            list(),
            prop_oneof![
                Just(Channel::Window),
                Just(Channel::Agent),
                Just(Channel::SelfService)
            ]
        )
            .prop_map(
                |(item, materials, channel)| EventData::Submitted(Submitted {
                    item,
                    channel,
                    materials
                })
            ),
        list().prop_map(|missing| EventData::CorrectionRequested(CorrectionRequested { missing })),
        list().prop_map(
            |materials| EventData::MaterialsSupplemented(MaterialsSupplemented { materials })
        ),
        (prop::option::of(days()), prop::option::of(days())).prop_map(
            |(p, s)| EventData::Accepted(Accepted {
                promised_days: p,
                statutory_days: s
            })
        ),
        text().prop_map(|reason| EventData::RejectedAtIntake(RejectedAtIntake { reason })),
        text().prop_map(|reason| EventData::Transferred(Transferred {
            to_org: "jiangjin/town-1".into(),
            reason
        })),
        text().prop_map(|step| EventData::StepCompleted(StepCompleted { step })),
        (text(), prop::option::of(text()), prop::option::of(1u32..60)).prop_map(
            |(reason, notice, expected_days)| EventData::Suspended(Suspended {
                reason,
                notice,
                expected_days
            })
        ),
        Just(EventData::Resumed(Resumed {})),
        (days(), text(), text()).prop_map(|(days, approved_by, reason)| EventData::Extended(
            Extended {
                days,
                approved_by,
                reason
            }
        )),
        any::<u64>().prop_map(|amount_cents| EventData::FeeCharged(FeeCharged { amount_cents })),
        any::<bool>().prop_map(|a| EventData::Decided(Decided {
            outcome: if a {
                Outcome::Approved
            } else {
                Outcome::Denied
            }
        })),
        Just(EventData::Concluded(Concluded {})),
        text().prop_map(|reason| EventData::Withdrawn(Withdrawn { reason })),
        (1u8..=5).prop_map(|score| EventData::Rated(Rated { score })),
        text().prop_map(|category| EventData::Complained(Complained { category })),
        (ts, any::<bool>()).prop_map(|(due, red)| EventData::CardIssued(CardIssued {
            case: "case-9".into(),
            rule: "deadline.promised.overdue".into(),
            severity: if red { Severity::Red } else { Severity::Yellow },
            due: due.with_timezone(&CHINA),
        })),
        (text(), prop::option::of(text())).prop_map(|(alert, note)| EventData::AlertAcknowledged(
            AlertAcknowledged {
                card_at: None,
                alert,
                note
            }
        )),
        (text(), days()).prop_map(|(alert, days)| EventData::CorrectionOrdered(
            CorrectionOrdered {
                card_at: None,
                case: "case-9".into(),
                alert,
                days
            }
        )),
        (text(), prop::option::of(text())).prop_map(|(alert, report)| {
            EventData::CorrectionCompleted(CorrectionCompleted {
                card_at: None,
                case: "case-9".into(),
                alert,
                report,
            })
        }),
        text().prop_map(|reason| EventData::Exempted(Exempted {
            case: "case-9".into(),
            reason
        })),
        (text(), prop::option::of(text()), prop::option::of(text())).prop_map(
            |(entry, case, reason)| EventData::AppealUpheld(AppealUpheld {
                entry,
                case,
                reason
            })
        ),
    ]
}

fn stream_for(data: &EventData) -> crate::stream::StreamName {
    let name = match data.stream_kind() {
        crate::stream::StreamKind::Catalog => "catalog",
        crate::stream::StreamKind::Calendar => "calendar",
        crate::stream::StreamKind::Case => "case-2026-1",
        crate::stream::StreamKind::Supervision => "supervision",
        crate::stream::StreamKind::Procurement => "proc-2026-1",
    };
    crate::stream::StreamName::parse(name).unwrap()
}

fn seal_all(data: &[EventData]) -> Vec<RawEvent> {
    let at = parse_timestamp("2026-03-02T09:15:00.125+08:00").unwrap();
    let mut prev = GENESIS_HASH;
    let mut out = Vec::new();
    for (i, d) in data.iter().enumerate() {
        let ev = crate::envelope::NewEvent::new(
            stream_for(d),
            at,
            "clerk \"1\"",
            "jiangjin/town-1",
            d.clone(),
        );
        let stamp = crate::time::format_timestamp(&at);
        let raw = RawEvent::seal(&ev, i as u64 + 1, i as u64 + 1, &stamp, prev);
        prev = raw.hash;
        out.push(raw);
    }
    out
}

proptest! {
    #[test]
    fn every_event_round_trips_through_the_export_shape(data in data_strategy()) {
        let raw = seal_all(std::slice::from_ref(&data)).remove(0);
        let mut line = String::new();
        write_export_line(&raw, &mut line);
        let parsed = parse_line(1, &line).unwrap();
        prop_assert_eq!(&parsed.data, &data);
        let moved = parsed.moved.clone().unwrap();
        prop_assert_eq!(moved.hash, raw.hash);
        // Sealing the parsed event at the same place reproduces every stored field.
        let again = RawEvent::seal(&parsed, 1, 1, "2030-01-01T00:00:00+08:00", GENESIS_HASH);
        prop_assert_eq!(&again, &raw);
        prop_assert_eq!(raw.decode().unwrap().data, data);
    }

    /// Read back from the log, current-schema data read straight from its text is what the
    /// reading through a JSON value gives, and so is every other field.
    #[test]
    fn a_stored_event_reads_straight_as_through_a_value(data in data_strategy()) {
        let raw = seal_all(std::slice::from_ref(&data)).remove(0);
        let value: serde_json::Value = serde_json::from_str(&raw.data).unwrap();
        let value = crate::upcast::upcast(&raw.event_type, raw.schema, value).unwrap();
        let through_value = EventData::decode(&raw.event_type, value).unwrap();
        let borrowed = raw.decode().unwrap();
        let moved = raw.clone().into_decoded().unwrap();
        prop_assert_eq!(&moved.data, &through_value);
        prop_assert_eq!(&moved, &borrowed);
        prop_assert_eq!(moved.occurred_at.offset(), borrowed.occurred_at.offset());
        prop_assert_eq!((moved.position, moved.version, &moved.stream), (raw.position, raw.version, &raw.stream));
        prop_assert_eq!((&moved.id, &moved.actor, &moved.org), (&raw.id, &raw.actor, &raw.org));
    }

    #[test]
    fn the_chain_detects_a_change_to_any_single_event(
        data in proptest::collection::vec(data_strategy(), 1..12),
        victim in any::<prop::sample::Index>(),
        field in 0usize..8,
    ) {
        let mut raws = seal_all(&data);
        let mut verifier = ChainVerifier::new(0, GENESIS_HASH);
        for r in &raws { verifier.check(r).unwrap(); }
        let i = victim.index(raws.len());
        let r = &mut raws[i];
        match field {
            0 => r.data.push(' '),
            1 => r.actor.push('x'),
            2 => r.org.push_str("/x"),
            3 => r.occurred_at = "2020-01-01T00:00:00+08:00".into(),
            4 => r.version += 1,
            5 => r.id.push('x'),
            6 => r.recorded_at.push('Z'),
            _ => r.stream.push('x'),
        }
        let mut verifier = ChainVerifier::new(0, GENESIS_HASH);
        let first_bad = raws.iter().find_map(|r| verifier.check(r).err()).map(|b| b.position);
        prop_assert_eq!(first_bad, Some(i as u64 + 1));
    }
}

#[test]
fn the_chain_names_a_deleted_or_reordered_position() {
    let data: Vec<EventData> = (0..5).map(|_| EventData::Concluded(Concluded {})).collect();
    let raws = seal_all(&data);
    let check = |rows: &[RawEvent]| {
        let mut v = ChainVerifier::new(0, GENESIS_HASH);
        rows.iter().find_map(|r| v.check(r).err())
    };
    assert_eq!(check(&raws), None);
    let mut deleted = raws.clone();
    deleted.remove(2);
    assert_eq!(check(&deleted).unwrap().position, 3);
    let mut swapped = raws.clone();
    swapped.swap(1, 2);
    assert_eq!(check(&swapped).unwrap().position, 2);
    // An event rewritten together with a recomputed hash is named itself: its successor's
    // link no longer holds while the successor's own hash does.
    let mut rewritten = raws.clone();
    rewritten[2].actor = "someone-else".into();
    rewritten[2].hash = rewritten[2].compute_hash();
    assert_eq!(check(&rewritten).unwrap().position, 3);
    // The last event rewritten that way cannot be caught without an attested head.
    let mut last = raws.clone();
    last[4].actor = "someone-else".into();
    last[4].hash = last[4].compute_hash();
    assert_eq!(check(&last), None);
}

/// An input line whose `data` takes exactly `data_bytes` bytes as stored, with the longest
/// actor and org (full of characters an export escapes).
fn line_of_size(data_bytes: usize) -> String {
    let actor = "\"".repeat(NAME_BYTES_MAX);
    let org = "\\".repeat(NAME_BYTES_MAX);
    let empty = r#"{"item":"X","channel":"window","materials":[""]}"#.len();
    let material = "审".repeat((data_bytes - empty) / 3) + &"x".repeat((data_bytes - empty) % 3);
    let data = format!(r#"{{"item":"X","channel":"window","materials":["{material}"]}}"#);
    assert_eq!(data.len(), data_bytes);
    let quoted = |s: &str| serde_json::to_string(s).unwrap();
    format!(
        r#"{{"stream":"case-1","type":"Submitted","occurred_at":"2026-03-02T09:15:00.123456789+08:00","actor":{},"org":{},"id":{},"data":{data}}}"#,
        quoted(&actor),
        quoted(&org),
        quoted(&"\"".repeat(ID_BYTES_MAX)),
    )
}

#[test]
fn every_event_accepted_comes_back_from_its_export_line() {
    let event = parse_line(1, &line_of_size(EVENT_DATA_BYTES_MAX)).unwrap();
    let raw = RawEvent::seal(
        &event,
        u64::MAX,
        u64::MAX,
        "2026-03-02T09:15:00.123456789+08:00",
        GENESIS_HASH,
    );
    let mut exported = String::new();
    write_export_line(&raw, &mut exported);
    assert!(
        exported.len() <= LINE_BYTES_MAX,
        "{} > {LINE_BYTES_MAX}",
        exported.len()
    );
    let again = parse_line(1, &exported).unwrap();
    assert_eq!(again.data_json, raw.data);
    // One byte more is refused, on the event's own limit.
    let (field, message) = refuse(&line_of_size(EVENT_DATA_BYTES_MAX + 1));
    assert_eq!(field, "data", "{message}");
}

/// An endless line: an object opened and never closed, counting what is read of it.
struct Endless {
    read: std::rc::Rc<std::cell::Cell<usize>>,
}

impl std::io::Read for Endless {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let opening = br#"{"stream":"case-1","data":""#;
        let done = self.read.get();
        for (i, b) in buf.iter_mut().enumerate() {
            *b = opening.get(done + i).copied().unwrap_or(b'x');
        }
        self.read.set(done + buf.len());
        Ok(buf.len())
    }
}

#[test]
fn an_overlong_line_is_refused_without_reading_the_rest() {
    let read = std::rc::Rc::new(std::cell::Cell::new(0));
    let input = std::io::BufReader::with_capacity(1 << 16, Endless { read: read.clone() });
    let first = read_jsonl(input).next().unwrap().unwrap_err();
    assert_eq!((first.line, first.field.as_str()), (1, "json"), "{first}");
    assert!(first.message.contains("longer than"), "{first}");
    assert!(
        read.get() <= LINE_BYTES_MAX + 2 + (1 << 16),
        "read {} bytes of an endless line",
        read.get()
    );
}
