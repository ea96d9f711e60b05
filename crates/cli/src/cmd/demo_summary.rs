//! The summary `jiancha demo` prints at the end of its simulation, in one screen (at most 30
//! lines of 100 cells): the district's totals over the simulated months, the ten units with the
//! most red cards, the targets (every case on time, satisfaction of at least 95%, every item
//! handled in the center) and the units that miss them, then the command that prints the full
//! table (`jiancha report`). In the language of `--lang`.

use std::collections::BTreeSet;
use std::io::Write as _;

use chrono::NaiveDate;
use jiancha_engine::Engine;
use jiancha_events::{EventData, OrgKind, Severity};
use jiancha_projections::ledger::{Counts, Dimension};
use jiancha_projections::report::{items_in_center, Row};
use jiancha_projections::{Lang, Period, ReportQuery};
use jiancha_store::EventStore;

use crate::cmd::report::{items_line, misses_on_time, misses_satisfaction};
use crate::lang::{wrap, Align, Table};

/// The units in the ranking.
const WORST: usize = 10;
/// The widest line of the summary, in terminal cells.
const WIDTH: usize = 100;
/// At most this many lines naming the units that miss a target.
const MISSING_LINES: usize = 2;

/// What the summary is about: the demo's log file and the days it simulated.
#[derive(Debug, Clone)]
pub struct Run<'a> {
    /// The log's file, as `--file` named it (for the commands the summary suggests).
    pub file: &'a std::path::Path,
    /// The first day applications arrived.
    pub start: NaiveDate,
    /// The last day anything was entered.
    pub last_day: NaiveDate,
}

/// Prints the summary of a finished simulation.
pub async fn summarize(
    engine: &Engine,
    store: &dyn EventStore,
    run: &Run<'_>,
    lang: Lang,
) -> anyhow::Result<()> {
    let now = engine.now();
    let cards = store
        .read_stream(jiancha_events::SUPERVISION_STREAM)
        .await?
        .iter()
        .filter(|e| matches!(e.data, EventData::CardIssued(_)))
        .count();
    let p = engine.read();
    let mut open = [0usize; 3];
    for a in p.alerts(now).iter().filter(|a| a.is_open()) {
        match Severity::parse(a.severity) {
            Some(Severity::Red) => open[0] += 1,
            Some(Severity::Yellow) => open[1] += 1,
            Some(Severity::Warning) => open[2] += 1,
            None => {}
        }
    }
    let (from, to) = (
        run.start.format("%Y-%m").to_string(),
        run.last_day.format("%Y-%m").to_string(),
    );
    let (period, report_args) = if from == to {
        (Period::parse(&from), format!("--period {from}"))
    } else {
        (
            Period::range(&from, &to),
            format!("--from {from} --to {to}"),
        )
    };
    let query = ReportQuery {
        period: period.map_err(anyhow::Error::msg)?,
        by: Dimension::Org,
        depth: None,
    };
    let rows = p.report(&query, now).map(|r| r.rows).unwrap_or_default();
    let facts = Facts {
        cases: p.case_count(),
        events: p.position(),
        cards,
        open,
        items: items_in_center(&p),
        units: p
            .catalog
            .orgs()
            .filter(|(_, o)| matches!(o.kind, OrgKind::Department | OrgKind::Town))
            .map(|(path, _)| path.to_owned())
            .collect(),
    };
    drop(p);
    // The commands evaluate at the summary's instant (the end of its last day), not the wall
    // clock, so that they print the summary's figures.
    let as_of = jiancha_projections::instant::date_of(now);
    let db = format!("sqlite://{}", run.file.display());
    let commands = Commands {
        report: format!(
            "jiancha --db {db} --lang {} report {report_args} --now {as_of}",
            lang.code()
        ),
        alerts: format!(
            "jiancha --db {db} --lang {} alerts --open --now {as_of}",
            lang.code()
        ),
    };
    let text = render(run, &query.period.label, &rows, &facts, lang, &commands);
    let mut out = std::io::BufWriter::new(crate::stdout::lock());
    for line in text {
        writeln!(out, "{line}")?;
    }
    out.flush()?;
    Ok(())
}

/// The figures that do not come from the report's rows.
#[derive(Debug, Clone)]
pub struct Facts {
    /// Cases simulated.
    pub cases: usize,
    /// Events in the log.
    pub events: u64,
    /// `CardIssued` events (cards and prompts delivered).
    pub cards: usize,
    /// Open alerts at the end: red, yellow, warnings.
    pub open: [usize; 3],
    /// Items handled in the center, of all items.
    pub items: (i64, i64),
    /// The orgs assessed as units: the departments and towns the catalog names.
    pub units: BTreeSet<String>,
}

