//! Log lines captured in tests: a formatting subscriber installed once for the test binary (a
//! global one, so no other thread can leave a callsite's interest cached as "never") writes
//! into a buffer of the thread that logs. A test on a current-thread runtime reads only its own
//! lines. Shared by the engine's and the server's test binaries (each includes this file with
//! `#[path]`), which have no test-support crate in common.

use std::cell::RefCell;
use std::io::Write;
use std::sync::Once;

thread_local! {
    static LINES: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Appends to this thread's buffer.
struct ThreadBuffer;

impl Write for ThreadBuffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        LINES.with(|l| l.borrow_mut().extend_from_slice(bytes));
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs the capturing subscriber with `filter` (the first call in the binary decides it)
/// and empties this thread's buffer.
pub fn capture(filter: &str) {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(|| ThreadBuffer)
            .with_ansi(false)
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
        // A callsite registered while the subscriber was being installed is asked again.
        tracing::callsite::rebuild_interest_cache();
    });
    LINES.with(|l| l.borrow_mut().clear());
}

/// The lines logged on this thread since [`capture`].
pub fn captured() -> Vec<String> {
    LINES.with(|l| {
        String::from_utf8_lossy(&l.borrow())
            .lines()
            .map(str::to_owned)
            .collect()
    })
}
