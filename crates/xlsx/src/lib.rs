//! Excel workbooks (.xlsx) for evaluators, who work in Excel or WPS: the report and the insight
//! as one sheet per view, with Chinese headers, the header row frozen, rates formatted as
//! percentages and missed targets highlighted. The CLI (`--format xlsx --output FILE`) and the
//! server (`?format=xlsx`) both write through [`workbook`], from the JSON they would otherwise
//! answer with, so a workbook and the JSON report cannot disagree: each column names the JSON
//! field it shows ([`Column::field`]) and [`cell`] is the one reading of a field as a cell.
//!
//! Pure: no I/O and no clock (the workbook's creation time is the caller's instant, so the same
//! report gives the same bytes).

#![warn(missing_docs)]

use rust_xlsxwriter::{Color, DocProperties, ExcelDateTime, Format, FormatBorder, Workbook};
use serde_json::Value;

/// The content type of an .xlsx file.
pub const CONTENT_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Why a workbook could not be written.
#[derive(Debug, thiserror::Error)]
pub enum XlsxError {
    /// The writer refused (a name or a size out of Excel's range): a bug in a sheet's spec.
    #[error("cannot write the workbook: {0}")]
    Write(#[from] rust_xlsxwriter::XlsxError),
}

/// How a column's values are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Text as it is.
    Text,
    /// A whole number.
    Int,
    /// A ratio shown as a percentage with two decimals (the JSON's exact 4 decimals).
    Rate,
    /// A number with up to two decimals (working days in halves, cards per 100).
    Number,
    /// A code shown by its Chinese label (`(code, label)`); a code without one is shown as it
    /// is, never dropped.
    Label(&'static [(&'static str, &'static str)]),
}

/// The insight's flags by their Chinese labels (the dashboard's and the CLI's wording).
pub const FLAG_LABELS: &[(&str, &str)] =
    &[("unrealistic_or_short_of_capacity", "承诺不实或人手不足")];

/// The target a column's values are held to: a cell that misses it is highlighted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    /// At least this number.
    AtLeast(f64),
    /// At most this number.
    AtMost(f64),
    /// Empty (a flag shown is a miss).
    Blank,
}

/// One column: the JSON field of a row it shows, its Chinese header, its kind and its target.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// A JSON pointer inside the row (`/on_time_rate`, `/months/0/accepted`); alternatives
    /// separated by `|` take the first present (`/org|/item|/channel`).
    pub field: String,
    /// The header (Chinese).
    pub title: String,
    /// How values are shown.
    pub kind: Kind,
    /// The target, if any.
    pub target: Option<Target>,
}

/// One sheet: the rows of one array of the JSON document.
#[derive(Debug, Clone, PartialEq)]
pub struct Sheet {
    /// The sheet's name (Chinese, at most 31 characters).
    pub name: String,
    /// A JSON pointer to the array of rows in the document.
    pub rows: String,
    /// Keep only rows whose field (a pointer) equals this text.
    pub only: Option<(String, String)>,
    /// The columns.
    pub columns: Vec<Column>,
}

/// A cell as written (and as read back).
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// No value (a JSON null or an absent field).
    Empty,
    /// Text.
    Text(String),
    /// A number.
    Number(f64),
}

/// The instant a workbook says it was created (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Created {
    /// Year.
    pub year: u16,
    /// Month, 1–12.
    pub month: u8,
    /// Day, 1–31.
    pub day: u8,
    /// Hour.
    pub hour: u16,
    /// Minute.
    pub minute: u8,
    /// Second.
    pub second: u8,
}

impl Created {
    /// The UTC date and time of an instant in milliseconds since the Unix epoch (clamped to
    /// the years 1970–9999).
    pub fn from_unix_millis(ms: i64) -> Created {
        let secs = ms.div_euclid(1000).clamp(0, 253_402_300_799);
        let (days, rest) = (secs / 86_400, secs % 86_400);
        // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
        let z = days + 719_468;
        let era = z / 146_097;
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        Created {
            year: year as u16,
            month: month as u8,
            day: day as u8,
            hour: (rest / 3600) as u16,
            minute: (rest % 3600 / 60) as u8,
            second: (rest % 60) as u8,
        }
    }
}

