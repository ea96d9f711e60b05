//! `--lang zh|en` through the binary: goldens of `alerts`, `case show`, `report` and `demo` in
//! both languages (`UPDATE_EXPECT=1` rewrites them in `tests/lang/`; review the diff), columns
//! lined up in terminal cells with Chinese in them, `demo` in one screen, the locale choosing
//! the language when `--lang` is absent (LC_ALL over LC_MESSAGES over LANG), and the machine
//! formats the same in both languages.

use std::path::PathBuf;

use unicode_width::UnicodeWidthStr;

use crate::support::*;

fn sample() -> Workspace {
    let ws = Workspace::new();
    let r = ws.run(&["import", "--historical", "-"], &sample_district());
    assert_eq!(r.code, 0, "{r:?}");
    ws
}

/// The views with a golden each, per language.
const VIEWS: [(&str, &[&str]); 3] = [
    ("alerts", &["alerts", "--now", "2026-04-30"]),
    (
        "case-show",
        &["case", "show", "case-2026-000103", "--now", "2026-04-30"],
    ),
    (
        "report",
        &["report", "--period", "2026-03", "--now", "2026-04-30"],
    ),
];

/// A small simulated district: the demo's summary.
const DEMO: [&str; 7] = ["demo", "--cases", "60", "--seed", "3", "--file", "demo.db"];

fn golden_path(name: &str, lang: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("lang")
        .join(format!("{name}.{lang}.txt"))
}

/// Compares `actual` with its golden, or rewrites the golden under `UPDATE_EXPECT`.
fn check_golden(name: &str, lang: &str, actual: &str, failures: &mut Vec<String>) {
    let path = golden_path(name, lang);
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    if expected != actual {
        failures.push(format!("{}:\n{actual}", path.display()));
    }
}

fn run_lang(ws: &Workspace, lang: &str, args: &[&str]) -> String {
    let mut all = vec!["--lang", lang];
    all.extend_from_slice(args);
    let r = ws.run(&all, "");
    assert_eq!(r.code, 0, "{all:?}: {r:?}");
    r.stdout
}

/// The cells of a table line with where each starts and ends, in terminal cells: the texts
/// two or more blanks apart.
fn tokens(line: &str) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    let (mut at, mut blanks) = (0, 0);
    for c in line.chars() {
        let w = c.to_string().width();
        if c == ' ' {
            blanks += 1;
        } else {
            match out.last_mut() {
                Some(last) if blanks < 2 => last.1 = at + w,
                _ => out.push((at, at + w)),
            }
            blanks = 0;
        }
        at += w;
    }
    out
}

/// Every row of the table whose heading starts with `heading` (the lines below it with three
/// or more cells) lines up with the heading in terminal cells: each cell starts where a
/// heading starts (text, left-aligned) or ends where one ends (numbers, right-aligned).
fn assert_aligned(text: &str, heading: &str) {
    let mut lines = text
        .lines()
        .skip_while(|l| !l.trim_start().starts_with(heading));
    let head = lines
        .next()
        .unwrap_or_else(|| panic!("no heading {heading:?} in\n{text}"));
    let columns = tokens(head);
    let mut rows = 0;
    for row in lines.take_while(|l| tokens(l).len() >= 3) {
        for (start, end) in tokens(row) {
            assert!(
                columns.iter().any(|c| c.0 == start || c.1 == end),
                "a cell at {start}..{end} of {row:?} lines up with no heading of {head:?}"
            );
        }
        rows += 1;
    }
    assert!(rows > 0, "no rows under {head:?} in\n{text}");
}

#[test]
fn views_in_chinese_and_english_match_their_goldens() {
    let ws = sample();
    let mut failures = Vec::new();
    for lang in ["zh", "en"] {
        for (name, args) in VIEWS {
            let out = run_lang(&ws, lang, args);
            check_golden(name, lang, &out, &mut failures);
        }
        let demo = run_lang(&ws, lang, &DEMO);
        check_golden("demo", lang, &demo, &mut failures);
    }
    assert!(
        failures.is_empty(),
        "goldens differ (UPDATE_EXPECT=1 rewrites them):\n{}",
        failures.join("\n")
    );
}

