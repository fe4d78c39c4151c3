//! How documents are compressed (store format 2): zstd; a later revision
//! as a delta against a neighbour (its bytes as zstd's raw-content prefix,
//! "patch-from"); the documents a commit stores on their own together in
//! document blocks, or, one alone, with its outlet's trained dictionary once
//! the outlet has one. Every frame says which, and names the dictionary or
//! base by digest.

use std::cell::RefCell;

use zstd::dict::{DecoderDictionary, EncoderDictionary};
use zstd::zstd_safe::{self, CParameter};

use crate::StoreError;

/// zstd level for documents and batches: compression is most of what an
/// ingest spends (`docs/PERFORMANCE.md`), and higher levels cost more.
pub const ZSTD_LEVEL: i32 = 6;

/// After this many deltas in a row the next document is stored on its own,
/// so reading any document decodes at most this many frames.
pub const MAX_DELTA_DEPTH: u8 = 16;

/// A commit's documents stored on their own are compressed together, an
/// outlet's next to each other, in blocks of about this many bytes: a
/// bigger block finds more of what articles repeat, and reading one
/// document decodes at most this much (`docs/PERFORMANCE.md`).
pub const BLOCK_BYTES: usize = 8 * 1024 * 1024;

/// zstd level for document blocks: a block is compressed once per commit
/// and holds most of a store's bytes. On the corpus level 9 makes the store
/// 2 % smaller than 6 for about the same ingest time; 12 saves 0.6 % more
/// and costs about a third more (`docs/PERFORMANCE.md`).
pub const BLOCK_LEVEL: i32 = 9;

/// The largest dictionary trained for an outlet: an outlet's boilerplate
/// fits, and a small outlet does not pay for a big one.
pub(crate) const DICTIONARY_BYTES: usize = 32 * 1024;

/// How many of an outlet's first revisions a dictionary is trained on at
/// most (the first ones in key order).
pub(crate) const MAX_SAMPLES: usize = 256;

/// An outlet's dictionary is trained when a document of it is first stored
/// alone in its frame once it has this many first revisions: until then,
/// and for documents stored in blocks, no dictionary is needed.
pub(crate) const TRAIN_AT: u64 = 48;

/// A dictionary trained on fewer than [`MAX_SAMPLES`] samples is trained
/// again, once, when a document of its outlet is stored alone after the
/// outlet has this many first revisions.
pub(crate) const RETRAIN_AT: u64 = 512;

fn zstd_error(what: &str, code: zstd_safe::ErrorCode) -> std::io::Error {
    std::io::Error::other(format!("{what}: {}", zstd_safe::get_error_name(code)))
}

fn compress_failed(err: std::io::Error) -> StoreError {
    StoreError::Internal(format!("zstd could not compress: {err}"))
}

/// A document block's content as one zstd frame.
pub(crate) fn compress_block(content: &[u8]) -> Result<Vec<u8>, StoreError> {
    zstd::bulk::compress(content, BLOCK_LEVEL).map_err(compress_failed)
}

/// `content` as one zstd frame, with a trained dictionary when given.
pub(crate) fn compress(
    content: &[u8],
    dictionary: Option<&EncoderDictionary<'static>>,
) -> Result<Vec<u8>, StoreError> {
    match dictionary {
        Some(dictionary) => zstd::bulk::Compressor::with_prepared_dictionary(dictionary)
            .and_then(|mut compressor| compressor.compress(content)),
        None => zstd::bulk::compress(content, ZSTD_LEVEL),
    }
    .map_err(compress_failed)
}

/// `content` as one zstd frame with `base` as its raw-content prefix: a
/// delta against `base`. The context lives for this call only: zstd keeps
/// the prefix for one frame (`ZSTD_CCtx_refPrefix`).
pub(crate) fn compress_delta(content: &[u8], base: &[u8]) -> Result<Vec<u8>, StoreError> {
    let fail = |code| compress_failed(zstd_error("delta", code));
    let mut cctx = zstd_safe::CCtx::create();
    cctx.set_parameter(CParameter::CompressionLevel(ZSTD_LEVEL))
        .map_err(fail)?;
    cctx.ref_prefix(base).map_err(fail)?;
    let mut out = Vec::with_capacity(zstd_safe::compress_bound(content.len()));
    cctx.compress2(&mut out, content).map_err(fail)?;
    Ok(out)
}

thread_local! {
    /// One decompression context per thread, reused for every frame:
    /// creating a context per frame was 14 % of a `verify --deep` (perf).
    /// Only one-shot calls use it, so no dictionary stays loaded in it.
    static DECODER: RefCell<zstd_safe::DCtx<'static>> = RefCell::new(zstd_safe::DCtx::create());
}

/// zstd's magic number at the start of a trained dictionary: given as a
/// dictionary, bytes that begin with it are parsed as one, not used as raw
/// content.
const ZSTD_DICTIONARY_MAGIC: [u8; 4] = 0xEC30_A437_u32.to_le_bytes();

