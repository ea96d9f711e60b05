//! Tests of the whole generator: determinism, the interchange shape, stream order, the
//! calendar, and the rates of every irregularity checked against an independent reading of
//! the output (`classify`).

mod classify;

use std::collections::BTreeMap;
use std::sync::OnceLock;

use chrono::NaiveTime;
use jiancha_calendar::Calendar;
use jiancha_events::{parse_line, Channel, EventData, NewEvent, Timestamp};
use proptest::prelude::*;

use super::*;

/// A generated run, parsed back, with the instant each event is entered (which the file
/// does not say; the typed iterator does).
struct Run {
    text: String,
    summary: SimSummary,
    events: Vec<NewEvent>,
    entered: Vec<Timestamp>,
}

fn run(config: &SimConfig) -> Run {
    let mut bytes = Vec::new();
    let summary = generate(config, &mut bytes).unwrap();
    let text = String::from_utf8(bytes).unwrap();
    let parsed: Vec<NewEvent> = text
        .lines()
        .enumerate()
        .map(|(i, line)| parse_line(i + 1, line).unwrap_or_else(|e| panic!("{e}\n{line}")))
        .collect();
    let entered = events(config)
        .unwrap()
        .map(|e| e.unwrap().entered_at)
        .collect();
    Run {
        text,
        summary,
        events: parsed,
        entered,
    }
}

impl Run {
    fn classify(&self) -> CaseCounts {
        classify::classify(&self.events, &self.entered)
    }
}

/// Rates high enough that 5,000 cases show each irregularity often.
fn busy_rates() -> Rates {
    Rates {
        correction: 0.2,
        late_first_answer: 0.05,
        repeated_correction: 0.05,
        accepted_incomplete: 0.05,
        rejected_at_intake: 0.05,
        withdrawn: 0.05,
        late_conclusion: 0.1,
        statutory_overrun: 0.05,
        lawful_suspension: 0.1,
        unlawful_suspension: 0.05,
        extension: 0.1,
        excessive_extension: 0.05,
        skipped_step: 0.05,
        wrong_fee: 0.05,
        no_decision: 0.05,
        denied: 0.05,
        rated: 0.6,
        bad_rating: 0.05,
        complaint: 0.05,
        backdated: 0.05,
        late_supplement_answer: 0.2,
        limits_override: 0.05,
        unknown_item: 0.05,
        no_acceptance: 0.05,
        overlong_suspension: 0.3,
        after_conclusion: 0.05,
        backdated_conclusion: 0.05,
        ..Rates::default()
    }
}

/// The shared 5,000-case run with busy rates (generated once for all tests that read it).
fn busy() -> &'static Run {
    static RUN: OnceLock<Run> = OnceLock::new();
    RUN.get_or_init(|| {
        run(&SimConfig {
            rates: busy_rates(),
            ..SimConfig::new(5000, 7)
        })
    })
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let a = run(&SimConfig::new(300, 11));
    let b = run(&SimConfig::new(300, 11));
    let c = run(&SimConfig::new(300, 12));
    assert_eq!(a.text, b.text);
    assert_eq!(a.summary, b.summary);
    assert_ne!(a.text, c.text);
}

#[test]
fn a_larger_run_begins_with_the_smaller_one() {
    let by_stream = |run: &Run| {
        let mut streams: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for line in run.text.lines() {
            let mut stream = line.split('"').nth(3).unwrap().to_owned();
            // The supervision stream interleaves every case's acts: compare them by case.
            if stream == jiancha_events::SUPERVISION_STREAM {
                let id = line.split('"').nth(7).unwrap();
                stream = id.rsplit_once('-').unwrap().0.to_owned();
            }
            streams.entry(stream).or_default().push(line.to_owned());
        }
        streams
    };
    let small = by_stream(&run(&SimConfig::new(200, 3)));
    let large = by_stream(&run(&SimConfig::new(400, 3)));
    for (stream, lines) in &small {
        assert_eq!(Some(lines), large.get(stream), "{stream}");
    }
}

