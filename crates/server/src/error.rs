//! The server's errors: [`ApiError`], what a request gets back when it is refused (a status, a
//! stable kind and a message a clerk can act on, naming the line and field where there is one),
//! and [`ServerError`], what stops the server itself.
//!
//! Infrastructure failures become a 500 whose body says nothing about the machinery: the cause
//! is logged with tracing, never sent.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// The kinds of refusal; each says how a caller should handle it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// 400: the request is malformed or an event breaks a rule of the log. Correct what the
    /// message names (line and field) and send it again; nothing was appended.
    Invalid,
    /// 401: no valid bearer token. Send `Authorization: Bearer <token>` with a token from the
    /// server's auth file.
    Unauthorized,
    /// 403: the token's role or org path does not allow this. Nothing was appended; ask the
    /// bureau for a token that covers it.
    Forbidden,
    /// 404: no such case, alert or route.
    NotFound,
    /// 405: the path exists but not with this method (the OpenAPI document lists them).
    MethodNotAllowed,
    /// 409: the stream is not at the version the caller expected. Re-read it and decide again.
    VersionConflict,
    /// 409: the event id is already used by a different event. Choose a new id, or send the
    /// original event unchanged (a retry of the same event is answered with its position).
    IdReused,
    /// 408: the body did not arrive whole within the server's body timeout. Send it again,
    /// at once (nothing was appended).
    RequestTimeout,
    /// 409: a `Submitted` for a case id already in the log (a case is submitted once). Choose
    /// another case id; the answer says nothing of who holds it.
    AlreadySubmitted,
    /// 422: a transfer to an org outside the sender's district. A case leaves its district
    /// only by ending there and being submitted anew where it goes.
    OutsideDistrict,
    /// 409: the period cannot be closed (it has not ended, or is closed already), or its closed
    /// report does not reproduce here.
    PeriodConflict,
    /// 409: a workflow act that does not fit the state of what it names (a report-back with
    /// no order open, a verification with nothing reported, a complaint answered twice). Re-read
    /// the card, rating or complaint and act on what it now shows.
    ActConflict,
    /// 413: the body or the batch is over a limit. Split it into smaller requests.
    TooLarge,
    /// 415: the body's Content-Type is not one this endpoint reads.
    UnsupportedMediaType,
    /// 429: over a rate or concurrency limit. Wait a moment (see Retry-After) and retry.
    TooManyRequests,
    /// 503: the server is at capacity or stopping. Retry later.
    Unavailable,
    /// 500: the server failed (database, disk). Nothing is said about why; the server's log
    /// has the details. For an append, nothing was written: retry later.
    Internal,
}

impl ErrorKind {
    /// Every kind, in the order of the enum.
    pub const ALL: [ErrorKind; 17] = [
        ErrorKind::Invalid,
        ErrorKind::Unauthorized,
        ErrorKind::Forbidden,
        ErrorKind::NotFound,
        ErrorKind::MethodNotAllowed,
        ErrorKind::VersionConflict,
        ErrorKind::IdReused,
        ErrorKind::RequestTimeout,
        ErrorKind::AlreadySubmitted,
        ErrorKind::OutsideDistrict,
        ErrorKind::PeriodConflict,
        ErrorKind::ActConflict,
        ErrorKind::TooLarge,
        ErrorKind::UnsupportedMediaType,
        ErrorKind::TooManyRequests,
        ErrorKind::Unavailable,
        ErrorKind::Internal,
    ];

    /// The HTTP status.
    pub fn status(self) -> StatusCode {
        match self {
            ErrorKind::Invalid => StatusCode::BAD_REQUEST,
            ErrorKind::Unauthorized => StatusCode::UNAUTHORIZED,
            ErrorKind::Forbidden => StatusCode::FORBIDDEN,
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ErrorKind::VersionConflict
            | ErrorKind::IdReused
            | ErrorKind::AlreadySubmitted
            | ErrorKind::PeriodConflict
            | ErrorKind::ActConflict => StatusCode::CONFLICT,
            ErrorKind::OutsideDistrict => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorKind::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            ErrorKind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorKind::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorKind::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The wire name, in the body's `error` field.
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::Invalid => "invalid",
            ErrorKind::Unauthorized => "unauthorized",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::NotFound => "not_found",
            ErrorKind::MethodNotAllowed => "method_not_allowed",
            ErrorKind::VersionConflict => "version_conflict",
            ErrorKind::IdReused => "id_reused",
            ErrorKind::RequestTimeout => "request_timeout",
            ErrorKind::AlreadySubmitted => "already_submitted",
            ErrorKind::OutsideDistrict => "outside_district",
            ErrorKind::PeriodConflict => "period_conflict",
            ErrorKind::ActConflict => "act_conflict",
            ErrorKind::TooLarge => "too_large",
            ErrorKind::UnsupportedMediaType => "unsupported_media_type",
            ErrorKind::TooManyRequests => "too_many_requests",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Internal => "internal",
        }
    }
}

/// 503 on a log whose chain is broken: appends are refused until it is repaired; the body
/// names the first position that does not hold (`detail.position`).
pub fn chain_broken(at: &jiancha_events::ChainBreak) -> ApiError {
    ApiError::new(
        ErrorKind::Unavailable,
        format!("the event log's hash chain is broken at {at}: appends are refused until it is repaired"),
    )
    .detail(serde_json::json!({ "position": at.position }))
}

/// Where in a batch of events a refusal applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum At {
    /// A JSONL body's line, 1-based (blank lines count).
    Line(usize),
    /// A JSON array body's element, 0-based.
    Index(usize),
}

