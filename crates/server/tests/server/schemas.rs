//! The OpenAPI document's schemas against the Rust types: the generated part is committed as
//! generated (`UPDATE_EXPECT=1` rewrites it), every example of the event catalogue passes
//! `POST /api/v1/events`'s schema through a JSON Schema validator (the engine's own events
//! only as stored events), and every body the document mentions has a schema.

use std::path::Path;

use jiancha_events::reference::is_engine_written;
use jiancha_server::schemas::generated_schemas;
use serde_json::{json, Value};

const DOCUMENT: &str = include_str!("../../assets/openapi.json");
const CATALOGUE: &str = include_str!("../../../../events/catalogue/v2.jsonl");

fn document() -> Value {
    serde_json::from_str(DOCUMENT).unwrap()
}

/// A validator for the named schema of the document, its references resolved in it.
fn validator(name: &str) -> jsonschema::Validator {
    let doc = document();
    let schema = json!({
        "$ref": format!("#/components/schemas/{name}"),
        "components": doc["components"],
    });
    jsonschema::validator_for(&schema).unwrap()
}

/// The document with the generated schemas put in, one line each, right after `"schemas": {`.
fn refreshed(text: &str) -> String {
    let generated = generated_schemas();
    let mut out = String::new();
    let mut in_schemas = false;
    for line in text.lines() {
        let key = line.trim_start().split('"').nth(1).unwrap_or_default();
        let is_generated =
            in_schemas && line.starts_with("      \"") && generated.contains_key(key);
        in_schemas = (in_schemas || line == "    \"schemas\": {") && !line.starts_with("    }");
        if is_generated {
            continue;
        }
        out.push_str(line);
        out.push('\n');
        if line == "    \"schemas\": {" {
            for (name, schema) in &generated {
                out.push_str(&format!("      \"{name}\": {schema},\n"));
            }
        }
    }
    // The last schema before the object closes takes no comma.
    out.replace(",\n    },\n", "\n    },\n")
}

#[test]
fn the_committed_schemas_are_the_generated_ones() {
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/openapi.json");
        std::fs::write(&path, refreshed(DOCUMENT)).unwrap();
    }
    let doc = document();
    let committed = doc["components"]["schemas"].as_object().unwrap();
    for (name, schema) in generated_schemas() {
        assert!(
            committed.get(&name) == Some(&schema),
            "components.schemas.{name} differs from the Rust types: run UPDATE_EXPECT=1 cargo \
             test -p jiancha-server --test server schemas"
        );
    }
}

#[test]
fn every_catalogue_example_passes_the_request_schema_or_is_a_stored_event() {
    let input = validator("EventInput");
    let batch = validator("EventBatch");
    let stored = validator("StoredEvent");
    let mut client = Vec::new();
    for line in CATALOGUE.lines() {
        let event: Value = serde_json::from_str(line).unwrap();
        let kind = event["type"].as_str().unwrap();
        let errors: Vec<String> = input.iter_errors(&event).map(|e| e.to_string()).collect();
        if is_engine_written(kind) {
            assert!(!errors.is_empty(), "{kind} must be refused as input");
            assert!(stored.is_valid(&event), "{kind} is a stored event");
        } else {
            assert!(errors.is_empty(), "{kind}: {errors:?}");
            assert!(batch.is_valid(&event));
            client.push(event);
        }
    }
    assert!(batch.is_valid(&Value::Array(client)));
}

#[test]
fn the_request_schema_refuses_what_the_parser_refuses() {
    let input = validator("EventInput");
    let ok = json!({"stream": "case-1", "type": "FeeCharged",
        "occurred_at": "2026-03-02T09:15:00+08:00", "data": {"amount_cents": 500}});
    assert!(input.is_valid(&ok));
    for (field, value) in [
        ("data", json!({"amount_cents": 500, "amount": 5})),
        ("data", json!({"amount_cents": -1})),
        ("data", json!({})),
        ("stream", json!("catalog")),
        ("type", json!("FeeCharge")),
        ("hash", json!("00")),
    ] {
        let mut bad = ok.clone();
        bad[field] = value;
        assert!(!input.is_valid(&bad), "{bad}");
        // The parser agrees.
        assert!(
            jiancha_events::parse_line(1, &bad.to_string()).is_err(),
            "{bad}"
        );
    }
}

#[test]
fn every_body_in_the_document_has_a_schema() {
    let doc = document();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let mut bodies: Vec<&Value> = op["requestBody"]["content"]
                .as_object()
                .map(|c| c.values().collect())
                .unwrap_or_default();
            for answer in op["responses"].as_object().unwrap().values() {
                if let Some(content) = answer["content"].as_object() {
                    bodies.extend(content.values());
                }
            }
            for body in bodies {
                assert!(
                    body["schema"].is_object(),
                    "{method} {path}: a body without schema"
                );
            }
        }
    }
}

/// Asserts that `value` is valid under the named schema, naming every error.
fn assert_valid(name: &str, value: &Value) {
    let errors: Vec<String> = validator(name)
        .iter_errors(value)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{name}: {errors:?} in {value}");
}

#[tokio::test]
async fn the_server_answers_with_the_documented_schemas() {
    use crate::support::{step_json, Who, World, CASE_1};
    let world = World::new().await;
    let case = world
        .get(&format!("/api/v1/cases/{CASE_1}"), Who::Supervisor)
        .await;
    assert_valid("CaseView", &case.json);
    let alerts = world.get("/api/v1/alerts", Who::Supervisor).await;
    let alerts = alerts.json["alerts"].as_array().unwrap();
    assert!(!alerts.is_empty());
    for alert in alerts {
        assert_valid("Alert", alert);
    }
    let body = step_json(CASE_1, None);
    assert_valid("EventBatch", &serde_json::from_str(&body).unwrap());
    let appended = world.post_json("/api/v1/events", Who::Unit1, &body).await;
    assert_eq!(appended.status.as_u16(), 201, "{}", appended.text);
    assert_valid("Appended", &appended.json);
    let refused = world
        .post_json("/api/v1/events", Who::Unit1, &body.replace("review", ""))
        .await;
    assert_eq!(refused.status.as_u16(), 400, "{}", refused.text);
    assert_valid("Error", &refused.json);
    world.shutdown().await;
}
