//! The JSONL interchange format: one event per line in, the export shape out.
//!
//! Input lines carry `stream`, `type`, `occurred_at`, `actor`, `org` and `data`, optionally `id`
//! and `expected_version`. An export line adds `position`, `version`, `schema`, `recorded_at`,
//! `prev_hash` and `hash`; such a line is a moved event, kept with its original stamp and
//! checked against its hash when appended. Every refusal names the line and the field.

use std::fmt;
use std::io::{BufRead, Read as _};

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::chain::Hash;
use crate::envelope::{Moved, NewEvent, RawEvent, AUTO_ID_PREFIX};
use crate::stream::{check_org, StreamName, NAME_BYTES_MAX};
use crate::time::{parse_new_timestamp, parse_timestamp};
use crate::upcast::upcast;
use crate::vocab::{current_schema, stream_kind_of, EventData};

/// The largest event accepted: the bytes of its `data` as stored (the JSON text of the
/// current schema, or a moved event's original text). Every other field has a bound of its
/// own (names, ids, timestamps), so an event's size is its data's.
pub const EVENT_DATA_BYTES_MAX: usize = 1 << 20;

/// The most an export line spends outside its `data`, escapes included: field names, numbers,
/// two hashes, and each text field at its longest with every byte escaped (no text field may
/// hold a control character, so an escape takes two bytes).
pub const ENVELOPE_BYTES_MAX: usize = 4096;

/// The longest timestamp text the log writes (RFC 3339 with nanoseconds and an offset, and a
/// year of up to six digits).
const TIMESTAMP_TEXT_BYTES_MAX: usize = 64;

/// The longest type name of the vocabulary, with room to grow.
const TYPE_NAME_BYTES_MAX: usize = 64;

const _: () = assert!(
    ENVELOPE_BYTES_MAX
        >= 256 // names, punctuation, position, version and schema
            + 2 * 64 // prev_hash and hash in hex
            + 2 * (3 * NAME_BYTES_MAX // stream, actor, org
                + ID_BYTES_MAX
                + TYPE_NAME_BYTES_MAX
                + 2 * TIMESTAMP_TEXT_BYTES_MAX)
);

/// The longest line accepted, in bytes: derived from the event's own limit, so that every line
/// `export` writes for an accepted event is accepted again by `import`.
pub const LINE_BYTES_MAX: usize = EVENT_DATA_BYTES_MAX + ENVELOPE_BYTES_MAX;

/// A refused input line: `line L: <field>: <what is wrong>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// 1-based line number.
    pub line: usize,
    /// The offending field (`json` when the line is not JSON at all).
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}: {}", self.line, self.field, self.message)
    }
}

impl std::error::Error for LineError {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Line<'a> {
    stream: Option<String>,
    #[serde(rename = "type")]
    event_type: Option<String>,
    occurred_at: Option<String>,
    actor: Option<String>,
    org: Option<String>,
    #[serde(borrow)]
    data: Option<&'a RawValue>,
    id: Option<String>,
    expected_version: Option<u64>,
    schema: Option<u32>,
    position: Option<u64>,
    version: Option<u64>,
    recorded_at: Option<String>,
    prev_hash: Option<String>,
    hash: Option<String>,
}

