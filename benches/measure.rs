//! Figures the bench binaries share: medians and percentiles.

#![allow(dead_code)] // each bench uses part of it

/// The median (upper middle) of `values`.
pub fn median(values: &mut [f64]) -> f64 {
    percentile(values, 0.5)
}

/// The `p` quantile of `values` (nearest rank).
pub fn percentile(values: &mut [f64], p: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    values[((values.len() - 1) as f64 * p).round() as usize]
}

/// The machine, as the figures are recorded with it: cores and CPU model.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{cores} cores, {cpu}")
}

/// A small deterministic generator, so every run picks the same samples.
pub struct Lcg(pub u64);

impl Lcg {
    /// A number below `bound`.
    pub fn next(&mut self, bound: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % bound
    }
}

/// A whole `verify` (or `--deep`) of `archive`, which must find nothing.
pub fn verify_clean(archive: &newsarc::Archive, deep: bool) -> newsarc_store::VerifyReport {
    let report = archive
        .check(
            deep,
            &Default::default(),
            &mut |finding| panic!("verify found {finding:?}"),
            &mut |_| {},
        )
        .expect("verify");
    assert!(report.ok());
    report
}
