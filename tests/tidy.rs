//! Tidiness checks over the source tree: every workspace member has a manifest and a row in the
//! layer table, internal dependencies point one way (read from each crate's Cargo.toml with the
//! `toml` parser), only store knows SQL, only server knows HTTP and only the CLI parses
//! arguments, the library crates document their public items, every Rust file says what it is
//! for, the pure crates stay pure, and no tracked file points at documents outside the
//! repository.
//!
//! Each check is a function of a workspace root that returns its violations, so the tests at the
//! bottom can run the same function on a scratch workspace and watch it fail.

use std::path::{Path, PathBuf};

use toml::{Table, Value};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// What a workspace member is, which decides the rules it answers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A library the others build on: documents its public items.
    Library,
    /// The `jiancha` command.
    Binary,
    /// The benchmarks.
    Benches,
    /// The end-to-end tests.
    Tests,
}

/// One workspace member: its folder, what it is, the internal crates its normal dependencies may
/// name, and whether it must stay pure (no I/O, no clock, no spawning).
#[derive(Debug)]
struct Layer {
    dir: &'static str,
    kind: Kind,
    may_use: &'static [&'static str],
    pure: bool,
}

const fn layer(dir: &'static str, kind: Kind, may_use: &'static [&'static str]) -> Layer {
    Layer {
        dir,
        kind,
        may_use,
        pure: false,
    }
}

const fn pure(dir: &'static str, may_use: &'static [&'static str]) -> Layer {
    Layer {
        dir,
        kind: Kind::Library,
        may_use,
        pure: true,
    }
}

/// Every workspace member, bottom layer first. A member missing here fails the check.
const LAYERS: &[Layer] = &[
    pure("events", &[]),
    pure("crates/calendar", &[]),
    pure("projections", &["jiancha-events", "jiancha-calendar"]),
    pure("crates/xlsx", &[]),
    layer("crates/store", Kind::Library, &["jiancha-events"]),
    layer(
        "crates/sim",
        Kind::Library,
        &["jiancha-events", "jiancha-calendar"],
    ),
    layer(
        "crates/engine",
        Kind::Library,
        &[
            "jiancha-events",
            "jiancha-calendar",
            "jiancha-projections",
            "jiancha-store",
        ],
    ),
    layer(
        "crates/server",
        Kind::Library,
        &[
            "jiancha-events",
            "jiancha-calendar",
            "jiancha-projections",
            "jiancha-store",
            "jiancha-engine",
            "jiancha-xlsx",
        ],
    ),
    layer(
        "crates/cli",
        Kind::Binary,
        &[
            "jiancha-events",
            "jiancha-calendar",
            "jiancha-projections",
            "jiancha-store",
            "jiancha-sim",
            "jiancha-engine",
            "jiancha-server",
            "jiancha-xlsx",
        ],
    ),
    layer(
        "benches",
        Kind::Benches,
        &[
            "jiancha-events",
            "jiancha-calendar",
            "jiancha-projections",
            "jiancha-store",
            "jiancha-sim",
            "jiancha-engine",
            "jiancha-server",
            "jiancha-cli",
            "jiancha-xlsx",
        ],
    ),
    layer("tests", Kind::Tests, &["jiancha-cli"]),
];

/// External crates that one member alone may use, in any dependency table.
const ONLY_IN: &[(&str, &str)] = &[
    ("sqlx", "crates/store"),
    ("rusqlite", "crates/store"),
    ("axum", "crates/server"),
    ("hyper", "crates/server"),
    ("hyper-util", "crates/server"),
    ("http-body-util", "crates/server"),
    ("reqwest", "crates/server"),
    ("clap", "crates/cli"),
    ("rust_xlsxwriter", "crates/xlsx"),
];

/// The exceptions to [`ONLY_IN`], each with its reason. The benchmarks may use what they measure
/// against, and the end-to-end tests may reach beneath the binary; nothing else may.
const EXCEPTIONS: &[(&str, &str, &str)] = &[
    (
        "benches",
        "sqlx",
        "the ingest and PostgreSQL benchmarks set raw sqlx inserts beside the store as baseline",
    ),
    (
        "tests",
        "sqlx",
        "the integrity and PostgreSQL tests tamper with the database under the binary",
    ),
    (
        "benches",
        "reqwest",
        "the HTTP benchmark is a client of the server it measures",
    ),
    (
        "tests",
        "reqwest",
        "the end-to-end tests are clients of the server under test",
    ),
];

/// The dependency tables of a manifest: `[dependencies]`, `[dev-dependencies]`,
/// `[build-dependencies]` and their `[target.*]` forms.
const DEPENDENCY_TABLES: &[&str] = &["dependencies", "dev-dependencies", "build-dependencies"];

/// The workspace members named by the root manifest, or the violation that stops the reading.
fn members(root: &Path) -> Result<Vec<String>, String> {
    let manifest = read_manifest(root)?;
    let members = manifest
        .get("workspace")
        .and_then(|w| w.get("members"))
        .and_then(Value::as_array)
        .ok_or("the root Cargo.toml has no workspace.members")?;
    members
        .iter()
        .map(|m| {
            m.as_str()
                .map(str::to_owned)
                .ok_or_else(|| format!("workspace member {m:?} is not a string"))
        })
        .collect()
}

fn read_manifest(dir: &Path) -> Result<Table, String> {
    let path = dir.join("Cargo.toml");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("{} cannot be read: {e}", path.display()))?;
    text.parse::<Table>()
        .map_err(|e| format!("{} does not parse: {e}", path.display()))
}

/// One dependency of a manifest: the table it sits in and the package it names (the `package`
/// key when the dependency is renamed).
#[derive(Debug)]
struct Dependency {
    table: String,
    package: String,
}

fn dependencies(manifest: &Table) -> Vec<Dependency> {
    let mut tables: Vec<(String, &Table)> = Vec::new();
    for name in DEPENDENCY_TABLES {
        if let Some(t) = manifest.get(*name).and_then(Value::as_table) {
            tables.push(((*name).to_owned(), t));
        }
    }
    for (target, spec) in manifest
        .get("target")
        .and_then(Value::as_table)
        .into_iter()
        .flatten()
    {
        for name in DEPENDENCY_TABLES {
            if let Some(t) = spec.get(*name).and_then(Value::as_table) {
                tables.push((format!("target.{target}.{name}"), t));
            }
        }
    }
    let mut out = Vec::new();
    for (table, deps) in tables {
        for (key, spec) in deps {
            let package = spec
                .get("package")
                .and_then(Value::as_str)
                .unwrap_or(key)
                .to_owned();
            out.push(Dependency {
                table: table.clone(),
                package,
            });
        }
    }
    out
}

/// Every manifest rule: each member has a manifest and a row in [`LAYERS`] (and each row is a
/// member), each crate is named after its folder, internal normal dependencies point down the
/// table, and the crates of [`ONLY_IN`] stay where they belong.
fn check_manifests(root: &Path) -> Vec<String> {
    let members = match members(root) {
        Ok(m) => m,
        Err(e) => return vec![e],
    };
    let mut violations = Vec::new();
    for layer in LAYERS {
        if !members.iter().any(|m| m == layer.dir) {
            violations.push(format!(
                "{} is in the layer table but not a workspace member",
                layer.dir
            ));
        }
    }
    for member in &members {
        let Some(layer) = LAYERS.iter().find(|l| l.dir == member) else {
            violations.push(format!(
                "{member} is a workspace member missing from the layer table"
            ));
            continue;
        };
        if !root.join(member).join("Cargo.toml").is_file() {
            violations.push(format!("{member} has no Cargo.toml"));
            continue;
        }
        match read_manifest(&root.join(member)) {
            Ok(manifest) => violations.extend(check_member(layer, &manifest)),
            Err(e) => violations.push(e),
        }
    }
    violations
}

fn check_member(layer: &Layer, manifest: &Table) -> Vec<String> {
    let dir = layer.dir;
    let mut violations = Vec::new();
    let folder = dir.rsplit('/').next().unwrap_or(dir);
    let name = manifest
        .get("package")
        .and_then(|p| p.get("name"))
        .and_then(Value::as_str);
    if name != Some(format!("jiancha-{folder}").as_str()) {
        violations.push(format!("{dir} is named {name:?}, not jiancha-{folder}"));
    }
    for dep in dependencies(manifest) {
        let package = dep.package.as_str();
        if dep.table == "dependencies"
            && package.starts_with("jiancha-")
            && !layer.may_use.contains(&package)
        {
            violations.push(format!("{dir} must not depend on {package}"));
        }
        for (only, home) in ONLY_IN {
            let excepted = EXCEPTIONS.iter().any(|(d, p, _)| *d == dir && p == only);
            if package == *only && dir != *home && !excepted {
                violations.push(format!(
                    "{dir} uses {package} ({}), which only {home} may use",
                    dep.table
                ));
            }
        }
    }
    violations
}

/// The library crates warn on undocumented public items (in their root file, their own lints
/// or the workspace's), and no file of theirs allows it back.
fn check_docs_lint(root: &Path) -> Vec<String> {
    let workspace_on = read_manifest(root).ok().is_some_and(|m| {
        m.get("workspace")
            .and_then(|w| w.get("lints")?.get("rust")?.get("missing_docs"))
            .and_then(lint_level)
            .is_some()
    });
    let mut violations = Vec::new();
    for layer in LAYERS.iter().filter(|l| l.kind == Kind::Library) {
        let dir = root.join(layer.dir);
        let manifest = match read_manifest(&dir) {
            Ok(m) => m,
            Err(e) => {
                violations.push(e);
                continue;
            }
        };
        let lints = manifest.get("lints");
        let inherits = lints
            .and_then(|l| l.get("workspace"))
            .and_then(Value::as_bool)
            == Some(true);
        let own_level = lints
            .and_then(|l| l.get("rust"))
            .and_then(|r| r.get("missing_docs"))
            .and_then(lint_level);
        let lib_root = manifest
            .get("lib")
            .and_then(|l| l.get("path"))
            .and_then(Value::as_str)
            .unwrap_or("src/lib.rs");
        let text = std::fs::read_to_string(dir.join(lib_root)).unwrap_or_default();
        let in_root = ["warn", "deny", "forbid"]
            .iter()
            .any(|level| text.contains(&format!("#![{level}(missing_docs)]")));
        let on = in_root || own_level.is_some() || (inherits && workspace_on);
        if !on {
            violations.push(format!(
                "{} does not warn on missing docs of public items",
                layer.dir
            ));
        }
        for file in rust_files(&dir.join("src")) {
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            if text.contains("allow(missing_docs") {
                violations.push(format!("{} allows missing docs", file.display()));
            }
        }
    }
    violations
}

/// `Some(level)` when a lint entry (`"warn"` or `{ level = "warn", .. }`) turns the lint on.
fn lint_level(entry: &Value) -> Option<&str> {
    let level = entry
        .as_str()
        .or_else(|| entry.get("level").and_then(Value::as_str))?;
    ["warn", "deny", "forbid"].contains(&level).then_some(level)
}

/// The pure crates depend on no runtime, database or network crate, and their code (tests
/// aside) does no I/O, reads no clock and spawns nothing.
fn check_pure(root: &Path) -> Vec<String> {
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
    let mut violations = Vec::new();
    for layer in LAYERS.iter().filter(|l| l.pure) {
        let dir = root.join(layer.dir);
        match read_manifest(&dir) {
            Ok(manifest) => {
                for dep in dependencies(&manifest) {
                    if dep.table == "dependencies" && banned_deps.contains(&dep.package.as_str()) {
                        violations.push(format!(
                            "{} is pure but depends on {}",
                            layer.dir, dep.package
                        ));
                    }
                }
            }
            Err(e) => violations.push(e),
        }
        let src = dir.join("src");
        let files = rust_files(&src);
        if files.is_empty() {
            violations.push(format!("{} has no Rust files to check", src.display()));
        }
        for file in files {
            // Tests may read fixtures; the code they test may not. Only the path inside the
            // crate counts, so a checkout under a folder named "test" still gets checked.
            let inside = file.strip_prefix(&src).unwrap_or(&file);
            if inside.to_string_lossy().contains("test") {
                continue;
            }
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            for b in banned_code {
                if code.contains(b) {
                    violations.push(format!(
                        "{} is in a pure crate but uses {b}",
                        file.display()
                    ));
                }
            }
        }
    }
    violations
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

/// Names of documents that live outside the repository, written in pieces so that this file
/// does not name them itself.
const OUTSIDE_DOCUMENTS: &[&[&str]] = &[
    &["DESIGN", ".md"],
    &["design/", "supervision.md"],
    &["design/", "public.md"],
    &["design/", "procurement.md"],
    &["../", "shared"],
];

/// No tracked file outside `.ci/` names a document outside the repository: the README, the
/// docs and the code say what they mean in their own words.
fn check_no_outside_documents(root: &Path) -> Vec<String> {
    let files = match tracked_files(root) {
        Ok(files) => files,
        Err(e) => return vec![e],
    };
    let names: Vec<String> = OUTSIDE_DOCUMENTS.iter().map(|p| p.concat()).collect();
    let mut violations = Vec::new();
    for file in files.iter().filter(|f| !f.starts_with(".ci/")) {
        let Ok(bytes) = std::fs::read(root.join(file)) else {
            continue; // deleted in the work tree but not yet in the index
        };
        let text = String::from_utf8_lossy(&bytes);
        for name in &names {
            if text.contains(name.as_str()) {
                violations.push(format!("{file} names {name}"));
            }
        }
    }
    violations
}

/// The files git tracks under `root` (the index, so a file added but not committed counts).
fn tracked_files(root: &Path) -> Result<Vec<String>, String> {
    let out = std::process::Command::new("git")
        .args(["ls-files", "-z"])
        .current_dir(root)
        .output()
        .map_err(|e| format!("git ls-files cannot run: {e}"))?;
    if !out.status.success() {
        return Err(format!("git ls-files failed: {}", out.status));
    }
    Ok(out
        .stdout
        .split(|b| *b == 0)
        .filter(|f| !f.is_empty())
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .collect())
}

#[test]
fn the_workspace_manifests_keep_the_layers() {
    assert!(members(&root()).unwrap().len() >= LAYERS.len());
    assert_eq!(check_manifests(&root()), Vec::<String>::new());
}

#[test]
fn the_library_crates_document_their_public_items() {
    assert_eq!(check_docs_lint(&root()), Vec::<String>::new());
}

#[test]
fn pure_crates_use_no_runtime_io_or_clock() {
    assert_eq!(check_pure(&root()), Vec::<String>::new());
}

#[test]
fn every_rust_file_says_what_it_is_for() {
    let mut files = Vec::new();
    for layer in LAYERS {
        files.extend(rust_files(&root().join(layer.dir)));
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

#[test]
fn no_tracked_file_names_a_document_outside_the_repository() {
    assert!(
        tracked_files(&root()).unwrap().len() > 10,
        "git lists the sources"
    );
    assert_eq!(check_no_outside_documents(&root()), Vec::<String>::new());
}

/// A scratch workspace with every member of [`LAYERS`], each with a minimal manifest (and, for a
/// library, a root file that turns `missing_docs` on): every check passes on it until a test
/// breaks one thing.
fn scratch_workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let members: Vec<String> = LAYERS.iter().map(|l| format!("{:?}", l.dir)).collect();
    let root_manifest = format!(
        "[workspace]\nresolver = \"2\"\nmembers = [{}]\n",
        members.join(", ")
    );
    std::fs::write(dir.path().join("Cargo.toml"), root_manifest).unwrap();
    for layer in LAYERS {
        let folder = layer.dir.rsplit('/').next().unwrap();
        write_member(dir.path(), layer.dir, &format!("jiancha-{folder}"), "");
        let src = dir.path().join(layer.dir).join("src");
        std::fs::create_dir_all(&src).unwrap();
        std::fs::write(
            src.join("lib.rs"),
            "//! A scratch crate.\n\n#![warn(missing_docs)]\n",
        )
        .unwrap();
    }
    dir
}

fn write_member(root: &Path, dir: &str, name: &str, rest: &str) {
    let path = root.join(dir);
    std::fs::create_dir_all(&path).unwrap();
    let manifest = format!("[package]\nname = \"{name}\"\nversion = \"0.1.0\"\n{rest}");
    std::fs::write(path.join("Cargo.toml"), manifest).unwrap();
}

fn add_member(root: &Path, dir: &str) {
    let path = root.join("Cargo.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let text = text.replace("members = [", &format!("members = [{dir:?}, "));
    std::fs::write(path, text).unwrap();
}

#[test]
fn a_scratch_workspace_of_every_layer_passes_the_checks() {
    let ws = scratch_workspace();
    assert_eq!(check_manifests(ws.path()), Vec::<String>::new());
    assert_eq!(check_docs_lint(ws.path()), Vec::<String>::new());
    assert_eq!(check_pure(ws.path()), Vec::<String>::new());
}

#[test]
fn sqlx_outside_store_fails_the_check() {
    let ws = scratch_workspace();
    write_member(
        ws.path(),
        "crates/engine",
        "jiancha-engine",
        "[dev-dependencies]\nsqlx = \"0.8\"\n",
    );
    assert_eq!(
        check_manifests(ws.path()),
        ["crates/engine uses sqlx (dev-dependencies), which only crates/store may use"]
    );
}

#[test]
fn a_member_left_out_of_the_layer_table_fails_the_check() {
    let ws = scratch_workspace();
    add_member(ws.path(), "crates/extra");
    write_member(ws.path(), "crates/extra", "jiancha-extra", "");
    assert_eq!(
        check_manifests(ws.path()),
        ["crates/extra is a workspace member missing from the layer table"]
    );
}

#[test]
fn a_missing_manifest_fails_the_check() {
    let ws = scratch_workspace();
    std::fs::remove_file(ws.path().join("crates/store/Cargo.toml")).unwrap();
    assert_eq!(
        check_manifests(ws.path()),
        ["crates/store has no Cargo.toml"]
    );
}

#[test]
fn a_library_without_missing_docs_fails_the_check() {
    let ws = scratch_workspace();
    std::fs::write(
        ws.path().join("crates/sim/src/lib.rs"),
        "//! A scratch crate.\n",
    )
    .unwrap();
    assert_eq!(
        check_docs_lint(ws.path()),
        ["crates/sim does not warn on missing docs of public items"]
    );
}

#[test]
fn a_file_naming_an_outside_document_fails_the_check() {
    let ws = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| {
        let status = std::process::Command::new("git")
            .args(args)
            .current_dir(ws.path())
            .status()
            .unwrap();
        assert!(status.success(), "git {args:?}");
    };
    git(&["init", "-q"]);
    let name = OUTSIDE_DOCUMENTS[0].concat();
    std::fs::write(ws.path().join("README.md"), format!("See {name}.\n")).unwrap();
    std::fs::create_dir(ws.path().join(".ci")).unwrap();
    std::fs::write(ws.path().join(".ci/run"), format!("# {name}\n")).unwrap();
    std::fs::write(ws.path().join("notes.md"), "Nothing outside.\n").unwrap();
    git(&["add", "."]);
    assert_eq!(
        check_no_outside_documents(ws.path()),
        [format!("README.md names {name}")]
    );
}
