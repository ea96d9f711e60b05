//! `GET /api/v1/reports?period=&by=&depth=&now=` (or `from=&to=` for a range of months): the
//! assessment figures from the engine's ledger, as `jiancha report --format json`; with `now`,
//! the log as of then (the events that had occurred by it), as `jiancha report --now`; a unit sees
//! only the rows of orgs under its path, grouped by org. A closed period's report carries its
//! `closed` object; `as_closed=true` gives the report as it was closed (see `closing`).
//! `GET /api/v1/verify`: the whole log checked against its hash chain and every stored snapshot
//! against the log's fold, by the same implementation as `jiancha verify`
//! (`jiancha_engine::verify`).

use std::sync::Arc;

use axum::extract::{Query, State as StateExtractor};
use axum::http::StatusCode;
use axum::response::Response;
use jiancha_engine::verify::{IndexVerdict, VerifyOptions};
use jiancha_projections::ledger::Dimension;
use jiancha_projections::report::{adjustments_between, period_entries};
use jiancha_projections::{Period, Projections, ReportQuery};
use serde::Deserialize;

use crate::auth::{Caller, Scope};
use crate::error::ApiError;
use crate::params::instant_or;
use crate::State;

/// The query of `GET /reports`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReportsQuery {
    period: Option<String>,
    from: Option<String>,
    to: Option<String>,
    by: Option<String>,
    depth: Option<usize>,
    now: Option<String>,
    as_closed: Option<bool>,
    format: Option<String>,
    kind: Option<String>,
    /// With `kind=procurement`: only the purchasers at or under this org path.
    org: Option<String>,
}

fn period_of(q: &ReportsQuery) -> Result<Period, ApiError> {
    match (&q.period, &q.from, &q.to) {
        (Some(p), None, None) => {
            Period::parse(p).map_err(|e| ApiError::invalid(e.to_string()).field("period"))
        }
        (None, Some(f), Some(t)) => {
            Period::range(f, t).map_err(|e| ApiError::invalid(e.naming("from", "to")).field("from"))
        }
        _ => Err(ApiError::invalid(
            "period: give period=YYYY-MM (or YYYY-H1, YYYY-Q2, YYYY), or from=YYYY-MM&to=YYYY-MM",
        )
        .field("period")),
    }
}

fn dimension_of(by: Option<&str>) -> Result<Dimension, ApiError> {
    match by.unwrap_or("org") {
        "org" => Ok(Dimension::Org),
        "item" => Ok(Dimension::Item),
        "channel" => Ok(Dimension::Channel),
        other => {
            Err(ApiError::invalid(format!("by: {other:?}: use org, item or channel")).field("by"))
        }
    }
}