/// The columns of the first `n` elements of the array at `array`, element by element: for
/// each, one column per (field, title, kind), titled with the element's number from 1.
fn per_index(array: &str, n: usize, fields: &[(&str, &str, Kind)]) -> Vec<Column> {
    (0..n)
        .flat_map(|i| {
            fields.iter().map(move |(field, title, kind)| {
                col(
                    &format!("{array}/{i}/{field}"),
                    &format!("{title}{}", i + 1),
                    *kind,
                    None,
                )
            })
        })
        .collect()
}

fn col(field: &str, title: &str, kind: Kind, target: Option<Target>) -> Column {
    Column {
        field: field.to_owned(),
        title: title.to_owned(),
        kind,
        target,
    }
}

fn sheet(name: &str, rows: &str, columns: Vec<Column>) -> Sheet {
    Sheet {
        name: name.to_owned(),
        rows: rows.to_owned(),
        only: None,
        columns,
    }
}

/// The rows of a sheet in a document.
pub fn rows<'a>(doc: &'a Value, sheet: &Sheet) -> Vec<&'a Value> {
    let all = doc
        .pointer(&sheet.rows)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    all.iter()
        .filter(|row| {
            sheet.only.as_ref().is_none_or(|(field, want)| {
                row.pointer(field).and_then(Value::as_str) == Some(want.as_str())
            })
        })
        .collect()
}

/// A row's field as a cell of a column: null, absent and empty text are an empty cell.
pub fn cell(row: &Value, column: &Column) -> Cell {
    let value = column
        .field
        .split('|')
        .find_map(|f| row.pointer(f).filter(|v| !v.is_null()));
    match value {
        None | Some(Value::Null) => Cell::Empty,
        // An empty text is an empty cell (a spreadsheet has no other).
        Some(Value::String(s)) if s.is_empty() => Cell::Empty,
        Some(Value::String(s)) => match column.kind {
            Kind::Text => Cell::Text(s.clone()),
            Kind::Label(labels) => Cell::Text(
                labels
                    .iter()
                    .find(|(code, _)| code == s)
                    .map_or_else(|| s.clone(), |(_, label)| (*label).to_owned()),
            ),
            _ => s
                .parse()
                .map_or_else(|_| Cell::Text(s.clone()), Cell::Number),
        },
        Some(Value::Number(n)) => match column.kind {
            Kind::Text | Kind::Label(_) => Cell::Text(n.to_string()),
            _ => n.as_f64().map_or(Cell::Empty, Cell::Number),
        },
        Some(Value::Bool(b)) => Cell::Text(if *b { "是" } else { "否" }.to_owned()),
        Some(other) => Cell::Text(other.to_string()),
    }
}

/// Whether a cell misses its column's target.
pub fn misses(cell: &Cell, column: &Column) -> bool {
    match (column.target, cell) {
        (Some(Target::AtLeast(t)), Cell::Number(v)) => *v < t,
        (Some(Target::AtMost(t)), Cell::Number(v)) => *v > t,
        (Some(Target::Blank), Cell::Text(_) | Cell::Number(_)) => true,
        _ => false,
    }
}