/// The commands that print what the summary sums up.
#[derive(Debug, Clone)]
pub struct Commands {
    /// The full report of the simulated months.
    pub report: String,
    /// The alerts still open.
    pub alerts: String,
}

/// `num` of `den` as a percentage with one decimal, rounded half up in integers; `—` for none.
fn percent(num: i64, den: i64) -> String {
    if den <= 0 {
        return "—".to_owned();
    }
    let tenths = (num.max(0) * 2_000 + den) / (2 * den);
    format!("{}.{}%", tenths / 10, tenths % 10)
}

/// A rate with its numerator and denominator: `95.7% (268/280)`.
fn rate_n(num: i64, den: i64) -> String {
    if den <= 0 {
        return "—".to_owned();
    }
    format!("{} ({num}/{den})", percent(num, den))
}

/// The rows of the units: the departments and towns, as the dashboard's overview counts them;
/// without org kinds in the catalog, the rows no other row lies under.
fn units<'r>(rows: &'r [Row], named: &BTreeSet<String>) -> Vec<&'r Row> {
    let key = |r: &Row| r.org.clone().unwrap_or_default();
    let kinds: Vec<&Row> = rows.iter().filter(|r| named.contains(&key(r))).collect();
    if !kinds.is_empty() {
        return kinds;
    }
    rows.iter()
        .filter(|r| {
            let prefix = format!("{}/", key(r));
            !rows.iter().any(|o| key(o).starts_with(&prefix))
        })
        .collect()
}

/// A unit as the summary names it: its name, else its path.
fn unit_name(r: &Row) -> String {
    r.name.clone().or_else(|| r.org.clone()).unwrap_or_default()
}

