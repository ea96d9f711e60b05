//! `jiancha docs` end to end: the committed references are what the binary prints, to standard
//! output and to `--output`, and the README links them.

use std::path::Path;

use crate::support::jiancha;

fn committed(file: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn docs_events_prints_the_committed_reference() {
    let output = jiancha().args(["docs", "events"]).output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(
        String::from_utf8(output.stdout).unwrap() == committed("docs/events.md"),
        "docs/events.md is not current: run `jiancha docs events --output docs/events.md`"
    );
}

#[test]
fn docs_rules_writes_the_committed_reference_to_output() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rules.md");
    let output = jiancha()
        .args(["docs", "rules", "--output"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(output.stdout.is_empty());
    assert!(
        std::fs::read_to_string(&file).unwrap() == committed("docs/rules.md"),
        "docs/rules.md is not current: run `jiancha docs rules --output docs/rules.md`"
    );
}

#[test]
fn the_readme_links_both_references() {
    let readme = committed("README.md");
    assert!(readme.contains("(docs/events.md)"));
    assert!(readme.contains("(docs/rules.md)"));
}