/// A zstd frame decoded, with a trained dictionary when given; the result
/// must be `content_len` long.
pub(crate) fn decompress(
    payload: &[u8],
    content_len: u32,
    dictionary: Option<&DecoderDictionary<'static>>,
) -> std::io::Result<Vec<u8>> {
    let capacity = content_len as usize;
    let mut out = Vec::with_capacity(capacity);
    DECODER
        .with_borrow_mut(|dctx| match dictionary {
            Some(dictionary) => {
                dctx.decompress_using_ddict(&mut out, payload, dictionary.as_ddict())
            }
            None => dctx.decompress(&mut out, payload),
        })
        .map_err(|code| zstd_error("frame", code))?;
    check_len(out, capacity)
}

/// A delta frame decoded with its base as the prefix. A base given as raw
/// content decodes exactly as the prefix it was compressed against; one
/// that starts like a trained dictionary would not be taken as raw content,
/// so it gets a context of its own with the base as its prefix.
pub(crate) fn decompress_delta(
    payload: &[u8],
    content_len: u32,
    base: &[u8],
) -> std::io::Result<Vec<u8>> {
    let capacity = content_len as usize;
    let mut out = Vec::with_capacity(capacity);
    let decoded = if base.starts_with(&ZSTD_DICTIONARY_MAGIC) {
        let mut dctx = zstd_safe::DCtx::create();
        dctx.ref_prefix(base)
            .map_err(|code| zstd_error("delta base", code))?;
        dctx.decompress(&mut out, payload)
    } else {
        DECODER.with_borrow_mut(|dctx| dctx.decompress_using_dict(&mut out, payload, base))
    };
    decoded.map_err(|code| zstd_error("delta", code))?;
    check_len(out, capacity)
}

fn check_len(content: Vec<u8>, expected: usize) -> std::io::Result<Vec<u8>> {
    if content.len() == expected {
        Ok(content)
    } else {
        Err(std::io::Error::other(format!(
            "it decodes to {} bytes, its header says {expected}",
            content.len()
        )))
    }
}

/// A dictionary trained on `samples` (at most [`DICTIONARY_BYTES`]).
pub(crate) fn train(samples: &[Vec<u8>]) -> std::io::Result<Vec<u8>> {
    let total: usize = samples.iter().map(Vec::len).sum();
    zstd::dict::from_samples(samples, DICTIONARY_BYTES.min(total / 8).max(1024))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(seed: u8) -> Vec<u8> {
        (0..4000u32)
            .map(|n| b"abcdefghij klmnop\n"[(n as usize * 7 + usize::from(seed)) % 18])
            .collect()
    }

    #[test]
    fn deltas_decode_against_any_base_including_one_that_looks_like_a_dictionary() {
        let mut lookalike = ZSTD_DICTIONARY_MAGIC.to_vec();
        lookalike.extend(text(1));
        for base in [text(1), lookalike, Vec::new(), b"short".to_vec()] {
            let mut content = base.clone();
            content.extend_from_slice(b"one more paragraph");
            let payload = compress_delta(&content, &base).unwrap();
            let decoded = decompress_delta(&payload, content.len() as u32, &base).unwrap();
            assert_eq!(decoded, content);
        }
    }

    #[test]
    fn the_reused_context_decodes_correctly_after_a_failure() {
        let content = text(3);
        let payload = compress(&content, None).unwrap();
        let mut damaged = payload.clone();
        let middle = damaged.len() / 2;
        damaged[middle] ^= 0xff;
        let _ = decompress(&damaged, content.len() as u32, None);
        assert!(decompress(&payload[..middle], content.len() as u32, None).is_err());
        assert_eq!(
            decompress(&payload, content.len() as u32, None).unwrap(),
            content
        );

        let base = text(4);
        let delta = compress_delta(&content, &base).unwrap();
        assert!(decompress_delta(&delta[..delta.len() / 2], content.len() as u32, &base).is_err());
        assert_eq!(
            decompress_delta(&delta, content.len() as u32, &base).unwrap(),
            content
        );
    }

    #[test]
    fn a_trained_dictionary_decodes_through_the_reused_context() {
        let samples: Vec<Vec<u8>> = (0..64u8).map(text).collect();
        let dictionary = train(&samples).unwrap();
        let encoder = EncoderDictionary::copy(&dictionary, ZSTD_LEVEL);
        let decoder = DecoderDictionary::copy(&dictionary);
        let content = text(200);
        let payload = compress(&content, Some(&encoder)).unwrap();
        assert_eq!(
            decompress(&payload, content.len() as u32, Some(&decoder)).unwrap(),
            content
        );
        // No dictionary stays behind in the context for the next frame.
        let plain = compress(&content, None).unwrap();
        assert_eq!(
            decompress(&plain, content.len() as u32, None).unwrap(),
            content
        );
    }
}
