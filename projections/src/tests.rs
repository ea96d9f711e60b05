//! Scenario tests: each file in `testdata/scenarios` is a log (JSONL, with `# now:` naming the
//! instant of evaluation) and its `.expected` rendering — every case's deadline state and every
//! alert at that instant. The expected files were checked by hand against the notices; run
//! with `UPDATE_EXPECT=1` to rewrite them after a deliberate change, then review the diff.

use std::path::{Path, PathBuf};

use jiancha_events::{parse_line, RawEvent, StoredEvent};

use crate::{instant, Millis, Projections};

/// Turns a scenario's lines into stored events (positions 1, 2, …; recorded when they occurred).
pub(crate) fn scenario_events(text: &str) -> (Vec<StoredEvent>, Option<Millis>) {
    let mut events = Vec::new();
    let mut now = None;
    let mut versions = std::collections::HashMap::new();
    let mut prev = jiancha_events::GENESIS_HASH;
    let mut record_at = None;
    for (i, line) in text.lines().enumerate() {
        if let Some(t) = line.strip_prefix("# now: ") {
            now = Some(
                jiancha_events::parse_timestamp(t)
                    .unwrap()
                    .timestamp_millis(),
            );
            continue;
        }
        // `# record-at: T` stamps the next event as recorded at T (entered late).
        if let Some(t) = line.strip_prefix("# record-at: ") {
            record_at = Some(jiancha_events::parse_timestamp(t).unwrap());
            continue;
        }
        // `# history: N` declares the next N events a historical import, as `jiancha import
        // --historical` does: a `HistoryImported` event covering its own position and theirs.
        if let Some(n) = line.strip_prefix("# history: ") {
            let position = events.len() as u64 + 1;
            let data =
                jiancha_events::EventData::HistoryImported(jiancha_events::HistoryImported {
                    from_position: position,
                    to_position: position + n.trim().parse::<u64>().unwrap(),
                    reason: "历史补录".into(),
                });
            let at = jiancha_events::parse_timestamp("2026-01-01T00:00:00+08:00").unwrap();
            let ev = jiancha_events::NewEvent::new(
                jiancha_events::StreamName::parse("supervision").unwrap(),
                at,
                "import",
                "jiangjin",
                data,
            );
            let v = versions.entry("supervision".to_owned()).or_insert(0u64);
            *v += 1;
            let stamp = jiancha_events::format_timestamp(&at);
            let raw = RawEvent::seal(&ev, position, *v, &stamp, prev);
            prev = raw.hash;
            events.push(raw.to_stored(at, at, ev.data.clone()));
            continue;
        }
        // `# engine: {json}` is an event only the engine writes (a notification record): taken
        // as stored, without the checks on client input.
        let engine = line.strip_prefix("# engine: ");
        if engine.is_none() && (line.starts_with('#') || line.trim().is_empty()) {
            continue;
        }
        let ev = match engine {
            Some(json) => engine_event(json),
            None => parse_line(i + 1, line).unwrap_or_else(|e| panic!("{e}")),
        };
        let v = versions
            .entry(ev.stream.as_str().to_owned())
            .or_insert(0u64);
        *v += 1;
        let recorded = record_at.take().unwrap_or(ev.occurred_at);
        let at = jiancha_events::format_timestamp(&recorded);
        let raw = RawEvent::seal(&ev, events.len() as u64 + 1, *v, &at, prev);
        prev = raw.hash;
        events.push(raw.to_stored(ev.occurred_at, recorded, ev.data.clone()));
    }
    (events, now)
}

/// An event only the engine writes, from a scenario's `# engine:` line.
fn engine_event(json: &str) -> jiancha_events::NewEvent {
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    let data =
        jiancha_events::EventData::decode(v["type"].as_str().unwrap(), v["data"].clone()).unwrap();
    jiancha_events::NewEvent::new(
        jiancha_events::StreamName::parse(v["stream"].as_str().unwrap()).unwrap(),
        jiancha_events::parse_timestamp(v["occurred_at"].as_str().unwrap()).unwrap(),
        v["actor"].as_str().unwrap(),
        v["org"].as_str().unwrap(),
        data,
    )
}