#[test]
fn every_line_is_canonical_interchange() {
    let run = busy();
    assert_eq!(run.events.len() as u64, run.summary.events);
    for (line, event) in run.text.lines().zip(&run.events) {
        let data = line.split_once(",\"data\":").unwrap().1;
        assert_eq!(
            &data[..data.len() - 1],
            event.data_json,
            "data not canonical: {line}"
        );
        assert!(event.id.as_deref().unwrap().starts_with("sim-7-"));
    }
    let ids: std::collections::BTreeSet<_> = run.events.iter().map(|e| e.id.clone()).collect();
    assert_eq!(ids.len(), run.events.len(), "ids are unique");
}

#[test]
fn the_catalog_comes_first_then_cases_in_order() {
    let run = busy();
    let items = run.summary.items as usize;
    assert_eq!(items, 200);
    assert!(run.events[..items]
        .iter()
        .all(|e| matches!(e.data, EventData::ItemDefined(_))));
    let mut versions: BTreeMap<&str, (u64, &NewEvent)> = BTreeMap::new();
    let mut acts: BTreeMap<&str, u64> = BTreeMap::new();
    let orgs = run.summary.events_by_type["OrgDefined"] as usize;
    let tree = crate::org_tree(&SimConfig::new(5000, 7)).unwrap();
    let units: usize = tree
        .departments
        .iter()
        .map(|d| 1 + d.windows.len())
        .sum::<usize>()
        + tree
            .towns
            .iter()
            .map(|t| 1 + t.windows.len() + t.villages.len())
            .sum::<usize>();
    assert_eq!(orgs, 3 + units, "every org is named once");
    assert!(run.events[items..items + orgs]
        .iter()
        .all(|e| matches!(&e.data, EventData::OrgDefined(o) if !o.name.is_empty())));
    for event in &run.events[items + orgs..] {
        let stream = event.stream.as_str();
        let (prefix, version) = event.id.as_deref().unwrap().rsplit_once('-').unwrap();
        let version: u64 = version.parse().unwrap();
        if stream == jiancha_events::SUPERVISION_STREAM {
            // A case's acts are numbered in order, after the case's submission.
            let case = prefix.strip_prefix("sim-7-supervision-").unwrap();
            assert!(
                versions.contains_key(case),
                "{case} acted on before it came"
            );
            let n = acts.entry(case).or_default();
            *n += 1;
            assert_eq!(version, *n, "{case}'s acts in order");
            continue;
        }
        assert!(stream.starts_with("case-2026-") || stream.starts_with("case-2027-"));
        match versions.get(stream) {
            None => {
                assert_eq!(version, 1, "{stream} starts at version 1");
                assert!(matches!(event.data, EventData::Submitted(_)), "{stream}");
            }
            Some((previous, before)) => {
                assert_eq!(version, previous + 1, "{stream} in order");
                assert!(
                    event.occurred_at > before.occurred_at,
                    "{stream} times increase"
                );
            }
        }
        versions.insert(stream, (version, event));
    }
    assert_eq!(versions.len() as u64, run.summary.cases);
}

#[test]
fn times_are_within_working_hours_and_on_working_days() {
    let calendar = Calendar::national();
    let open = NaiveTime::from_hms_opt(9, 0, 0).unwrap();
    let close = NaiveTime::from_hms_opt(17, 31, 0).unwrap();
    let mut rest_day_arrivals = 0;
    for event in &busy().events {
        let local = event.occurred_at.naive_local();
        assert_eq!(event.occurred_at.offset().local_minus_utc(), 8 * 3600);
        assert!((open..=close).contains(&local.time()), "{event:?}");
        let working = calendar.is_workday(local.date()).unwrap();
        match &event.data {
            EventData::Submitted(s) if !working => {
                assert!(
                    matches!(s.channel, Channel::Online | Channel::SelfService),
                    "{event:?}"
                );
                rest_day_arrivals += 1;
            }
            _ => assert!(working, "only online submissions on rest days: {event:?}"),
        }
    }
    assert!(
        rest_day_arrivals > 0,
        "a trickle of online applications on rest days"
    );
}