/// `GET /reports`.
pub(crate) async fn report(
    StateExtractor(state): StateExtractor<Arc<State>>,
    caller: Caller,
    query: Result<Query<ReportsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let scope = caller.report_scope()?;
    let Query(q) = query.map_err(crate::query_error)?;
    let period = period_of(&q)?;
    let xlsx = crate::insights::wants_xlsx(q.format.as_deref())?;
    let by = dimension_of(q.by.as_deref())?;
    if by != Dimension::Org && scope != Scope::All {
        return Err(ApiError::forbidden(
            "by: a unit token reads reports grouped by org only (items and channels span orgs)",
        )
        .field("by"));
    }
    if q.depth == Some(0) {
        return Err(ApiError::invalid("depth: 1 or more segments").field("depth"));
    }
    let now = instant_or("now", q.now.as_deref(), state.engine.now())?;
    let org = match (q.kind.as_deref(), &q.org) {
        (Some("procurement"), Some(org)) => {
            jiancha_events::stream::check_org("org", org)
                .map_err(|e| ApiError::invalid(e.to_string()).field("org"))?;
            org.as_str()
        }
        (_, Some(_)) => {
            return Err(ApiError::invalid(
                "org: with kind=procurement only (the approval report lists every org)",
            )
            .field("org"))
        }
        (_, None) => "",
    };
    match q.kind.as_deref() {
        None | Some("approval") => {}
        Some("procurement") => {
            // One row per purchaser org and month: nothing to roll up or regroup.
            if q.depth.is_some() {
                return Err(ApiError::invalid(
                    "depth: the procurement report has one row per purchaser org and month and \
                     is not rolled up; choose purchasers with org=PREFIX",
                )
                .field("depth"));
            }
            if by != Dimension::Org {
                return Err(ApiError::invalid(
                    "by: the procurement report is by purchaser org only",
                )
                .field("by"));
            }
            let explicit = q.now.is_some();
            return procurement(&state, scope, &period, (now, explicit, org), xlsx).await;
        }
        Some(other) => {
            return Err(
                ApiError::invalid(format!("kind: {other:?}: use approval or procurement"))
                    .field("kind"),
            )
        }
    }
    let query = ReportQuery {
        period,
        by,
        depth: q.depth,
    };
    crate::caught_up(&state).await;
    let mut at = now;
    let (report, closed) = if q.as_closed == Some(true) {
        if q.period.is_none() || q.now.is_some() {
            return Err(ApiError::invalid(
                "as_closed: give period=, without now= (a closed report has its own instant)",
            )
            .field("as_closed"));
        }
        let (report, closed) = crate::closing::as_closed(&state, &query).await?;
        at = closed.at;
        (Some(report), None)
    } else {
        let closed = match &q.period {
            Some(label) => state.closes.find(&state, label).await?,
            None => None,
        };
        // A closed period's report carries the entries recorded since the close, as the CLI's
        // does; the entries at the close are replayed once and kept.
        let at_close = match (&closed, xlsx) {
            (Some(c), false) => {
                Some(crate::closing::entries_at_close(&state, &query.period, c).await?)
            }
            _ => None,
        };
        let adjustments = |p: &Projections| {
            at_close.as_ref().map(|before| {
                let after = period_entries(&query.period, (p, now));
                adjustments_between(before, &after)
            })
        };
        let (report, adjustments) = match q.now {
            None => {
                let live = state.engine.read();
                (live.report(&query, now), adjustments(&live))
            }
            Some(_) => {
                let _slot = crate::replay_slot(&state, "a replay of the log")?;
                let p = as_of(&state, &query.period, now).await?;
                (p.report(&query, now), adjustments(&p))
            }
        };
        (report, closed.map(|c| (c, adjustments.unwrap_or_default())))
    };
    let Some(mut report) = report else {
        return Err(ApiError::internal("the engine keeps no assessment ledger"));
    };
    report.rows.retain(|r| {
        r.org
            .as_deref()
            .map_or(scope == Scope::All, |o| scope.covers(o))
    });
    if xlsx {
        let label = report.period.clone();
        return crate::insights::xlsx_response(
            &report,
            &jiancha_xlsx::report_sheets(),
            at,
            (
                &format!("report-{label}.xlsx"),
                &format!("考核报表-{label}.xlsx"),
            ),
        );
    }
    Ok(match closed {
        Some((closed, mut adjustments)) => {
            // A unit reads the adjustments of the orgs under its path, as it reads their rows.
            adjustments.retain(|a| scope.covers(&a.entry.org));
            let mut doc = serde_json::to_value(jiancha_engine::closing::ClosedReport {
                report: &report,
                closed: &closed,
            })
            .map_err(|e| ApiError::internal(format!("cannot encode a report: {e}")))?;
            doc["adjustments_after_close"] = serde_json::to_value(&adjustments)
                .map_err(|e| ApiError::internal(format!("cannot encode a report: {e}")))?;
            crate::json_response(StatusCode::OK, &doc)
        }
        None => crate::json_response(StatusCode::OK, &report),
    })
}

