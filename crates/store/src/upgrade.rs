//! `upgrade`: a store of format 1 becomes one of format 2, never in place.
//! The new store is built beside the old one (`NAME.upgrading`) from the
//! old one's records, checked, and only then renamed into place; the old
//! one is kept as `NAME.format1` until its owner deletes it.

use std::path::{Path, PathBuf};

use crate::StoreError;
use crate::engine::SledEngine;
use crate::export::{Moved, clear_leftover, sibling};
use crate::format1::FormatOne;
use crate::layout::{self, Found};
use crate::store::{Store, StoreConfig};
use crate::verify::VerifyOptions;

/// What an upgrade did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upgraded {
    /// What was copied.
    pub moved: Moved,
    /// Where the format-1 store now is.
    pub kept_at: PathBuf,
}

impl Store {
    /// Upgrades the format-1 store in `dir` (see the module's doc). The
    /// new store is verified before it is put in place; any finding stops
    /// the upgrade and leaves the old store where it was.
    pub fn upgrade(
        dir: &Path,
        config: &StoreConfig,
        progress: &mut dyn FnMut(u64),
    ) -> Result<Upgraded, StoreError> {
        let location = dir.display().to_string();
        match layout::probe(dir) {
            Found::FormatOne => {}
            Found::Store => {
                return Err(StoreError::UpgradeNotNeeded { location });
            }
            Found::Nothing => return Err(StoreError::NoStore { location }),
            Found::Other => return Err(StoreError::NotAStore { location }),
        }
        let kept_at = sibling(dir, "format1");
        if kept_at.exists() {
            return Err(StoreError::ImportTarget {
                location: kept_at.display().to_string(),
                reason: "an earlier upgrade's copy of the old store is there: move it away first"
                    .into(),
            });
        }
        let old = SledEngine::open(dir, config.cache_bytes)
            .map_err(|reason| crate::store::index_open_error(dir, reason))?;
        let staging = sibling(dir, "upgrading");
        clear_leftover(&staging)?;
        let built = Store::open(&staging, config).and_then(|store| {
            let moved = FormatOne::new(&old).copy_into(&store, progress)?;
            store.flush()?;
            let mut first = None;
            let stop = std::sync::atomic::AtomicBool::new(false);
            store.verify(
                VerifyOptions { deep: true },
                &mut |finding| {
                    first.get_or_insert(finding);
                },
                &mut |_| {},
                &stop,
            )?;
            match first {
                None => Ok(moved),
                Some(finding) => Err(StoreError::Internal(format!(
                    "the upgraded store does not verify ({}: {} {}); the old store is unchanged",
                    finding.kind.as_str(),
                    finding.id,
                    finding.detail
                ))),
            }
        });
        drop(old);
        let moved = match built {
            Ok(moved) => moved,
            Err(err) => {
                let _ = std::fs::remove_dir_all(&staging);
                return Err(err);
            }
        };
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| StoreError::Io { path, source }
        };
        std::fs::rename(dir, &kept_at).map_err(io(dir))?;
        std::fs::rename(&staging, dir).map_err(io(&staging))?;
        if let Some(parent) = dir.parent().filter(|parent| !parent.as_os_str().is_empty()) {
            std::fs::File::open(parent)
                .and_then(|handle| handle.sync_all())
                .map_err(io(parent))?;
        }
        Ok(Upgraded { moved, kept_at })
    }
}