/// Parses one input line into an event to append.
pub fn parse_line(line_no: usize, text: &str) -> Result<NewEvent, LineError> {
    let err = |field: &str, message: String| LineError {
        line: line_no,
        field: field.into(),
        message,
    };
    if text.len() > LINE_BYTES_MAX {
        return Err(err(
            "json",
            format!("line longer than {LINE_BYTES_MAX} bytes"),
        ));
    }
    let line = parse_shape(text).map_err(|(f, m)| err(&f, m))?;
    let required = |field: &str, v: Option<String>| v.ok_or_else(|| err(field, "missing".into()));
    let stream_text = required("stream", line.stream)?;
    let type_name = required("type", line.event_type)?;
    let stream = StreamName::parse(&stream_text).map_err(|m| err("stream", m.to_string()))?;
    let kind = stream_kind_of(&type_name)
        .ok_or_else(|| err("type", format!("unknown event type {type_name:?}")))?;
    if kind != stream.kind() {
        return Err(err(
            "stream",
            format!(
                "{type_name} belongs to {}, not to {stream}",
                kind.describe()
            ),
        ));
    }
    let occurred_text = required("occurred_at", line.occurred_at)?;
    let occurred_at =
        parse_timestamp(&occurred_text).map_err(|e| err("occurred_at", e.to_string()))?;
    let actor = required("actor", line.actor)?;
    let org = required("org", line.org)?;
    check_who(&actor, &org).map_err(|(f, m)| err(&f, m))?;
    if let Some(id) = &line.id {
        check_id(id).map_err(|m| err("id", m))?;
    }
    let current = current_schema(&type_name).unwrap_or(1);
    let schema = line.schema.unwrap_or(current);
    let data_text = line.data.map(RawValue::get).unwrap_or("{}");
    let data = if schema == current {
        EventData::decode_str(&type_name, data_text)
    } else {
        serde_json::from_str::<serde_json::Value>(data_text)
            .map_err(|e| crate::vocab::DataError {
                field: "data".into(),
                message: e.to_string(),
            })
            .and_then(|value| upcast(&type_name, schema, value))
            .and_then(|value| EventData::decode(&type_name, value))
    }
    .map_err(|e| err(&e.field, e.message))?;
    let moved = moved_fields(
        line.position,
        line.version,
        line.recorded_at,
        line.prev_hash,
        line.hash,
    )
    .map_err(|(f, m)| err(f, m))?;
    // A new event meets the current rules; a moved one was checked by the rules of its day.
    if moved.is_none() {
        parse_new_timestamp(&occurred_text).map_err(|e| err("occurred_at", e.to_string()))?;
        check_new_actor(&actor).map_err(|m| err("actor", m))?;
        crate::time::check_business_date(&occurred_at).map_err(|m| err("occurred_at", m))?;
        data.check_append().map_err(|e| err(&e.field, e.message))?;
    }
    if line.schema.is_some() && schema != current && moved.is_none() {
        return Err(err(
            "schema",
            format!("old schema {schema} is accepted only in a moved log (with hash)"),
        ));
    }
    if let Some(id) = &line.id {
        if id.starts_with(AUTO_ID_PREFIX) && moved.is_none() {
            return Err(err(
                "id",
                format!("the prefix {AUTO_ID_PREFIX:?} is reserved for ids the log assigns"),
            ));
        }
    }
    // A moved event keeps its data bytes so its hash still holds; a new one is stored in the
    // canonical form of the current schema.
    let data_json = if moved.is_some() {
        data_text.to_owned()
    } else {
        data.to_json()
    };
    if data_json.len() > EVENT_DATA_BYTES_MAX {
        return Err(err(
            "data",
            format!(
                "{} bytes as stored, over the limit of {EVENT_DATA_BYTES_MAX} bytes per event",
                data_json.len()
            ),
        ));
    }
    Ok(NewEvent {
        stream,
        id: line.id,
        expected_version: line.expected_version,
        occurred_at,
        actor,
        org,
        data,
        schema,
        data_json,
        moved,
    })
}