/// `GET /reports?kind=procurement`: the procurement report (as `jiancha report --kind
/// procurement --format json`); a unit sees the rows of the purchasers under its path.
async fn procurement(
    state: &Arc<State>,
    scope: Scope<'_>,
    period: &Period,
    (now, explicit, org): (jiancha_projections::Millis, bool, &str),
    xlsx: bool,
) -> Result<Response, ApiError> {
    use jiancha_projections::kinds::procurement::report::procurement_report;
    if xlsx {
        return Err(ApiError::invalid(
            "format: the procurement report is JSON; the workbook is the approval report's",
        )
        .field("format"));
    }
    crate::caught_up(state).await;
    let report = if explicit {
        let _slot = crate::replay_slot(state, "a replay of the log")?;
        procurement_report(&as_of(state, period, now).await?, period, org, now)
    } else {
        procurement_report(&state.engine.read(), period, org, now)
    };
    let Some(mut report) = report else {
        return Err(ApiError::internal("the engine keeps no assessment ledger"));
    };
    report.rows.retain(|r| scope.covers(&r.org));
    Ok(crate::json_response(StatusCode::OK, &report))
}

/// What a report for `period` at an explicit instant reads, as `jiancha report --now` folds
/// it: the events that had occurred by `now`, of the cases the case index names for the period
/// (or the whole log, when the engine's thresholds or scoring are not the ones the index judges
/// with), with the engine's scoring. Never the live fold evaluated at `now`: that one holds the
/// events that occurred after it.
async fn as_of(
    state: &crate::State,
    period: &Period,
    now: jiancha_projections::Millis,
) -> Result<jiancha_projections::Projections, ApiError> {
    let scoring = state.engine.read().ledger().map(|l| l.scoring);
    match scoring {
        Some(scoring)
            if jiancha_engine::travel::serves_config(&state.alert_config)
                && jiancha_engine::travel::serves_scoring(&scoring) =>
        {
            let travelled = jiancha_engine::travel::for_report(&*state.store, period, now, scoring)
                .await
                .map_err(ApiError::internal)?;
            Ok(travelled.projections)
        }
        _ => crate::alerts::as_of_with_ledger(state, now).await,
    }
}

/// The case index's verdict: `{position, verdict, rows, kept, differences, named, detail}`.
fn index_json(check: &jiancha_engine::verify::IndexCheck) -> serde_json::Value {
    let (verdict, d, why) = match &check.verdict {
        IndexVerdict::Absent => ("absent", None, None),
        IndexVerdict::Matches(d) => ("matches", Some(d), None),
        IndexVerdict::Differs(d) => ("differs", Some(d), None),
        IndexVerdict::Unchecked(why) => ("unchecked", None, Some(why)),
    };
    serde_json::json!({
        "position": check.position,
        "verdict": verdict,
        "rows": d.map(|d| d.rows),
        "kept": d.map(|d| d.kept),
        "differences": d.map(|d| d.count),
        "named": d.map(|d| &d.named),
        "detail": why,
    })
}

/// `GET /verify`.
pub(crate) async fn verify(
    StateExtractor(state): StateExtractor<Arc<State>>,
    caller: Caller,
) -> Result<Response, ApiError> {
    caller.may_verify()?;
    let _slot = crate::replay_slot(&state, "a verification")?;
    let v = jiancha_engine::verify::verify(&*state.store, VerifyOptions::default())
        .await
        .map_err(ApiError::internal)?;
    let snapshots: Vec<serde_json::Value> = v
        .snapshots
        .iter()
        .map(|s| {
            let (verdict, why) = s.verdict.code();
            serde_json::json!({"name": s.name, "position": s.position, "verdict": verdict, "detail": why})
        })
        .collect();
    let forged: Vec<&str> = v.forged().map(|(s, _)| s.name.as_str()).collect();
    let index = index_json(&v.index);
    let closes: Vec<serde_json::Value> = v
        .closes
        .iter()
        .map(|c| {
            let (verdict, why) = c.verdict.code();
            serde_json::json!({"period": c.period, "position": c.position, "verdict": verdict, "detail": why})
        })
        .collect();
    let body = match &v.broken {
        None => serde_json::json!({
            "ok": v.ok(), "events": v.checked, "head": v.head.to_string(),
            "snapshots": snapshots, "forged_snapshots": forged, "index": index,
            "closes": closes,
        }),
        Some(b) => serde_json::json!({
            "ok": false, "position": b.position, "broken_at": b.to_string(),
            "verified": v.checked, "snapshots": snapshots, "forged_snapshots": forged,
            "index": index, "closes": closes,
        }),
    };
    Ok(crate::json_response(StatusCode::OK, &body))
}
