//! The engine's tests, one binary: deadlines passing with no new event, restarts and two engines
//! on one log, live event-driven alerts, calendar amendments, the scheduler's bound, a property
//! that restarting never changes what is published or carded, two engines with stores of
//! their own sharing one PostgreSQL log, and the log lines of a database outage.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed unwrap is a failed test"
)]

mod calendar;
mod deadlines;
mod evidence;
mod forged;
mod live;
#[path = "../../../../testsupport/log_capture.rs"]
mod log_capture;
mod outage;
mod postgres;
mod property;
mod restart;
mod snapshot;
mod support;
mod travel;
mod withdrawn;
mod workflow;
mod wrapped;