#[test]
fn arrivals_follow_the_calendar() {
    // Ten weeks from 2026-02-02: the Spring Festival block (02-15..02-23), then the backlog.
    let config = SimConfig {
        start: NaiveDate::from_ymd_opt(2026, 2, 2).unwrap(),
        cases_per_workday: 200,
        ..SimConfig::new(10_000, 5)
    };
    let mut per_day: BTreeMap<NaiveDate, u64> = BTreeMap::new();
    for event in events(&config).unwrap() {
        let event = event.unwrap().event;
        if let EventData::Submitted(s) = &event.data {
            if s.channel == Channel::Window {
                *per_day.entry(event.occurred_at.date_naive()).or_default() += 1;
            }
        }
    }
    let day = |m, d| {
        per_day
            .get(&NaiveDate::from_ymd_opt(2026, m, d).unwrap())
            .copied()
    };
    assert_eq!(day(2, 18), None, "the Spring Festival is a rest day");
    assert_eq!(day(2, 21), None);
    let after = day(2, 24).unwrap();
    let ordinary = day(3, 17).unwrap();
    assert!(
        after > ordinary * 13 / 10,
        "backlog after the holiday: {after} vs {ordinary}"
    );
    assert!(
        day(2, 28).is_some(),
        "the shifted workday Saturday 02-28 is worked"
    );
}

#[test]
fn summary_agrees_with_an_independent_reading() {
    let run = busy();
    assert_eq!(run.classify(), run.summary.cases_with);
    let by_type: u64 = run.summary.events_by_type.values().sum();
    assert_eq!(by_type, run.summary.events);
    let submitted = run.summary.events_by_type["Submitted"];
    assert_eq!(submitted, run.summary.cases);
}

#[test]
fn each_irregularity_appears_at_roughly_its_rate() {
    let run = busy();
    let c = &run.summary.cases_with;
    let r = busy_rates();
    let cases = run.summary.cases;
    let ended = c.concluded + c.rejections_at_intake;
    let rated = r.rated + r.bad_rating - r.rated * r.bad_rating;
    // A repeated correction starts with a first request too; a few first requests are late.
    let corrections = (r.correction + r.repeated_correction) * 0.95;
    // Cases of an unknown item are never overridden, nor concluded unaccepted.
    let known = 1.0 - r.unknown_item;
    // What, cases showing it, cases that could, configured rate.
    #[rustfmt::skip]
    let table = [
        ("rejections", c.rejections_at_intake, cases, r.rejected_at_intake),
        ("withdrawals", c.withdrawals, cases, r.withdrawn),
        ("late first answers", c.late_first_answers, cases, r.late_first_answer),
        ("repeated corrections", c.repeated_corrections, cases, r.repeated_correction),
        ("timely corrections", c.corrections_timely, cases, corrections),
        ("statutory overruns", c.statutory_overruns, cases, r.statutory_overrun),
        ("lawful suspensions", c.lawful_suspensions, c.accepted, r.lawful_suspension),
        ("unlawful suspensions", c.unlawful_suspensions, c.accepted, r.unlawful_suspension),
        ("lawful extensions", c.lawful_extensions, c.accepted, r.extension),
        ("excessive extensions", c.excessive_extensions, c.accepted, r.excessive_extension),
        ("skipped steps", c.skipped_steps, c.accepted, r.skipped_step),
        ("wrong fees", c.wrong_fees, c.accepted, r.wrong_fee),
        ("no decisions", c.no_decisions, c.concluded, r.no_decision),
        ("denials", c.denials, c.accepted, r.denied),
        ("ratings", c.rated, c.concluded + c.rejections_at_intake / 2, rated),
        ("bad ratings", c.bad_ratings, ended, r.bad_rating),
        ("complaints", c.complaints, ended, r.complaint),
        ("late answers to supplements", c.late_supplement_answers, c.corrections_timely, r.late_supplement_answer),
        ("limits overridden", c.limits_overridden, c.accepted, r.limits_override * known),
        ("unknown items", c.unknown_items, cases, r.unknown_item),
        ("no acceptances", c.no_acceptances, c.concluded, r.no_acceptance * known),
        ("overlong suspensions", c.overlong_suspensions, c.lawful_suspensions, r.overlong_suspension),
        ("events after the end", c.after_conclusion, cases, r.after_conclusion),
    ];
    for (name, count, eligible, rate) in table {
        let observed = count as f64 / eligible as f64;
        let sigma = (rate * (1.0 - rate) / eligible as f64).sqrt();
        let tolerance = 0.25 * rate + 4.0 * sigma;
        assert!(
            (observed - rate).abs() <= tolerance,
            "{name}: {count} of {eligible} = {observed:.4}, configured {rate}"
        );
    }
    // Late first answers make some cases late by themselves (deemed acceptance).
    let late = c.late_conclusions as f64 / cases as f64;
    assert!(late >= r.late_conclusion * 0.75, "late conclusions {late}");
    let late_answers = r.late_first_answer + r.correction * r.late_supplement_answer;
    let late_entries = r.backdated + r.backdated_conclusion;
    assert!(
        late <= r.late_conclusion * 1.25 + late_answers + late_entries,
        "late {late}"
    );
    // Back-dated: the planned runs of late entries and the late conclusions; a run may take a
    // conclusion in too.
    let share = |count: u64, of: u64| count as f64 / of as f64;
    let backdated = share(c.backdated, cases);
    let expected = r.backdated + (1.0 - r.backdated) * r.backdated_conclusion * 0.9;
    assert!(
        (backdated - expected).abs() < 0.25 * expected,
        "back-dated {backdated}, expected about {expected}"
    );
    let conclusions = share(c.backdated_conclusions, c.concluded);
    assert!(
        conclusions > r.backdated_conclusion * (1.0 - r.backdated) * 0.75
            && conclusions < (r.backdated_conclusion + r.backdated) * 1.25,
        "back-dated conclusions {conclusions}"
    );
    assert!(c.accepted_incomplete > 0 && c.accepted_incomplete < c.accepted / 10);
}

