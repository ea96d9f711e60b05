//! The commands, one module each.

pub mod calendar;
pub mod export;
pub mod import;
pub mod verify;
