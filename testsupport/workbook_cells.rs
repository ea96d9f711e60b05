//! A workbook read back cell by cell against the JSON it was written from, through the sheet
//! specs that wrote it. Shared by the server's and the end-to-end test binaries (each includes
//! this file with `#[path]`).

use std::io::Cursor;

use calamine::{open_workbook_from_rs, Data, Reader, Xlsx};

/// Asserts that the workbook `bytes` has exactly the sheets of `sheets`, each with its columns'
/// titles and then one row a JSON row of `doc`, every cell equal to what the spec makes of it;
/// returns how many body cells it compared.
pub fn assert_cells_are(
    bytes: &[u8],
    doc: &serde_json::Value,
    sheets: &[jiancha_xlsx::Sheet],
) -> usize {
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes.to_vec())).unwrap();
    let names: Vec<String> = sheets.iter().map(|s| s.name.clone()).collect();
    assert_eq!(book.sheet_names(), names);
    let mut cells = 0;
    for spec in sheets {
        let range = book.worksheet_range(&spec.name).unwrap();
        let rows = jiancha_xlsx::rows(doc, spec);
        let height = range.end().map_or(0, |(r, _)| r as usize + 1);
        assert_eq!(height, rows.len() + 1, "{}", spec.name);
        for (c, column) in spec.columns.iter().enumerate() {
            let head = range.get_value((0, c as u32)).cloned();
            assert_eq!(head, Some(Data::String(column.title.clone())));
            for (r, row) in rows.iter().enumerate() {
                let got = range
                    .get_value((r as u32 + 1, c as u32))
                    .cloned()
                    .unwrap_or(Data::Empty);
                let want = match jiancha_xlsx::cell(row, column) {
                    jiancha_xlsx::Cell::Empty => Data::Empty,
                    jiancha_xlsx::Cell::Text(t) => Data::String(t),
                    jiancha_xlsx::Cell::Number(n) => Data::Float(n),
                };
                assert_eq!(got, want, "{} row {} {}", spec.name, r + 1, column.field);
                cells += 1;
            }
        }
    }
    cells
}
