//! The language of the human output (`--lang zh|en`, else the locale) and the aligned text
//! tables it is printed in. The names of rules, statuses and severities come from
//! `jiancha_projections::names`; the CLI's own headings and legends are beside the code that
//! prints them. Machine formats (JSON, CSV, JSONL) never change with the language.

use jiancha_projections::Lang;
use unicode_width::UnicodeWidthStr as _;

/// The values `--lang` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LangArg {
    /// 简体中文.
    Zh,
    /// English.
    En,
}

impl From<LangArg> for Lang {
    fn from(arg: LangArg) -> Lang {
        match arg {
            LangArg::Zh => Lang::Zh,
            LangArg::En => Lang::En,
        }
    }
}

/// The language asked for: `--lang`, else the locale (`LC_ALL`, then `LC_MESSAGES`, then
/// `LANG`; Chinese for a value starting `zh`, English otherwise).
pub fn resolve(arg: Option<LangArg>) -> Lang {
    if let Some(arg) = arg {
        return arg.into();
    }
    let var = |name: &str| std::env::var(name).ok();
    Lang::from_locale_vars(
        var("LC_ALL").as_deref(),
        var("LC_MESSAGES").as_deref(),
        var("LANG").as_deref(),
    )
}

/// The terminal cells a text takes (a CJK character takes two).
pub fn cells(text: &str) -> usize {
    text.width()
}

/// How a column's cells line up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Text: padded on the right.
    Left,
    /// Numbers: padded on the left.
    Right,
}

/// A text table for people: columns as wide as their widest cell, counted in terminal cells,
/// two spaces apart, no trailing blanks.
#[derive(Debug, Clone)]
pub struct Table {
    columns: Vec<(String, Align)>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these headings.
    pub fn new<S: Into<String>>(columns: impl IntoIterator<Item = (S, Align)>) -> Self {
        Table {
            columns: columns.into_iter().map(|(h, a)| (h.into(), a)).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row (missing cells are blank, extra ones dropped).
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The table's lines, heading first.
    pub fn lines(&self) -> Vec<String> {
        let widths: Vec<usize> = (0..self.columns.len())
            .map(|i| {
                self.rows
                    .iter()
                    .filter_map(|r| r.get(i))
                    .map(|c| cells(c))
                    .chain([cells(&self.columns[i].0)])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let heading: Vec<String> = self.columns.iter().map(|(h, _)| h.clone()).collect();
        std::iter::once(&heading)
            .chain(&self.rows)
            .map(|row| {
                let mut line = String::new();
                for (i, ((_, align), width)) in self.columns.iter().zip(&widths).enumerate() {
                    let text = row.get(i).map_or("", String::as_str);
                    let pad = " ".repeat(width.saturating_sub(cells(text)));
                    if i > 0 {
                        line.push_str("  ");
                    }
                    match align {
                        Align::Left => {
                            line.push_str(text);
                            line.push_str(&pad);
                        }
                        Align::Right => {
                            line.push_str(&pad);
                            line.push_str(text);
                        }
                    }
                }
                line.trim_end().to_owned()
            })
            .collect()
    }

    /// Writes the table's lines.
    pub fn write(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        for line in self.lines() {
            writeln!(out, "{line}")?;
        }
        Ok(())
    }
}

/// Writes labelled values, a line each: the label padded to the widest label (in terminal
/// cells), two spaces, then the value.
pub fn write_labelled(
    out: &mut dyn std::io::Write,
    rows: &[(&str, String)],
) -> std::io::Result<()> {
    let width = rows.iter().map(|(k, _)| cells(k)).max().unwrap_or(0);
    for (k, val) in rows {
        let pad = " ".repeat(width.saturating_sub(cells(k)));
        writeln!(out, "{k}{pad}  {val}")?;
    }
    Ok(())
}

/// Lays `entries` out as lines of at most `width` cells, joined by `sep` (a line that breaks
/// ends with it, trailing blanks trimmed), each line after the first indented by `indent`.
pub fn wrap(entries: &[String], sep: &str, width: usize, indent: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for e in entries {
        if !line.is_empty() && cells(&line) + cells(sep) + cells(e) > width {
            line.push_str(sep.trim_end());
            lines.push(std::mem::take(&mut line));
        }
        if line.is_empty() {
            if !lines.is_empty() {
                line.push_str(indent);
            }
        } else {
            line.push_str(sep);
        }
        line.push_str(e);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up_in_terminal_cells() {
        let mut t = Table::new([("单位", Align::Left), ("N", Align::Right)]);
        t.row(vec!["区市场监管局".into(), "7".into()]);
        t.row(vec!["town-1".into(), "12".into()]);
        let lines = t.lines();
        assert_eq!(
            lines,
            ["单位           N", "区市场监管局   7", "town-1        12"]
        );
        let ends: Vec<usize> = lines.iter().map(|l| cells(l)).collect();
        assert_eq!(ends, [16, 16, 16]);
    }

    #[test]
    fn wrapping_keeps_within_the_width() {
        let entries: Vec<String> = ["aaaa", "bbbb", "cccc"].map(String::from).to_vec();
        assert_eq!(wrap(&entries, ", ", 11, "  "), ["aaaa, bbbb,", "  cccc"]);
    }
}
