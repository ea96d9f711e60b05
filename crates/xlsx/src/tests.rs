//! The workbook reads back (calamine) cell for cell as the JSON it was written from, with the
//! header row, the sheet names and the highlighted misses.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

use std::io::Cursor;

use calamine::{open_workbook_from_rs, Data, Reader, Xlsx};
use serde_json::json;

use super::*;

const CREATED: Created = Created {
    year: 2026,
    month: 3,
    day: 31,
    hour: 16,
    minute: 0,
    second: 0,
};

/// Every cell of every sheet of `bytes` against `doc` read through `sheets`.
pub(crate) fn assert_same(bytes: &[u8], doc: &Value, sheets: &[Sheet]) {
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes.to_vec())).unwrap();
    let names: Vec<String> = sheets.iter().map(|s| s.name.clone()).collect();
    assert_eq!(book.sheet_names(), names);
    for spec in sheets {
        let range = book.worksheet_range(&spec.name).unwrap();
        let rows = rows(doc, spec);
        let height = range.end().map_or(0, |(r, _)| r as usize + 1);
        assert_eq!(height, rows.len() + 1, "{}: rows", spec.name);
        for (c, column) in spec.columns.iter().enumerate() {
            let head = range
                .get_value((0, c as u32))
                .cloned()
                .unwrap_or(Data::Empty);
            assert_eq!(
                head,
                Data::String(column.title.clone()),
                "{}: header {c}",
                spec.name
            );
            for (r, row) in rows.iter().enumerate() {
                let got = range
                    .get_value((r as u32 + 1, c as u32))
                    .cloned()
                    .unwrap_or(Data::Empty);
                let want = match cell(row, column) {
                    Cell::Empty => Data::Empty,
                    Cell::Text(t) => Data::String(t),
                    Cell::Number(n) => Data::Float(n),
                };
                assert_eq!(
                    got,
                    want,
                    "{} row {} column {}",
                    spec.name,
                    r + 1,
                    column.field
                );
            }
        }
    }
}

fn report() -> Value {
    json!({"period": "2026-03", "rows": [
        {"org": "jiangjin", "name": "江津区", "accepted": 10, "concluded": 8, "on_time": 7,
         "on_time_rate": 0.875, "early": 1, "early_rate": 0.125, "statutory_on_time": 8,
         "overdue_open": 1, "yellow": 1, "red": 0, "rated": 4, "satisfied": 4,
         "satisfaction_rate": 1.0, "score": 95, "grade": "优秀"},
        {"item": "A-001", "accepted": 0, "concluded": 0, "on_time_rate": null, "score": null}
    ]})
}

#[test]
fn a_report_reads_back_cell_for_cell() {
    let doc = report();
    let bytes = workbook(&doc, &report_sheets(), CREATED).unwrap();
    assert_eq!(&bytes[..2], b"PK", "a zip archive");
    assert_same(&bytes, &doc, &report_sheets());
}

#[test]
fn the_same_report_gives_the_same_bytes() {
    let doc = report();
    let a = workbook(&doc, &report_sheets(), CREATED).unwrap();
    let b = workbook(&doc, &report_sheets(), CREATED).unwrap();
    assert_eq!(a, b);
}

#[test]
fn misses_are_the_cells_short_of_their_target() {
    let sheets = report_sheets();
    let columns = &sheets[0].columns;
    let on_time = columns.iter().find(|c| c.field == "/on_time_rate").unwrap();
    let row = report()["rows"][0].clone();
    assert!(misses(&cell(&row, on_time), on_time));
    let sat = columns
        .iter()
        .find(|c| c.field == "/satisfaction_rate")
        .unwrap();
    assert!(!misses(&cell(&row, sat), sat));
    let overdue = columns.iter().find(|c| c.field == "/overdue_open").unwrap();
    assert!(misses(&cell(&row, overdue), overdue));
    let key = &columns[0];
    assert_eq!(cell(&report()["rows"][1], key), Cell::Text("A-001".into()));
}

#[test]
fn every_insight_sheet_is_written_even_when_empty() {
    let doc = json!({"bottlenecks": {"items": [], "orgs": [], "steps": []},
        "recommendations": [{"item": "A", "months": ["2025-04", "2026-03"], "n": 31,
          "p50": 2.5, "p90": 4, "on_time": 29, "on_time_rate": 0.9355,
          "promised_limit_days": 10, "suggested_promise_days": 4,
          "flag": "unrealistic_or_short_of_capacity"}],
        "forecast": [], "hot_spots": {"orgs": [], "items": []}});
    let bytes = workbook(&doc, &insight_sheets(), CREATED).unwrap();
    assert_same(&bytes, &doc, &insight_sheets());
    // The flag reads in Chinese, as on the dashboard; a code without a label stays visible.
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).unwrap();
    let range = book.worksheet_range("承诺时限建议").unwrap();
    assert_eq!(
        range.get_value((1, 11)).cloned(),
        Some(Data::String("承诺不实或人手不足".into()))
    );
    let column = col("/flag", "提示", Kind::Label(FLAG_LABELS), None);
    assert_eq!(
        cell(&json!({"flag": "something_new"}), &column),
        Cell::Text("something_new".into())
    );
}

#[test]
fn the_chinese_file_name_is_percent_encoded() {
    assert_eq!(
        content_disposition("report-2026-03.xlsx", "考核-2026-03.xlsx"),
        "attachment; filename=\"report-2026-03.xlsx\"; \
         filename*=UTF-8''%E8%80%83%E6%A0%B8-2026-03.xlsx"
    );
}

#[test]
fn created_is_the_utc_date_of_the_instant() {
    // 2026-03-31T16:00:00Z
    assert_eq!(Created::from_unix_millis(1_774_972_800_000), CREATED);
    let epoch = Created::from_unix_millis(0);
    assert_eq!((epoch.year, epoch.month, epoch.day), (1970, 1, 1));
    let leap = Created::from_unix_millis(1_709_164_800_000); // 2024-02-29T00:00:00Z
    assert_eq!((leap.year, leap.month, leap.day), (2024, 2, 29));
}
