//! The catalogue of example events, decoded forever, and the data checks.

use super::*;
use crate::jsonl::parse_line;

const CATALOGUE_V1: &str = include_str!("../../catalogue/v1.jsonl");
const CATALOGUE_V2: &str = include_str!("../../catalogue/v2.jsonl");

/// The first catalogue is what logs written before rules v2 hold: it must decode as stored
/// events always do (its appeal names an entry the way v1 did, which a new event may not).
#[test]
fn the_v1_catalogue_still_decodes_as_stored_events() {
    for (i, line) in CATALOGUE_V1.lines().enumerate() {
        let value: serde_json::Value = serde_json::from_str(line).unwrap();
        let type_name = value["type"].as_str().unwrap();
        let data = crate::upcast::upcast(type_name, 1, value["data"].clone())
            .and_then(|v| EventData::decode(type_name, v))
            .unwrap_or_else(|e| panic!("line {}: {e}", i + 1));
        assert_eq!(data.type_name(), type_name);
    }
    let appeal = CATALOGUE_V1
        .lines()
        .find(|l| l.contains("AppealUpheld"))
        .unwrap();
    let e = parse_line(1, appeal).unwrap_err();
    assert_eq!(e.field, "data.entry");
}

#[test]
fn the_catalogue_has_one_example_per_type_and_each_decodes_to_its_own_bytes() {
    let mut seen = Vec::new();
    for (i, line) in CATALOGUE_V2.lines().enumerate() {
        let event = parse_line(i + 1, line)
            .or_else(|e| {
                // The engine's and the commands' own events are refused as input; decode them as
                // stored events are.
                assert_eq!(e.field, "type", "{e}");
                let value: serde_json::Value = serde_json::from_str(line).unwrap();
                let data =
                    EventData::decode(value["type"].as_str().unwrap(), value["data"].clone())
                        .unwrap_or_else(|e| panic!("line {}: {e}", i + 1));
                Ok::<_, crate::LineError>(crate::NewEvent::new(
                    crate::StreamName::parse("supervision").unwrap(),
                    crate::parse_timestamp("2026-03-18T11:00:00+08:00").unwrap(),
                    "admin-1",
                    "jiangjin/supervision",
                    data,
                ))
            })
            .unwrap();
        let type_name = event.data.type_name();
        assert!(!seen.contains(&type_name), "{type_name} appears twice");
        seen.push(type_name);
        // The wire format is permanent: re-encoding gives back the catalogue's data bytes.
        let value: serde_json::Value = serde_json::from_str(line).unwrap();
        let original = serde_json::to_string(&value["data"]).unwrap();
        let reencoded: serde_json::Value = serde_json::from_str(&event.data.to_json()).unwrap();
        assert_eq!(
            serde_json::to_string(&reencoded).unwrap(),
            original,
            "{type_name}"
        );
    }
    let mut expected: Vec<&str> = EVENT_TYPES.to_vec();
    expected.sort_unstable();
    seen.sort_unstable();
    assert_eq!(seen, expected);
}

