//! The workflow acts on a case (预警纠错): a bad rating's verification, rectification and
//! call-back (`POST /api/v1/cases/{id}/rating/verification`, `…/rating/rectification`,
//! `…/rating/callback`) and a complaint's acceptance, rejection and answer
//! (`POST /api/v1/cases/{id}/complaints/{n}/acceptance`, `…/rejection`, `…/answer`), and
//! [`record`], the one path every act takes to the log (these, and the acts on an alert in
//! `alerts`): the projections' `check_act_at` (at the engine's now) first (404 for what it names but the log does not
//! know, 409 for an act that does not fit its state), then the append as a supervision event.
//!
//! Who may perform each act is `auth::Act`'s; an act held to the caller's org path names a
//! case outside it as one that does not exist (the uniform 404 of `cases::no_such_case`). The
//! org check reads the live fold, not the store's transaction: supervision events are not
//! scoped by the store, and a transfer racing the act would at worst let the old org record
//! one act on a case it just handed over, which the act's own event names.

use crate::params::Segments;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::State as StateExtractor;
use axum::http::HeaderMap;
use axum::response::Response;
use jiancha_events::{
    ComplaintAccepted, ComplaintAnswered, ComplaintRejected, EventData, Finding, RatingCallback,
    RatingRectified, RatingVerdict, RatingVerified,
};
use jiancha_projections::ActError;
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::auth::{Act, Acting, Caller};
use crate::cases::{no_such_case, Key};
use crate::error::{ApiError, ErrorKind};
use crate::params::case_stream;
use crate::State;

/// A refusal of `check_act`: 404 for what the log does not know, 409 for a state the act does
/// not fit; the field is named without its `data.` prefix, as the request body names it.
pub(crate) fn act_refusal(e: ActError) -> ApiError {
    let (kind, field) = match &e {
        ActError::Unknown { field, .. } => (ErrorKind::NotFound, *field),
        ActError::State { field, .. } => (ErrorKind::ActConflict, *field),
    };
    ApiError::new(kind, e.to_string()).field(field.trim_start_matches("data."))
}

/// Checks an act against the live fold and appends it as a supervision event. `checked`
/// false skips the check, for a repeat of an act done once (its key answers with the original
/// position).
pub(crate) async fn record(
    state: &State,
    acting: &Acting<'_>,
    data: EventData,
    key: Key,
    checked: bool,
) -> Result<Response, ApiError> {
    if let Some(answer) =
        crate::cases::repeat_of(state, &key, (acting.actor, acting.org), &data).await?
    {
        return Ok(answer);
    }
    if checked {
        let now = state.engine.now();
        state
            .engine
            .read()
            .check_act_at(&data, now)
            .map_err(act_refusal)?;
    }
    crate::cases::supervise(state, acting.actor, acting.org, data, key).await
}

/// Reads an act's body, waits for the engine, and checks the case is one the act may name.
async fn case_act<B: DeserializeOwned>(
    state: &State,
    acting: &Acting<'_>,
    id: &str,
    (headers, body): (&HeaderMap, Body),
) -> Result<(String, B), ApiError> {
    let case = case_stream(id)?;
    let timeout = state.limits.body_read_timeout;
    let req: B = crate::body::action_body(headers, body, timeout).await?;
    crate::caught_up(state).await;
    let projections = state.engine.read();
    match projections.case(case.as_str()) {
        Some(found) if acting.scope.covers(found.org()) => Ok((case.to_string(), req)),
        _ => Err(no_such_case()),
    }
}

fn non_empty(field: &'static str, text: &str) -> Result<(), ApiError> {
    if text.trim().is_empty() {
        return Err(ApiError::invalid(format!("{field}: must not be empty")).field(field));
    }
    Ok(())
}

/// The body of `POST /cases/{id}/rating/verification`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifyRatingBody {
    verdict: RatingVerdict,
    note: Option<String>,
    id: Option<String>,
}

/// `POST /cases/{id}/rating/verification`: records `RatingVerified` (差评核实).
pub(crate) async fn verify_rating(
    StateExtractor(state): StateExtractor<Arc<State>>,
    caller: Caller,
    Segments(id): Segments<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let acting = caller.act(Act::VerifyRating)?;
    let (case, req): (_, VerifyRatingBody) =
        case_act(&state, &acting, &id, (&headers, body)).await?;
    let data = EventData::RatingVerified(RatingVerified {
        case,
        verdict: req.verdict,
        note: req.note,
    });
    record(&state, &acting, data, Key::from_id(req.id), true).await
}

/// The body of `POST /cases/{id}/rating/rectification`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RectifyBody {
    report: String,
    id: Option<String>,
}

