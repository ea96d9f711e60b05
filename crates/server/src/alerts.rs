//! The alert endpoints: `GET /api/v1/alerts?open=&org=&rule=&severity=&kind=&now=&limit=&cursor=`
//! (the engine's live fold evaluated at an instant: alerts raised by then, closed by then, on
//! the kind of case asked for — approval or procurement —, a page at a time after `cursor`, the
//! `next_cursor` of the page before),
//! and the workflow acts on an alert (预警纠错), recorded as supervision events through
//! `acts::record`: `POST /api/v1/alerts/{id}/acknowledge` (签收: the unit within its org, or a
//! supervisor), `…/correction-orders` (督办: supervisors), `…/report-backs` (回告: the unit or
//! center within its org) and `…/verifications` (核查: supervisors).
//!
//! An alert id is `<case>/<rule>/<n>` and holds slashes: in a path it is percent-encoded
//! (`case-1%2Ffee.mismatch%2F1`), as `encodeURIComponent` does.

use crate::params::Segments;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Query, State as StateExtractor};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use jiancha_events::stream::{check_org, org_is_under};
use jiancha_events::{
    AlertAcknowledged, CorrectionCompleted, CorrectionOrdered, CorrectionVerified, EventData,
};
use jiancha_projections::{parse_alert_id, AlertView, Rule};
use serde::{Deserialize, Serialize};

use crate::auth::{Act, Caller, Scope};
use crate::error::ApiError;
use crate::params::instant_or;
use crate::State;

/// The query of `GET /alerts`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AlertsQuery {
    open: Option<bool>,
    org: Option<String>,
    rule: Option<String>,
    severity: Option<String>,
    kind: Option<String>,
    now: Option<String>,
    limit: Option<usize>,
    cursor: Option<String>,
}

/// The kinds of case `kind=` takes: `AlertView::kind`'s names.
const KINDS: [&str; 2] = ["approval", "procurement"];

/// The severities `severity=` takes (a comma list): the alert's `severity` strings.
const SEVERITIES: [&str; 3] = ["warning", "yellow", "red"];

/// The severities asked for (`None`: all), each checked.
pub(crate) fn severities_of(text: Option<&str>) -> Result<Option<Vec<&str>>, ApiError> {
    let Some(text) = text else { return Ok(None) };
    let asked: Vec<&str> = text.split(',').map(str::trim).collect();
    match asked.iter().find(|s| !SEVERITIES.contains(s)) {
        Some(bad) => Err(ApiError::invalid(format!(
            "severity: {bad:?}: use warning, yellow or red (a comma list)"
        ))
        .field("severity")),
        None => Ok(Some(asked)),
    }
}

#[derive(Serialize)]
struct AlertList {
    now: String,
    /// The last log position the answer reflects.
    position: u64,
    total: usize,
    alerts: Vec<AlertView>,
    /// The cursor of the next page; null on the last.
    next_cursor: Option<String>,
}

