//! `GET /api/v1/me`: who the token is and what it may do — its role, name and org path, what it
//! reads, the acts it may perform (from `auth`'s one table: the same methods the routes ask)
//! — and the server's clock: its instant now and whether it is simulated (`demo --serve`) or
//! frozen. The dashboard shapes itself by it: it offers the buttons of the listed acts only.

use std::sync::Arc;

use axum::extract::State as StateExtractor;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;

use crate::auth::{Caller, Powers};
use crate::error::ApiError;
use crate::State;

/// The server's clock as the dashboard shows it.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ClockView {
    /// The engine's instant now (RFC 3339, +08:00).
    now: String,
    /// Whether the clock is simulated or frozen rather than the system's.
    simulated: bool,
}

/// The answer of `GET /me`.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[schemars(rename = "Me")]
pub struct Me {
    #[serde(flatten)]
    powers: Powers,
    /// The server's clock.
    clock: ClockView,
}

/// `GET /me`.
pub(crate) async fn me(
    StateExtractor(state): StateExtractor<Arc<State>>,
    caller: Caller,
) -> Result<Response, ApiError> {
    let me = Me {
        powers: caller.powers(),
        clock: ClockView {
            now: jiancha_projections::instant::format(state.engine.now()),
            simulated: state.simulated_clock,
        },
    };
    Ok(crate::json_response(StatusCode::OK, &me))
}
