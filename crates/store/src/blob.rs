//! Blob compression: zstd, with the article's previous document as a raw
//! dictionary when there is one (zstd's "patch-from"), which is where most of
//! the saving on revision histories comes from.

use newsarc_model::record::{BlobEncoding, BlobRecord};

/// zstd level for blobs. Level 19 packs revision histories only a few percent
/// smaller than this level but compresses several times slower; see
/// `docs/FORMAT.md`.
pub const ZSTD_LEVEL: i32 = 12;

/// After this many deltas in a row the next blob is stored whole, so reading
/// any blob decompresses at most this many frames.
pub const MAX_DELTA_DEPTH: u32 = 16;

/// Compresses `bytes`, as a delta against `base` when one is given.
/// `base` is the base blob's raw bytes with its digest and depth.
pub fn encode(
    bytes: &[u8],
    base: Option<(&[u8], newsarc_model::Digest, u32)>,
) -> std::io::Result<BlobRecord> {
    match base {
        Some((base_bytes, base_digest, base_depth)) if base_depth < MAX_DELTA_DEPTH => {
            let mut compressor = zstd::bulk::Compressor::with_dictionary(ZSTD_LEVEL, base_bytes)?;
            Ok(BlobRecord {
                encoding: BlobEncoding::ZstdDelta,
                base: Some(base_digest),
                depth: base_depth + 1,
                size: bytes.len() as u64,
                data: compressor.compress(bytes)?,
            })
        }
        _ => Ok(BlobRecord {
            encoding: BlobEncoding::Zstd,
            base: None,
            depth: 0,
            size: bytes.len() as u64,
            data: zstd::bulk::compress(bytes, ZSTD_LEVEL)?,
        }),
    }
}

/// Decompresses one blob record given its base's raw bytes (for deltas).
/// The caller checks the result's digest.
pub fn decode(record: &BlobRecord, base: Option<&[u8]>) -> std::io::Result<Vec<u8>> {
    let capacity = usize::try_from(record.size).map_err(std::io::Error::other)?;
    match (record.encoding, base) {
        (BlobEncoding::Zstd, _) => zstd::bulk::decompress(&record.data, capacity),
        (BlobEncoding::ZstdDelta, Some(base)) => {
            zstd::bulk::Decompressor::with_dictionary(base)?.decompress(&record.data, capacity)
        }
        (BlobEncoding::ZstdDelta, None) => Err(std::io::Error::other(
            "a delta blob was decoded without its base",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use newsarc_model::Digest;

    #[test]
    fn deltas_round_trip_and_are_smaller_than_whole_blobs() {
        let first: Vec<u8> = (0..20_000u32)
            .flat_map(|i| (i * 7919).to_le_bytes())
            .collect();
        let mut second = first.clone();
        second[1000] ^= 1;
        let whole = encode(&second, None).unwrap();
        let delta = encode(&second, Some((&first, Digest::of(&first), 0))).unwrap();
        assert_eq!(delta.depth, 1);
        assert!(delta.data.len() * 10 < whole.data.len());
        assert_eq!(decode(&delta, Some(&first)).unwrap(), second);
        assert_eq!(decode(&whole, None).unwrap(), second);
    }

    #[test]
    fn a_long_delta_chain_is_cut_by_a_whole_blob() {
        let base = b"base document";
        let record = encode(b"next", Some((base, Digest::of(base), MAX_DELTA_DEPTH))).unwrap();
        assert_eq!(record.encoding, BlobEncoding::Zstd);
        assert_eq!(record.depth, 0);
    }
}
