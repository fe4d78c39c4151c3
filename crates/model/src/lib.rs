//! newsarc's vocabulary: the ids, the persisted records and their codec.
//!
//! Everything newsarc stores is one of the records in [`record`], encoded by
//! [`codec`] as standard CBOR inside a small envelope that names the record's
//! kind and format version. Ids are BLAKE3 digests printed as
//! `blake3:<64 hex>`.
//!
//! ```
//! use newsarc_model::{Digest, codec, record::StoreInfo, Millis};
//!
//! let digest = Digest::of(b"hello");
//! assert!(digest.to_string().starts_with("blake3:"));
//! assert_eq!(digest.to_string().parse::<Digest>()?, digest);
//!
//! let info = StoreInfo { format: 1, created_at: Millis::from_millis(0), indexes: 1 };
//! let bytes = codec::encode(&info)?;
//! assert_eq!(codec::decode::<StoreInfo>(&bytes)?, info);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod article;
pub mod codec;
mod id;
pub mod record;
mod time;

pub use article::{
    Article, ArticleMeta, ChangeKind, Charset, CharsetSource, Image, PublishedTime, TimeSource,
};
pub use id::{ArticleKey, DIGEST_LABEL, Digest, IdError, RevisionId};
pub use time::{Millis, TimeError};
