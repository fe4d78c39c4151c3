//! Records written elsewhere — an export file, a store of format 1 — taken
//! in byte for byte, so every revision and event keeps its id. They are
//! checked as they come: a revision must continue its article's chain and
//! come with the document it names.

use newsarc_model::record::{Record, RevisionRecord};
use newsarc_model::{Digest, RevisionId, codec};

use crate::StoreError;
use crate::records::StoredRecord;
use crate::write::Commit;

impl Commit<'_> {
    /// Takes in a revision record as it was encoded, with its document.
    /// Returns its id (the BLAKE3 of `record`, as it was).
    pub fn import_revision(
        &mut self,
        record: &[u8],
        document: &[u8],
    ) -> Result<RevisionId, StoreError> {
        let id = RevisionId::of_record(record);
        let revision: RevisionRecord =
            codec::decode(record).map_err(|err| StoreError::CorruptRecord {
                kind: RevisionRecord::KIND,
                id: id.to_string(),
                reason: err.to_string(),
            })?;
        let actual = Digest::of(document);
        if actual != revision.blob {
            return Err(StoreError::CorruptBlob {
                digest: revision.blob,
                actual: Some(actual),
                reason: format!("the document given with revision {id} is another one"),
            });
        }
        let article = self.article(&revision.article)?;
        let (expected_parent, expected_seq) = article.as_ref().map_or((None, 1), |article| {
            (Some(article.latest), article.revisions + 1)
        });
        if revision.parent != expected_parent || revision.seq != expected_seq {
            return Err(StoreError::CorruptRecord {
                kind: RevisionRecord::KIND,
                id: id.to_string(),
                reason: format!(
                    "it is {}@{} but the chain expects @{expected_seq} next",
                    revision.article, revision.seq
                ),
            });
        }
        let base = match (
            self.current_at(&revision.article, revision.fetched_at)?,
            &article,
        ) {
            (Some(current), _) => Some(current.blob),
            (None, Some(article)) => Some(self.head_blob(article)?),
            (None, None) => None,
        };
        self.store_document(document, revision.blob, base, &revision.article)?;
        self.push_bytes(record.to_vec())?;
        Ok(id)
    }

    /// Takes in an observation, event, URL state or failed attempt as it
    /// was encoded. A dictionary record is skipped: this store trains its
    /// own.
    pub fn import_record(&mut self, record: &[u8]) -> Result<(), StoreError> {
        let decoded = StoredRecord::decode(record).map_err(|err| StoreError::CorruptRecord {
            kind: "record",
            id: Digest::of(record).to_string(),
            reason: err.to_string(),
        })?;
        match decoded {
            StoredRecord::Revision(_) => Err(StoreError::CorruptRecord {
                kind: RevisionRecord::KIND,
                id: RevisionId::of_record(record).to_string(),
                reason: "a revision comes with its document".into(),
            }),
            StoredRecord::Dictionary(_) => Ok(()),
            _ => self.push_bytes(record.to_vec()).map(drop),
        }
    }
}
