//! The one place that encodes records: standard CBOR (RFC 8949) through
//! serde_cbor. Keeping it here lets the format move to another CBOR library
//! without touching callers.
//!
//! Every record is stored as the CBOR array `[kind, version, body]`: a text
//! string naming the record kind, an unsigned version, and the record as a
//! map keyed by field name. Field order is the declaration order, so the
//! same record always encodes to the same bytes (revision ids rely on it).

use crate::record::Record;

/// Why bytes could not be decoded as a record, or a record not encoded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    /// The bytes are not a CBOR `[kind, version, body]` envelope.
    #[error("not a newsarc {expected} record: {reason}")]
    Malformed {
        /// The kind that was expected.
        expected: &'static str,
        /// What the CBOR decoder said.
        reason: String,
    },
    /// The envelope names another kind of record.
    #[error("expected a {expected} record, found a {found} record")]
    WrongKind {
        /// The kind that was expected.
        expected: &'static str,
        /// The kind the envelope names.
        found: String,
    },
    /// Written by a newer newsarc: this version does not know the format.
    #[error(
        "{kind} record format version {found} is not supported (this newsarc reads version {supported}); upgrade newsarc"
    )]
    UnsupportedVersion {
        /// The record kind.
        kind: &'static str,
        /// The version found.
        found: u32,
        /// The version this build reads.
        supported: u32,
    },
    /// Encoding failed (a bug: every record type is encodable).
    #[error("could not encode a {kind} record: {reason}")]
    Encode {
        /// The record kind.
        kind: &'static str,
        /// What the encoder said.
        reason: String,
    },
}

/// Encodes `record` in its envelope.
pub fn encode<R: Record>(record: &R) -> Result<Vec<u8>, CodecError> {
    serde_cbor::to_vec(&(R::KIND, R::VERSION, record)).map_err(|err| CodecError::Encode {
        kind: R::KIND,
        reason: err.to_string(),
    })
}

/// Decodes a record, checking its kind and version.
pub fn decode<R: Record>(bytes: &[u8]) -> Result<R, CodecError> {
    let malformed = |err: serde_cbor::Error| CodecError::Malformed {
        expected: R::KIND,
        reason: err.to_string(),
    };
    // The envelope first, skipping the body: a body of an unknown version
    // may not fit `R`.
    let (kind, version, serde::de::IgnoredAny): (String, u32, serde::de::IgnoredAny) =
        serde_cbor::from_slice(bytes).map_err(malformed)?;
    if kind != R::KIND {
        return Err(CodecError::WrongKind {
            expected: R::KIND,
            found: kind,
        });
    }
    if version != R::VERSION {
        return Err(CodecError::UnsupportedVersion {
            kind: R::KIND,
            found: version,
            supported: R::VERSION,
        });
    }
    let (_, _, record): (serde::de::IgnoredAny, serde::de::IgnoredAny, R) =
        serde_cbor::from_slice(bytes).map_err(malformed)?;
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Millis;
    use crate::record::{Counters, StoreInfo};

    #[test]
    fn round_trips_and_is_deterministic() {
        let counters = Counters {
            articles: 1,
            revisions: 2,
            observations: 3,
            raw_bytes: 4,
        };
        let bytes = encode(&counters).unwrap();
        assert_eq!(bytes, encode(&counters.clone()).unwrap());
        assert_eq!(decode::<Counters>(&bytes).unwrap(), counters);
    }

    #[test]
    fn refuses_other_kinds_newer_versions_and_garbage() {
        let info = StoreInfo {
            format: 1,
            created_at: Millis::from_millis(0),
        };
        let bytes = encode(&info).unwrap();
        assert!(matches!(
            decode::<Counters>(&bytes),
            Err(CodecError::WrongKind { .. })
        ));
        let newer = serde_cbor::to_vec(&("store", 99u32, &info)).unwrap();
        let err = decode::<StoreInfo>(&newer).unwrap_err();
        assert!(err.to_string().contains("version 99"), "{err}");
        assert!(matches!(
            decode::<StoreInfo>(b"\xff\x00garbage"),
            Err(CodecError::Malformed { .. })
        ));
    }
}
