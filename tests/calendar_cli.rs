//! `jiancha calendar` end to end: due dates one at a time and in bulk, the year listing, and
//! the exit code 2 of every input mistake.

use std::process::Output;

use crate::support::{jiancha, with_stdin};

/// Runs `jiancha ARGS` with `stdin` as standard input.
fn run(args: &[&str], stdin: &str) -> Output {
    let mut command = jiancha();
    command.args(args).current_dir(std::env::temp_dir());
    with_stdin(command, stdin)
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

#[test]
fn due_prints_the_due_date_across_national_day() {
    let output = run(&["calendar", "due", "2026-09-28", "5"], "");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), "2026-10-10\n");
}

#[test]
fn due_marks_undeclared_years_provisional() {
    let output = run(&["calendar", "due", "2027-03-01", "5"], "");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), "2027-03-08 provisional\n");
}

#[test]
fn due_stdin_answers_every_line() {
    let input = "2026-09-28 5\n\n2024-02-02 1\n2020-01-23 1\n2027-03-01 5\n";
    let output = run(&["calendar", "due", "--stdin"], input);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "2026-09-28 5 2026-10-10\n\
         2024-02-02 1 2024-02-04\n\
         2020-01-23 1 2020-02-03\n\
         2027-03-01 5 2027-03-08 provisional\n"
    );
}

#[test]
fn due_stdin_names_the_bad_line() {
    let input = "2026-09-28 5\n2026-13-01 5\n2026-01-05 1\n";
    let output = run(&["calendar", "due", "--stdin"], input);
    assert_eq!(output.status.code(), Some(2));
    let error = stderr(&output);
    assert!(error.contains("line 2"), "{error}");
    assert!(error.contains("2026-13-01"), "{error}");
    let output = run(&["calendar", "due", "--stdin"], "2026-09-28\n");
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("line 1"), "{}", stderr(&output));
}

#[test]
fn input_mistakes_exit_with_code_2() {
    let cases: &[&[&str]] = &[
        &["calendar", "due", "2101-01-01", "5"],
        &["calendar", "due", "1989-12-31", "5"],
        &["calendar", "due", "2026-02-30", "5"],
        &["calendar", "due", "2026-09-28", "five"],
        &["calendar", "due", "2100-12-29", "5"],
        &["calendar", "show", "2101"],
        &["calendar", "show", "next"],
    ];
    for args in cases {
        let output = run(args, "");
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(stdout(&output).is_empty(), "{args:?}");
        assert!(!stderr(&output).trim().is_empty(), "{args:?}");
    }
    let output = run(&["calendar", "show", "2101"], "");
    assert!(stderr(&output).contains("outside"), "{}", stderr(&output));
}

#[test]
fn show_lists_the_year_with_names_and_notice() {
    let output = run(&["calendar", "show", "2026"], "");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.contains("国务院办公厅关于2026年部分节假日安排的通知"),
        "{text}"
    );
    assert!(text.contains("2025-11-04"), "{text}");
    let workday = text.lines().find(|l| l.starts_with("2026-10-10")).unwrap();
    assert!(
        workday.contains("国庆节") && workday.contains("National Day"),
        "{workday}"
    );
    assert!(workday.contains("调休上班日"), "{workday}");
}

#[test]
fn show_says_when_a_year_is_undeclared() {
    let output = run(&["calendar", "show", "2027"], "");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("not declared"),
        "{}",
        stdout(&output)
    );
}

/// With --org the log's amendments count, as case deadlines count them: a declared 2027 with
/// New Year's Day off moves a 20-day count from 2026-12-06 from a provisional 2027-01-01 to a
/// settled 2027-01-04; a local rest day applies to the org under it only.
#[test]
fn due_and_show_with_org_count_on_the_logs_calendar() {
    let ws = crate::support::Workspace::new();
    let amend = |jurisdiction: &str, date: &str, kind: &str| {
        format!(
            r#"{{"stream":"calendar","type":"CalendarAmended","occurred_at":"2026-11-04T10:00:00+08:00","actor":"admin","org":"jiangjin","data":{{"jurisdiction":"{jurisdiction}","date":"{date}","kind":"{kind}","reason":"通知"}}}}"#
        )
    };
    let log = [
        amend("national", "2027-01-01", "holiday"),
        amend("national", "2027-01-01", "year_declared"),
        amend("jiangjin/town-07", "2027-01-04", "rest_day"),
    ]
    .join("\n");
    let r = ws.run(&["import"], &format!("{log}\n"));
    assert_eq!(r.code, 0, "{r:?}");
    let national = ws.run(&["calendar", "due", "2026-12-06", "20"], "");
    // The same count on the calendar in force for an org in the log.
    let due_for = |org: &str| ws.run(&["calendar", "--org", org, "due", "2026-12-06", "20"], "");
    assert_eq!(national.stdout, "2027-01-01 provisional\n", "{national:?}");
    let district = due_for("jiangjin/center");
    assert_eq!(district.stdout, "2027-01-04\n", "{district:?}");
    let town = due_for("jiangjin/town-07");
    assert_eq!(town.stdout, "2027-01-05\n", "{town:?}");
    let show = ws.run(&["calendar", "--org", "jiangjin", "show", "2027"], "");
    assert_eq!(show.code, 0, "{show:?}");
    assert!(!show.stdout.contains("not declared"), "{}", show.stdout);
    // --org reads a log: one that does not exist is refused, not created.
    let missing = ws.run_db(
        "sqlite://no-such.db",
        &["calendar", "--org", "jiangjin", "due", "2026-12-06", "1"],
        "",
    );
    assert_eq!(missing.code, 2, "{missing:?}");
}