/// `POST /cases/{id}/rating/rectification`: records `RatingRectified` (差评整改).
pub(crate) async fn rectify_rating(
    StateExtractor(state): StateExtractor<Arc<State>>,
    caller: Caller,
    Segments(id): Segments<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let acting = caller.act(Act::RectifyRating)?;
    let (case, req): (_, RectifyBody) = case_act(&state, &acting, &id, (&headers, body)).await?;
    non_empty("report", &req.report)?;
    let data = EventData::RatingRectified(RatingRectified {
        case,
        report: req.report,
    });
    record(&state, &acting, data, Key::from_id(req.id), true).await
}

/// The body of `POST /cases/{id}/rating/callback`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CallbackBody {
    score: u8,
    id: Option<String>,
}

/// `POST /cases/{id}/rating/callback`: records `RatingCallback` (回访).
pub(crate) async fn call_back(
    StateExtractor(state): StateExtractor<Arc<State>>,
    caller: Caller,
    Segments(id): Segments<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let acting = caller.act(Act::CallBack)?;
    let (case, req): (_, CallbackBody) = case_act(&state, &acting, &id, (&headers, body)).await?;
    if !(1..=5).contains(&req.score) {
        let message = format!("score: must be 1 to 5, got {}", req.score);
        return Err(ApiError::invalid(message).field("score"));
    }
    let data = EventData::RatingCallback(RatingCallback {
        case,
        score: req.score,
    });
    record(&state, &acting, data, Key::from_id(req.id), true).await
}

/// The complaint id a path names, `<case>/complaint/<n>`, checked.
fn complaint_id(case: &str, n: &str) -> Result<String, ApiError> {
    match n.parse::<u16>() {
        Ok(n) if n >= 1 => Ok(format!("{case}/complaint/{n}")),
        _ => Err(ApiError::invalid(format!(
            "complaint: {n:?} is not a complaint number (1 for the case's first complaint, …)"
        ))
        .field("complaint")),
    }
}

/// The body of `POST /cases/{id}/complaints/{n}/acceptance`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AcceptBody {
    route_to: Option<String>,
    id: Option<String>,
}

/// The body of `POST /cases/{id}/complaints/{n}/rejection`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RejectBody {
    reason: String,
    id: Option<String>,
}

/// The body of `POST /cases/{id}/complaints/{n}/answer`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AnswerBody {
    finding: Finding,
    reply: String,
    id: Option<String>,
}

/// Performs a complaint act: `make` turns the complaint id and the body into the event.
async fn complaint_act<B: DeserializeOwned>(
    state: &State,
    caller: &Caller,
    (id, n): (String, String),
    request: (&HeaderMap, Body),
    make: impl FnOnce(String, B) -> Result<(EventData, Key), ApiError>,
) -> Result<Response, ApiError> {
    let acting = caller.act(Act::HandleComplaint)?;
    let (case, req): (_, B) = case_act(state, &acting, &id, request).await?;
    let complaint = complaint_id(&case, &n)?;
    let (data, key) = make(complaint, req)?;
    record(state, &acting, data, key, true).await
}

/// `POST /cases/{id}/complaints/{n}/acceptance`: records `ComplaintAccepted` (投诉受理).
pub(crate) async fn accept_complaint(
    StateExtractor(state): StateExtractor<Arc<State>>,
    caller: Caller,
    Segments(path): Segments<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    complaint_act(
        &state,
        &caller,
        path,
        (&headers, body),
        |complaint, req: AcceptBody| {
            if let Some(org) = &req.route_to {
                jiancha_events::stream::check_org("route_to", org)
                    .map_err(|e| ApiError::invalid(e.to_string()).field("route_to"))?;
            }
            let data = EventData::ComplaintAccepted(ComplaintAccepted {
                complaint,
                route_to: req.route_to,
            });
            Ok((data, Key::from_id(req.id)))
        },
    )
    .await
}

/// `POST /cases/{id}/complaints/{n}/rejection`: records `ComplaintRejected` (不予受理).
pub(crate) async fn reject_complaint(
    StateExtractor(state): StateExtractor<Arc<State>>,
    caller: Caller,
    Segments(path): Segments<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    complaint_act(
        &state,
        &caller,
        path,
        (&headers, body),
        |complaint, req: RejectBody| {
            non_empty("reason", &req.reason)?;
            let data = EventData::ComplaintRejected(ComplaintRejected {
                complaint,
                reason: req.reason,
            });
            Ok((data, Key::from_id(req.id)))
        },
    )
    .await
}

/// `POST /cases/{id}/complaints/{n}/answer`: records `ComplaintAnswered` (投诉答复).
pub(crate) async fn answer_complaint(
    StateExtractor(state): StateExtractor<Arc<State>>,
    caller: Caller,
    Segments(path): Segments<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    complaint_act(
        &state,
        &caller,
        path,
        (&headers, body),
        |complaint, req: AnswerBody| {
            non_empty("reply", &req.reply)?;
            let data = EventData::ComplaintAnswered(ComplaintAnswered {
                complaint,
                finding: req.finding,
                reply: req.reply,
            });
            Ok((data, Key::from_id(req.id)))
        },
    )
    .await
}