/// The thresholds a scenario folds with: the defaults, and `# default-rating: N` (the default
/// rating a scoring scheme may give).
pub(crate) fn scenario_config(text: &str) -> crate::AlertConfig {
    let mut config = crate::AlertConfig::default();
    for line in text.lines() {
        if let Some(n) = line.strip_prefix("# default-rating: ") {
            config.default_rating = Some(n.trim().parse().unwrap());
        }
    }
    config
}

/// The query of a report by `by` for the period `label`, every depth.
pub(crate) fn report_query(label: &str, by: crate::ledger::Dimension) -> crate::ReportQuery {
    crate::ReportQuery {
        period: crate::Period::parse(label).unwrap(),
        by,
        depth: None,
    }
}

pub(crate) fn fold_with(events: &[StoredEvent], config: crate::AlertConfig) -> Projections {
    let mut p = Projections::new(config);
    for e in events {
        p.apply(e);
    }
    p
}

pub(crate) fn fold(events: &[StoredEvent]) -> Projections {
    let mut p = Projections::default();
    for e in events {
        p.apply(e);
    }
    p
}

/// The rendering compared with the golden file.
pub(crate) fn render(p: &Projections, now: Millis) -> String {
    let mut out = String::new();
    for (stream, _) in p.cases_sorted() {
        let view = p.case_view(stream, now).unwrap();
        out.push_str(&serde_json::to_string_pretty(&view).unwrap());
        out.push('\n');
    }
    out.push_str(&serde_json::to_string_pretty(&p.alerts(now)).unwrap());
    out.push('\n');
    let orders = p.orders(now);
    if !orders.is_empty() {
        out.push_str(&serde_json::to_string_pretty(&orders).unwrap());
        out.push('\n');
    }
    out
}

/// The sample district (`examples/district.jsonl`) folded with the default scoring's ledger.
fn sample_district() -> Projections {
    let (events, _) = scenario_events(include_str!("../../examples/district.jsonl"));
    let mut p = Projections::default().with_ledger(crate::Scoring::default());
    for e in &events {
        p.apply(e);
    }
    p
}

pub(crate) fn scenarios() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    files
}

#[test]
fn scenarios_match_their_golden_files() {
    let update = std::env::var_os("UPDATE_EXPECT").is_some();
    let mut failures = Vec::new();
    let files = scenarios();
    assert!(files.len() >= 7);
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let (events, now) = scenario_events(&text);
        let now = now.expect("a scenario names its instant with '# now:'");
        let actual = render(&fold_with(&events, scenario_config(&text)), now);
        let golden = file.with_extension("expected");
        if update {
            std::fs::write(&golden, &actual).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&golden).unwrap_or_default();
        if expected != actual {
            failures.push(format!("{}:\n{actual}", golden.display()));
        }
    }
    assert!(
        failures.is_empty(),
        "golden files differ (UPDATE_EXPECT=1 rewrites):\n{}",
        failures.join("\n")
    );
}

#[test]
fn every_rule_is_exercised_by_some_scenario() {
    let mut seen = std::collections::BTreeSet::new();
    for file in scenarios() {
        let text = std::fs::read_to_string(file).unwrap();
        let (events, now) = scenario_events(&text);
        for a in fold_with(&events, scenario_config(&text)).alerts(now.unwrap()) {
            seen.insert(a.rule);
        }
    }
    // The approval rules; the procurement kind's each have their golden scenario in
    // `kinds/procurement/tests.rs`.
    let all: std::collections::BTreeSet<_> = crate::RULES
        .iter()
        .filter(|r| !matches!(r, crate::Rule::Procurement(_)))
        .map(|r| r.code())
        .collect();
    assert_eq!(seen, all);
}