#[test]
fn data_checks_name_the_field() {
    let bad = |t: &str, v: serde_json::Value| EventData::decode(t, v).unwrap_err();
    let limits = |v: serde_json::Value| bad("WorkflowLimitsDefined", v);
    assert_eq!(limits(serde_json::json!({})).field, "data");
    let e = limits(serde_json::json!({"ack_days": 1, "rectify_days": 0}));
    assert_eq!(
        (e.field.as_str(), e.message.as_str()),
        ("data.rectify_days", "must be 1 to 60, got 0")
    );
    assert_eq!(
        limits(serde_json::json!({"complaint_reply_days": 61})).field,
        "data.complaint_reply_days"
    );
    assert!(EventData::decode(
        "WorkflowLimitsDefined",
        serde_json::json!({"rating_window_days": 60})
    )
    .is_ok());
    let e = bad("Rated", serde_json::json!({"score": 6}));
    assert_eq!(e.field, "data.score");
    let e = bad(
        "Submitted",
        serde_json::json!({"channel": "window", "materials": []}),
    );
    assert_eq!(
        (e.field.as_str(), e.message.as_str()),
        ("data.item", "missing")
    );
    let e = bad(
        "Submitted",
        serde_json::json!({"item": "x", "channel": "fax", "materials": []}),
    );
    assert_eq!(e.field, "data.channel");
    let e = bad("Concluded", serde_json::json!({"note": 1}));
    assert_eq!(e.field, "data.note");
    let e = bad(
        "Transferred",
        serde_json::json!({"to_org": "a/../b", "reason": "r"}),
    );
    assert_eq!(e.field, "data.to_org");
    let e = bad("Nope", serde_json::json!({}));
    assert_eq!(e.field, "type");
    let e = bad("Concluded", serde_json::json!([]));
    assert_eq!(e.field, "data");
    let e = bad(
        "ItemDefined",
        serde_json::json!({"code":"a","name":"n","org":"x","statutory_days":5,"promised_days":9,
            "fee_cents":0,"steps":[],"required_materials":[],"in_center":true}),
    );
    assert_eq!(e.field, "data.promised_days");
    // A close keeps a report of its own period, or none.
    let close = |report: &str| {
        serde_json::json!({"period": "2026-03", "digest": "ab".repeat(32), "position": 9,
            "report": report})
    };
    let e = bad(
        "PeriodClosed",
        close("{\"period\":\"2026-02\",\"rows\":[]}"),
    );
    assert_eq!(
        (e.field.as_str(), e.message.as_str()),
        (
            "data.report",
            "the report is of 2026-02, the close of 2026-03"
        )
    );
    assert_eq!(bad("PeriodClosed", close("[]")).field, "data.report");
    assert_eq!(
        bad("PeriodClosed", close("{\"period\"")).field,
        "data.report"
    );
    assert!(EventData::decode(
        "PeriodClosed",
        close("{\"period\":\"2026-03\",\"rows\":[]}")
    )
    .is_ok());
}

#[test]
fn every_type_has_a_schema_and_a_stream_kind() {
    for t in EVENT_TYPES {
        // Rules v2 added optional fields to these two (see the upcasters).
        let expected = if matches!(*t, "ItemDefined" | "Suspended") {
            2
        } else {
            1
        };
        assert_eq!(current_schema(t), Some(expected), "{t}");
        assert!(stream_kind_of(t).is_some());
    }
    assert_eq!(stream_kind_of("Accepted"), Some(StreamKind::Case));
    assert_eq!(stream_kind_of("CardIssued"), Some(StreamKind::Supervision));
    assert_eq!(current_schema("Nope"), None);
}

