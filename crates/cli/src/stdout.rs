//! Standard output for every command. A reader that stops reading (`jiancha alerts | head`) is
//! not a failure of ours: a write to a closed pipe becomes a [`Closed`] error, which
//! `main_with_args` turns into a quiet exit 0. Only writes through [`lock`] are marked, so a
//! broken pipe elsewhere (a database socket) still fails as it should.

use std::io::{self, Write};

/// Standard output was closed by its reader.
#[derive(Debug)]
pub struct Closed;

impl std::fmt::Display for Closed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("standard output was closed by its reader")
    }
}

impl std::error::Error for Closed {}

/// The locked standard output, marking a closed pipe.
#[derive(Debug)]
pub struct Stdout(io::StdoutLock<'static>);

/// Locks standard output for a command's writes.
pub fn lock() -> Stdout {
    Stdout(io::stdout().lock())
}

fn mark(e: io::Error) -> io::Error {
    if e.kind() == io::ErrorKind::BrokenPipe {
        io::Error::new(io::ErrorKind::BrokenPipe, Closed)
    } else {
        e
    }
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf).map_err(mark)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.0.write_all(buf).map_err(mark)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush().map_err(mark)
    }
}

/// Whether an error comes from writing to a closed standard output.
pub fn is_closed(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause.is::<Closed>()
            || cause
                .downcast_ref::<io::Error>()
                .and_then(io::Error::get_ref)
                .is_some_and(|inner| inner.is::<Closed>())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_marked_pipe_is_closed() {
        let marked = anyhow::Error::new(mark(io::Error::from(io::ErrorKind::BrokenPipe)));
        assert!(is_closed(&marked));
        assert!(is_closed(&marked.context("writing alerts")));
        let other = anyhow::Error::new(io::Error::from(io::ErrorKind::BrokenPipe));
        assert!(!is_closed(&other), "a broken pipe that is not stdout's");
    }
}
