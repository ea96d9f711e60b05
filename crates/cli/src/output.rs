//! Writing a command's result to a file named by the user (`--output`, `--summary`).
//!
//! A regular file is written whole or not at all: the bytes go to a temporary file beside it,
//! which replaces it only once everything is on disk, with the old file's permissions (a new
//! one gets `rw-r--r--`). A symbolic link is followed: the file it points to is replaced, the
//! link kept. A device or a pipe (`/dev/null`, a FIFO) is written to as it is, never replaced.
//! `-` names standard output, as it names standard input for `import`. A failure is the user's
//! (exit 2) when the path is theirs to correct (no such directory, no permission, a directory
//! in its place) and an infrastructure failure (exit 3) otherwise (a full disk, an I/O error).

use std::fs::{File, OpenOptions, Permissions};
use std::io::{self, ErrorKind, Write as _};
use std::path::{Path, PathBuf};

use crate::error::user_error;

/// The temporary files being written, removed by [`remove_spooled`] when the command is
/// interrupted (a signal ends the process without running destructors).
static SPOOLED: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

/// Set on an interrupt: no temporary file is begun and none takes its file's place after it.
static INTERRUPTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn interrupted() -> io::Error {
    io::Error::new(ErrorKind::Interrupted, "interrupted")
}

/// Removes the temporary files of the outputs still being written: on an interrupt, so that
/// no partial file stays beside the user's.
pub fn remove_spooled() {
    INTERRUPTED.store(true, std::sync::atomic::Ordering::SeqCst);
    let spooled = std::mem::take(&mut *SPOOLED.lock().unwrap_or_else(|e| e.into_inner()));
    for path in spooled {
        let _ = std::fs::remove_file(path);
    }
}

/// On SIGINT or SIGTERM, removes the outputs' temporary files and ends the process as the
/// signal would have (exit 130 or 143). For the commands that do not handle the signals
/// themselves (`serve` and `demo` stop gracefully instead).
pub fn remove_spooled_on_interrupt() {
    let watcher = std::thread::Builder::new()
        .name("interrupt".into())
        .spawn(|| {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_io()
                .build()
            else {
                return;
            };
            runtime.block_on(async {
                use tokio::signal::unix::{signal, SignalKind};
                let (Ok(mut int), Ok(mut term)) = (
                    signal(SignalKind::interrupt()),
                    signal(SignalKind::terminate()),
                ) else {
                    return;
                };
                let code = tokio::select! {
                    _ = int.recv() => 130,
                    _ = term.recv() => 143,
                };
                remove_spooled();
                std::process::exit(code);
            });
        });
    if let Err(e) = watcher {
        tracing::debug!(error = %e, "no watcher of interrupts");
    }
}

