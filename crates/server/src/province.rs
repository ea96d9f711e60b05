//! `GET /api/v1/province/reports?period=&districts=a,b[&now=]`: the province's roll-up of
//! districts side by side in this server's PostgreSQL database (a schema each), as
//! `jiancha province report --format json`: each named district's log is opened read-only and
//! folded in turn by `jiancha_engine::province`, the same code as the CLI's. A province token
//! asks only for the districts it lists (403 otherwise) and reads nothing of a district itself;
//! every district role is refused here. A server over SQLite or memory answers 404.

use std::sync::Arc;

use axum::extract::{Query, State as StateExtractor};
use axum::http::StatusCode;
use axum::response::Response;
use jiancha_engine::province::{check_districts, ProvinceQuery};
use jiancha_projections::{Period, Scoring};
use jiancha_store::StoreError;
use serde::Deserialize;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::params::instant_or;
use crate::State;

/// The query of `GET /province/reports`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReportQuery {
    period: Option<String>,
    districts: Option<String>,
    now: Option<String>,
}

/// `GET /province/reports`.
pub(crate) async fn report(
    StateExtractor(state): StateExtractor<Arc<State>>,
    caller: Caller,
    query: Result<Query<ReportQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    // The role first: a district's token learns nothing of the query's districts.
    caller.may_read_province(&[])?;
    let Query(q) = query.map_err(crate::query_error)?;
    let period = q
        .period
        .as_deref()
        .ok_or_else(|| ApiError::invalid("period: give period=YYYY-MM (or YYYY-H1, YYYY-Q2, YYYY)"))
        .and_then(|p| Period::parse(p).map_err(|e| ApiError::invalid(e.to_string())))
        .map_err(|e| e.field("period"))?;
    // Every entry counts, an empty one too (refused as the command line refuses it): a list
    // is never shortened without a word.
    let names: Vec<String> = match q.districts.as_deref() {
        None | Some("") => Vec::new(),
        Some(list) => list.split(',').map(str::to_owned).collect(),
    };
    let districts = check_districts(&names)
        .map_err(|e| ApiError::invalid(format!("districts: {e}")).field("districts"))?;
    caller.may_read_province(&districts)?;
    let Some(db) = state.province_db.as_deref() else {
        return Err(ApiError::not_found(
            "this server's log is not in PostgreSQL: districts side by side need one database",
        ));
    };
    let now = instant_or("now", q.now.as_deref(), state.engine.now())?;
    let scoring = {
        let p = state.engine.read();
        p.ledger().map_or_else(Scoring::default, |l| l.scoring)
    };
    let query = ProvinceQuery {
        districts,
        period,
        now,
        explicit_now: q.now.is_some(),
        replay: false,
        alerts: state.alert_config,
        scoring,
    };
    let _slot = crate::replay_slot(&state, "a replay of the log")?;
    let clock = state.engine.clock().clone();
    match jiancha_engine::province::report(db, clock, &query).await {
        Ok(report) => Ok(crate::json_response(StatusCode::OK, &report)),
        Err(StoreError::NoDistrict { name }) => Err(ApiError::not_found(format!(
            "districts: no district {name:?} in this database"
        ))
        .field("districts")),
        Err(e @ StoreError::EmptyDistrict { .. }) => {
            Err(ApiError::invalid(format!("districts: {e}")).field("districts"))
        }
        Err(e) => Err(ApiError::internal(e)),
    }
}