#[test]
fn a_view_before_the_threshold_shows_no_alert_and_after_it_shows_one() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("testdata/scenarios/overdue_across_national_day.jsonl"),
    )
    .unwrap();
    let (events, _) = scenario_events(&text);
    let p = fold(&events);
    let overdue = |at: &str| {
        let now = jiancha_events::parse_timestamp(at)
            .unwrap()
            .timestamp_millis();
        p.alerts(now)
            .into_iter()
            .filter(|a| a.rule == "deadline.promised.overdue")
            .count()
    };
    assert_eq!(
        overdue("2026-10-10T23:59:59+08:00"),
        0,
        "the due date itself is still in time"
    );
    assert_eq!(overdue("2026-10-11T00:00:00+08:00"), 1);
    assert_eq!(
        instant::format(instant::end_of(
            chrono::NaiveDate::from_ymd_opt(2026, 10, 10).unwrap()
        )),
        "2026-10-11T00:00:00+08:00"
    );
}

#[test]
fn org_names_fold_the_latest_wins_and_an_unnamed_org_has_none() {
    let text = r#"{"stream":"catalog","type":"ItemDefined","occurred_at":"2026-03-02T09:00:00+08:00","actor":"admin","org":"jiangjin","data":{"code":"SC-001","name":"个体工商户登记","org":"jiangjin/center/dept-07","statutory_days":20,"promised_days":5,"fee_cents":0,"steps":["审查"],"required_materials":[],"in_center":true}}
{"stream":"catalog","type":"OrgDefined","occurred_at":"2026-03-02T09:00:01+08:00","actor":"admin","org":"jiangjin","data":{"path":"jiangjin/center/dept-07","name":"区工商局","kind":"department"}}
{"stream":"catalog","type":"OrgDefined","occurred_at":"2026-03-02T09:00:02+08:00","actor":"admin","org":"jiangjin","data":{"path":"jiangjin/center/dept-07","name":"区市场监管局","kind":"department"}}
{"stream":"case-2026-000001","type":"Submitted","occurred_at":"2026-03-02T10:00:00+08:00","actor":"clerk-1","org":"jiangjin/center/dept-07","data":{"item":"SC-001","channel":"window","materials":[]}}
{"stream":"case-2026-000002","type":"Submitted","occurred_at":"2026-03-02T10:00:00+08:00","actor":"clerk-1","org":"jiangjin/town-03","data":{"item":"XX-404","channel":"window","materials":[]}}
"#;
    let (events, _) = scenario_events(text);
    let p = fold(&events);
    assert_eq!(
        p.catalog.org_name("jiangjin/center/dept-07"),
        Some("区市场监管局"),
        "a redefinition renames"
    );
    assert_eq!(p.catalog.org_name("jiangjin/town-03"), None);
    assert_eq!(
        p.catalog.org_name("jiangjin/center"),
        None,
        "names are not inherited"
    );
    assert_eq!(p.catalog.item_name("SC-001"), Some("个体工商户登记"));
    assert_eq!(p.catalog.item_name("XX-404"), None);
    let now = instant::end_of(chrono::NaiveDate::from_ymd_opt(2026, 3, 31).unwrap());
    let named = p.case_view("case-2026-000001", now).unwrap();
    assert_eq!(named.org_name.as_deref(), Some("区市场监管局"));
    assert_eq!(named.item_name.as_deref(), Some("个体工商户登记"));
    let unnamed = p.case_view("case-2026-000002", now).unwrap();
    assert_eq!((unnamed.org_name, unnamed.item_name), (None, None));
    let json = serde_json::to_value(p.case_view("case-2026-000002", now).unwrap()).unwrap();
    assert!(json.get("org_name").is_none() && json.get("item_name").is_none());
    // The unknown item's alert carries the org's name only when it has one.
    let alerts = p.alerts(now);
    assert!(alerts
        .iter()
        .filter(|a| a.case == "case-2026-000002")
        .all(|a| a.org_name.is_none() && a.item_name.is_none()));
    // A snapshot keeps the names.
    let bytes = p.snapshot(p.head()).unwrap();
    let (restored, _) = Projections::restore(&bytes).unwrap();
    assert_eq!(
        restored.catalog.org_name("jiangjin/center/dept-07"),
        Some("区市场监管局")
    );
    assert_eq!(restored.catalog, p.catalog);
}

/// The log takes new events on the dates the working-day calendar covers, no more, no less.
#[test]
fn the_logs_business_dates_are_the_calendars() {
    assert_eq!(
        (
            jiancha_events::time::FIRST_BUSINESS_DATE,
            jiancha_events::time::LAST_BUSINESS_DATE
        ),
        (jiancha_calendar::FIRST_DATE, jiancha_calendar::LAST_DATE)
    );
}

