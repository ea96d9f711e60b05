//! What the event reference (`docs/events.md`) and the OpenAPI schemas say about each event
//! type beyond its Rust definition: the unit of every numeric or dated field, and which types
//! only the commands and the engine write. Field names, types, optionality and descriptions
//! come from the types themselves ([`crate::data_schema`]), so this table holds nothing else.

/// The reference entry of one event type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventDoc {
    /// The type name, as in [`crate::EVENT_TYPES`].
    pub name: &'static str,
    /// The unit of each numeric or dated field: `(field, unit)`.
    pub units: &'static [(&'static str, &'static str)],
}

const WORKING_DAYS: &str = "working days";
const CENTS: &str = "cents (分)";
const SCORE: &str = "score, 1 to 5";
const POSITION: &str = "log position";
const INSTANT: &str = "instant (RFC 3339, +08:00)";
const DATE: &str = "calendar date (YYYY-MM-DD)";

/// The types only `jiancha import --historical`, `report close` and the engine write: refused
/// by `POST /events` and `jiancha import`, found only in the log.
pub const ENGINE_WRITTEN: [&str; 5] = [
    "HistoryImported",
    "PeriodClosed",
    "CardWithdrawn",
    "NotificationSent",
    "NotificationFailed",
];

/// Whether only the commands and the engine write the type.
pub fn is_engine_written(type_name: &str) -> bool {
    ENGINE_WRITTEN.contains(&type_name)
}

const fn doc(name: &'static str, units: &'static [(&'static str, &'static str)]) -> EventDoc {
    EventDoc { name, units }
}

/// Every event type's reference entry, in the vocabulary's order.
pub const EVENT_DOCS: &[EventDoc] = &[
    doc(
        "ItemDefined",
        &[
            ("statutory_days", WORKING_DAYS),
            ("promised_days", WORKING_DAYS),
            ("fee_cents", CENTS),
            (
                "warning",
                "days_left: working days; share_used_percent: percent of the promised limit",
            ),
            ("max_extension_days", WORKING_DAYS),
            ("suspension_expected_days", WORKING_DAYS),
        ],
    ),
    doc("OrgDefined", &[]),
    doc("CalendarAmended", &[("date", "calendar date (YYYY-MM-DD)")]),
    doc("Submitted", &[]),
    doc("CorrectionRequested", &[]),
    doc("MaterialsSupplemented", &[]),
    doc(
        "Accepted",
        &[
            ("promised_days", WORKING_DAYS),
            ("statutory_days", WORKING_DAYS),
        ],
    ),
    doc("RejectedAtIntake", &[]),
    doc("Transferred", &[]),
    doc("StepCompleted", &[]),
    doc("Suspended", &[("expected_days", WORKING_DAYS)]),
    doc("Resumed", &[]),
    doc("Extended", &[("days", WORKING_DAYS)]),
    doc("FeeCharged", &[("amount_cents", CENTS)]),
    doc("Decided", &[]),
    doc("Concluded", &[]),
    doc("Withdrawn", &[]),
    doc("Rated", &[("score", SCORE)]),
    doc("Complained", &[]),
    doc("CardIssued", &[("due", INSTANT)]),
    doc("AlertAcknowledged", &[("card_at", INSTANT)]),
    doc(
        "CorrectionOrdered",
        &[("days", WORKING_DAYS), ("card_at", INSTANT)],
    ),
    doc("CorrectionCompleted", &[("card_at", INSTANT)]),
    doc("Exempted", &[]),
    doc("AppealUpheld", &[]),
    doc(
        "HistoryImported",
        &[("from_position", POSITION), ("to_position", POSITION)],
    ),
    doc("PeriodClosed", &[("position", POSITION)]),
    doc("CardWithdrawn", &[]),
    doc("CorrectionVerified", &[("card_at", INSTANT)]),
    doc("RatingVerified", &[]),
    doc("RatingRectified", &[]),
    doc("RatingCallback", &[("score", SCORE)]),
    doc("ComplaintAccepted", &[]),
    doc("ComplaintRejected", &[]),
    doc("ComplaintAnswered", &[]),
    doc("NotificationSent", &[("attempts", "count")]),
    doc("NotificationFailed", &[]),
    doc("ThresholdDefined", &[("open_tender_cents", CENTS)]),
    doc(
        "WorkflowLimitsDefined",
        &[
            ("ack_days", WORKING_DAYS),
            ("rating_window_days", "natural days"),
            ("rating_verify_days", WORKING_DAYS),
            ("rectify_days", WORKING_DAYS),
            ("complaint_accept_days", WORKING_DAYS),
            ("complaint_reply_days", WORKING_DAYS),
        ],
    ),
    doc(
        "ProcurementRegistered",
        &[("budget_cents", CENTS), ("state_funded", "true or false")],
    ),
    doc("DocumentsIssued", &[("on_sale_until", DATE)]),
    doc("Clarified", &[]),
    doc("BidDeadlineSet", &[("at", INSTANT)]),
    doc("ObjectionFiled", &[]),
    doc("ObjectionAnswered", &[]),
    doc("BidsOpened", &[("bidders", "count, 0 or more")]),
    doc(
        "ExpertsDrawn",
        &[
            ("members", "count, 1 or more"),
            ("experts", "count, at most members"),
        ],
    ),
    doc("EvaluationReported", &[]),
    doc("ResultConfirmed", &[]),
    doc("CandidatesPublicized", &[("until", DATE)]),
    doc("ResultPublished", &[]),
    doc(
        "AwardNoticeIssued",
        &[("rank", "rank, 1 or more"), ("amount_cents", CENTS)],
    ),
    doc("ContractSigned", &[("amount_cents", CENTS)]),
    doc("ContractPublished", &[]),
    doc("ContractFiled", &[]),
    doc("AwardReported", &[]),
    doc("SupplementalContract", &[("amount_cents", CENTS)]),
    doc("BondTaken", &[("amount_cents", CENTS)]),
    doc("EnquiryFiled", &[]),
    doc("EnquiryAnswered", &[]),
    doc("ComplaintFiled", &[]),
    doc("ComplaintDecided", &[]),
    doc("Retendered", &[]),
    doc("ProcurementClosed", &[]),
];