/// Writes the sheets of `doc` as a workbook.
pub fn workbook(doc: &Value, sheets: &[Sheet], created: Created) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let when = ExcelDateTime::from_ymd(created.year, created.month, created.day)?.and_hms(
        created.hour,
        created.minute,
        created.second,
    )?;
    book.set_properties(&DocProperties::new().set_creation_datetime(&when));
    let header = Format::new()
        .set_bold()
        .set_background_color(Color::RGB(0xDDEBF7))
        .set_border_bottom(FormatBorder::Thin);
    let miss = Color::RGB(0xFFC7CE);
    let formats = |kind: Kind| match kind {
        Kind::Rate => Format::new().set_num_format("0.00%"),
        Kind::Number => Format::new().set_num_format("0.##"),
        Kind::Int => Format::new().set_num_format("0"),
        Kind::Text | Kind::Label(_) => Format::new(),
    };
    for spec in sheets {
        let ws = book.add_worksheet();
        ws.set_name(&spec.name)?;
        for (c, column) in spec.columns.iter().enumerate() {
            let c = u16::try_from(c).unwrap_or(u16::MAX);
            ws.write_string_with_format(0, c, &column.title, &header)?;
            let width = column.title.chars().count() * 2 + 4;
            ws.set_column_width(c, width.clamp(8, 40) as f64)?;
        }
        ws.set_freeze_panes(1, 0)?;
        for (r, row) in rows(doc, spec).into_iter().enumerate() {
            let r = u32::try_from(r + 1).unwrap_or(u32::MAX);
            for (c, column) in spec.columns.iter().enumerate() {
                let c = u16::try_from(c).unwrap_or(u16::MAX);
                let value = cell(row, column);
                let mut format = formats(column.kind);
                if misses(&value, column) {
                    format = format.set_background_color(miss);
                }
                match value {
                    Cell::Empty => {}
                    Cell::Text(t) => {
                        ws.write_string_with_format(r, c, &t, &format)?;
                    }
                    Cell::Number(n) => {
                        ws.write_number_with_format(r, c, n, &format)?;
                    }
                }
            }
        }
    }
    Ok(book.save_to_buffer()?)
}

/// The report's sheet (`jiancha report --format json`): one row per org, item or channel.
pub fn report_sheets() -> Vec<Sheet> {
    use Kind::{Int, Rate, Text};
    let columns = vec![
        col("/org|/item|/channel", "单位/事项/渠道", Text, None),
        col("/name", "名称", Text, None),
        col("/accepted", "受理", Int, None),
        col("/concluded", "办结", Int, None),
        col("/on_time", "按时办结", Int, None),
        col(
            "/on_time_rate",
            "按时办结率",
            Rate,
            Some(Target::AtLeast(1.0)),
        ),
        col("/early", "提前办结", Int, None),
        col("/early_rate", "提前办结率", Rate, None),
        col("/statutory_on_time", "法定时限内办结", Int, None),
        col("/overdue_open", "在办超期", Int, Some(Target::AtMost(0.0))),
        col("/yellow", "黄牌", Int, None),
        col("/red", "红牌", Int, None),
        col("/rated", "评价", Int, None),
        col("/satisfied", "满意", Int, None),
        col(
            "/satisfaction_rate",
            "满意率",
            Rate,
            Some(Target::AtLeast(0.95)),
        ),
        col("/bad_rated", "差评", Int, None),
        col("/complaints", "投诉", Int, None),
        col("/warnings", "预警提示", Int, None),
        col("/unmonitored", "未纳入监察", Int, None),
        col("/ordered", "督办", Int, None),
        col("/corrected_on_time", "按时整改", Int, None),
        col("/correction_rate", "纠错率", Rate, None),
        col("/correction_overdue", "督办逾期", Int, None),
        col("/bad_valid", "属实差评", Int, None),
        col("/rectified_on_time", "按时整改差评", Int, None),
        col("/rectification_rate", "差评整改率", Rate, None),
        col("/callback_satisfied", "回访满意", Int, None),
        col("/defaulted", "默认评价", Int, None),
        col("/complaints_upheld", "投诉属实", Int, None),
        col("/complaints_late", "投诉处理逾期", Int, None),
        col("/score", "得分", Kind::Number, Some(Target::AtLeast(60.0))),
        col("/grade", "等级", Text, None),
    ];
    vec![sheet("考核报表", "/rows", columns)]
}