/// Where an alert sorts in a list, as [`Projections::alerts`] orders them: (raised instant,
/// case, rule code, id).
///
/// [`Projections::alerts`]: jiancha_projections::Projections::alerts
type AlertKey = (jiancha_projections::Millis, String, &'static str, String);

fn alert_key(a: &AlertView) -> AlertKey {
    (a.raised_at_millis(), a.case.clone(), a.rule, a.id.clone())
}

/// An alert key as a cursor carries it: `<raised instant in ms>\t<alert id>`.
fn key_text(a: &AlertView) -> String {
    format!("{}\t{}", a.raised_at_millis(), a.id)
}

fn cursor_key(text: &str) -> Result<AlertKey, ApiError> {
    let bad = || ApiError::invalid("cursor: not a cursor of the alert list").field("cursor");
    let (ms, id) = text.split_once('\t').ok_or_else(bad)?;
    let ms = ms.parse().map_err(|_| bad())?;
    let (case, rule, _) = parse_alert_id(id).ok_or_else(bad)?;
    Ok((ms, case, rule.code(), id.to_owned()))
}

/// The org prefix a listing is restricted to: the one asked for, within the caller's scope.
pub(crate) fn effective_org(
    scope: Scope<'_>,
    asked: Option<&str>,
) -> Result<Option<String>, ApiError> {
    if let Some(org) = asked {
        check_org("org", org).map_err(|e| ApiError::invalid(e.to_string()).field("org"))?;
    }
    match (scope, asked) {
        (Scope::All, asked) => Ok(asked.map(str::to_owned)),
        (Scope::Under(root), None) => Ok(Some(root.to_owned())),
        (Scope::Under(root), Some(org)) if org_is_under(org, root) => Ok(Some(org.to_owned())),
        (Scope::Under(root), Some(org)) => Err(ApiError::forbidden(format!(
            "org: {org:?} is outside this token's org path {root:?}"
        ))
        .field("org")),
    }
}

/// `GET /alerts`.
pub(crate) async fn list(
    StateExtractor(state): StateExtractor<Arc<State>>,
    caller: Caller,
    query: Result<Query<AlertsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let scope = caller.read_scope()?;
    let Query(q) = query.map_err(crate::query_error)?;
    let org = effective_org(scope, q.org.as_deref())?;
    if let Some(code) = &q.rule {
        if Rule::from_code(code).is_none() {
            return Err(ApiError::invalid(format!(
                "rule: unknown rule code {code:?} (deadline.promised.overdue, fee.mismatch, …)"
            ))
            .field("rule"));
        }
    }
    let severities = severities_of(q.severity.as_deref())?;
    if let Some(kind) = q.kind.as_deref() {
        if !KINDS.contains(&kind) {
            return Err(
                ApiError::invalid(format!("kind: {kind:?}: use approval or procurement"))
                    .field("kind"),
            );
        }
    }
    let filters = format!(
        "alerts\n{:?}\n{org:?}\n{:?}\n{severities:?}\n{:?}\n{:?}",
        q.open, q.rule, q.now, q.kind
    );
    let after = match q.cursor.as_deref() {
        None => None,
        Some(c) => Some(cursor_key(&crate::cursor::decode(c, &filters)?)?),
    };
    let now = instant_or("now", q.now.as_deref(), state.engine.now())?;
    crate::caught_up(&state).await;
    let limit = crate::limits::page_limit(q.limit, crate::limits::ALERTS_PAGE_MAX)?;
    let (all, position) = match q.now {
        // Now: the live fold.
        None => {
            let p = state.engine.read();
            (p.alerts(now), p.position())
        }
        // At an instant: as `jiancha alerts --now` answers (the events that occurred by then,
        // and the declared history), from the cases the case index names; a replay of the whole
        // log when the thresholds are not the ones the index judges with. One at a time.
        Some(_) => {
            let _slot = crate::replay_slot(&state, "a replay of the log")?;
            if jiancha_engine::travel::serves_config(&state.alert_config) {
                let travelled = jiancha_engine::travel::for_alerts(&*state.store, now)
                    .await
                    .map_err(ApiError::internal)?;
                (travelled.alerts(now), travelled.caught_up.to)
            } else {
                let p = as_of(&state, now).await?;
                (p.alerts(now), p.position())
            }
        }
    };
    let matching: Vec<AlertView> = all
        .into_iter()
        .filter(|a| q.open != Some(true) || a.is_open())
        .filter(|a| q.open != Some(false) || !a.is_open())
        .filter(|a| q.rule.as_deref().is_none_or(|r| a.rule == r))
        .filter(|a| severities.as_ref().is_none_or(|s| s.contains(&a.severity)))
        .filter(|a| org.as_deref().is_none_or(|p| a.concerns_org(p)))
        .filter(|a| q.kind.as_deref().is_none_or(|k| a.kind() == k))
        .collect();
    let total = matching.len();
    let mut rest = matching
        .into_iter()
        .filter(|a| after.as_ref().is_none_or(|k| alert_key(a) > *k));
    let alerts: Vec<AlertView> = rest.by_ref().take(limit).collect();
    let next_cursor = match (rest.next(), alerts.last()) {
        (Some(_), Some(last)) => Some(crate::cursor::encode(&key_text(last), &filters)),
        _ => None,
    };
    let list = AlertList {
        now: jiancha_projections::instant::format(now),
        position,
        total,
        alerts,
        next_cursor,
    };
    Ok(crate::json_response(StatusCode::OK, &list))
}

/// `view` of the engine's live fold; or, with an explicit instant (`as_of`), of the whole log
/// folded as of `now` (with the engine's ledger when `ledger`), one such fold at a time.
pub(crate) async fn live_or_as_of<T>(
    state: &State,
    as_of: bool,
    now: jiancha_projections::Millis,
    ledger: bool,
    view: impl FnOnce(&jiancha_projections::Projections) -> T,
) -> Result<T, ApiError> {
    if !as_of {
        return Ok(view(&state.engine.read()));
    }
    let _slot = crate::replay_slot(state, "a replay of the log")?;
    let p = if ledger {
        as_of_with_ledger(state, now).await?
    } else {
        self::as_of(state, now).await?
    };
    Ok(view(&p))
}

/// The whole log folded as of `now`: the events that occurred by then.
pub(crate) async fn as_of(
    state: &State,
    now: jiancha_projections::Millis,
) -> Result<jiancha_projections::Projections, ApiError> {
    fold_as_of(
        state,
        jiancha_projections::Projections::new(state.alert_config),
        now,
    )
    .await
}

/// The whole log folded as of `now` with the engine's assessment ledger (its scoring), for the
/// views that read the report's figures.
pub(crate) async fn as_of_with_ledger(
    state: &State,
    now: jiancha_projections::Millis,
) -> Result<jiancha_projections::Projections, ApiError> {
    let mut projections = jiancha_projections::Projections::new(state.alert_config);
    let scoring = state.engine.read().ledger().map(|l| l.scoring);
    if let Some(scoring) = scoring {
        projections = projections.with_ledger(scoring);
    }
    fold_as_of(state, projections, now).await
}

async fn fold_as_of(
    state: &State,
    mut projections: jiancha_projections::Projections,
    now: jiancha_projections::Millis,
) -> Result<jiancha_projections::Projections, ApiError> {
    let mut pages = state.store.pages(0);
    while let Some(page) = pages.next().await.map_err(ApiError::internal)? {
        projections = jiancha_projections::asof::fold_occurred(projections, &page, now);
    }
    Ok(projections)
}

/// The alert an id names, if the engine knows it and it lies in `scope`: its view now. For a
/// caller held to an org path, an alert outside it and one that does not exist get the same
/// answer, naming neither.
fn find(state: &State, id: &str, scope: Scope<'_>) -> Result<AlertView, ApiError> {
    let Some((case, _, _)) = parse_alert_id(id) else {
        return Err(ApiError::invalid(format!(
            "{id:?} is not an alert id (<case>/<rule>/<n>, percent-encoded in the path)"
        ))
        .field("id"));
    };
    let p = state.engine.read();
    let alert = p
        .case(&case)
        .map(|c| p.case_alerts(&case, c, state.engine.now()))
        .unwrap_or_default()
        .into_iter()
        .find(|a| a.id == id && scope.covers(&a.org));
    alert.ok_or_else(|| match scope {
        Scope::All => ApiError::not_found(format!("no alert {id} in the log")).field("alert"),
        Scope::Under(_) => {
            ApiError::not_found("alert: no such alert among those this token may act on")
                .field("alert")
        }
    })
}

/// The body of an acknowledgement.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AckBody {
    note: Option<String>,
}

