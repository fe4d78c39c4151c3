//! Which server holds a store: `newsarc serve` leaves the address it
//! answers on in the store directory (`newsarc-serving`), so that a command
//! refused by the store's lock can say where to ask instead.

use std::path::{Path, PathBuf};

/// The file's name in the store directory.
pub const SERVING_FILE: &str = "newsarc-serving";

/// The file in `dir`.
fn path(dir: &Path) -> PathBuf {
    dir.join(SERVING_FILE)
}

/// The address a server holding the store in `dir` announced, if any.
pub(crate) fn announced(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path(dir)).ok()?;
    let address = text.trim();
    (!address.is_empty()).then(|| address.to_owned())
}

/// Writes `address` (replacing the file by rename, so a reader never sees
/// half of it).
pub(crate) fn announce(dir: &Path, address: &str) -> std::io::Result<()> {
    let staging = path(dir).with_extension("writing");
    std::fs::write(&staging, format!("{address}\n"))?;
    std::fs::rename(&staging, path(dir))
}

/// Removes the file: the server stopped, or the one that wrote it died
/// (whoever holds the store's lock knows no server does).
pub(crate) fn withdraw(dir: &Path) {
    // Absent is the usual case.
    let _ = std::fs::remove_file(path(dir));
}
