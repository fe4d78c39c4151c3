//! Content ids: BLAKE3 digests, revision ids and article keys.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The label in front of every printed digest, as WARC labels `algo:value`.
pub const DIGEST_LABEL: &str = "blake3:";

/// Why a printed id could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdError {
    /// Not `blake3:` followed by 64 hex digits (or the 64 hex digits alone).
    #[error("'{input}' is not a digest: expected blake3:<64 hex digits>")]
    NotADigest {
        /// What was given.
        input: String,
    },
    /// A stored digest did not have 32 bytes.
    #[error("a digest has 32 bytes, found {len}")]
    WrongLength {
        /// How many bytes there were.
        len: usize,
    },
    /// An article key must name something.
    #[error("an article key cannot be empty")]
    EmptyArticleKey,
}

/// A BLAKE3 digest of some bytes.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Digest([u8; 32]);

impl Digest {
    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Self(*blake3::hash(bytes).as_bytes())
    }

    /// Wraps 32 raw bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Reads 32 raw bytes from a slice.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, IdError> {
        <[u8; 32]>::try_from(bytes)
            .map(Self)
            .map_err(|_| IdError::WrongLength { len: bytes.len() })
    }

    /// The raw 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The 64 lower-case hex digits, without the label.
    pub fn to_hex(&self) -> String {
        blake3::Hash::from_bytes(self.0).to_hex().to_string()
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{DIGEST_LABEL}{}", self.to_hex())
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for Digest {
    type Err = IdError;

    /// Accepts `blake3:<64 hex>` or the 64 hex digits alone, in either case.
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let hex = input.strip_prefix(DIGEST_LABEL).unwrap_or(input);
        blake3::Hash::from_hex(hex)
            .map(|hash| Self(*hash.as_bytes()))
            .map_err(|_| IdError::NotADigest {
                input: input.to_owned(),
            })
    }
}

impl Serialize for Digest {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let bytes = serde_bytes::ByteBuf::deserialize(deserializer)?;
        Self::from_slice(&bytes).map_err(serde::de::Error::custom)
    }
}

/// A revision's id: the BLAKE3 digest of its record's stored bytes. Because
/// the record holds its parent's id, each article's history is a hash chain.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RevisionId(pub Digest);

impl RevisionId {
    /// The id of a record whose stored bytes are `record_bytes`.
    pub fn of_record(record_bytes: &[u8]) -> Self {
        Self(Digest::of(record_bytes))
    }
}

impl fmt::Display for RevisionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for RevisionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl FromStr for RevisionId {
    type Err = IdError;
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        input.parse().map(Self)
    }
}

/// The identity of an article across its revisions: its canonical URL
/// without the scheme (`zaobao.com/realtime/china/story…`), or an outlet's
/// own article id where its URLs change between revisions
/// (`dw.com/a-18670177`).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ArticleKey(String);

impl ArticleKey {
    /// Wraps a key; it must not be empty and holds no NUL byte (index keys
    /// use NUL as a separator).
    pub fn new(key: impl Into<String>) -> Result<Self, IdError> {
        let key: String = key.into();
        if key.is_empty() {
            return Err(IdError::EmptyArticleKey);
        }
        Ok(Self(key.replace('\0', "%00")))
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ArticleKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ArticleKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_prints_and_parses_with_label() {
        let digest = Digest::of(b"abc");
        let printed = digest.to_string();
        assert_eq!(printed.len(), DIGEST_LABEL.len() + 64);
        assert_eq!(printed.parse::<Digest>(), Ok(digest));
        assert_eq!(digest.to_hex().parse::<Digest>(), Ok(digest));
    }

    #[test]
    fn malformed_digests_are_refused_with_the_input() {
        let err = "blake3:abc".parse::<Digest>().unwrap_err();
        assert!(err.to_string().contains("blake3:abc"));
        assert!("sha256:00".parse::<Digest>().is_err());
    }

    #[test]
    fn article_keys_are_never_empty_and_hold_no_nul() {
        assert_eq!(ArticleKey::new(""), Err(IdError::EmptyArticleKey));
        assert_eq!(ArticleKey::new("a\0b").unwrap().as_str(), "a%00b");
    }
}
