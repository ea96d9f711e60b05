//! How a command failure becomes an exit code.
//!
//! Exit codes are a contract with scripts: 0 success, 1 a check found a problem (for example
//! `verify` found a broken chain), 2 bad input or usage (nothing was written), 3 an
//! infrastructure failure (database unreachable, disk full).

use std::fmt;

/// Exit code of a successful command.
pub const EXIT_OK: u8 = 0;
/// Exit code when a check ran and found a problem.
pub const EXIT_CHECK_FAILED: u8 = 1;
/// Exit code for bad input or usage; nothing was written.
pub const EXIT_BAD_INPUT: u8 = 2;
/// Exit code for an infrastructure failure.
pub const EXIT_INFRA: u8 = 3;

/// A mistake in what the user gave us: printed as is, exit code 2.
#[derive(Debug)]
pub struct UserError(pub String);

impl fmt::Display for UserError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UserError {}

/// Builds an [`anyhow::Error`] that exits with code 2.
pub fn user_error(message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(UserError(message.into()))
}

/// A check that ran and failed (exit code 1), with its report already printed or in `0`.
#[derive(Debug)]
pub struct CheckFailed(pub String);

impl fmt::Display for CheckFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CheckFailed {}

/// Maps an error to its exit code.
pub fn exit_code_of(error: &anyhow::Error) -> u8 {
    if error.downcast_ref::<UserError>().is_some() {
        EXIT_BAD_INPUT
    } else if error.downcast_ref::<CheckFailed>().is_some() {
        EXIT_CHECK_FAILED
    } else {
        EXIT_INFRA
    }
}
