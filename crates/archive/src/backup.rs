//! `newsarc export` and `newsarc import`: the documented path for backups
//! and for moving an archive between machines and store formats. An export
//! is logical — records and documents — so one file reads into any format.

use std::io::{Read, Write};
use std::path::Path;

use newsarc_store::{Moved, Store};

use crate::{Archive, ArchiveError, Progress};

impl Archive {
    /// Writes the whole archive to `out` as an export file
    /// (`docs/FORMAT.md`, "Export files").
    pub fn export(
        &self,
        out: &mut dyn Write,
        progress: &mut dyn Progress,
    ) -> Result<Moved, ArchiveError> {
        // The total is not known without a pass of its own: a count only.
        progress.start(self.store.counters()?.records());
        let moved = self
            .store
            .export(out, &mut |records| progress.set(records))?;
        progress.finish();
        Ok(moved)
    }

    /// Builds a new archive at `target` (absent or an empty directory) from
    /// an export file; nothing is left at `target` when the file is damaged.
    pub fn import(
        target: &Path,
        input: &mut dyn Read,
        progress: &mut dyn Progress,
    ) -> Result<Moved, ArchiveError> {
        progress.start(0);
        let moved = Store::import(target, input, &mut |entries| progress.set(entries))?;
        progress.finish();
        Ok(moved)
    }
}
