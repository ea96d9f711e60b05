//! The supervision dashboard at `/`: one HTML page, a script and a style sheet, embedded in the
//! binary with `include_str!` — no build step, nothing fetched from elsewhere (the Content
//! Security Policy allows this origin only). The page reads the API with the token the user
//! types (kept in the browser's session storage) and follows the live stream.
//!
//! `/dashboard/notices/{alert id}` serves the 监察建议书 of an escalated card (`notice`), read
//! like the API (a bearer token, the caller's read scope): the dashboard fetches it with the
//! token and opens it in a window to print; without an auth file it is a plain link.

use crate::params::Segments;
use std::sync::Arc;

use axum::extract::State as StateExtractor;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use jiancha_projections::parse_alert_id;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::notice::{self, NoticeError, Style};
use crate::State;

const INDEX_HTML: &str = include_str!("../assets/index.html");
const DASHBOARD_JS: &str = include_str!("../assets/dashboard.js");
const DASHBOARD_CSS: &str = include_str!("../assets/dashboard.css");

/// This origin only: no CDN, no inline script.
const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
                   connect-src 'self'; frame-ancestors 'none'";

/// Where a served notice finds its style sheet.
const NOTICE_CSS_PATH: &str = "/notice.css";

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CSP),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        body,
    )
        .into_response()
}

/// Adds the dashboard's routes.
pub(crate) fn routes(router: Router<Arc<State>>) -> Router<Arc<State>> {
    router
        .route(
            "/",
            get(|| async { asset("text/html; charset=utf-8", INDEX_HTML) }),
        )
        .route(
            "/dashboard.js",
            get(|| async { asset("text/javascript; charset=utf-8", DASHBOARD_JS) }),
        )
        .route(
            "/dashboard.css",
            get(|| async { asset("text/css; charset=utf-8", DASHBOARD_CSS) }),
        )
        .route(
            NOTICE_CSS_PATH,
            get(|| async { asset("text/css; charset=utf-8", notice::NOTICE_CSS) }),
        )
        .route("/dashboard/notices/{id}", get(notice_page))
}

/// `GET /dashboard/notices/{id}`: the 监察建议书 of the escalated alert `id` (or of the card
/// an escalated alert is about), as of the engine's clock. 404 for an alert the caller may not
/// read, one that does not exist and one that is not escalated.
async fn notice_page(
    StateExtractor(state): StateExtractor<Arc<State>>,
    caller: Caller,
    Segments(id): Segments<String>,
) -> Result<Response, ApiError> {
    let scope = caller.read_scope()?;
    let Some((case, _, _)) = parse_alert_id(&id) else {
        return Err(ApiError::invalid(NoticeError::NotAnAlert(id).to_string()).field("id"));
    };
    crate::caught_up(&state).await;
    let visible = {
        let p = state.engine.read();
        p.case(&case).is_some_and(|c| scope.covers(c.org()))
    };
    if !visible {
        return Err(crate::cases::no_such_case());
    }
    let events = state
        .store
        .read_case_context(&case)
        .await
        .map_err(ApiError::internal)?;
    let gathered = {
        let p = state.engine.read();
        notice::gather(&p, &events, &id, state.engine.now())
    };
    let notice = gathered.map_err(|e| match e {
        NoticeError::NotAnAlert(_) => ApiError::invalid(e.to_string()).field("id"),
        NoticeError::Unknown(_) | NoticeError::NotEscalated(_) => {
            ApiError::not_found(e.to_string()).field("id")
        }
    })?;
    let html = notice::render(&notice, Style::Linked(NOTICE_CSS_PATH));
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CSP),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        html,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::DASHBOARD_JS;

    /// The page names every event type of the timeline in both languages (the tables of
    /// `TEXT.zh.events` and `TEXT.en.events`), and every rule.
    #[test]
    fn the_page_names_every_event_type_and_rule() {
        for name in jiancha_events::EVENT_TYPES {
            let entry = format!(" {name}: '");
            assert_eq!(
                DASHBOARD_JS.matches(&entry).count(),
                2,
                "dashboard.js names {name} in Chinese and in English"
            );
        }
        for rule in jiancha_projections::RULES {
            let entry = format!("'{}': '", rule.code());
            assert_eq!(
                DASHBOARD_JS.matches(&entry).count(),
                2,
                "dashboard.js names {} in Chinese and in English",
                rule.code()
            );
        }
    }
}
