//! Files and directories only the node's user can read: the data directory (0700) and what
//! it holds (0600): the store with its WAL and shared-memory files, spooled attachments,
//! keys and the admin token. Replicas, internal comments included, live there.
//!
//! Modes are set at creation (never a window with wider ones), and an existing path with
//! wider modes, left by an older version or a hand-made directory, is tightened with a
//! warning naming it. Off Unix these are plain creates.

use std::path::Path;

#[cfg(unix)]
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};

/// Mode of the data directory and the directories in it.
pub(crate) const DIR_MODE: u32 = 0o700;
/// Mode of every file in the data directory.
pub(crate) const FILE_MODE: u32 = 0o600;

/// Creates `dir` (and missing parents) 0700, or tightens it if it exists with wider modes.
pub fn create_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    builder.mode(DIR_MODE);
    builder.create(dir)?;
    tighten(dir, DIR_MODE)
}

/// Opens `path` for writing, creating it 0600 and truncating it (tightening an existing one).
pub fn create_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.mode(FILE_MODE);
    let file = options.open(path)?;
    tighten(path, FILE_MODE)?;
    Ok(file)
}

/// [`create_file`] for async code (spooled attachments).
pub(crate) async fn create_file_async(path: &Path) -> std::io::Result<tokio::fs::File> {
    let mut options = tokio::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.mode(FILE_MODE);
    let file = options.open(path).await?;
    tighten(path, FILE_MODE)?;
    Ok(file)
}

/// Makes sure `path` exists as a 0600 file without touching its content (SQLite then
/// gives its WAL and shared-memory files the same mode).
pub(crate) fn touch_file(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.append(true).create(true);
    #[cfg(unix)]
    options.mode(FILE_MODE);
    options.open(path)?;
    tighten(path, FILE_MODE)
}

/// Tightens an existing file to 0600 if it is wider; a missing one is fine.
pub(crate) fn tighten_if_present(path: &Path) -> std::io::Result<()> {
    match tighten(path, FILE_MODE) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// Removes the group and other bits of `path` if it has any, with a warning naming it.
#[cfg(unix)]
fn tighten(path: &Path, mode: u32) -> std::io::Result<()> {
    let current = std::fs::metadata(path)?.permissions().mode() & 0o777;
    if current & 0o077 != 0 {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
        tracing::warn!(path = %path.display(), was = %format!("{current:o}"), now = %format!("{mode:o}"),
            "other users could read this part of the node's data; made it private");
    }
    Ok(())
}

#[cfg(not(unix))]
fn tighten(_path: &Path, _mode: u32) -> std::io::Result<()> {
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).expect("stat").permissions().mode() & 0o777
    }

    #[test]
    fn made_private_and_tightened_when_wider() {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("a/b");
        create_dir(&data).expect("dir");
        assert_eq!(mode(&data), 0o700);
        std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        create_dir(&data).expect("again");
        assert_eq!(mode(&data), 0o700);

        let file = data.join("f");
        create_file(&file).expect("file");
        assert_eq!(mode(&file), 0o600);
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        touch_file(&file).expect("touch");
        assert_eq!(mode(&file), 0o600);
        tighten_if_present(&data.join("missing")).expect("a missing file is fine");
    }
}
