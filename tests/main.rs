//! End-to-end tests through the real `jiancha` binary: one test binary, one module per area.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "test code: a failed unwrap is a failed test"
)]

#[path = "../testsupport/alert_lists.rs"]
mod alert_lists;
mod asof_cli_server;
mod audit_cli;
mod calendar_cli;
mod caselist_cli;
mod closing_cli;
mod crash;
#[path = "../testsupport/disclosure_figures.rs"]
mod disclosure_figures;
mod docs_cli;
mod edges_cli;
mod evidence_http;
mod history_cli;
mod import_cli;
mod insight;
mod integrity;
mod invariants;
mod lang_cli;
#[path = "../testsupport/loopback.rs"]
mod loopback;
mod multi_process;
mod names_cli;
mod notice_cli;
mod notify_cli;
mod ownership;
mod postgres_cli;
mod procurement_cli;
mod procurement_sim;
mod project_view_cli;
mod province_cli;
mod public_cli;
mod report_cli;
#[path = "../testsupport/sealed_log.rs"]
mod sealed_log;
mod server_api;
mod server_dashboard;
mod sim_workflow;
mod support;
mod tidy;
mod travel_cli;
mod views_cli;
mod workbench_browser;
#[path = "../testsupport/workbook_cells.rs"]
mod workbook_cells;
mod workflow_browser;