/// `POST /alerts/{id}/acknowledge`: records `AlertAcknowledged` once per alert (event id
/// `ack:<alert id>`): a repeat answers 200 with the original position.
pub(crate) async fn acknowledge(
    StateExtractor(state): StateExtractor<Arc<State>>,
    caller: Caller,
    Segments(id): Segments<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let act = (Act::Acknowledge, id.as_str());
    act_on_alert(
        &state,
        &caller,
        act,
        (&headers, body),
        |alert, req: AckBody| {
            // A repeat is answered by its key, not refused as acknowledged already.
            let checked = !alert.acknowledged;
            let key = crate::cases::Key::Once(format!("ack:{}", alert.id));
            let data = EventData::AlertAcknowledged(AlertAcknowledged {
                card_at: card_at(&alert),
                alert: alert.id,
                note: req.note,
            });
            Ok((data, key, checked))
        },
    )
    .await
}

/// What an act on an alert records: the event, its idempotency key and whether `check_act`
/// judges it.
type Recorded = (EventData, crate::cases::Key, bool);

/// The threshold instant of the card an act names, recorded beside its id: the act keeps
/// naming that card under rules that number the case's cards otherwise.
fn card_at(alert: &AlertView) -> Option<jiancha_events::Timestamp> {
    jiancha_events::parse_timestamp(&alert.raised_at).ok()
}