/// Whether `path` names standard output.
pub fn is_stdout(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// Whether `path` names the file or pipe standard output already goes to (`> F` in the shell,
/// or `/dev/stdout` into a pipe): by device and inode, both existing. A terminal or a device
/// such as `/dev/null` takes two writers without harm.
pub fn is_standard_output(path: &Path) -> bool {
    use std::os::fd::AsFd as _;
    use std::os::unix::fs::FileTypeExt as _;
    use std::os::unix::fs::MetadataExt as _;
    let out = std::io::stdout();
    let Ok(fd) = out.as_fd().try_clone_to_owned() else {
        return false;
    };
    let (Ok(x), Ok(y)) = (std::fs::File::from(fd).metadata(), std::fs::metadata(path)) else {
        return false;
    };
    (x.file_type().is_file() || x.file_type().is_fifo()) && (x.dev(), x.ino()) == (y.dev(), y.ino())
}

/// The error for a file that could not be written: `flag` names the option that named it.
pub fn write_failed(flag: &str, path: &Path, e: &io::Error) -> anyhow::Error {
    let message = format!("{flag}: cannot write {}: {e}", path.display());
    match e.kind() {
        ErrorKind::NotFound
        | ErrorKind::PermissionDenied
        | ErrorKind::AlreadyExists
        | ErrorKind::IsADirectory
        | ErrorKind::NotADirectory
        | ErrorKind::ReadOnlyFilesystem
        | ErrorKind::InvalidFilename
        | ErrorKind::InvalidInput => user_error(message),
        _ => anyhow::anyhow!(message),
    }
}

/// Where a command's bytes go.
#[derive(Debug)]
pub enum Sink {
    /// A device or a pipe, written to as it is.
    Direct(File),
    /// A temporary file beside `target`, renamed over it by [`Sink::finish`].
    Spooled {
        /// The temporary file.
        file: tempfile::NamedTempFile,
        /// The regular file it replaces (a link's target, resolved).
        target: PathBuf,
        /// The permissions to give it: the old file's, or `rw-r--r--` for a new one.
        permissions: Option<Permissions>,
    },
}

impl Sink {
    /// The file to write to.
    pub fn file(&mut self) -> &mut File {
        match self {
            Sink::Direct(file) => file,
            Sink::Spooled { file, .. } => file.as_file_mut(),
        }
    }

    /// Puts what was written in place: a spooled file, once on disk, over its target.
    pub fn finish(self, flag: &str, path: &Path) -> anyhow::Result<()> {
        match self {
            Sink::Direct(mut file) => file.flush().map_err(|e| write_failed(flag, path, &e)),
            Sink::Spooled {
                file,
                target,
                permissions,
            } => {
                let failed = |e: &io::Error| write_failed(flag, path, e);
                file.as_file().sync_all().map_err(|e| failed(&e))?;
                if let Some(permissions) = permissions {
                    file.as_file()
                        .set_permissions(permissions)
                        .map_err(|e| failed(&e))?;
                }
                // Interrupted meanwhile: the old file stays (the temporary one goes with `file`).
                if INTERRUPTED.load(std::sync::atomic::Ordering::SeqCst) {
                    return Err(failed(&interrupted()));
                }
                file.persist(&target).map_err(|e| failed(&e.error))?;
                Ok(())
            }
        }
    }
}

/// The directory `path` is to be written in exists, and `path` is no directory (a usage error
/// naming both if not).
pub fn check_dir(flag: &str, path: &Path) -> anyhow::Result<()> {
    if is_stdout(path) {
        return Ok(());
    }
    // A link that leads nowhere writable (a loop of links) is refused before anything is
    // written: a link to a file not written yet is fine.
    if let Err(e) = std::fs::metadata(path) {
        if e.kind() != ErrorKind::NotFound {
            return Err(user_error(format!(
                "{flag}: cannot write {}: {e}",
                path.display()
            )));
        }
    }
    // A link is written where it points: its target's directory must exist.
    let linked = std::fs::symlink_metadata(path)
        .ok()
        .filter(|m| m.file_type().is_symlink())
        .and_then(|_| std::fs::read_link(path).ok())
        .map(|to| match path.parent() {
            Some(dir) if to.is_relative() => dir.join(to),
            _ => to,
        });
    let path = linked.as_deref().unwrap_or(path);
    match path.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(d) if !d.is_dir() => Err(user_error(format!(
            "{flag}: cannot write {}: the directory {} does not exist",
            path.display(),
            d.display()
        ))),
        _ if path.is_dir() => Err(user_error(format!(
            "{flag}: cannot write {}: it is a directory",
            path.display()
        ))),
        _ => Ok(()),
    }
}

/// Whether two paths name the same file: the same path once links and `..` are resolved (the
/// last part too when it exists), or, both existing, the same file by device and inode (a hard
/// link). Two outputs of one command must not: the second would replace the first.
pub fn same_file(a: &Path, b: &Path) -> bool {
    /// The path `p` names once resolved; a link to a file that does not exist yet names where
    /// that file will be (followed link by link, as the kernel would, at most 40 deep).
    fn resolved(p: &Path, depth: u8) -> Option<std::path::PathBuf> {
        if let Ok(whole) = std::fs::canonicalize(p) {
            return Some(whole);
        }
        let parent = p
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        if let (Ok(target), true) = (std::fs::read_link(p), depth < 40) {
            return resolved(&parent.join(target), depth + 1);
        }
        Some(std::fs::canonicalize(parent).ok()?.join(p.file_name()?))
    }
    use std::os::unix::fs::MetadataExt as _;
    if let (Ok(x), Ok(y)) = (std::fs::metadata(a), std::fs::metadata(b)) {
        if (x.dev(), x.ino()) == (y.dev(), y.ino()) {
            return true;
        }
    }
    match (resolved(a, 0), resolved(b, 0)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

/// Opens where `path`'s bytes go (see the module's documentation).
pub fn open(flag: &str, path: &Path) -> anyhow::Result<Sink> {
    check_dir(flag, path)?;
    let failed = |e: &io::Error| write_failed(flag, path, e);
    // Followed through links: what the path finally names.
    match std::fs::metadata(path) {
        Ok(meta) if !meta.is_file() => {
            let file = OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(|e| failed(&e))?;
            Ok(Sink::Direct(file))
        }
        Ok(meta) => {
            // A file the user may not write is not replaced behind its back (a rename needs
            // only the directory's permission).
            OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(|e| failed(&e))?;
            let target = std::fs::canonicalize(path).map_err(|e| failed(&e))?;
            spool(&target, Some(meta.permissions())).map_err(|e| failed(&e))
        }
        Err(e) if e.kind() == ErrorKind::NotFound => {
            // A dangling link names a file to create where it points.
            let target = match std::fs::read_link(path) {
                Ok(to) if to.is_absolute() => to,
                Ok(to) => path.parent().unwrap_or(Path::new(".")).join(to),
                Err(_) => path.to_path_buf(),
            };
            spool(&target, new_file_permissions()).map_err(|e| failed(&e))
        }
        Err(e) => Err(failed(&e)),
    }
}

/// A temporary file beside `target`.
fn spool(target: &Path, permissions: Option<Permissions>) -> io::Result<Sink> {
    let dir = target
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if INTERRUPTED.load(std::sync::atomic::Ordering::SeqCst) {
        return Err(interrupted());
    }
    // The temporary file's own name is no concern of the user's: the error names the directory.
    let file = tempfile::NamedTempFile::new_in(dir).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!(
                "a file cannot be created in its directory {} ({})",
                dir.display(),
                io::Error::from(e.kind())
            ),
        )
    })?;
    SPOOLED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(file.path().to_path_buf());
    Ok(Sink::Spooled {
        file,
        target: target.to_path_buf(),
        permissions,
    })
}

