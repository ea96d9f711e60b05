//! Schema versions and upcasting: old `data` shapes are lifted to the current one on read.
//!
//! Each event type carries a schema number (see `current_schema`). When a type's data changes
//! shape, its schema number goes up and a step is added to [`UPCASTERS`] that turns a value of
//! the old schema into the next one. The stored bytes never change; reading applies the steps.

use serde_json::Value;

use crate::vocab::{current_schema, DataError};

/// One upcasting step: a function from schema `from_schema` of a type to `from_schema + 1`.
#[derive(Debug, Clone, Copy)]
pub struct UpcastStep {
    /// The event type.
    pub type_name: &'static str,
    /// The schema the step reads.
    pub from_schema: u32,
    /// The transformation.
    pub step: fn(Value) -> Result<Value, String>,
}

/// The upcasters of this build.
pub const UPCASTERS: &[UpcastStep] = &[
    // Schema 2 of `ItemDefined` adds the optional `max_extension_days` and
    // `suspension_expected_days`; a schema-1 item has neither and takes the defaults.
    UpcastStep {
        type_name: "ItemDefined",
        from_schema: 1,
        step: unchanged,
    },
    // Schema 2 of `Suspended` adds the optional `expected_days`; a schema-1 suspension takes
    // the item's default.
    UpcastStep {
        type_name: "Suspended",
        from_schema: 1,
        step: unchanged,
    },
];

/// A step for a schema that only added optional fields: the old value is already valid.
fn unchanged(value: Value) -> Result<Value, String> {
    Ok(value)
}

/// Lifts `value` of `type_name` at `schema` to the current schema, with this build's steps.
pub fn upcast(type_name: &str, schema: u32, value: Value) -> Result<Value, DataError> {
    upcast_with(UPCASTERS, type_name, schema, value)
}

/// Lifts `value` with the given steps; the hook behind [`upcast`], open to tests.
pub fn upcast_with(
    steps: &[UpcastStep],
    type_name: &str,
    schema: u32,
    mut value: Value,
) -> Result<Value, DataError> {
    let Some(current) = current_schema_with(steps, type_name) else {
        return Err(DataError {
            field: "type".into(),
            message: format!("unknown event type {type_name:?}"),
        });
    };
    if schema == 0 || schema > current {
        return Err(DataError {
            field: "schema".into(),
            message: format!(
                "schema {schema} of {type_name} is not known (this build reads 1 to {current})"
            ),
        });
    }
    let mut at = schema;
    while at < current {
        let step = steps
            .iter()
            .find(|s| s.type_name == type_name && s.from_schema == at)
            .ok_or_else(|| DataError {
                field: "schema".into(),
                message: format!("no upcaster from schema {at} of {type_name}"),
            })?;
        value = (step.step)(value).map_err(|message| DataError {
            field: "data".into(),
            message,
        })?;
        at += 1;
    }
    Ok(value)
}

/// The current schema of a type given a set of steps: the vocabulary's own number, or one past
/// the highest step (so tests can add steps for a type).
fn current_schema_with(steps: &[UpcastStep], type_name: &str) -> Option<u32> {
    let base = current_schema(type_name)?;
    let stepped = steps
        .iter()
        .filter(|s| s.type_name == type_name)
        .map(|s| s.from_schema + 1)
        .max()
        .unwrap_or(base);
    Some(base.max(stepped))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rename_note(mut v: Value) -> Result<Value, String> {
        let obj = v.as_object_mut().ok_or("not an object")?;
        if let Some(n) = obj.remove("remark") {
            obj.insert("note".into(), n);
        }
        Ok(v)
    }

    const STEPS: &[UpcastStep] = &[UpcastStep {
        type_name: "AlertAcknowledged",
        from_schema: 1,
        step: rename_note,
    }];

    #[test]
    fn old_schema_is_lifted_and_current_is_untouched() {
        let old = json!({"alert": "a1", "remark": "seen"});
        let lifted = upcast_with(STEPS, "AlertAcknowledged", 1, old).unwrap();
        assert_eq!(lifted, json!({"alert": "a1", "note": "seen"}));
        let again = upcast_with(STEPS, "AlertAcknowledged", 2, lifted.clone()).unwrap();
        assert_eq!(again, lifted, "upcasting a current value is the identity");
        assert!(upcast_with(STEPS, "AlertAcknowledged", 3, json!({})).is_err());
        assert!(upcast("Concluded", 2, json!({})).is_err());
        assert!(upcast("Nope", 1, json!({})).is_err());
        assert_eq!(upcast("Concluded", 1, json!({})).unwrap(), json!({}));
    }
}
