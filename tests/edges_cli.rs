//! The binary at its edges: a repeated JSON key refused alike by `import` and over HTTP, a
//! reader that closes standard output early, diagnostics into a pipe, `serve`'s limits.

use std::process::Stdio;

use crate::server_api::{post_events, Served};
use crate::support::{jiancha, submitted, Workspace};

/// A center token over `jiangjin`, as `serve --auth` reads it.
const CENTER_TOKEN: &str = "edge-center";

fn auth_file(ws: &Workspace) -> String {
    let text = format!(
        "[[token]]\nname = \"clerk-1\"\nrole = \"center\"\norg = \"jiangjin\"\nsha256 = \"{}\"\n",
        jiancha_server::token_hash(CENTER_TOKEN)
    );
    ws.write("tokens.toml", &text).display().to_string()
}

#[test]
fn a_repeated_key_is_refused_alike_over_http_and_by_import() {
    // The line names the token's own actor and an org under its path, so the server adds
    // nothing: both parse the very same text.
    let line = submitted("case-dup").replace(
        r#""stream":"case-dup","#,
        r#""stream":"case-dup","stream":"case-other","#,
    );
    let ws = Workspace::new();
    let imported = ws.run(&["import", "-"], &line);
    assert_eq!(imported.code, 2, "{imported:?}");
    let said = imported.stderr.lines().next().unwrap_or_default();
    let said = said.trim_start_matches("error: ").to_owned();
    assert!(
        said.starts_with("line 1: stream: duplicate field"),
        "{said}"
    );

    let ws = Workspace::new();
    let auth = auth_file(&ws);
    let served = Served::start_with(&ws.db(), &[], &["--auth", &auth]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let base = served.url("");
    let (status, body) = runtime.block_on(post_events(&base, Some(CENTER_TOKEN), &line));
    assert_eq!(status, 400, "{body}");
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["message"].as_str(), Some(said.as_str()), "{body}");
    assert_eq!(body["line"], 1);
    // Left for the server to fill in, actor and org do not hide the repeat either.
    let bare = line
        .replace(r#""actor":"clerk-1","#, "")
        .replace(r#""org":"jiangjin/town-01/window-1","#, "");
    let (status, body) = runtime.block_on(post_events(&base, Some(CENTER_TOKEN), &bare));
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("duplicate field"), "{body}");
    let (status, said) = served.interrupt();
    assert!(status.success(), "{said}");
    assert_eq!(ws.export(), "", "nothing was appended");
}

/// Runs `jiancha --db DB ARGS` with its standard output a pipe whose reader is gone before
/// the command writes: (exit code, standard error).
fn with_stdout_closed(db: &str, args: &[&str]) -> (i32, String) {
    let mut child = jiancha()
        .arg("--db")
        .arg(db)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_reader_that_stops_reading_ends_the_command_quietly() {
    let ws = Workspace::new();
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/district.jsonl");
    let imported = ws.run(&["import", example], "");
    assert_eq!(imported.code, 0, "{imported:?}");
    let commands: &[&[&str]] = &[
        &["export"],
        &["alerts"],
        &["alerts", "--format", "json"],
        &["verify"],
        &["report", "--period", "2026-03"],
        &["case", "show", "case-2026-000101"],
        &["history", "case-2026-000101"],
        &["evidence", "case-2026-000101"],
        &["calendar", "show", "2026"],
        &["calendar", "due", "2026-09-28", "5"],
        &["simulate", "--cases", "5", "--seed", "1"],
    ];
    for args in commands {
        let (code, stderr) = with_stdout_closed(&ws.db(), args);
        assert_eq!((code, stderr.as_str()), (0, ""), "jiancha {args:?}");
    }
}

#[test]
fn diagnostics_into_a_pipe_carry_no_colour_codes() {
    let ws = Workspace::new();
    // An empty log, so that `verify` has one to read.
    assert_eq!(ws.run(&["import", "-"], "").code, 0);
    let run = ws.run_env(&ws.db(), &[("JIANCHA_LOG", "debug")], &["verify"], "");
    assert_eq!(run.code, 0, "{run:?}");
    assert!(!run.stderr.is_empty(), "debug diagnostics are written");
    assert!(!run.stderr.contains('\u{1b}'), "{:?}", run.stderr);
}

#[test]
fn serve_takes_its_connection_limits_and_refuses_zero() {
    let ws = Workspace::new();
    for flag in [
        "--max-connections",
        "--header-timeout",
        "--body-timeout",
        "--idle-timeout",
    ] {
        let refused = ws.run(&["serve", flag, "0"], "");
        assert_eq!(refused.code, 2, "{flag}: {refused:?}");
    }
    let help = ws.run(&["serve", "--help"], "");
    assert!(help.stdout.contains("--max-connections"), "{}", help.stdout);
    let served = Served::start_with(
        &ws.db(),
        &[],
        &["--max-connections", "8", "--idle-timeout", "5"],
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (status, health) =
        runtime.block_on(crate::server_api::get_json(&served.url("/healthz"), None));
    assert_eq!(
        (status, &health["ok"]),
        (200, &serde_json::Value::Bool(true))
    );
    let (status, said) = served.interrupt();
    assert!(status.success(), "{said}");
}

/// An org filter that names no org (empty, or a malformed path) is refused alike by the
/// commands and the routes, naming the flag or field: it never quietly means "every org". A
/// page limit or a depth of 0 is refused too, rather than answered with nothing.
#[test]
fn filters_that_select_nothing_by_mistake_are_refused_alike() {
    let ws = Workspace::new();
    assert_eq!(ws.run(&["import", "-"], &submitted("case-1")).code, 0);
    for org in ["", "a//b"] {
        for args in [
            vec!["alerts", "--org", org],
            vec!["insight", "--period", "2026-03", "--org", org],
            vec!["case", "list", "--org", org],
        ] {
            let r = ws.run(&args, "");
            assert_eq!(r.code, 2, "{args:?}: {r:?}");
            assert!(r.stderr.contains("--org"), "{args:?}: {r:?}");
        }
    }
    for (args, flag) in [
        (vec!["case", "list", "--limit", "0"], "--limit"),
        (
            vec!["report", "--period", "2026-03", "--depth", "0"],
            "--depth",
        ),
    ] {
        let r = ws.run(&args, "");
        assert_eq!(r.code, 2, "{args:?}: {r:?}");
        assert!(r.stderr.contains(flag), "{args:?}: {r:?}");
    }
    let text = format!(
        "[[token]]\nname = \"bureau-1\"\nrole = \"supervisor\"\norg = \"jiangjin\"\nsha256 = \"{}\"\n",
        jiancha_server::token_hash("edge-supervisor")
    );
    let auth = ws.write("supervisor.toml", &text).display().to_string();
    let served = Served::start_with(&ws.db(), &[], &["--auth", &auth]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    for (route, field) in [
        ("alerts?org=", "org"),
        ("insights?period=2026-03&org=", "org"),
        ("insights?period=2026-03&org=a//b", "org"),
        // A page of none, without a cursor, would read as the last page.
        ("alerts?limit=0", "limit"),
        ("cases?limit=0", "limit"),
    ] {
        let url = served.url(&format!("/api/v1/{route}"));
        let (status, body) =
            runtime.block_on(crate::server_api::get_json(&url, Some("edge-supervisor")));
        assert_eq!(status, 400, "{route}: {body}");
        assert_eq!(body["field"], field, "{route}: {body}");
    }
    let (status, said) = served.interrupt();
    assert!(status.success(), "{said}");
}

/// `demo` recreates its own file, and nothing else: a file that is no SQLite log, the log
/// `--db` names, or a refused address leaves the file as it was (exit 2, naming `--file` or
/// `--addr`).
#[test]
fn the_demo_replaces_its_own_log_only() {
    let ws = Workspace::new();
    let notes = ws.path("notes.txt");
    std::fs::write(&notes, "my notes\n").unwrap();
    let notes_arg = notes.to_str().unwrap();
    let r = ws.run(&["demo", "--cases", "10", "--file", notes_arg], "");
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("--file"), "{r:?}");
    let r = ws.run(
        &[
            "demo",
            "--serve",
            "--addr",
            "0.0.0.0:18662",
            "--cases",
            "10",
            "--file",
            notes_arg,
        ],
        "",
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert_eq!(std::fs::read_to_string(&notes).unwrap(), "my notes\n");
    // The log --db names.
    let (text, _) = crate::support::catalogue_input();
    assert_eq!(ws.run(&["import"], &text).code, 0);
    let before = ws.export();
    let own = ws.db();
    let own = own.strip_prefix("sqlite://").unwrap_or(&own);
    let r = ws.run(&["demo", "--cases", "10", "--file", own], "");
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("is the log --db names"), "{r:?}");
    assert_eq!(ws.export(), before);
}

/// `simulate -o FILE` replaces FILE only with a whole simulation: a failed run leaves it as it
/// was. A summary that cannot be written is refused before anything is generated.
#[test]
fn a_failed_simulation_leaves_its_file_and_writes_nothing() {
    let ws = Workspace::new();
    let kept = ws.path("kept.jsonl");
    std::fs::write(&kept, "precious\n").unwrap();
    let kept_arg = kept.to_str().unwrap();
    // `simulate --seed 1` with the given options.
    let simulate = |options: &[&str]| {
        let mut args = vec!["simulate", "--seed", "1"];
        args.extend_from_slice(options);
        ws.run(&args, "")
    };
    let r = simulate(&["--cases", "100", "--start", "2100-12-30", "-o", kept_arg]);
    assert_eq!(r.code, 2, "{r:?}");
    assert_eq!(std::fs::read_to_string(&kept).unwrap(), "precious\n");
    let missing = ws.path("nodir/s.json");
    let r = simulate(&["--cases", "20", "--summary", missing.to_str().unwrap()]);
    assert_eq!(r.code, 2, "{r:?}");
    let generated = r.stdout.len();
    assert_eq!(generated, 0, "nothing generated: {generated} bytes");
    // The events and the summary to one file, by the same path or another way to it: the
    // summary would replace the events (exit 2, the file as it was).
    let other_way = ws.path("nodir/../kept.jsonl");
    std::fs::create_dir_all(ws.path("nodir")).unwrap();
    let link = ws.path("link.jsonl");
    std::os::unix::fs::symlink(&kept, &link).unwrap();
    for summary in [kept.clone(), other_way, link] {
        let r = simulate(&[
            "--cases",
            "20",
            "-o",
            kept_arg,
            "--summary",
            summary.to_str().unwrap(),
        ]);
        assert_eq!(r.code, 2, "{}: {r:?}", summary.display());
        assert!(r.stderr.contains("--summary"), "{r:?}");
        assert_eq!(std::fs::read_to_string(&kept).unwrap(), "precious\n");
    }
    // A link to a file not written yet names that file too; a loop of links is refused before
    // anything is generated.
    let fresh = ws.path("fresh.jsonl");
    let dangling = ws.path("dangling.jsonl");
    std::os::unix::fs::symlink("fresh.jsonl", &dangling).unwrap();
    let looped = ws.path("loop-a");
    std::os::unix::fs::symlink("loop-b", &looped).unwrap();
    std::os::unix::fs::symlink("loop-a", ws.path("loop-b")).unwrap();
    for (events, summary) in [(&fresh, &dangling), (&dangling, &fresh), (&fresh, &looped)] {
        let r = simulate(&[
            "--cases",
            "20",
            "-o",
            events.to_str().unwrap(),
            "--summary",
            summary.to_str().unwrap(),
        ]);
        assert_eq!(r.code, 2, "{r:?}");
        assert!(!fresh.exists(), "{r:?}");
    }
    // The summary to the file the shell sends standard output to (`--summary F > F`).
    let shell_file = ws.path("shell.jsonl");
    let out = jiancha()
        .args(["simulate", "--seed", "1", "--cases", "20", "--summary"])
        .arg(&shell_file)
        .stdout(std::fs::File::create(&shell_file).unwrap())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("standard output"),
        "{out:?}"
    );
    let r = simulate(&["--cases", "20", "-o", kept_arg]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(std::fs::read_to_string(&kept).unwrap().lines().count() > 20);
}

/// An interrupted write leaves the user's file as it was and nothing beside it: the temporary
/// file is removed on SIGTERM and SIGINT, and the exit code is the signal's (143, 130).
#[test]
fn an_interrupted_output_leaves_no_partial_file() {
    for (signal, code) in [("TERM", 143), ("INT", 130)] {
        let ws = Workspace::new();
        let dir = ws.path("out");
        std::fs::create_dir_all(&dir).unwrap();
        let kept = dir.join("sim.jsonl");
        std::fs::write(&kept, "keep\n").unwrap();
        let mut child = jiancha()
            .args(["simulate", "--cases", "5000000", "--seed", "3", "-o"])
            .arg(&kept)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Until the temporary file beside it has begun.
        let entries = || std::fs::read_dir(&dir).unwrap().count();
        let started = std::time::Instant::now();
        while entries() < 2 && started.elapsed() < std::time::Duration::from_secs(30) {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert_eq!(entries(), 2, "the temporary file never appeared");
        std::thread::sleep(std::time::Duration::from_millis(200));
        let sent = std::process::Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(code), "{signal}: {status:?}");
        assert_eq!(std::fs::read_to_string(&kept).unwrap(), "keep\n");
        assert_eq!(entries(), 1, "{signal}: a partial file was left");
    }
}
