//! The server's tests, through its router (no socket) but for `connections`: roles, bodies, the live stream, the
//! documents it serves. One test binary, one module per area.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "test code: a failed unwrap is a failed test"
)]

mod acts;
#[path = "../../../../testsupport/alert_lists.rs"]
mod alert_lists;
mod bodies;
mod caselist;
mod closing;
mod connections;
#[path = "../../../../testsupport/disclosure_figures.rs"]
mod disclosure_figures;
mod documents;
mod insights;
#[path = "../../../../testsupport/log_capture.rs"]
mod log_capture;
#[path = "../../../../testsupport/loopback.rs"]
mod loopback;
mod notify;
mod ownership;
mod procurement;
mod public;
mod roles;
mod schemas;
mod spans;
mod stream;
mod support;
mod workbench;
#[path = "../../../../testsupport/workbook_cells.rs"]
mod workbook_cells;
