//! How documents are compressed (store format 2): zstd; a later revision
//! as a delta against a neighbour (its bytes as zstd's raw-content prefix,
//! "patch-from"); a first revision with its outlet's trained dictionary once
//! the outlet has one. Every frame says which, and names the dictionary or
//! base by digest.

use zstd::dict::{DecoderDictionary, EncoderDictionary};
use zstd::zstd_safe::{self, CParameter};

use crate::StoreError;

/// zstd level for documents and batches: compression is most of what an
/// ingest spends (`docs/PERFORMANCE.md`), and higher levels cost more.
pub const ZSTD_LEVEL: i32 = 6;

/// After this many deltas in a row the next document is stored on its own,
/// so reading any document decodes at most this many frames.
pub const MAX_DELTA_DEPTH: u8 = 16;

/// The largest dictionary trained for an outlet: an outlet's boilerplate
/// fits, and a small outlet does not pay for a big one.
pub(crate) const DICTIONARY_BYTES: usize = 32 * 1024;

/// How many of an outlet's first revisions a dictionary is trained on at
/// most (the first ones in key order).
pub(crate) const MAX_SAMPLES: usize = 256;

/// An outlet's dictionary is trained when its first revisions reach these
/// counts; later ones keep the last.
pub(crate) const TRAIN_AT: &[u64] = &[48, 512];

fn zstd_error(what: &str, code: zstd_safe::ErrorCode) -> std::io::Error {
    std::io::Error::other(format!("{what}: {}", zstd_safe::get_error_name(code)))
}

fn compress_failed(err: std::io::Error) -> StoreError {
    StoreError::Internal(format!("zstd could not compress: {err}"))
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

/// A zstd frame decoded, with a trained dictionary when given; the result
/// must be `content_len` long.
pub(crate) fn decompress(
    payload: &[u8],
    content_len: u32,
    dictionary: Option<&DecoderDictionary<'static>>,
) -> std::io::Result<Vec<u8>> {
    let capacity = content_len as usize;
    let content = match dictionary {
        Some(dictionary) => zstd::bulk::Decompressor::with_prepared_dictionary(dictionary)?
            .decompress(payload, capacity)?,
        None => zstd::bulk::decompress(payload, capacity)?,
    };
    check_len(content, capacity)
}

/// A delta frame decoded with its base as the prefix.
pub(crate) fn decompress_delta(
    payload: &[u8],
    content_len: u32,
    base: &[u8],
) -> std::io::Result<Vec<u8>> {
    let capacity = content_len as usize;
    let mut dctx = zstd_safe::DCtx::create();
    dctx.ref_prefix(base)
        .map_err(|code| zstd_error("delta base", code))?;
    let mut out = Vec::with_capacity(capacity);
    dctx.decompress(&mut out, payload)
        .map_err(|code| zstd_error("delta", code))?;
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
