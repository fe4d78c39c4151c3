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

/// Decodes a record, checking its kind and version, in one pass: the
/// envelope's kind and version are read first and the body is decoded only
/// when they are the expected ones (a body of another version may not fit
/// `R`).
pub fn decode<R: Record>(bytes: &[u8]) -> Result<R, CodecError> {
    let mut deserializer = serde_cbor::Deserializer::from_slice(bytes);
    let mut mismatch = None;
    let decoded = serde::Deserializer::deserialize_seq(
        &mut deserializer,
        EnvelopeVisitor::<R> {
            mismatch: &mut mismatch,
            record: std::marker::PhantomData,
        },
    )
    .and_then(|record| deserializer.end().map(|()| record));
    match (decoded, mismatch) {
        (_, Some(mismatch)) => Err(mismatch),
        (Ok(record), None) => Ok(record),
        (Err(err), None) => Err(CodecError::Malformed {
            expected: R::KIND,
            reason: err.to_string(),
        }),
    }
}

/// The kind a record's envelope names, without decoding its body: what a
/// batch of records of several kinds is read by.
pub fn kind_of(bytes: &[u8]) -> Result<String, CodecError> {
    let (kind, _, _): (String, serde::de::IgnoredAny, serde::de::IgnoredAny) =
        serde_cbor::from_slice(bytes).map_err(|err| CodecError::Malformed {
            expected: "any",
            reason: err.to_string(),
        })?;
    Ok(kind)
}

/// Encodes an index value: CBOR in serde_cbor's packed form (a struct is a
/// map from field numbers, 0 up, in declaration order, to values), no
/// envelope. Index values are derived data, versioned as a whole by the
/// index they live in (a store rebuilds an index of another version from
/// its records).
pub fn encode_value<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, CodecError> {
    serde_cbor::ser::to_vec_packed(value).map_err(|err| CodecError::Encode {
        kind: "index value",
        reason: err.to_string(),
    })
}

/// Decodes what [`encode_value`] wrote.
pub fn decode_value<T: serde::de::DeserializeOwned>(
    bytes: &[u8],
    what: &'static str,
) -> Result<T, CodecError> {
    serde_cbor::from_slice(bytes).map_err(|err| CodecError::Malformed {
        expected: what,
        reason: err.to_string(),
    })
}

/// Reads `[kind, version, body]`, stopping before the body when the kind or
/// version is not `R`'s (the reason is left in `mismatch`).
struct EnvelopeVisitor<'a, R> {
    mismatch: &'a mut Option<CodecError>,
    record: std::marker::PhantomData<R>,
}

impl<'de, R: Record> serde::de::Visitor<'de> for EnvelopeVisitor<'_, R> {
    type Value = R;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "a [kind, version, body] array")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<R, A::Error> {
        use serde::de::Error;
        let kind: String = seq
            .next_element()?
            .ok_or_else(|| A::Error::invalid_length(0, &self))?;
        if kind != R::KIND {
            *self.mismatch = Some(CodecError::WrongKind {
                expected: R::KIND,
                found: kind,
            });
            return Err(A::Error::custom("wrong kind"));
        }
        let version: u32 = seq
            .next_element()?
            .ok_or_else(|| A::Error::invalid_length(1, &self))?;
        if version != R::VERSION {
            *self.mismatch = Some(CodecError::UnsupportedVersion {
                kind: R::KIND,
                found: version,
                supported: R::VERSION,
            });
            return Err(A::Error::custom("unsupported version"));
        }
        let record = seq
            .next_element()?
            .ok_or_else(|| A::Error::invalid_length(2, &self))?;
        if seq.next_element::<serde::de::IgnoredAny>()?.is_some() {
            return Err(A::Error::invalid_length(4, &self));
        }
        Ok(record)
    }
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
            events: 5,
            failed_attempts: 6,
        };
        let bytes = encode(&counters).unwrap();
        assert_eq!(bytes, encode(&counters.clone()).unwrap());
        assert_eq!(decode::<Counters>(&bytes).unwrap(), counters);
    }

    /// Fields added after version 1 are optional: a record written before
    /// them decodes, and a record that leaves them empty encodes to the
    /// same bytes (so revision ids stay what they were).
    #[test]
    fn fields_added_later_leave_old_bytes_alone() {
        #[derive(serde::Serialize)]
        struct CountersBefore {
            articles: u64,
            revisions: u64,
            observations: u64,
            raw_bytes: u64,
        }
        let before = serde_cbor::to_vec(&(
            "counters",
            1u32,
            CountersBefore {
                articles: 1,
                revisions: 2,
                observations: 3,
                raw_bytes: 4,
            },
        ))
        .unwrap();
        let decoded = decode::<Counters>(&before).unwrap();
        assert_eq!((decoded.revisions, decoded.events), (2, 0));

        let observation = crate::record::ObservationRecord {
            article: crate::ArticleKey::new("example.org/a").unwrap(),
            revision: crate::RevisionId(crate::Digest::of(b"r")),
            blob: crate::Digest::of(b"b"),
            fetched_at: Millis::from_millis(0),
            source: "a.md".into(),
            kind: crate::record::ObservationKind::Unchanged,
            http: None,
        };
        let bytes = encode(&observation).unwrap();
        let has = |field: &[u8]| bytes.windows(field.len()).any(|w| w == field);
        assert!(has(b"source") && !has(b"kind") && !has(b"http"));
    }

    #[test]
    fn refuses_other_kinds_newer_versions_and_garbage() {
        let info = StoreInfo {
            format: 1,
            created_at: Millis::from_millis(0),
            indexes: 1,
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
