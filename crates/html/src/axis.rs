//! Axis scales and their ticks: linear with 1-2-5 steps, or base-2 logarithmic.

use crate::svg::fixed;

/// An axis: the data range it maps and its ticks (value, label).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Axis {
    /// The smallest value drawn (at the start of the axis).
    pub lo: f64,
    /// The largest value drawn.
    pub hi: f64,
    /// Base-2 logarithmic.
    pub log2: bool,
    /// Tick values and labels, increasing.
    pub ticks: Vec<(f64, String)>,
}

impl Axis {
    /// A linear axis from `min(lo, 0)` to a round value at or above `hi`, about five ticks.
    pub fn linear(lo: f64, hi: f64) -> Axis {
        let lo = lo.min(0.0);
        let span = if hi > lo { hi - lo } else { 1.0 };
        let step = nice_step(span / 5.0);
        let decimals = if step >= 1.0 { 0 } else { (-step.log10().floor()) as usize };
        let first = (lo / step).floor() as i64;
        let last = (hi / step).ceil().max(first as f64 + 1.0) as i64;
        let ticks =
            (first..=last).map(|i| (i as f64 * step, fixed(i as f64 * step, decimals))).collect();
        Axis { lo: first as f64 * step, hi: last as f64 * step, log2: false, ticks }
    }

    /// A base-2 logarithmic axis over whole powers of two around `[lo, hi]` (both > 0).
    pub fn log2(lo: f64, hi: f64) -> Axis {
        let first = lo.log2().floor() as i32;
        let last = (hi.log2().ceil() as i32).max(first + 1);
        let ticks = (first..=last)
            .map(|e| {
                let v = 2f64.powi(e);
                let label = if e >= 0 { fixed(v, 0) } else { format!("1/{}", fixed(1.0 / v, 0)) };
                (v, label)
            })
            .collect();
        Axis { lo: 2f64.powi(first), hi: 2f64.powi(last), log2: true, ticks }
    }

    /// Where `value` falls, as a fraction of the axis from its start (0) to its end (1).
    pub fn fraction(&self, value: f64) -> f64 {
        let f = |v: f64| if self.log2 { v.log2() } else { v };
        (f(value) - f(self.lo)) / (f(self.hi) - f(self.lo))
    }
}

/// The 1, 2 or 5 × 10^k nearest `raw` (raw > 0; 1 for anything else).
fn nice_step(raw: f64) -> f64 {
    if !(raw > 0.0 && raw.is_finite()) {
        return 1.0;
    }
    let magnitude = 10f64.powf(raw.log10().floor());
    let m = match raw / magnitude {
        r if r < 1.5 => 1.0,
        r if r < 3.0 => 2.0,
        r if r < 7.0 => 5.0,
        _ => 10.0,
    };
    m * magnitude
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_ticks_step_by_one_two_or_five() {
        let labels = |a: Axis| a.ticks.into_iter().map(|t| t.1).collect::<Vec<_>>();
        assert_eq!(labels(Axis::linear(0.0, 9.0)), ["0", "2", "4", "6", "8", "10"]);
        assert_eq!(labels(Axis::linear(0.0, 0.37)), ["0.0", "0.1", "0.2", "0.3", "0.4"]);
        assert_eq!(labels(Axis::linear(0.0, 0.0)), ["0.0", "0.2"]);
        assert_eq!(Axis::linear(0.0, 120.0).hi, 120.0);
    }

    #[test]
    fn log2_ticks_are_whole_powers_of_two() {
        let a = Axis::log2(8.0, 100.0);
        let labels: Vec<&str> = a.ticks.iter().map(|t| t.1.as_str()).collect();
        assert_eq!(labels, ["8", "16", "32", "64", "128"]);
        assert_eq!((a.fraction(8.0), a.fraction(32.0), a.fraction(128.0)), (0.0, 0.5, 1.0));
        assert_eq!(Axis::log2(0.25, 1.0).ticks[0].1, "1/4");
    }
}