/// An act on an open or closed alert: the caller's role must allow it, the body is read as
/// `B`, the alert is looked up (within the caller's scope) once the engine has caught up, and
/// `act` says what to record under which key.
async fn act_on_alert<B: serde::de::DeserializeOwned>(
    state: &State,
    caller: &Caller,
    (act, id): (Act, &str),
    (headers, body): (&HeaderMap, Body),
    make: impl FnOnce(AlertView, B) -> Result<Recorded, ApiError>,
) -> Result<Response, ApiError> {
    let acting = caller.act(act)?;
    let timeout = state.limits.body_read_timeout;
    let req: B = crate::body::action_body(headers, body, timeout).await?;
    crate::caught_up(state).await;
    let alert = find(state, id, acting.scope)?;
    let (data, key, checked) = make(alert, req)?;
    crate::acts::record(state, &acting, data, key, checked).await
}

/// The body of a correction order.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OrderBody {
    /// Working days allowed.
    days: u32,
    /// An idempotency key; a new order each time when absent.
    id: Option<String>,
}

/// `POST /alerts/{id}/correction-orders`: records `CorrectionOrdered` (纠错督办).
pub(crate) async fn order_correction(
    StateExtractor(state): StateExtractor<Arc<State>>,
    caller: Caller,
    Segments(id): Segments<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let act = (Act::Order, id.as_str());
    act_on_alert(
        &state,
        &caller,
        act,
        (&headers, body),
        |alert, req: OrderBody| {
            let data = EventData::CorrectionOrdered(CorrectionOrdered {
                card_at: card_at(&alert),
                case: alert.case,
                alert: alert.id,
                days: req.days,
            });
            Ok((data, crate::cases::Key::from_id(req.id), true))
        },
    )
    .await
}

/// The body of a report-back.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportBackBody {
    /// What was corrected.
    report: Option<String>,
    /// An idempotency key; a new report-back each time when absent.
    id: Option<String>,
}

/// `POST /alerts/{id}/report-backs`: records `CorrectionCompleted` (回告).
pub(crate) async fn report_back(
    StateExtractor(state): StateExtractor<Arc<State>>,
    caller: Caller,
    Segments(id): Segments<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let act = (Act::ReportBack, id.as_str());
    act_on_alert(
        &state,
        &caller,
        act,
        (&headers, body),
        |alert, req: ReportBackBody| {
            let data = EventData::CorrectionCompleted(CorrectionCompleted {
                card_at: card_at(&alert),
                case: alert.case,
                alert: alert.id,
                report: req.report,
            });
            Ok((data, crate::cases::Key::from_id(req.id), true))
        },
    )
    .await
}

/// The body of a verification.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct VerificationBody {
    /// Whether the correction is accepted (the card closes) or not (the order runs again).
    accepted: bool,
    /// The supervisor's remark.
    note: Option<String>,
    /// An idempotency key; a new verification each time when absent.
    id: Option<String>,
}

/// `POST /alerts/{id}/verifications`: records `CorrectionVerified` (核查).
pub(crate) async fn verify_correction(
    StateExtractor(state): StateExtractor<Arc<State>>,
    caller: Caller,
    Segments(id): Segments<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let act = (Act::VerifyCorrection, id.as_str());
    act_on_alert(
        &state,
        &caller,
        act,
        (&headers, body),
        |alert, req: VerificationBody| {
            let data = EventData::CorrectionVerified(CorrectionVerified {
                card_at: card_at(&alert),
                case: alert.case,
                alert: alert.id,
                accepted: req.accepted,
                note: req.note,
            });
            Ok((data, crate::cases::Key::from_id(req.id), true))
        },
    )
    .await
}
