//! Files the local server keeps hold customer data (the table, documents, exports, keys,
//! mail), so every one of them is private to the user the server runs as: directories
//! 0700, files 0600, made so from the start (never created open and tightened later),
//! and the whole data directory is checked at start-up.

use std::io;
use std::path::{Path, PathBuf};

#[cfg(unix)]
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};

/// Creates `dir` and any missing parents as owner-only directories.
pub fn create_dir(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    builder.mode(0o700);
    builder.create(dir)
}

/// Options that create a file readable and writable by its owner only.
pub fn file_options() -> std::fs::OpenOptions {
    let mut options = std::fs::OpenOptions::new();
    #[cfg(unix)]
    options.mode(0o600);
    options
}

/// Creates `path` as an empty owner-only file if it does not exist yet (so that a
/// library that then opens it, SQLite, keeps its mode for the file and its journals).
pub fn touch(path: &Path) -> io::Result<()> {
    match file_options().write(true).create_new(true).open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// What the start-up check of a data directory found.
#[derive(Debug, Default)]
pub struct Checked {
    /// Paths that were readable or writable by others and are now owner-only.
    pub tightened: Vec<PathBuf>,
}

/// Checks every directory and file under `root` (itself included): each must belong to
/// the user the process runs as, or start-up stops; any that others may read, write or
/// enter is made owner-only (data directories of earlier versions were created 0755 and
/// 0644), and reported. Symbolic links are not followed.
pub fn check_tree(root: &Path) -> Result<Checked, String> {
    let mut checked = Checked::default();
    let mut pending = vec![root.to_owned()];
    while let Some(path) = pending.pop() {
        let meta = std::fs::symlink_metadata(&path)
            .map_err(|e| format!("cannot inspect {}: {e}", path.display()))?;
        if meta.file_type().is_symlink() {
            continue;
        }
        check_one(&path, &meta, &mut checked)?;
        if meta.is_dir() {
            let entries = std::fs::read_dir(&path)
                .map_err(|e| format!("cannot list {}: {e}", path.display()))?;
            for entry in entries {
                let entry = entry.map_err(|e| format!("cannot list {}: {e}", path.display()))?;
                pending.push(entry.path());
            }
        }
    }
    Ok(checked)
}

#[cfg(unix)]
fn check_one(path: &Path, meta: &std::fs::Metadata, checked: &mut Checked) -> Result<(), String> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if meta.uid() != me {
        return Err(format!(
            "{} belongs to user {} but the server runs as user {me}; it keeps customer \
             data, so it must belong to the server's user (chown it)",
            path.display(),
            meta.uid()
        ));
    }
    let mode = meta.mode() & 0o7777;
    if mode & 0o077 != 0 {
        let private = if meta.is_dir() { 0o700 } else { 0o600 };
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(private))
            .map_err(|e| format!("cannot make {} owner-only: {e}", path.display()))?;
        checked.tightened.push(path.to_owned());
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_one(_: &Path, _: &std::fs::Metadata, _: &mut Checked) -> Result<(), String> {
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().mode() & 0o777
    }

    #[test]
    fn new_directories_and_files_are_owner_only() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("a/b");
        create_dir(&dir).unwrap();
        assert_eq!(mode(&root.path().join("a")), 0o700);
        assert_eq!(mode(&dir), 0o700);
        let file = dir.join("f");
        touch(&file).unwrap();
        assert_eq!(mode(&file), 0o600);
    }

    #[test]
    fn the_start_up_check_tightens_what_others_could_read() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("files");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let file = dir.join("crm.sqlite3");
        std::fs::write(&file, b"x").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let private = root.path().join("master.key");
        file_options()
            .write(true)
            .create_new(true)
            .open(&private)
            .unwrap();
        std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        let checked = check_tree(root.path()).unwrap();
        let mut tightened = checked.tightened;
        tightened.sort();
        assert_eq!(tightened, [dir.clone(), file.clone()]);
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&file), 0o600);
        assert_eq!(mode(&private), 0o600);
        assert!(check_tree(root.path()).unwrap().tightened.is_empty());
    }
}
