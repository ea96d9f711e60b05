//! The figures of a month's public disclosure, read two ways so that tests can compare them:
//! from the disclosure page's HTML and from the report's JSON rows. Shared by the server's and
//! the end-to-end test binaries (each includes this file with `#[path]`).

use std::collections::BTreeMap;

use serde_json::Value;

/// Figures by org, then by field, as text.
pub type Figures = BTreeMap<String, BTreeMap<String, String>>;

/// The figures of the disclosure page for `period`: org → field → `data-value` (empty when the
/// page has no section for the period).
pub fn page_figures(html: &str, period: &str) -> Figures {
    let start = format!("data-period=\"{period}\"");
    let Some(section) = html.split(&start).nth(1) else {
        return BTreeMap::new();
    };
    let section = section.split("</section>").next().unwrap();
    let mut out = BTreeMap::new();
    for row in section.split("<tr data-org=\"").skip(1) {
        let org = row.split('"').next().unwrap().to_owned();
        let fields = row
            .split("data-field=\"")
            .skip(1)
            .map(|cell| {
                let field = cell.split('"').next().unwrap().to_owned();
                let value = cell.split("data-value=\"").nth(1).unwrap();
                (field, value.split('"').next().unwrap().to_owned())
            })
            .collect();
        out.insert(org, fields);
    }
    out
}

/// The same figures from a report's JSON rows: rates as the page prints them (4 decimals),
/// counts and grades as they are, null as empty.
pub fn report_figures(report: &Value) -> Figures {
    let text = |v: &Value| match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Number(n) if n.is_f64() => format!("{:.4}", n.as_f64().unwrap()),
        other => other.to_string(),
    };
    report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let fields = [
                "on_time_rate",
                "early_rate",
                "satisfaction_rate",
                "rectification_rate",
                "overdue_open",
                "grade",
            ]
            .into_iter()
            .map(|f| (f.to_owned(), text(&r[f])))
            .collect();
            (r["org"].as_str().unwrap().to_owned(), fields)
        })
        .collect()
}