#[test]
fn chinese_tables_line_up_and_name_rules_statuses_and_columns() {
    let ws = sample();
    let alerts = run_lang(&ws, "zh", VIEWS[0].1);
    assert_aligned(&alerts, "编号");
    // The rule by name, its code kept in the id.
    assert!(
        alerts.contains("case-2026-000103/suspension.unlawful/1") && alerts.contains("违规暂停"),
        "{alerts}"
    );
    assert!(
        alerts.contains("红牌") && alerts.contains("未解除"),
        "{alerts}"
    );

    let case = run_lang(&ws, "zh", VIEWS[1].1);
    assert!(case.contains("办理状态"), "{case}");
    assert_aligned(&case, "规则");
    let overdue = case
        .lines()
        .find(|l| l.contains("deadline.statutory.overdue"))
        .unwrap_or_default();
    assert!(overdue.contains("超法定时限"), "{case}");

    let list = run_lang(&ws, "zh", &["case", "list", "--now", "2026-04-30"]);
    assert_aligned(&list, "案件编号");
    assert!(
        list.contains("办理中") && list.contains("不予受理"),
        "{list}"
    );

    let report = run_lang(&ws, "zh", VIEWS[2].1);
    assert_aligned(&report, "单位");
    for legend in [
        "按时率 = 按时 ÷ 办结",
        "满意率 = 满意 ÷ 评价",
        "在办超期 = ",
    ] {
        assert!(report.contains(legend), "{legend} in\n{report}");
    }
    let english = run_lang(&ws, "en", VIEWS[2].1);
    assert_aligned(&english, "KEY");
    for legend in ["RATE = ONTIME ÷ CONC", "E_RATE = EARLY ÷ CONC", "STAT = "] {
        assert!(english.contains(legend), "{legend} in\n{english}");
    }
}

#[test]
fn the_demo_summary_fits_one_screen_in_both_languages() {
    let ws = Workspace::new();
    for lang in ["zh", "en"] {
        let out = run_lang(&ws, lang, &DEMO);
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines.len() <= 30, "{} lines:\n{out}", lines.len());
        for l in &lines {
            assert!(l.width() <= 100, "{} cells: {l}", l.width());
        }
        assert!(
            out.contains("report --from 2026-01 --to 2026-03"),
            "the full table's command:\n{out}"
        );
    }
    let zh = run_lang(&ws, "zh", &DEMO);
    assert_aligned(&zh, "单位");
    assert!(zh.contains("红牌最多的 10 个单位"), "{zh}");
    assert!(zh.contains("按时办结率 100%"), "{zh}");
}

#[test]
fn the_locale_chooses_the_language_when_lang_is_absent() {
    let ws = sample();
    let first_word = |envs: &[(&str, &str)], extra: &[&str]| -> String {
        let mut args = extra.to_vec();
        args.extend_from_slice(&["alerts", "--now", "2026-04-30"]);
        let r = ws.run_env(&ws.db(), envs, &args, "");
        assert_eq!(r.code, 0, "{envs:?}: {r:?}");
        r.stdout
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(first_word(&[], &[]), "ID", "no locale: English");
    assert_eq!(first_word(&[("LANG", "zh_CN.UTF-8")], &[]), "编号");
    assert_eq!(first_word(&[("LANG", "C.UTF-8")], &[]), "ID");
    assert_eq!(
        first_word(&[("LANG", "zh_CN.UTF-8"), ("LC_ALL", "en_US.UTF-8")], &[]),
        "ID",
        "LC_ALL overrides LANG"
    );
    assert_eq!(
        first_word(
            &[("LANG", "en_US.UTF-8"), ("LC_MESSAGES", "zh_TW.UTF-8")],
            &[]
        ),
        "编号",
        "LC_MESSAGES overrides LANG"
    );
    assert_eq!(
        first_word(&[("LC_ALL", "zh_CN.UTF-8")], &["--lang", "en"]),
        "ID",
        "--lang overrides the locale"
    );
}

#[test]
fn machine_formats_do_not_change_with_the_language() {
    let ws = sample();
    for args in [
        &["alerts", "--now", "2026-04-30", "--format", "json"][..],
        &[
            "case",
            "show",
            "case-2026-000103",
            "--now",
            "2026-04-30",
            "--format",
            "json",
        ],
        &[
            "report",
            "--period",
            "2026-03",
            "--now",
            "2026-04-30",
            "--format",
            "csv",
        ],
        &[
            "report",
            "--period",
            "2026-03",
            "--now",
            "2026-04-30",
            "--format",
            "json",
        ],
        &["case", "list", "--now", "2026-04-30", "--format", "csv"],
    ] {
        assert_eq!(
            run_lang(&ws, "zh", args),
            run_lang(&ws, "en", args),
            "{args:?}"
        );
    }
}

#[test]
fn a_bad_lang_is_a_usage_error_and_help_shows_the_flag() {
    let ws = sample();
    let r = ws.run(&["--lang", "fr", "alerts"], "");
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains("--lang") && r.stderr.contains("zh") && r.stderr.contains("en"),
        "{}",
        r.stderr
    );
    assert!(r.stdout.is_empty(), "{r:?}");
    let help = jiancha().arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("--lang <LANG>"), "{help}");
    assert!(help.contains("jiancha --lang zh alerts --open"), "{help}");
}