fn parse_shape(text: &str) -> Result<Line<'_>, (String, String)> {
    if text.starts_with('\u{feff}') {
        return Err((
            "json".to_owned(),
            "the line begins with a byte order mark (U+FEFF, as some editors write at the start \
             of a file): save the file as UTF-8 without one"
                .to_owned(),
        ));
    }
    if !text.trim_start().starts_with('{') {
        return Err((
            "json".to_owned(),
            "each line must be one JSON object".to_owned(),
        ));
    }
    // Most lines are good: parse them plainly, and only a bad one again with its path tracked
    // (the same grammar either way, so the same lines succeed).
    if let Ok(line) = serde_json::from_str::<Line<'_>>(text) {
        return Ok(line);
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let line: Line<'_> = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            ("json".to_owned(), format!("malformed JSON: {inner}"))
        } else if let Some(rest) = inner.to_string().strip_prefix("unknown field `") {
            let name = rest.split('`').next().unwrap_or_default().to_owned();
            (name, "unknown field (the envelope has stream, type, occurred_at, actor, org, data, id, expected_version)".to_owned())
        } else if let Some(rest) = inner.to_string().strip_prefix("duplicate field `") {
            let name = rest.split('`').next().unwrap_or_default().to_owned();
            (name, "duplicate field: each field may appear once".to_owned())
        } else if path == "." {
            ("json".to_owned(), format!("must be a JSON object: {inner}"))
        } else {
            (path, inner.to_string())
        }
    })?;
    de.end()
        .map_err(|e| ("json".to_owned(), format!("trailing characters: {e}")))?;
    Ok(line)
}

fn check_name(value: &str) -> Result<(), String> {
    if value.trim().is_empty() {
        return Err("must not be empty".into());
    }
    if value.len() > NAME_BYTES_MAX {
        return Err(format!("longer than {NAME_BYTES_MAX} bytes"));
    }
    if value.chars().any(char::is_control) {
        return Err("contains a control character".into());
    }
    Ok(())
}

/// Whether an event's actor and org are ones the log takes: an actor of at most
/// `NAME_BYTES_MAX` bytes, not blank, without a control character; an org path as
/// [`check_org`] says. Checked on every line read and by the store on every new event, whoever
/// built it, so that the log's own export is always imported again. Errors name the field.
pub fn check_who(actor: &str, org: &str) -> Result<(), (String, String)> {
    check_name(actor).map_err(|m| ("actor".to_owned(), m))?;
    check_org("org", org).map_err(|e| (e.field, e.message))
}

/// Whether a new event's actor is one the log takes from now on: no invisible or
/// bidirectional character (the actor is shown beside names: a bidirectional control would
/// make what follows it read backwards, an invisible character make two actors look alike).
/// Events already in a log keep theirs.
pub fn check_new_actor(actor: &str) -> Result<(), String> {
    match actor.chars().find(|&c| crate::stream::is_invisible(c)) {
        Some(c) => Err(format!(
            "contains the invisible or bidirectional character U+{:04X}",
            u32::from(c)
        )),
        None => Ok(()),
    }
}

/// The longest id accepted, in bytes: room for a card id (`card:` + a case stream of
/// [`NAME_BYTES_MAX`] + a rule code, a number and a threshold instant).
pub const ID_BYTES_MAX: usize = 400;

/// Whether an event id is one the log takes: at most [`ID_BYTES_MAX`] bytes, not blank, no
/// control character. Every new event's id is checked (the reading of a line, and the store's
/// append, whoever built the event).
pub fn check_id(value: &str) -> Result<(), String> {
    if value.len() > ID_BYTES_MAX {
        return Err(format!("longer than {ID_BYTES_MAX} bytes"));
    }
    if value.trim().is_empty() {
        return Err("must not be empty".into());
    }
    if value.chars().any(char::is_control) {
        return Err("contains a control character".into());
    }
    Ok(())
}

