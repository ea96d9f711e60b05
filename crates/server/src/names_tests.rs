//! The dashboard and the Rust code name rules, case statuses and event types alike: the tables of
//! `assets/dashboard.js` (`TEXT.*.rules`, `TEXT.*.states`, `TEXT.zh.events`) must equal
//! `jiancha_projections::names` for every rule, status and event type, so the CLI, the 监察建议书 and the
//! dashboard can never drift apart.

use std::collections::BTreeMap;

use jiancha_projections::names::{status_name, Lang};
use jiancha_projections::{Status, RULES};

const DASHBOARD_JS: &str = include_str!("../assets/dashboard.js");

/// The string literal starting at `text[0]` (a `'` or `"`), unescaped, and what follows it.
fn literal(text: &str) -> Option<(String, &str)> {
    let quote = text.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let mut out = String::new();
    let mut chars = text.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => out.push(chars.next()?.1),
            c if c == quote => return Some((out, &text[i + 1..])),
            c => out.push(c),
        }
    }
    None
}

/// The `key: { 'a': 'b', c: 'd', … }` object of the `lang: { … }` block of `TEXT`, as a map.
fn js_table(lang: &str, key: &str) -> BTreeMap<String, String> {
    let block = DASHBOARD_JS
        .find(&format!("\n  {lang}: {{"))
        .unwrap_or_else(|| panic!("dashboard.js has no TEXT.{lang} block"));
    let from = &DASHBOARD_JS[block..];
    let start = from
        .find(&format!(" {key}: {{"))
        .unwrap_or_else(|| panic!("dashboard.js has no TEXT.{lang}.{key}"));
    let mut rest = &from[start + key.len() + 4..];
    let mut table = BTreeMap::new();
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == ',');
        if rest.starts_with('}') {
            return table;
        }
        // A key: a string literal or a bare identifier.
        let (name, after) = literal(rest).unwrap_or_else(|| {
            let end = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            (rest[..end].to_owned(), &rest[end..])
        });
        let after = after.trim_start();
        let after = after
            .strip_prefix(':')
            .unwrap_or_else(|| panic!("TEXT.{lang}.{key}: no ':' after {name:?}"))
            .trim_start();
        let (value, after) = literal(after)
            .unwrap_or_else(|| panic!("TEXT.{lang}.{key}.{name}: not a string literal"));
        assert!(
            table.insert(name.clone(), value).is_none(),
            "TEXT.{lang}.{key}: {name} twice"
        );
        rest = after;
    }
}

#[test]
fn the_dashboards_rule_names_are_the_rust_ones() {
    for lang in Lang::ALL {
        let js = js_table(lang.code(), "rules");
        let rust: BTreeMap<String, String> = RULES
            .into_iter()
            .map(|r| (r.code().to_owned(), r.name(lang).to_owned()))
            .collect();
        assert_eq!(
            js,
            rust,
            "TEXT.{}.rules in assets/dashboard.js differs from jiancha_projections::names",
            lang.code()
        );
    }
}

#[test]
fn the_dashboards_status_names_are_the_rust_ones() {
    let statuses = [
        Status::Submitted,
        Status::Running,
        Status::Suspended,
        Status::Concluded,
        Status::Withdrawn,
        Status::Rejected,
    ];
    for lang in Lang::ALL {
        let js = js_table(lang.code(), "states");
        let rust: BTreeMap<String, String> = statuses
            .into_iter()
            .map(|s| (s.as_str().to_owned(), status_name(s, lang).to_owned()))
            .collect();
        assert_eq!(
            js,
            rust,
            "TEXT.{}.states in assets/dashboard.js differs from jiancha_projections::names",
            lang.code()
        );
    }
}

#[test]
fn the_dashboards_event_names_are_the_rust_ones() {
    let js = js_table("zh", "events");
    let rust: BTreeMap<String, String> = jiancha_events::EVENT_TYPES
        .iter()
        .map(|t| {
            (
                (*t).to_owned(),
                jiancha_projections::names::event_zh(t).to_owned(),
            )
        })
        .collect();
    assert_eq!(
        js, rust,
        "TEXT.zh.events in assets/dashboard.js differs from jiancha_projections::names::event_zh"
    );
    let en = js_table("en", "events");
    assert_eq!(
        en.keys().collect::<Vec<_>>(),
        rust.keys().collect::<Vec<_>>(),
        "TEXT.en.events names every event type"
    );
}