/// The summary's lines.
pub fn render(
    run: &Run<'_>,
    period: &str,
    rows: &[Row],
    facts: &Facts,
    lang: Lang,
    commands: &Commands,
) -> Vec<String> {
    let l = |zh: &'static str, en: &'static str| lang.pick(zh, en);
    let mut lines = Vec::new();
    lines.push(match lang {
        Lang::Zh => format!(
            "jiancha demo：在实时引擎上模拟 {} 件案件、{} 个事件，至 {}",
            facts.cases, facts.events, run.last_day
        ),
        Lang::En => format!(
            "jiancha demo: {} cases, {} events, simulated through {} on the live engine",
            facts.cases, facts.events, run.last_day
        ),
    });
    // The district: the rows at the top of the tree.
    let roots: Vec<&Row> = rows
        .iter()
        .filter(|r| r.org.as_deref().is_some_and(|o| !o.contains('/')))
        .collect();
    let mut c = Counts::default();
    for r in &roots {
        c.merge(&r.counts);
    }
    let district = roots.first().map_or_else(String::new, |r| {
        let org = r.org.clone().unwrap_or_default();
        r.name.as_ref().map_or(org.clone(), |n| match lang {
            Lang::Zh => format!("{n}（{org}）"),
            Lang::En => format!("{n} ({org})"),
        })
    });
    let [red, yellow, warnings] = facts.open;
    lines.push(String::new());
    match lang {
        Lang::Zh => {
            lines.push(format!("全区 {district}，{period}"));
            lines.push(format!(
                "  案件 {}，受理 {}，办结 {}；按时办结率 {}；满意率 {}",
                facts.cases,
                c.accepted,
                c.concluded,
                rate_n(c.on_time, c.concluded),
                rate_n(c.satisfied, c.rated),
            ));
            lines.push(format!(
                "  发牌 {}；未解除：红牌 {red}，黄牌 {yellow}，预警提示 {warnings}",
                facts.cards
            ));
            lines.push(format!(
                "  督办按时整改率 {}；差评整改率 {}",
                rate_n(c.corrected_on_time, c.ordered),
                rate_n(c.rectified_on_time, c.bad_valid),
            ));
        }
        Lang::En => {
            lines.push(format!("District {district}, {period}"));
            lines.push(format!(
                "  cases {}, accepted {}, concluded {}; on time {}; satisfied {}",
                facts.cases,
                c.accepted,
                c.concluded,
                rate_n(c.on_time, c.concluded),
                rate_n(c.satisfied, c.rated),
            ));
            lines.push(format!(
                "  cards issued {}; open now: red {red}, yellow {yellow}, warnings (prompts) {warnings}",
                facts.cards
            ));
            lines.push(format!(
                "  correction orders done on time {}; bad ratings rectified {}",
                rate_n(c.corrected_on_time, c.ordered),
                rate_n(c.rectified_on_time, c.bad_valid),
            ));
        }
    }
    // The worst units: most red cards, then most yellow, then the path.
    let units = units(rows, &facts.units);
    let mut worst = units.clone();
    worst.sort_by(|a, b| (b.red, b.yellow, &a.org).cmp(&(a.red, a.yellow, &b.org)));
    worst.truncate(WORST);
    lines.push(String::new());
    lines.push(match lang {
        Lang::Zh => format!(
            "红牌最多的 {} 个单位（红牌相同看黄牌；共 {} 个单位）",
            worst.len(),
            units.len()
        ),
        Lang::En => format!(
            "The {} units with the most red cards, then yellow (of {} units)",
            worst.len(),
            units.len()
        ),
    });
    let mut table = Table::new([
        (l("单位", "UNIT"), Align::Left),
        (l("名称", "NAME"), Align::Left),
        (l("红牌", "RED"), Align::Right),
        (l("黄牌", "YELLOW"), Align::Right),
        (l("按时办结率", "ON TIME"), Align::Right),
        (l("满意率", "SATISFIED"), Align::Right),
        (l("得分", "SCORE"), Align::Right),
    ]);
    for r in &worst {
        table.row(vec![
            r.org.clone().unwrap_or_default(),
            r.name.clone().unwrap_or_else(|| "-".to_owned()),
            r.red.to_string(),
            r.yellow.to_string(),
            rate_n(r.counts.on_time, r.counts.concluded),
            rate_n(r.counts.satisfied, r.counts.rated),
            r.score.as_deref().map_or("-", |s| s.get()).to_owned(),
        ]);
    }
    lines.extend(table.lines().into_iter().map(|line| format!("  {line}")));
    // The targets and who misses them.
    lines.push(String::new());
    lines.push(l("目标", "Targets").to_owned());
    for (target, misses) in [
        (
            l("按时办结率 100%", "on-time completion 100%"),
            misses_on_time as fn(&Row) -> bool,
        ),
        (
            l("满意率 ≥ 95%", "satisfaction >= 95%"),
            misses_satisfaction,
        ),
    ] {
        let missing: Vec<String> = units
            .iter()
            .filter(|r| misses(r))
            .map(|r| unit_name(r))
            .collect();
        let head = match (lang, missing.len()) {
            (Lang::Zh, 0) => format!("  {target}：{} 个单位全部达标", units.len()),
            (Lang::En, 0) => format!("  {target}: met by all {} units", units.len()),
            (Lang::Zh, n) => format!("  ✗ {target}：{n} 个单位未达标（共 {} 个）：", units.len()),
            (Lang::En, n) => format!("  ✗ {target}: missed by {n} of {} units: ", units.len()),
        };
        let mut entries = missing;
        if let Some(first) = entries.first_mut() {
            *first = format!("{head}{first}");
        } else {
            entries.push(head);
        }
        // Room for the mark of a cut list.
        let mut wrapped = wrap(&entries, l("、", ", "), WIDTH - 4, "    ");
        if wrapped.len() > MISSING_LINES {
            wrapped.truncate(MISSING_LINES);
            if let Some(last) = wrapped.last_mut() {
                let cut = last.trim_end_matches(l("、", ",")).len();
                last.truncate(cut);
                last.push_str(l(" 等", ", …"));
            }
        }
        lines.extend(wrapped);
    }
    lines.push(format!("  {}", items_line(facts.items, lang)));
    lines.push(String::new());
    lines.push(
        l(
            "完整报表与未解除的预警（截至本摘要）：",
            "The full table and the open alerts, as of this summary:",
        )
        .to_owned(),
    );
    lines.push(format!("  {}", commands.report));
    lines.push(format!("  {}", commands.alerts));
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_round_half_up_in_integers() {
        assert_eq!(percent(268, 280), "95.7%");
        assert_eq!(percent(1, 8), "12.5%");
        assert_eq!(percent(1, 3), "33.3%");
        assert_eq!(percent(2, 3), "66.7%");
        assert_eq!(percent(0, 0), "—");
        assert_eq!(rate_n(5, 7), "71.4% (5/7)");
    }
}
