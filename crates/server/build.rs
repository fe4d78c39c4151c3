//! Compiles `proto/newsarc/v1/archive.proto` with the protoc binary that the
//! protoc-bin-vendored crate ships, so no system protoc is needed. The
//! generated code is not committed.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto_root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    let proto = proto_root.join("newsarc/v1/archive.proto");
    println!("cargo:rerun-if-changed={}", proto.display());
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);

    let mut config = tonic_prost_build::Config::new();
    config.protoc_executable(protoc_bin_vendored::protoc_bin_path()?);
    tonic_prost_build::configure()
        .file_descriptor_set_path(out_dir.join("newsarc_v1_descriptor.bin"))
        .compile_with_config(
            config,
            &[proto],
            &[proto_root, protoc_bin_vendored::include_path()?],
        )?;
    Ok(())
}