/// The insight's sheets (`jiancha insight --format json`): the bottlenecks per item, org and
/// step, the promise recommendations, the forecast and the two hot spots.
pub fn insight_sheets() -> Vec<Sheet> {
    use Kind::{Int, Number, Rate, Text};
    let spread = |key: &str, title: &str, limit: bool| {
        let mut v = vec![
            col(key, title, Text, None),
            col("/name", "名称", Text, None),
            col("/n", "办结件数", Int, None),
            col("/on_time", "按时办结", Int, None),
            col(
                "/on_time_rate",
                "按时办结率",
                Rate,
                Some(Target::AtLeast(1.0)),
            ),
            col("/p50", "用时中位数(工作日)", Number, None),
            col("/p90", "用时P90(工作日)", Number, None),
            col("/max", "最长用时", Int, None),
            col("/used_days_total", "用时合计", Int, None),
        ];
        if limit {
            v.push(col("/promised_limit_days", "承诺时限", Int, None));
        }
        v
    };
    let mut forecast = vec![
        col("/dimension", "维度", Text, None),
        col("/key", "事项/单位", Text, None),
        col("/name", "名称", Text, None),
    ];
    forecast.extend(per_index(
        "/months",
        3,
        &[("month", "预测月", Text), ("accepted", "预测受理", Int)],
    ));
    forecast.extend([
        col("/trend_recent", "近12月受理", Int, None),
        col("/trend_prior", "前12月受理", Int, None),
        col("/backtest_abs_error", "回测绝对误差合计", Int, None),
        col("/backtest_error_rate", "回测误差率", Rate, None),
    ]);
    forecast.extend(per_index(
        "/backtest",
        6,
        &[
            ("month", "回测月", Text),
            ("actual", "实际", Int),
            ("forecast", "回测预测", Int),
        ],
    ));
    let mut cards = vec![
        col("/org", "单位", Text, None),
        col("/name", "名称", Text, None),
    ];
    cards.extend(per_index(
        "/months",
        4,
        &[
            ("month", "月份", Text),
            ("accepted", "受理", Int),
            ("cards", "红黄牌", Int),
            ("per_100", "每百件红黄牌", Number),
        ],
    ));
    vec![
        sheet(
            "事项用时",
            "/bottlenecks/items",
            spread("/item", "事项", true),
        ),
        sheet(
            "单位用时",
            "/bottlenecks/orgs",
            spread("/org", "单位", false),
        ),
        sheet(
            "环节用时",
            "/bottlenecks/steps",
            vec![
                col("/item", "事项", Text, None),
                col("/item_name", "事项名称", Text, None),
                col("/step_index", "环节序号", Int, None),
                col("/step", "环节", Text, None),
                col("/n", "件数", Int, None),
                col("/days_total", "用时合计(工作日)", Int, None),
                col("/share", "占事项用时", Rate, None),
                col("/p50", "中位数", Number, None),
                col("/p90", "P90", Number, None),
                col("/max", "最长", Int, None),
                col(
                    "/overran",
                    "超时发生于此环节",
                    Int,
                    Some(Target::AtMost(0.0)),
                ),
            ],
        ),
        sheet(
            "承诺时限建议",
            "/recommendations",
            vec![
                col("/item", "事项", Text, None),
                col("/name", "名称", Text, None),
                col("/months/0", "起始月", Text, None),
                col("/months/1", "截止月", Text, None),
                col("/n", "办结件数", Int, None),
                col("/p50", "用时中位数", Number, None),
                col("/p90", "用时P90", Number, None),
                col("/on_time", "按时办结", Int, None),
                col(
                    "/on_time_rate",
                    "按时办结率",
                    Rate,
                    Some(Target::AtLeast(0.95)),
                ),
                col("/promised_limit_days", "现承诺时限", Int, None),
                col("/suggested_promise_days", "建议承诺时限", Int, None),
                col(
                    "/flag",
                    "提示",
                    Kind::Label(FLAG_LABELS),
                    Some(Target::Blank),
                ),
            ],
        ),
        sheet("业务量预测", "/forecast", forecast),
        sheet("红黄牌上升单位", "/hot_spots/orgs", cards),
        sheet(
            "重复补正事项",
            "/hot_spots/items",
            vec![
                col("/item", "事项", Text, None),
                col("/name", "名称", Text, None),
                col("/submitted", "申请件数", Int, None),
                col("/repeated", "二次补正件数", Int, None),
                col("/rate", "二次补正率", Rate, None),
            ],
        ),
    ]
}

/// A `Content-Disposition` value for a download: an ASCII fallback name and the Chinese name
/// per RFC 5987 (`filename*=UTF-8''…`).
pub fn content_disposition(ascii: &str, name: &str) -> String {
    let mut encoded = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests;