/// `rw-r--r--`: what a new file gets (a temporary file is created `rw-------`); elsewhere than
/// on Unix, what the temporary file has.
fn new_file_permissions() -> Option<Permissions> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        Some(Permissions::from_mode(0o644))
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// Writes `bytes` to `path` whole (or to standard output for `-`).
pub fn write(flag: &str, path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    if is_stdout(path) {
        let mut out = crate::stdout::lock();
        out.write_all(bytes)?;
        out.flush()?;
        return Ok(());
    }
    let mut sink = open(flag, path)?;
    sink.file()
        .write_all(bytes)
        .map_err(|e| write_failed(flag, path, &e))?;
    sink.finish(flag, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{exit_code_of, EXIT_BAD_INPUT, EXIT_INFRA};

    #[test]
    fn a_file_is_written_whole_and_replaces_the_old_one_keeping_its_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.txt");
        std::fs::write(&path, "old").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, Permissions::from_mode(0o640)).unwrap();
        }
        write("--output", &path, b"new").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        // Nothing but the file is left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o640);
            let fresh = dir.path().join("fresh.txt");
            write("--output", &fresh, b"x").unwrap();
            let mode = std::fs::metadata(&fresh).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o644);
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_link_is_followed_and_a_device_written_to_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.md");
        std::fs::write(&real, "old").unwrap();
        let link = dir.path().join("link.md");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        write("--output", &link, b"new").unwrap();
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(std::fs::read(&real).unwrap(), b"new");
        write("--output", Path::new("/dev/null"), b"gone").unwrap();
        let null = std::fs::metadata("/dev/null").unwrap();
        assert!(!null.is_file(), "/dev/null is still a device");
    }

    #[test]
    fn the_users_path_mistakes_exit_2_and_a_full_disk_exits_3() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("no/such/dir/out.txt");
        let e = write("--output", &missing, b"x").unwrap_err();
        assert_eq!(exit_code_of(&e), EXIT_BAD_INPUT, "{e}");
        assert!(e.to_string().contains("does not exist"), "{e}");
        let e = write("--output", dir.path(), b"x").unwrap_err();
        assert_eq!(exit_code_of(&e), EXIT_BAD_INPUT, "{e}");
        assert!(e.to_string().contains("is a directory"), "{e}");
        let full = io::Error::new(ErrorKind::StorageFull, "No space left on device");
        let e = write_failed("--output", Path::new("x"), &full);
        assert_eq!(exit_code_of(&e), EXIT_INFRA);
        let denied = io::Error::from(ErrorKind::PermissionDenied);
        assert_eq!(
            exit_code_of(&write_failed("--output", Path::new("x"), &denied)),
            EXIT_BAD_INPUT
        );
    }

    #[test]
    fn a_dash_is_standard_output_never_a_file_named_dash() {
        assert!(is_stdout(Path::new("-")));
        assert!(!is_stdout(Path::new("./-")));
        assert!(check_dir("--output", Path::new("-")).is_ok());
    }
}
