//! Parameters shared by several endpoints: instants (`now`, `as_of`) and case ids, with the
//! command line's meaning, so `?now=2026-03-31` means what `--now 2026-03-31` means.

use chrono::{DateTime, NaiveDate};
use jiancha_events::{StreamKind, StreamName};
use jiancha_projections::{instant, Millis};

use crate::error::ApiError;

/// An RFC 3339 instant with its offset, or a date meaning the end of that day (24:00,
/// +08:00); the engine's clock when absent.
pub(crate) fn instant_or(name: &str, text: Option<&str>, now: Millis) -> Result<Millis, ApiError> {
    let Some(text) = text else {
        return Ok(now);
    };
    if let Ok(ts) = DateTime::parse_from_rfc3339(text) {
        return Ok(ts.timestamp_millis());
    }
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(instant::end_of(date));
    }
    Err(ApiError::invalid(format!(
        "{name}: {text:?} is neither an RFC 3339 instant with offset (2026-03-31T17:00:00+08:00) \
         nor a date (2026-03-31)"
    ))
    .field(name))
}

/// A case stream name from a path.
pub(crate) fn case_stream(id: &str) -> Result<StreamName, ApiError> {
    match StreamName::parse(id) {
        Ok(name) if name.kind() == StreamKind::Case => Ok(name),
        Ok(_) => {
            Err(ApiError::invalid(format!("{id:?} is not a case stream (case-<id>)")).field("case"))
        }
        Err(m) => Err(ApiError::invalid(m).field("case")),
    }
}
