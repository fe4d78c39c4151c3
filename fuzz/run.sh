#!/usr/bin/env bash
# Bounded fuzzing of the document parser, the URL canonicaliser, the record
# decoder, the pack scanner and the diff engine with cargo-fuzz (libFuzzer), seeded from the
# repository's fixtures and examples. Needs a nightly toolchain
# (`rustup toolchain install nightly`) and `cargo install cargo-fuzz`; the
# project itself builds on stable. FUZZ_SECONDS per target (default 60).
# A crash stops the run and leaves its input in fuzz/artifacts/TARGET/;
# each one found becomes a regression test named after what it found.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${FUZZ_SECONDS:-60}"

seeds() {
    case "$1" in
    parse_document) echo tests/hostile/fixtures crates/parse/tests/fixtures/bad \
        crates/parse/tests/fixtures/good examples/articles/* ;;
    canonical_url) echo fuzz/seeds/urls ;;
    decode_record) echo fuzz/seeds/records ;;
    diff_articles) echo examples/articles/* ;;
    scan_pack) echo fuzz/seeds/packs ;;
    esac
}

for target in parse_document canonical_url decode_record scan_pack diff_articles; do
    mkdir -p "fuzz/corpus/$target"
    # shellcheck disable=SC2046 # the seed folders are separate arguments
    cargo +nightly fuzz run "$target" "fuzz/corpus/$target" $(seeds "$target") -- \
        -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -timeout=10 \
        -print_final_stats=1
done
