//! `GET /api/v1/insights` and the workbooks (`format=xlsx`) of it and of `GET /api/v1/reports`:
//! the content type, the Chinese file name beside its ASCII fallback, and every cell of every
//! sheet read back (calamine) equal to the JSON the same route answers.

use axum::http::{header, StatusCode};

use crate::support::*;
use crate::workbook_cells::assert_cells_are;

/// Every cell of the workbook `bytes` against the JSON `doc` through `sheets`.
fn assert_workbook_is(bytes: &[u8], doc: &serde_json::Value, sheets: &[jiancha_xlsx::Sheet]) {
    assert_eq!(&bytes[..4], b"PK\x03\x04", "a zip archive");
    assert_cells_are(bytes, doc, sheets);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_as_a_workbook_is_the_json_report() {
    let world = World::new().await;
    let json = world
        .get(
            "/api/v1/reports?period=2026-03&now=2026-03-31",
            Who::Evaluator,
        )
        .await;
    assert_eq!(json.status, StatusCode::OK, "{}", json.text);
    assert!(!json.json["rows"].as_array().unwrap().is_empty());
    let book = world
        .get(
            "/api/v1/reports?period=2026-03&now=2026-03-31&format=xlsx",
            Who::Evaluator,
        )
        .await;
    assert_eq!(book.status, StatusCode::OK);
    assert_eq!(
        book.headers[header::CONTENT_TYPE],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let disposition = book.headers[header::CONTENT_DISPOSITION].to_str().unwrap();
    assert!(
        disposition.contains("filename=\"report-2026-03.xlsx\"")
            && disposition
                .contains("filename*=UTF-8''%E8%80%83%E6%A0%B8%E6%8A%A5%E8%A1%A8-2026-03.xlsx"),
        "{disposition}"
    );
    assert_workbook_is(&book.bytes, &json.json, &jiancha_xlsx::report_sheets());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_insight_answers_in_json_and_as_a_workbook() {
    let world = World::new().await;
    let json = world
        .get(
            "/api/v1/insights?period=2026-03&now=2026-03-31",
            Who::Supervisor,
        )
        .await;
    assert_eq!(json.status, StatusCode::OK, "{}", json.text);
    for key in ["bottlenecks", "recommendations", "forecast", "hot_spots"] {
        assert!(json.json.get(key).is_some(), "{key}: {}", json.text);
    }
    assert_eq!(json.json["period"], "2026-03");
    let book = world
        .get(
            "/api/v1/insights?period=2026-03&now=2026-03-31&format=xlsx",
            Who::Evaluator,
        )
        .await;
    assert_eq!(book.status, StatusCode::OK);
    let disposition = book.headers[header::CONTENT_DISPOSITION].to_str().unwrap();
    assert!(
        disposition.contains("filename=\"insight-2026-03.xlsx\""),
        "{disposition}"
    );
    assert_workbook_is(&book.bytes, &json.json, &jiancha_xlsx::insight_sheets());
    let bad = world
        .get(
            "/api/v1/insights?period=2026-03&format=csv",
            Who::Supervisor,
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.json["field"], "format", "{}", bad.text);
    let none = world.get("/api/v1/insights", Who::Supervisor).await;
    assert_eq!(none.status, StatusCode::BAD_REQUEST);
}