fn moved_fields(
    position: Option<u64>,
    version: Option<u64>,
    recorded_at: Option<String>,
    prev_hash: Option<String>,
    hash: Option<String>,
) -> Result<Option<Moved>, (&'static str, String)> {
    let Some(hash) = hash else {
        if recorded_at.is_some() {
            return Err((
                "recorded_at",
                "is stamped by the log; only a moved event (with hash) may carry it".into(),
            ));
        }
        if position.is_some() || prev_hash.is_some() {
            return Err((
                "hash",
                "missing: an event with position or prev_hash is a moved event and needs its hash"
                    .into(),
            ));
        }
        return Ok(None);
    };
    let hash = hash.parse::<Hash>().map_err(|m| ("hash", m))?;
    let recorded_at = recorded_at.ok_or((
        "recorded_at",
        "missing: a moved event keeps its stamp".to_owned(),
    ))?;
    let recorded_at = parse_timestamp(&recorded_at).map_err(|e| ("recorded_at", e.to_string()))?;
    let prev_hash = prev_hash
        .map(|p| p.parse::<Hash>())
        .transpose()
        .map_err(|m| ("prev_hash", m))?;
    Ok(Some(Moved {
        position,
        version,
        recorded_at,
        prev_hash,
        hash,
    }))
}

/// Reads JSONL, yielding each non-blank line parsed (with its 1-based number) or its error.
/// Reading stops after an I/O error, which is yielded as a `LineError` on the field `input`,
/// and after a line longer than [`LINE_BYTES_MAX`]: such a line is refused as soon as the limit
/// is passed, without reading the rest of it, so memory stays bounded whatever the input.
pub fn read_jsonl<R: BufRead>(
    mut reader: R,
) -> impl Iterator<Item = Result<(usize, NewEvent), LineError>> {
    let mut line_no = 0;
    let mut failed = false;
    let mut buf = Vec::new();
    std::iter::from_fn(move || loop {
        if failed {
            return None;
        }
        line_no += 1;
        let fail = |field: &str, message: String| {
            Some(Err(LineError {
                line: line_no,
                field: field.into(),
                message,
            }))
        };
        buf.clear();
        // The line, its "\r\n", and nothing more: one byte past the limit is enough to refuse.
        let limit = LINE_BYTES_MAX as u64 + 2;
        match (&mut reader).take(limit).read_until(b'\n', &mut buf) {
            Ok(0) => return None,
            Ok(_) => {}
            Err(e) => {
                failed = true;
                return fail("input", e.to_string());
            }
        }
        if buf.last() == Some(&b'\n') {
            buf.pop();
            if buf.last() == Some(&b'\r') {
                buf.pop();
            }
        }
        if buf.len() > LINE_BYTES_MAX {
            failed = true;
            return fail("json", format!("line longer than {LINE_BYTES_MAX} bytes"));
        }
        let Ok(text) = std::str::from_utf8(&buf) else {
            failed = true;
            return fail("input", "stream did not contain valid UTF-8".into());
        };
        if text.trim().is_empty() {
            continue;
        }
        return Some(parse_line(line_no, text).map(|ev| (line_no, ev)));
    })
}

fn push_json_str(out: &mut String, text: &str) {
    // Writing a &str as JSON cannot fail.
    if let Ok(quoted) = serde_json::to_string(text) {
        out.push_str(&quoted);
    }
}

/// Appends the export line of a stored event (without the trailing newline) to `out`.
pub fn write_export_line(raw: &RawEvent, out: &mut String) {
    use std::fmt::Write as _;
    let _ = write!(out, "{{\"position\":{},\"stream\":", raw.position);
    push_json_str(out, &raw.stream);
    let _ = write!(out, ",\"version\":{},\"id\":", raw.version);
    push_json_str(out, &raw.id);
    out.push_str(",\"type\":");
    push_json_str(out, &raw.event_type);
    let _ = write!(out, ",\"schema\":{},\"occurred_at\":", raw.schema);
    push_json_str(out, &raw.occurred_at);
    out.push_str(",\"recorded_at\":");
    push_json_str(out, &raw.recorded_at);
    out.push_str(",\"actor\":");
    push_json_str(out, &raw.actor);
    out.push_str(",\"org\":");
    push_json_str(out, &raw.org);
    out.push_str(",\"data\":");
    out.push_str(&raw.data);
    let _ = write!(
        out,
        ",\"prev_hash\":\"{}\",\"hash\":\"{}\"}}",
        raw.prev_hash, raw.hash
    );
}

#[cfg(test)]
mod tests;
