//! The commands, one module each.

pub mod alerts;
pub mod calendar;
pub mod case;
pub mod case_list;
pub mod catalog;
pub mod demo;
pub mod demo_summary;
pub mod docs;
pub mod evidence;
pub mod export;
pub mod history;
pub mod import;
pub mod insight;
pub mod notice;
pub mod province;
pub mod receipt;
pub mod replay;
pub mod report;
pub mod report_close;
pub mod serve;
pub mod simulate;
pub mod verify;
