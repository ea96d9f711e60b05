//! Reading request bodies at the edge: the byte limit (413 before anything is parsed), the
//! content types an endpoint reads (415 otherwise), and small JSON bodies of supervision acts
//! whose refusals name the field.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap};
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ErrorKind};

/// How a batch of events is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EventsFormat {
    /// `application/json`: an array of event objects (or one object).
    Json,
    /// `application/x-ndjson`, `application/jsonl` or `text/plain`: one event per line.
    Jsonl,
}

/// The media type of a request, lowercased, without parameters.
fn media_type(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let essence = value.split(';').next().unwrap_or_default().trim();
    Some(essence.to_ascii_lowercase())
}

/// The format of a batch of events, from its Content-Type.
pub(crate) fn events_format(headers: &HeaderMap) -> Result<EventsFormat, ApiError> {
    match media_type(headers).as_deref() {
        Some("application/json") => Ok(EventsFormat::Json),
        Some("application/x-ndjson" | "application/jsonl" | "text/plain") => {
            Ok(EventsFormat::Jsonl)
        }
        other => Err(ApiError::new(
            ErrorKind::UnsupportedMediaType,
            format!(
                "Content-Type {}: send events as application/json (an array) or \
                 application/x-ndjson (one event per line)",
                other.map_or_else(|| "missing".to_owned(), |t| format!("{t:?}"))
            ),
        )),
    }
}

/// Reads a whole body, refusing one over `max` bytes — by its Content-Length before reading
/// anything, or as soon as it grows past the limit — or one that has not arrived whole within
/// `timeout` (408: a client trickling a body must not hold a request open).
pub(crate) async fn read(
    headers: &HeaderMap,
    body: Body,
    max: usize,
    timeout: Duration,
) -> Result<Bytes, ApiError> {
    let too_large = || {
        ApiError::new(
            ErrorKind::TooLarge,
            format!("the body is larger than {max} bytes: split it into smaller requests"),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return Err(too_large());
    }
    let read = tokio::time::timeout(timeout, axum::body::to_bytes(body, max)).await;
    let Ok(read) = read else {
        return Err(ApiError::new(
            ErrorKind::RequestTimeout,
            format!(
                "the body did not arrive whole within {} s: send it again, at once",
                timeout.as_secs_f64()
            ),
        ));
    };
    match read {
        Ok(bytes) => Ok(bytes),
        Err(e) => {
            let over = std::error::Error::source(&e)
                .is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
            if over {
                Err(too_large())
            } else {
                Err(ApiError::invalid(format!("cannot read the body: {e}")))
            }
        }
    }
}

/// Decodes the JSON body of a supervision act; an empty body is `{}`.
/// Reads the body of a supervision act (acknowledgement, correction order, exemption) within
/// the acts' size limit and parses it.
pub(crate) async fn action_body<T: DeserializeOwned>(
    headers: &HeaderMap,
    body: Body,
    timeout: Duration,
) -> Result<T, ApiError> {
    let bytes = read(headers, body, crate::limits::ACTION_BODY_BYTES_MAX, timeout).await?;
    action(headers, &bytes)
}

pub(crate) fn action<T: DeserializeOwned>(
    headers: &HeaderMap,
    bytes: &[u8],
) -> Result<T, ApiError> {
    let text = if bytes.iter().all(u8::is_ascii_whitespace) {
        "{}"
    } else {
        if media_type(headers).as_deref() != Some("application/json") {
            return Err(ApiError::new(
                ErrorKind::UnsupportedMediaType,
                "send the body as application/json",
            ));
        }
        std::str::from_utf8(bytes).map_err(|_| ApiError::invalid("the body is not UTF-8"))?
    };
    let mut de = serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        let missing = inner
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next());
        let (field, what) = match missing {
            Some(name) => (name.to_owned(), "missing".to_owned()),
            None if path == "." => ("json".to_owned(), inner),
            None => (path, inner),
        };
        ApiError::invalid(format!("{field}: {what}")).field(field)
    })?;
    de.end()
        .map_err(|e| ApiError::invalid(format!("json: trailing characters: {e}")).field("json"))?;
    Ok(value)
}