impl std::fmt::Display for At {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            At::Line(n) => write!(f, "line {n}"),
            At::Index(n) => write!(f, "element {n}"),
        }
    }
}

/// A refused request.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    /// The kind, which fixes the status.
    pub kind: ErrorKind,
    /// For the caller; for [`ErrorKind::Internal`], for the log only.
    pub message: String,
    /// The line or element of a batch at fault.
    pub at: Option<At>,
    /// The field at fault (`org`, `data.score`, …).
    pub field: Option<String>,
    /// More facts for programs (the conflicting versions, the original position).
    pub detail: Option<serde_json::Value>,
}

impl ApiError {
    /// A refusal of `kind` with a message.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ApiError {
            kind,
            message: message.into(),
            at: None,
            field: None,
            detail: None,
        }
    }

    /// 400.
    pub fn invalid(message: impl Into<String>) -> Self {
        ApiError::new(ErrorKind::Invalid, message)
    }

    /// 403.
    pub fn forbidden(message: impl Into<String>) -> Self {
        ApiError::new(ErrorKind::Forbidden, message)
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(ErrorKind::NotFound, message)
    }

    /// 500: `cause` is logged, never sent.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        ApiError::new(ErrorKind::Internal, cause.to_string())
    }

    /// Names the line or element at fault, prefixing the message with it.
    pub fn at(mut self, at: At) -> Self {
        self.message = format!("{at}: {}", self.message);
        self.at = Some(at);
        self
    }

    /// Names the field at fault.
    pub fn field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// Adds facts for programs.
    pub fn detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = Some(detail);
        self
    }
}

/// The body of a refusal.
#[derive(Serialize, schemars::JsonSchema)]
#[schemars(rename = "Error")]
pub(crate) struct Body<'a> {
    /// The HTTP status, repeated.
    status: u16,
    /// The kind of refusal (each kind says how to handle it).
    error: &'static str,
    /// What is wrong, for a person.
    message: &'a str,
    /// The JSONL line at fault (1-based).
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<usize>,
    /// The JSON array element at fault (0-based).
    #[serde(skip_serializing_if = "Option::is_none")]
    index: Option<usize>,
    /// The field at fault, as a dotted path (`data.days`).
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
    /// Facts that help, per kind (e.g. the position a broken chain breaks at).
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<&'a serde_json::Value>,
}

/// What an internal failure tells the caller.
const INTERNAL_MESSAGE: &str =
    "the server failed and nothing was written; try again later (the server's log has the cause)";

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let internal = self.kind == ErrorKind::Internal;
        if internal {
            tracing::error!(cause = %self.message, "request failed");
        }
        let body = Body {
            status: self.kind.status().as_u16(),
            error: self.kind.code(),
            message: if internal {
                INTERNAL_MESSAGE
            } else {
                &self.message
            },
            line: match self.at {
                Some(At::Line(n)) => Some(n),
                _ => None,
            },
            index: match self.at {
                Some(At::Index(n)) => Some(n),
                _ => None,
            },
            field: self.field.as_deref().filter(|_| !internal),
            detail: self.detail.as_ref().filter(|_| !internal),
        };
        let mut response = crate::json_response(self.kind.status(), &body);
        let headers = response.headers_mut();
        match self.kind {
            ErrorKind::Unauthorized => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"jiancha\""),
                );
            }
            ErrorKind::TooManyRequests => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            ErrorKind::Unavailable => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            }
            _ => {}
        }
        response
    }
}

/// What stops the server from starting or serving.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The engine could not catch up with the log (database unavailable, an event this build
    /// cannot read): check the database and start again.
    #[error(transparent)]
    Engine(#[from] jiancha_engine::EngineError),
    /// Notifications cannot be started: see the variant inside.
    #[error(transparent)]
    Notify(#[from] crate::notify::NotifyConfigError),
    /// The address cannot be listened on (in use, not this machine's): choose another.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: std::net::SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// Serving failed at the socket level.
    #[error("the server failed: {0}")]
    Serve(std::io::Error),
    /// Without an auth file every request is trusted, so the server refuses to listen beyond
    /// this machine: give an auth file, or listen on a loopback address.
    #[error(
        "{addr} is not a loopback address: without an auth file the server trusts every \
         request, so it listens on loopback only (give --auth FILE, or --addr 127.0.0.1:PORT)"
    )]
    ExposedWithoutAuth {
        /// The address asked for.
        addr: std::net::SocketAddr,
    },
}

#[cfg(test)]
mod tests {
    use super::ErrorKind;

    #[test]
    fn all_holds_every_kind_in_its_place() {
        // A new kind does not compile here until it has a place, which `ALL` must hold.
        let place = |kind: ErrorKind| match kind {
            ErrorKind::Invalid => 0,
            ErrorKind::Unauthorized => 1,
            ErrorKind::Forbidden => 2,
            ErrorKind::NotFound => 3,
            ErrorKind::MethodNotAllowed => 4,
            ErrorKind::VersionConflict => 5,
            ErrorKind::IdReused => 6,
            ErrorKind::RequestTimeout => 7,
            ErrorKind::AlreadySubmitted => 8,
            ErrorKind::OutsideDistrict => 9,
            ErrorKind::PeriodConflict => 10,
            ErrorKind::ActConflict => 11,
            ErrorKind::TooLarge => 12,
            ErrorKind::UnsupportedMediaType => 13,
            ErrorKind::TooManyRequests => 14,
            ErrorKind::Unavailable => 15,
            ErrorKind::Internal => 16,
        };
        for (i, kind) in ErrorKind::ALL.into_iter().enumerate() {
            assert_eq!(place(kind), i, "{}", kind.code());
        }
    }
}