/// The reference entry of a type, or `None` for an unknown one.
pub fn event_doc(type_name: &str) -> Option<&'static EventDoc> {
    EVENT_DOCS.iter().find(|d| d.name == type_name)
}

/// The unit of a field of a type, if it has one.
pub fn unit_of(type_name: &str, field: &str) -> Option<&'static str> {
    event_doc(type_name)?
        .units
        .iter()
        .find(|(f, _)| *f == field)
        .map(|(_, unit)| *unit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{data_schema, EventData, EVENT_TYPES};

    fn properties(name: &str) -> serde_json::Map<String, serde_json::Value> {
        let mut generator = schemars::SchemaGenerator::default();
        data_schema(&mut generator, name).unwrap_or_else(|| panic!("{name} has no schema"));
        generator.definitions()[name]["properties"]
            .as_object()
            .cloned()
            .unwrap_or_default()
    }

    #[test]
    fn every_type_has_an_entry_in_order() {
        let names: Vec<&str> = EVENT_DOCS.iter().map(|d| d.name).collect();
        assert_eq!(names, EVENT_TYPES);
    }

    #[test]
    fn every_numeric_or_dated_field_has_a_unit_and_every_unit_a_field() {
        for name in EVENT_TYPES {
            let props = properties(name);
            for (field, schema) in &props {
                let text = schema.to_string();
                let numeric = text.contains("\"integer\"") || text.contains("\"date");
                if numeric {
                    assert!(unit_of(name, field).is_some(), "{name}.{field} has no unit");
                }
            }
            for (field, _) in event_doc(name).map_or(&[][..], |d| d.units) {
                assert!(props.contains_key(*field), "{name} has no field {field}");
            }
        }
    }

    #[test]
    fn engine_written_types_are_refused_as_input() {
        for name in EVENT_TYPES {
            let probe = EventData::decode(name, serde_json::json!({}));
            if let Ok(data) = probe {
                assert_eq!(
                    data.check_append().is_err(),
                    is_engine_written(name),
                    "{name}"
                );
            }
        }
        for name in ENGINE_WRITTEN {
            assert!(EVENT_TYPES.contains(&name));
        }
    }
}