/// A withdrawal entered after the fact ends the case when it was recorded: the case stays among
/// the overdue open ones until then, as a back-dated conclusion does; one entered within the
/// tolerance ends it on its own date.
#[test]
fn a_backdated_withdrawal_ends_the_case_when_recorded() {
    let text = include_str!("../testdata/scenarios/backdated_withdrawal.jsonl");
    let (events, _) = scenario_events(text);
    let p = fold_with(&events, scenario_config(text));
    let at = |t: &str| crate::asof::parse_instant(t).unwrap();
    let overdue = |t: &str| {
        crate::report::overdue_open_of(&p, crate::ledger::Dimension::Item, at(t), p.cases())
    };
    // Overdue from the end of 06-08 until the withdrawal was recorded, 06-09T10:00 (the month
    // of June ending there would count it: before, its claimed date 06-03 hid it).
    assert_eq!(overdue("2026-06-08T12:00:00+08:00"), Vec::<String>::new());
    assert_eq!(overdue("2026-06-09T00:00:00+08:00"), ["BL-001"]);
    assert_eq!(overdue("2026-06-09T09:59:59+08:00"), ["BL-001"]);
    assert_eq!(overdue("2026-06-09T10:00:00+08:00"), Vec::<String>::new());
    assert_eq!(
        p.case("case-w")
            .and_then(|c| c.ended_on)
            .map(|d| d.to_string()),
        Some("2026-06-09".to_owned())
    );
    assert_eq!(
        p.case("case-v")
            .and_then(|c| c.ended_on)
            .map(|d| d.to_string()),
        Some("2026-06-03".to_owned())
    );
}

/// A past month's overdue open cases count for the org that held each case at the month's end:
/// a transfer after it moves nothing back, and a transfer entered after the fact counts when it
/// was recorded.
#[test]
fn a_transfer_after_the_month_leaves_its_overdue_count_where_it_was() {
    let text = include_str!("../testdata/scenarios/transfer_after_overdue.jsonl");
    let (events, now) = scenario_events(text);
    let now = now.unwrap();
    let mut p = Projections::new(scenario_config(text)).with_ledger(crate::Scoring::default());
    for e in &events {
        p.apply(e);
    }
    let at = |t: &str| crate::asof::parse_instant(t).unwrap();
    let overdue = |t: &str| {
        crate::report::overdue_open_of(&p, crate::ledger::Dimension::Org, at(t), p.cases())
    };
    let (window, dept) = (
        "jiangjin/center/dept-03/window-1",
        "jiangjin/center/dept-05",
    );
    assert_eq!(overdue("2026-06-08T12:00:00+08:00"), Vec::<String>::new());
    assert_eq!(overdue("2026-06-09T00:00:00+08:00"), [window; 3]);
    assert_eq!(overdue("2026-06-15T12:00:00+08:00"), [window, window, dept]);
    assert_eq!(overdue("2026-06-30T23:59:59+08:00"), [window, window, dept]);
    // case-t counts for dept-05 from its transfer, case-u from the recording of its own.
    assert_eq!(overdue("2026-07-02T12:00:00+08:00"), [window, dept, dept]);
    assert_eq!(overdue("2026-07-03T09:59:59+08:00"), [window, dept, dept]);
    assert_eq!(overdue("2026-07-03T10:00:00+08:00"), [dept; 3]);
    // The live report of June, asked in July, and July's.
    let june = p
        .report(&report_query("2026-06", crate::ledger::Dimension::Org), now)
        .unwrap();
    let row = |r: &crate::Report, org: &str| {
        r.rows
            .iter()
            .find(|row| row.org.as_deref() == Some(org))
            .map_or(0, |row| row.overdue_open)
    };
    assert_eq!((row(&june, window), row(&june, dept)), (2, 1));
    let july = p
        .report(&report_query("2026-07", crate::ledger::Dimension::Org), now)
        .unwrap();
    assert_eq!((row(&july, window), row(&july, dept)), (0, 3));
    // Every case is held by dept-05 now.
    for case in ["case-s", "case-t", "case-u"] {
        assert_eq!(&**p.case(case).unwrap().org(), dept);
    }
}

