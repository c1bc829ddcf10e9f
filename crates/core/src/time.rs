//! Simulated time as integer nanoseconds.

use serde::Serialize;
use std::ops::{Add, AddAssign, Sub};

/// A point in (or span of) simulated time, in whole nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
pub struct TimeNs(pub u64);

impl TimeNs {
    /// Time zero.
    pub const ZERO: TimeNs = TimeNs(0);

    /// Rounds a duration in seconds to the nearest nanosecond. Negative or non-finite inputs are
    /// a caller bug; they saturate to zero or `u64::MAX` rather than wrap.
    pub fn from_secs_f64(seconds: f64) -> TimeNs {
        let ns = (seconds * 1e9).round();
        if ns.is_nan() || ns <= 0.0 {
            TimeNs(0)
        } else if ns >= u64::MAX as f64 {
            TimeNs(u64::MAX)
        } else {
            TimeNs(ns as u64)
        }
    }

    /// The duration in seconds.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 * 1e-9
    }
}

impl Add for TimeNs {
    type Output = TimeNs;
    fn add(self, rhs: TimeNs) -> TimeNs {
        TimeNs(self.0.saturating_add(rhs.0))
    }
}

impl AddAssign for TimeNs {
    fn add_assign(&mut self, rhs: TimeNs) {
        *self = *self + rhs;
    }
}

impl Sub for TimeNs {
    type Output = TimeNs;
    /// Saturating: a span never goes negative.
    fn sub(self, rhs: TimeNs) -> TimeNs {
        TimeNs(self.0.saturating_sub(rhs.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_seconds_to_nearest_ns() {
        assert_eq!(TimeNs::from_secs_f64(1.5e-9), TimeNs(2));
        assert_eq!(TimeNs::from_secs_f64(0.062_648), TimeNs(62_648_000));
        assert_eq!(TimeNs::from_secs_f64(-1.0), TimeNs(0));
        assert_eq!(TimeNs(2_500).as_secs_f64(), 2.5e-6);
    }

    #[test]
    fn arithmetic_saturates() {
        assert_eq!(TimeNs(3) - TimeNs(5), TimeNs(0));
        assert_eq!(TimeNs(u64::MAX) + TimeNs(1), TimeNs(u64::MAX));
    }
}
