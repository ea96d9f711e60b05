//! Crash safety: an import killed with SIGKILL at any moment leaves the log holding either
//! none or all of its file, and the log still verifies.

use std::process::Stdio;
use std::time::Duration;

use crate::support::*;

fn head_position(ws: &Workspace) -> u64 {
    let r = ws.run(&["verify"], "");
    assert_eq!(r.code, 0, "the log verifies after the kill: {r:?}");
    let n: u64 = r
        .stdout
        .trim_start_matches("ok: ")
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    n
}

#[test]
fn a_killed_import_leaves_nothing_or_everything() {
    let ws = Workspace::new();
    // A small log first, so "nothing" means "what was there before".
    let base = format!("{}\n", submitted("case-base"));
    assert_eq!(ws.run(&["import"], &base).code, 0);
    let file = ws.path("big.jsonl");
    let total = big_file(&file, 20_000, 2) as u64;
    // Delays spread over the import's life, from before the first write to after the commit;
    // a simple LCG keeps them reproducible while still landing at arbitrary moments.
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut outcomes = Vec::new();
    for round in 0..4 {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let delay_ms = 50 + (seed >> 33) % (300 + round * 700);
        let before = head_position(&ws);
        let mut child = jiancha()
            .arg("--db")
            .arg(ws.db())
            .arg("import")
            .arg(&file)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill(); // SIGKILL on Unix
        let _ = child.wait();
        let after = head_position(&ws);
        assert!(
            after == before || after == before + total,
            "round {round} (killed after {delay_ms} ms): {before} -> {after}, a partial import"
        );
        outcomes.push(after - before);
    }
    // A final run to completion appends the rest, or nothing if a round already did (ids).
    let r = ws.run(&["import", file.to_str().unwrap()], "");
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        head_position(&ws),
        1 + total,
        "outcomes per round: {outcomes:?}"
    );
}
