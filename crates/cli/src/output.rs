//! Writing a command's result to a file named by the user (`--output`, `--summary`).
//!
//! A file is written whole or not at all: the bytes go to a temporary file beside it, which
//! replaces the target only once everything is on disk. `-` names standard output, as it names
//! standard input for `import`. A failure is the user's (exit 2) when the path is theirs to
//! correct (no such directory, no permission, a directory in its place) and an infrastructure
//! failure (exit 3) otherwise (a full disk, an I/O error).

use std::io::{self, ErrorKind, Write as _};
use std::path::Path;

use crate::error::user_error;

/// Whether `path` names standard output.
pub fn is_stdout(path: &Path) -> bool {
    path.as_os_str() == "-"
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

/// The directory `path` is to be written in exists (a usage error naming both if not).
pub fn check_dir(flag: &str, path: &Path) -> anyhow::Result<()> {
    if is_stdout(path) {
        return Ok(());
    }
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

/// A temporary file beside `path`, to be [`persist`]ed over it once written.
pub fn spool(flag: &str, path: &Path) -> anyhow::Result<tempfile::NamedTempFile> {
    check_dir(flag, path)?;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    tempfile::NamedTempFile::new_in(dir).map_err(|e| write_failed(flag, path, &e))
}

/// Puts a spooled file in place of `path`, once its bytes are on disk.
pub fn persist(flag: &str, file: tempfile::NamedTempFile, path: &Path) -> anyhow::Result<()> {
    file.as_file()
        .sync_all()
        .map_err(|e| write_failed(flag, path, &e))?;
    file.persist(path)
        .map_err(|e| write_failed(flag, path, &e.error))?;
    Ok(())
}

/// Writes `bytes` to `path` whole (or to standard output for `-`).
pub fn write(flag: &str, path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    if is_stdout(path) {
        let mut out = crate::stdout::lock();
        out.write_all(bytes)?;
        out.flush()?;
        return Ok(());
    }
    let mut file = spool(flag, path)?;
    file.write_all(bytes)
        .map_err(|e| write_failed(flag, path, &e))?;
    persist(flag, file, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{exit_code_of, EXIT_BAD_INPUT, EXIT_INFRA};

    #[test]
    fn a_file_is_written_whole_and_replaces_the_old_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.txt");
        std::fs::write(&path, "old").unwrap();
        write("--output", &path, b"new").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        // Nothing but the file is left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
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
