//! Statistics of the absolute errors of the primary comparisons: overall, by kind (training,
//! collective) and by source.
//!
//! Quantiles interpolate linearly between order statistics: for sorted values `x₀ … xₙ₋₁`, the
//! `q`-quantile is read at position `q·(n−1)` (NumPy's default, Hyndman and Fan's type 7), so the
//! median of an even count is the mean of the two middle values.

use crate::Compared;
use serde::Serialize;

/// Median and 90th percentile of `|error|` over a set of entries.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stats {
    /// Median absolute error, a fraction (0.05 = 5%).
    pub median_abs_error: f64,
    /// 90th percentile of the absolute error, a fraction.
    pub p90_abs_error: f64,
    /// Entries counted.
    pub count: usize,
}

/// The statistics of one group (a kind or a source).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Group {
    /// Kind or source.
    pub name: String,
    /// Its statistics.
    #[serde(flatten)]
    pub stats: Stats,
}

/// Overall statistics and the same by kind and by source (groups in dataset order).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Over every compared entry.
    #[serde(flatten)]
    pub overall: Stats,
    /// By entry kind.
    pub by_kind: Vec<Group>,
    /// By the entry's `source`.
    pub by_source: Vec<Group>,
}

/// The `q`-quantile (0 ≤ q ≤ 1) of `values`, linear between order statistics; 0 when empty.
pub fn quantile(values: &[f64], q: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let Some(last) = sorted.len().checked_sub(1) else {
        return 0.0;
    };
    let pos = q.clamp(0.0, 1.0) * last as f64;
    let (lo, frac) = (pos.floor() as usize, pos - pos.floor());
    let hi = (lo + 1).min(last);
    sorted[lo] + frac * (sorted[hi] - sorted[lo])
}

/// Statistics of the absolute values of `errors`.
pub fn stats(errors: &[f64]) -> Stats {
    let abs: Vec<f64> = errors.iter().map(|e| e.abs()).collect();
    Stats {
        median_abs_error: quantile(&abs, 0.5),
        p90_abs_error: quantile(&abs, 0.9),
        count: abs.len(),
    }
}

fn groups(entries: &[Compared], key: impl Fn(&Compared) -> &str) -> Vec<Group> {
    let mut names: Vec<&str> = Vec::new();
    for e in entries {
        if !names.contains(&key(e)) {
            names.push(key(e));
        }
    }
    names
        .into_iter()
        .map(|name| {
            let errors: Vec<f64> =
                entries.iter().filter(|e| key(e) == name).map(|e| e.primary.error).collect();
            Group { name: name.to_string(), stats: stats(&errors) }
        })
        .collect()
}

/// The summary of `entries`' primary comparisons.
pub fn summarize(entries: &[Compared]) -> Summary {
    let errors: Vec<f64> = entries.iter().map(|e| e.primary.error).collect();
    Summary {
        overall: stats(&errors),
        by_kind: groups(entries, |e| &e.kind),
        by_source: groups(entries, |e| &e.source),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_between_order_statistics() {
        // Sorted: 0.01 0.02 0.03 0.04. Median at position 1.5: (0.02 + 0.03) / 2 = 0.025.
        // p90 at 0.9 · 3 = 2.7: 0.03 + 0.7 · (0.04 − 0.03) = 0.037.
        let s = stats(&[-0.04, 0.01, 0.03, -0.02]);
        assert!((s.median_abs_error - 0.025).abs() < 1e-15, "{s:?}");
        assert!((s.p90_abs_error - 0.037).abs() < 1e-15, "{s:?}");
        assert_eq!(s.count, 4);
    }

    #[test]
    fn odd_counts_single_values_and_empty() {
        // Sorted 0.1 0.2 0.5: median 0.2; p90 at 1.8: 0.2 + 0.8 · 0.3 = 0.44.
        let s = stats(&[0.5, -0.1, 0.2]);
        assert_eq!(s.median_abs_error, 0.2);
        assert!((s.p90_abs_error - 0.44).abs() < 1e-15);
        assert_eq!(stats(&[-0.3]).p90_abs_error, 0.3);
        assert_eq!(stats(&[]), Stats { median_abs_error: 0.0, p90_abs_error: 0.0, count: 0 });
    }
}
