//! Tidiness checks over the source tree: the layers of DESIGN.md hold (read from each crate's
//! Cargo.toml), every Rust file says what it is for, and the pure crates stay pure.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Each crate's folder and the internal crates it may depend on (normal dependencies).
const LAYERS: &[(&str, &[&str])] = &[
    ("events", &[]),
    ("crates/calendar", &[]),
    ("projections", &["jiancha-events", "jiancha-calendar"]),
    ("crates/store", &["jiancha-events"]),
    ("crates/sim", &["jiancha-events", "jiancha-calendar"]),
    (
        "crates/engine",
        &[
            "jiancha-events",
            "jiancha-calendar",
            "jiancha-projections",
            "jiancha-store",
        ],
    ),
    (
        "crates/server",
        &[
            "jiancha-events",
            "jiancha-calendar",
            "jiancha-projections",
            "jiancha-store",
            "jiancha-engine",
        ],
    ),
];

/// Crates that do no I/O, spawn nothing and read no clock.
const PURE: &[&str] = &["events", "crates/calendar", "projections"];

fn dependency_names(manifest: &str, section: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut inside = false;
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            inside = line == section;
            continue;
        }
        if inside {
            if let Some((name, _)) = line.split_once('=') {
                let name = name.trim().trim_end_matches(".workspace").to_owned();
                if !name.is_empty() && !name.starts_with('#') {
                    names.push(name);
                }
            }
        }
    }
    names
}

#[test]
fn dependencies_point_one_way() {
    for (dir, allowed) in LAYERS {
        let path = root().join(dir).join("Cargo.toml");
        let Ok(manifest) = std::fs::read_to_string(&path) else {
            continue; // a crate that does not exist yet
        };
        for dep in dependency_names(&manifest, "[dependencies]") {
            if dep.starts_with("jiancha-") {
                assert!(
                    allowed.contains(&dep.as_str()),
                    "{dir} must not depend on {dep}"
                );
            }
        }
    }
}

#[test]
fn pure_crates_use_no_runtime_io_or_clock() {
    let banned_deps = ["tokio", "sqlx", "axum", "futures", "indicatif", "reqwest"];
    let banned_code = [
        "std::fs",
        "std::net",
        "tokio::",
        "Utc::now",
        "Local::now",
        "SystemTime",
        "Instant::now",
        "println!",
        "thread::spawn",
    ];
    for dir in PURE {
        let manifest = std::fs::read_to_string(root().join(dir).join("Cargo.toml"));
        let Ok(manifest) = manifest else { continue };
        for dep in dependency_names(&manifest, "[dependencies]") {
            assert!(
                !banned_deps.contains(&dep.as_str()),
                "{dir} is pure but depends on {dep}"
            );
        }
        for file in rust_files(&root().join(dir).join("src")) {
            let text = std::fs::read_to_string(&file).unwrap();
            // Tests may read fixtures; the code they test may not.
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            if file.to_string_lossy().contains("test") {
                continue;
            }
            for b in banned_code {
                assert!(
                    !code.contains(b),
                    "{} is in a pure crate but uses {b}",
                    file.display()
                );
            }
        }
    }
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if path.is_dir() && name != "target" && !name.starts_with('.') {
            out.extend(rust_files(&path));
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
    out.sort();
    out
}

#[test]
fn every_rust_file_says_what_it_is_for() {
    let mut files = Vec::new();
    for dir in ["events", "projections", "crates", "tests", "benches"] {
        files.extend(rust_files(&root().join(dir)));
    }
    assert!(files.len() > 10, "the walk found the sources");
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            text.starts_with("//!"),
            "{} does not start with a //! paragraph",
            file.display()
        );
    }
}
