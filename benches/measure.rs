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