/// A unit below a department or town (a window, a village point) sees its group's row with its
/// own figures: its cards and its month's conclusions and on-time rate, those of its own report
/// row; a filter at the group keeps the group's.
#[test]
fn the_overview_of_a_window_carries_its_own_rate() {
    let p = sample_district();
    let now = crate::asof::parse_instant("2026-03-31T18:00:00+08:00").unwrap();
    let report = p
        .report(&report_query("2026-03", crate::ledger::Dimension::Org), now)
        .unwrap();
    let windows: Vec<_> = report
        .rows
        .iter()
        .filter(|r| r.concluded > 0)
        .filter_map(|r| r.org.clone())
        .filter(|o| {
            let (kind, path) = crate::overview::group_of(o);
            kind != "other" && path != *o
        })
        .collect();
    assert!(!windows.is_empty(), "the sample concludes cases at windows");
    for org in windows {
        let mine = report
            .rows
            .iter()
            .find(|r| r.org.as_deref() == Some(&org))
            .unwrap();
        let overview = p.overview(
            &crate::overview::OverviewQuery {
                org: Some(org.clone()),
                rule: None,
                severities: None,
            },
            now,
        );
        assert_eq!(overview.rows.len(), 1, "{org}");
        let row = &overview.rows[0];
        assert_eq!(row.org, crate::overview::group_of(&org).1, "{org}");
        assert_eq!(
            (row.concluded, row.on_time),
            (mine.concluded, mine.on_time),
            "{org}"
        );
        assert!(row.on_time_rate.is_some(), "{org}");
    }
}

/// The overview at a month's last day given as a date (its end, 24:00) is that month's, not the
/// next one's.
#[test]
fn the_overview_at_the_end_of_a_month_is_that_months() {
    let p = sample_district();
    let query = crate::overview::OverviewQuery {
        org: None,
        rule: None,
        severities: None,
    };
    for (now, month) in [
        ("2026-03-31", "2026-03"),
        ("2026-03-31T23:59:59+08:00", "2026-03"),
        ("2026-04-01T00:00:01+08:00", "2026-04"),
    ] {
        let at = crate::asof::parse_instant(now).unwrap();
        assert_eq!(p.overview(&query, at).month, month, "{now}");
    }
}

/// A case's history shows the declared historical imports that hold its events, not another
/// case's (with its reason): both are folded, one is shown.
#[test]
fn a_history_shows_only_the_declarations_holding_the_cases_events() {
    let item = r#"{"stream":"catalog","type":"ItemDefined","occurred_at":"2026-01-05T09:00:00+08:00","actor":"admin","org":"jiangjin/center","data":{"code":"HI-1","name":"测试事项","org":"jiangjin/center/dept-03","statutory_days":20,"promised_days":5,"fee_cents":0,"steps":[],"required_materials":[],"in_center":true}}"#;
    let submitted = |case: &str| {
        format!(
            r#"{{"stream":"{case}","type":"Submitted","occurred_at":"2026-01-06T09:00:00+08:00","actor":"clerk-1","org":"jiangjin/center/dept-03/window-1","data":{{"item":"HI-1","channel":"window","materials":[]}}}}"#
        )
    };
    let text = [
        item.to_owned(),
        "# history: 1".to_owned(),
        submitted("case-x"),
        "# history: 1".to_owned(),
        submitted("case-y"),
    ]
    .join("\n");
    let (events, _) = scenario_events(&text);
    let declarations = |case: &str| {
        let h = crate::asof::history(
            crate::AlertConfig::default(),
            case,
            &events,
            crate::asof::parse_instant("2026-02-01").unwrap(),
        )
        .unwrap();
        h.events
            .iter()
            .filter(|s| s.event_type == "HistoryImported")
            .map(|s| s.position)
            .collect::<Vec<_>>()
    };
    assert_eq!(declarations("case-x"), [2]);
    assert_eq!(declarations("case-y"), [4]);
}
