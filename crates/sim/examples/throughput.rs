//! Measures the generator's throughput: writes a run to a file (or `/dev/null`) and prints
//! events per second. Run it with a release build:
//!
//! ```text
//! cargo run --release -p jiancha-sim --example throughput -- 200000 /tmp/sim.jsonl
//! ```

#![allow(clippy::print_stdout, reason = "an example reports on stdout")]

use std::fs::File;
use std::time::Instant;

use jiancha_sim::{generate, SimConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let cases: u64 = args.next().map_or(Ok(200_000), |a| a.parse())?;
    let path = args.next().unwrap_or_else(|| "/dev/null".to_owned());
    let mut file = File::create(&path)?;
    let started = Instant::now();
    let summary = generate(&SimConfig::new(cases, 1), &mut file)?;
    let seconds = started.elapsed().as_secs_f64();
    let bytes = file.metadata()?.len();
    println!(
        "{} cases, {} events, {:.1} MB to {path} in {seconds:.3} s: {:.0} events/s",
        summary.cases,
        summary.events,
        bytes as f64 / 1e6,
        summary.events as f64 / seconds
    );
    Ok(())
}
