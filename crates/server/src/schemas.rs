//! The part of the OpenAPI document that comes from the Rust types, so it cannot drift from
//! them: the JSON Schema of every event type's `data` (derived with schemars from the
//! vocabulary, doc comments as descriptions), `EventInput` (one event as `POST /api/v1/events`
//! takes it), `EventBatch` (that request's JSON body) and `StoredEvent` (the types only the
//! commands and the engine write, found in the log). A test requires the committed
//! `assets/openapi.json` to hold exactly these schemas. The views the server answers with
//! (`Alert`, `CaseView`, `Appended`, `Error`, `Me`, `Overview`, `PublicCase`) are derived the
//! same way, as they are serialised.

use jiancha_events::reference::{is_engine_written, unit_of};
use jiancha_events::{current_schema, data_schema, stream_kind_of, StreamKind, EVENT_TYPES};
use serde_json::{json, Map, Value};

use crate::error::ErrorKind;

/// Where the document keeps its schemas.
const SCHEMAS_PATH: &str = "/components/schemas";

/// Every generated schema, by its name under `components.schemas`.
pub fn generated_schemas() -> Map<String, Value> {
    let mut generator = schemars::generate::SchemaSettings::draft2020_12()
        .with(|s| s.definitions_path = SCHEMAS_PATH.into())
        .into_generator();
    let mut client = Vec::new();
    let mut stored = Vec::new();
    for name in EVENT_TYPES {
        let Some(data) = data_schema(&mut generator, name) else {
            continue;
        };
        let envelope = envelope(name, data.to_value());
        if is_engine_written(name) {
            stored.push(envelope);
        } else {
            client.push(envelope);
        }
    }
    let mut schemas = generator.take_definitions(true);
    for name in EVENT_TYPES {
        if let Some(Value::Object(props)) =
            schemas.get_mut(*name).and_then(|s| s.get_mut("properties"))
        {
            for (field, prop) in props.iter_mut() {
                if let (Some(unit), Value::Object(p)) = (unit_of(name, field), prop) {
                    p.insert("x-unit".into(), unit.into());
                }
            }
        }
    }
    schemas.append(&mut response_schemas());
    schemas.insert(
        "EventInput".into(),
        json!({
            "description": "One event as POST /api/v1/events and `jiancha import` take it: \
                the interchange format. `data` is of the current schema version (an older \
                `schema` is upcast before it is checked). actor and org may be left out over \
                HTTP: the server sets them from the token. See docs/events.md.",
            "oneOf": client,
        }),
    );
    schemas.insert(
        "EventBatch".into(),
        json!({
            "description": "The JSON body of POST /api/v1/events: an array of events (all or \
                nothing), or one event (a batch of one).",
            "oneOf": [
                { "type": "array", "items": { "$ref": "#/components/schemas/EventInput" } },
                { "$ref": "#/components/schemas/EventInput" }
            ],
        }),
    );
    schemas.insert(
        "StoredEvent".into(),
        json!({
            "description": "An event only the commands and the engine write (HistoryImported \
                by an import of history, PeriodClosed by a period close, CardWithdrawn, \
                NotificationSent and NotificationFailed by the engine): found in the log and in \
                exports, refused as client input.",
            "oneOf": stored,
        }),
    );
    schemas
}

/// The schemas of the views the server answers with, as serialised (`Alert`, `CaseView`,
/// `ProjectView`, `Appended`, `Error`, `Me`, `Overview`, `PublicCase`).
fn response_schemas() -> Map<String, Value> {
    let mut generator = schemars::generate::SchemaSettings::draft2020_12()
        .with(|s| s.definitions_path = SCHEMAS_PATH.into())
        .for_serialize()
        .into_generator();
    generator.subschema_for::<jiancha_projections::AlertView>();
    generator.subschema_for::<jiancha_projections::CaseView>();
    generator.subschema_for::<jiancha_projections::kinds::procurement::view::ProjectView>();
    generator.subschema_for::<crate::events::Appended>();
    generator.subschema_for::<crate::error::Body<'static>>();
    generator.subschema_for::<crate::me::Me>();
    generator.subschema_for::<jiancha_projections::Overview>();
    generator.subschema_for::<crate::public::PublicCase>();
    let mut schemas = generator.take_definitions(true);
    // The codes are `&'static str` in the body; their closed list is the kinds'.
    let codes: Vec<&str> = ErrorKind::ALL.iter().map(|k| k.code()).collect();
    if let Some(Value::Object(error)) = schemas
        .get_mut("Error")
        .and_then(|s| s.pointer_mut("/properties/error"))
    {
        error.insert("enum".into(), json!(codes));
    }
    schemas
}

/// The envelope of one event type: its `type`, its stream and its `data`.
fn envelope(name: &str, data: Value) -> Value {
    let stream = match stream_kind_of(name) {
        Some(StreamKind::Catalog) => json!({ "const": "catalog" }),
        Some(StreamKind::Calendar) => json!({ "const": "calendar" }),
        Some(StreamKind::Supervision) => json!({ "const": "supervision" }),
        Some(StreamKind::Procurement) => json!({
            "type": "string",
            "pattern": "^proc-[A-Za-z0-9_-][A-Za-z0-9._-]*$",
            "description": "The project stream: proc- and an id of letters, digits, -, _ and . \
                (no ..)."
        }),
        _ => json!({
            "type": "string",
            "pattern": "^case-[A-Za-z0-9_-][A-Za-z0-9._-]*$",
            "description": "The case stream: case- and an id of letters, digits, -, _ and . \
                (no ..)."
        }),
    };
    let mut required = vec!["type", "stream", "occurred_at"];
    if data_has_required_fields(name) {
        required.push("data");
    }
    json!({
        "title": name,
        "type": "object",
        "additionalProperties": false,
        "required": required,
        "properties": {
            "type": { "const": name },
            "stream": stream,
            "occurred_at": {
                "type": "string",
                "format": "date-time",
                "description": "When it happened (RFC 3339 with an offset, e.g. \
                    2026-03-02T09:15:00+08:00)."
            },
            "data": data,
            "id": { "type": "string", "description": "Idempotency: an id already in the log is not written again." },
            "actor": { "type": "string", "description": "Who acted; over HTTP, the token's name." },
            "org": { "type": "string", "description": "The org path that acted; over HTTP, at or under the token's." },
            "expected_version": { "type": "integer", "minimum": 0, "description": "The stream's version the sender saw; a mismatch is refused (409)." },
            "schema": { "type": "integer", "minimum": 1, "maximum": current_schema(name).unwrap_or(1), "description": "The schema version of data; the current one when absent." }
        }
    })
}

fn data_has_required_fields(name: &str) -> bool {
    let mut generator = schemars::SchemaGenerator::default();
    data_schema(&mut generator, name);
    generator
        .definitions()
        .get(name)
        .and_then(|s| s.get("required"))
        .and_then(Value::as_array)
        .is_some_and(|r| !r.is_empty())
}