#[test]
fn zero_rates_give_a_clean_district() {
    let run = run(&SimConfig {
        rates: Rates::zero(),
        ..SimConfig::new(2000, 9)
    });
    let c = &run.summary.cases_with;
    let expected = CaseCounts {
        accepted: run.summary.cases,
        concluded: run.summary.cases,
        ..CaseCounts::default()
    };
    assert_eq!(c, &expected);
    assert_eq!(run.classify(), expected);
    assert_eq!(run.summary.backdated_events, 0);
}

#[test]
fn the_iterator_yields_what_the_file_says() {
    let config = SimConfig {
        rates: busy_rates(),
        ..SimConfig::new(400, 21)
    };
    let file = run(&config);
    let mut iter = events(&config).unwrap();
    let mut previous = None;
    let mut backdated = 0;
    for (expected, sim) in file.events.iter().zip(iter.by_ref()) {
        let sim = sim.unwrap();
        assert_eq!(&sim.event, expected);
        assert!(sim.entered_at >= sim.event.occurred_at);
        if sim.entered_at.date_naive() > sim.event.occurred_at.date_naive() {
            backdated += 1;
        }
        assert!(
            previous.is_none_or(|p| p <= sim.entered_at),
            "entered in order"
        );
        previous = Some(sim.entered_at);
    }
    assert!(iter.next().is_none());
    assert_eq!(iter.summary(), file.summary);
    assert_eq!(backdated, file.summary.backdated_events);
    assert!(backdated > 0);
}

