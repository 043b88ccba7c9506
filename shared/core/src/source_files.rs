//! The product's Rust files, for the unit tests that read the source (translations, id
//! prefixes).

use std::path::{Path, PathBuf};

/// The repository's root, from this crate's directory as `cargo test` names it when the
/// test runs: a build cache shared between checkouts may hold a test binary compiled in
/// another one, whose compile-time path would be that checkout's.
pub fn root() -> PathBuf {
    let dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    dir.join("../..")
}

/// The `.rs` files under `dir`, recursively; with `with_tests` false, test files
/// (`tests.rs`, anything under a `tests` directory) are left out.
pub fn rust_files(dir: &Path, with_tests: bool, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if with_tests || path.file_name().is_none_or(|n| n != "tests") {
                rust_files(&path, with_tests, out);
            }
        } else if path.extension().is_some_and(|e| e == "rs")
            && (with_tests || !path.ends_with("tests.rs"))
        {
            out.push(path);
        }
    }
}
