//! Parameters shared by several endpoints: instants (`now`, `as_of`) and case (or project) ids, with the
//! command line's meaning, so `?now=2026-03-31` means what `--now 2026-03-31` means.

use jiancha_events::{StreamKind, StreamName};
use jiancha_projections::{asof, Millis};

use crate::error::ApiError;

/// An RFC 3339 instant with its offset, or a date meaning the end of that day (24:00,
/// +08:00); the engine's clock when absent.
pub(crate) fn instant_or(name: &str, text: Option<&str>, now: Millis) -> Result<Millis, ApiError> {
    let Some(text) = text else {
        return Ok(now);
    };
    asof::parse_instant(text).map_err(|e| ApiError::invalid(format!("{name}: {e}")).field(name))
}

/// A case stream name from a path.
pub(crate) fn case_stream(id: &str) -> Result<StreamName, ApiError> {
    match StreamName::parse(id) {
        Ok(name) if name.kind() == StreamKind::Case => Ok(name),
        Ok(_) => {
            Err(ApiError::invalid(format!("{id:?} is not a case stream (case-<id>)")).field("case"))
        }
        Err(m) => Err(ApiError::invalid(m.to_string()).field("case")),
    }
}

/// A case or procurement project stream name from a path (`case-…`, `proc-…`).
pub(crate) fn case_or_project_stream(id: &str) -> Result<StreamName, ApiError> {
    match StreamName::parse(id) {
        Ok(name) if matches!(name.kind(), StreamKind::Case | StreamKind::Procurement) => Ok(name),
        Ok(_) => Err(ApiError::invalid(format!(
            "{id:?} is not a case stream (case-<id>) nor a project's (proc-<id>)"
        ))
        .field("case")),
        Err(m) => Err(ApiError::invalid(m.to_string()).field("case")),
    }
}

/// The path's parameters, as axum's `Path` reads them, refused in this API's error shape (400
/// naming `path`) rather than axum's plain text: an id that is not UTF-8 once percent-decoded,
/// say.
pub(crate) struct Segments<T>(pub T);

impl<S, T> axum::extract::FromRequestParts<S> for Segments<T>
where
    S: Send + Sync,
    T: serde::de::DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, ApiError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Segments(value)),
            Err(e) => Err(ApiError::invalid(format!("path: {}", e.body_text())).field("path")),
        }
    }
}