#[test]
fn orgs_come_from_the_tree() {
    let config = SimConfig::new(1000, 4);
    let tree = org_tree(&config).unwrap();
    assert_eq!(tree.departments.len(), 20);
    assert_eq!(tree.towns.len(), 30);
    assert_eq!(
        tree.towns.iter().map(|t| t.villages.len()).sum::<usize>(),
        300
    );
    let mut known = vec![
        tree.district.clone(),
        tree.center.clone(),
        tree.supervision.clone(),
    ];
    for d in &tree.departments {
        known.push(d.org.clone());
        known.extend(d.windows.iter().cloned());
    }
    for t in &tree.towns {
        known.push(t.org.clone());
        known.extend(t.windows.iter().cloned());
        known.extend(t.villages.iter().cloned());
    }
    let known: std::collections::BTreeSet<_> = known.into_iter().collect();
    let catalog = catalog(&config).unwrap();
    assert_eq!(catalog.len(), 200);
    let run = run(&config);
    let mut unknown = 0;
    for event in run.events {
        assert!(known.contains(&event.org), "unknown org {}", event.org);
        if let EventData::Transferred(t) = &event.data {
            assert!(known.contains(&t.to_org));
        }
        if let EventData::ComplaintAccepted(c) = &event.data {
            assert!(known.contains(c.route_to.as_ref().unwrap()));
        }
        if let EventData::Submitted(s) = &event.data {
            if !catalog.iter().any(|i| i.code == s.item) {
                unknown += 1;
            }
        }
    }
    // Only the cases planned with an unknown item name one.
    assert_eq!(unknown, run.summary.cases_with.unknown_items);
    assert!(unknown > 0);
}

#[test]
fn bad_configurations_are_refused() {
    let mut config = SimConfig::new(10, 1);
    config.shape.departments = 0;
    assert!(matches!(
        generate(&config, &mut Vec::new()),
        Err(SimError::Config {
            field: "departments",
            ..
        })
    ));
    let mut config = SimConfig::new(10, 1);
    config.rates.complaint = 2.0;
    assert!(matches!(events(&config), Err(SimError::Rates { .. })));
    let late_start = SimConfig {
        start: NaiveDate::from_ymd_opt(2100, 6, 1).unwrap(),
        ..SimConfig::new(10, 1)
    };
    assert!(matches!(
        generate(&late_start, &mut Vec::new()),
        Err(SimError::OutOfCalendar { .. })
    ));
}

/// The flags a zero rate must keep at zero, and the other rates that can still raise them.
fn zero_rate_flags(rates: &Rates, counts: &CaseCounts) -> Vec<(&'static str, u64)> {
    // A case concluded with no acceptance in form runs its clock from the submission, so its
    // intake days count against its limits too (seed 4 of 300 cases found one).
    let late_answers = rates.late_first_answer > 0.0
        || rates.late_supplement_answer > 0.0
        || rates.backdated > 0.0
        || rates.backdated_conclusion > 0.0
        || rates.no_acceptance > 0.0;
    // A run of back-dated entries may take a conclusion in.
    let backdated = rates.backdated > 0.0;
    [
        ("rejected_at_intake", counts.rejections_at_intake, false),
        ("withdrawn", counts.withdrawals, false),
        ("late_first_answer", counts.late_first_answers, false),
        ("repeated_correction", counts.repeated_corrections, false),
        ("accepted_incomplete", counts.accepted_incomplete, false),
        ("late_conclusion", counts.late_conclusions, late_answers),
        ("statutory_overrun", counts.statutory_overruns, late_answers),
        ("lawful_suspension", counts.lawful_suspensions, false),
        ("unlawful_suspension", counts.unlawful_suspensions, false),
        ("extension", counts.lawful_extensions, false),
        ("excessive_extension", counts.excessive_extensions, false),
        ("skipped_step", counts.skipped_steps, false),
        ("wrong_fee", counts.wrong_fees, false),
        ("no_decision", counts.no_decisions, false),
        ("denied", counts.denials, false),
        ("complaint", counts.complaints, false),
        (
            "backdated",
            counts.backdated,
            rates.backdated_conclusion > 0.0,
        ),
        ("bad_rating", counts.bad_ratings, false),
        (
            "late_supplement_answer",
            counts.late_supplement_answers,
            false,
        ),
        ("limits_override", counts.limits_overridden, false),
        ("unknown_item", counts.unknown_items, false),
        ("no_acceptance", counts.no_acceptances, false),
        ("overlong_suspension", counts.overlong_suspensions, false),
        ("after_conclusion", counts.after_conclusion, false),
        (
            "backdated_conclusion",
            counts.backdated_conclusions,
            backdated,
        ),
    ]
    .into_iter()
    .filter(|&(name, _, excused)| {
        !excused && rates.fields().iter().any(|&(n, r)| n == name && r == 0.0)
    })
    .map(|(name, count, _)| (name, count))
    .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn a_zero_rate_never_shows(zeroed in prop::collection::vec(any::<bool>(), RATES), seed in 0u64..1000) {
        let mut rates = busy_rates();
        for ((_, rate), zero) in rates.fields_mut().into_iter().zip(zeroed) {
            if zero {
                *rate = 0.0;
            }
        }
        let run = run(&SimConfig { rates: rates.clone(), ..SimConfig::new(300, seed) });
        for (name, count) in zero_rate_flags(&rates, &run.summary.cases_with) {
            prop_assert_eq!(count, 0, "{} is 0 but shows", name);
        }
        prop_assert_eq!(&run.classify(), &run.summary.cases_with);
    }
}

