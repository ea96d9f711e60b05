//! The migrations are embedded at compile time: a changed or added migration rebuilds the crate.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