/// The procurement types' checks: amounts are never negative, ranks start at 1, bidders may
/// be 0, dates and instants must be real, a committee has members and no more experts than
/// members; each refusal names its field.
#[test]
fn procurement_checks_name_the_field() {
    use serde_json::json;
    let field = |t: &str, v: serde_json::Value| EventData::decode(t, v).unwrap_err().field;
    assert_eq!(
        field("ContractSigned", json!({"amount_cents": -5})),
        "data.amount_cents"
    );
    assert_eq!(
        field("BondTaken", json!({"kind": "bid", "amount_cents": -1})),
        "data.amount_cents"
    );
    assert_eq!(
        field(
            "AwardNoticeIssued",
            json!({"winner": "w", "rank": 0, "amount_cents": 1})
        ),
        "data.rank"
    );
    assert_eq!(field("BidsOpened", json!({"bidders": -1})), "data.bidders");
    assert!(EventData::decode("BidsOpened", json!({"bidders": 0})).is_ok());
    assert_eq!(
        field("DocumentsIssued", json!({"on_sale_until": "2026-02-30"})),
        "data.on_sale_until"
    );
    assert_eq!(
        field("BidDeadlineSet", json!({"at": "2026-03-24T09:30:00"})),
        "data.at"
    );
    assert_eq!(
        field(
            "ExpertsDrawn",
            json!({"method": "random", "members": 5, "experts": 6})
        ),
        "data.experts"
    );
    assert_eq!(
        field(
            "ExpertsDrawn",
            json!({"method": "random", "members": 0, "experts": 0})
        ),
        "data.members"
    );
    assert_eq!(
        field(
            "ThresholdDefined",
            json!({"jurisdiction": "a//b", "category": "goods", "open_tender_cents": 1})
        ),
        "data.jurisdiction"
    );
    assert_eq!(
        field("EvaluationReported", json!({"ranking": ["a", " "]})),
        "data.ranking[1]"
    );
    assert_eq!(
        field(
            "ProcurementRegistered",
            json!({"project": "p", "regime": "government", "method": "auction",
                "category": "goods", "budget_cents": 1, "purchaser_org": "d/x",
                "state_funded": false})
        ),
        "data.method"
    );
    assert_eq!(stream_kind_of("BidsOpened"), Some(StreamKind::Procurement));
    assert_eq!(
        stream_kind_of("ThresholdDefined"),
        Some(StreamKind::Catalog)
    );
}

/// What a new event must meet beyond decoding: an item's numbers within a procedure's reach
/// and its texts fit to show, an org's name without control characters, an extension or an
/// expected suspension within a year of working days. Each names its field.
#[test]
fn new_items_and_acts_are_bounded_naming_the_field() {
    let append = |t: &str, v: serde_json::Value| {
        EventData::decode(t, v)
            .and_then(|d| d.check_append().map(|_| d))
            .err()
            .map(|e| e.field)
    };
    let item = |extra: serde_json::Value| {
        let mut v = serde_json::json!({"code": "BL-1", "name": "登记", "org": "jiangjin/center/dept-03",
            "statutory_days": 20, "promised_days": 5, "fee_cents": 0, "steps": ["审查"],
            "required_materials": [], "in_center": true});
        for (k, x) in extra.as_object().unwrap() {
            v[k] = x.clone();
        }
        append("ItemDefined", v)
    };
    assert_eq!(item(serde_json::json!({})), None);
    assert_eq!(item(serde_json::json!({"max_extension_days": 0})), None);
    for (extra, field) in [
        (
            serde_json::json!({"max_extension_days": 4_294_967_295u64}),
            "data.max_extension_days",
        ),
        (
            serde_json::json!({"suspension_expected_days": 0}),
            "data.suspension_expected_days",
        ),
        (
            serde_json::json!({"suspension_expected_days": 100_000}),
            "data.suspension_expected_days",
        ),
        (
            serde_json::json!({"warning": {"share_used_percent": 1000}}),
            "data.warning.share_used_percent",
        ),
        (serde_json::json!({"code": "a/b"}), "data.code"),
        (serde_json::json!({"code": "x".repeat(65)}), "data.code"),
        (serde_json::json!({"code": "BL\u{202E}1"}), "data.code"),
        (serde_json::json!({"name": "登\u{202E}记"}), "data.name"),
        (serde_json::json!({"steps": ["审查", " "]}), "data.steps[1]"),
    ] {
        assert_eq!(item(extra.clone()).as_deref(), Some(field), "{extra}");
    }
    assert_eq!(
        append("OrgDefined", serde_json::json!({"path": "jiangjin/town-01", "name": "镇\u{202E}政府", "kind": "town"}))
            .as_deref(),
        Some("data.name")
    );
    assert_eq!(
        append(
            "Extended",
            serde_json::json!({"days": 4_294_967_295u64, "approved_by": "局长", "reason": "r"})
        )
        .as_deref(),
        Some("data.days")
    );
    assert_eq!(
        append(
            "Suspended",
            serde_json::json!({"reason": "r", "expected_days": 251})
        )
        .as_deref(),
        Some("data.expected_days")
    );
}