#[test]
fn every_case_agrees_with_an_independent_reading() {
    let config = SimConfig {
        rates: busy_rates(),
        ..SimConfig::new(2000, 8)
    };
    let mut iter = events(&config).unwrap();
    let (all, entered): (Vec<NewEvent>, Vec<Timestamp>) = iter
        .by_ref()
        .map(|e| e.unwrap())
        .map(|e| (e.event, e.entered_at))
        .unzip();
    let read = classify::classify_cases(&all, &entered);
    assert_eq!(read.len(), iter.marks().len());
    for (stream, marks) in iter.marks() {
        let mut mine = CaseCounts::default();
        mine.add_case(*marks);
        assert_eq!(read[stream], mine, "{stream}");
    }
}

#[test]
fn the_default_demo_shows_every_v2_irregularity_and_says_how_long_suspensions_take() {
    // The demo's run: 3,000 cases at 30 a day, seed 7, default rates.
    let config = SimConfig {
        cases_per_workday: 30,
        ..SimConfig::new(3000, 7)
    };
    let run = run(&config);
    let c = &run.summary.cases_with;
    for (name, count) in [
        ("late answers to supplements", c.late_supplement_answers),
        ("limits overridden", c.limits_overridden),
        ("unknown items", c.unknown_items),
        ("no acceptances", c.no_acceptances),
        ("overlong suspensions", c.overlong_suspensions),
        ("excessive extensions", c.excessive_extensions),
        ("events after the end", c.after_conclusion),
        ("back-dated conclusions", c.backdated_conclusions),
    ] {
        assert!(count >= 5, "{name}: only {count} in the demo");
    }
    let mut lawful = 0;
    for event in &run.events {
        if let EventData::Suspended(s) = &event.data {
            if jiancha_events::vocab::is_lawful_suspension(&s.reason) && s.notice.is_some() {
                lawful += 1;
                let told = s.expected_days.expect("a lawful suspension says its days");
                let notice = s.notice.as_deref().unwrap_or_default();
                assert!(notice.contains(&format!("需{told}个工作日")), "{notice}");
            }
        }
    }
    assert!(lawful > 20, "{lawful} lawful suspensions");
}

/// FNV-1a over the bytes: a digest that no dependency upgrade can change.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Without projects the output is byte for byte what it was before procurement projects
/// existed: the digests were recorded from the generator of commit 25bc337.
#[test]
fn without_projects_the_output_is_unchanged() {
    let plain = run(&SimConfig::new(300, 11));
    let busy = run(&SimConfig {
        rates: busy_rates(),
        ..SimConfig::new(1000, 7)
    });
    let digests = (fnv1a(plain.text.as_bytes()), fnv1a(busy.text.as_bytes()));
    assert_eq!(digests, (0x5232_dc5d_420b_9fdb, 0x1c80_5a63_b782_581f));
    assert_eq!((plain.text.len(), busy.text.len()), (772_440, 2_440_179));
    // The summary a `--summary` file holds is unchanged too.
    let summary = serde_json::to_string(&busy.summary).unwrap();
    assert_eq!(
        (fnv1a(summary.as_bytes()), summary.len()),
        (0x7085_0722_1ed4_2330, 1255)
    );
}
