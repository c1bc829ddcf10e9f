//! A topology: dimensions innermost first, and the rank ↔ coordinates mapping.

use crate::dimension::Dimension;
use astrolabe_core::InputError;
use serde::Serialize;

/// An ordered list of dimensions, innermost (fastest-varying) first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Topology {
    dims: Vec<Dimension>,
}

impl Topology {
    /// Builds and validates a topology. `origin` names the file or preset it came from.
    pub fn new(dims: Vec<Dimension>, origin: &str) -> Result<Topology, InputError> {
        if dims.is_empty() {
            return Err(InputError::new(origin, "network", "at least one dimension"));
        }
        for (i, d) in dims.iter().enumerate() {
            d.validate(origin, &format!("network[{i}]"))?;
        }
        let npus = dims.iter().try_fold(1usize, |acc, d| acc.checked_mul(d.size));
        if npus.is_none_or(|n| n > 1 << 24) {
            return Err(InputError::new(origin, "network", "at most 16,777,216 GPUs in all"));
        }
        Ok(Topology { dims })
    }

    /// The dimensions, innermost first.
    pub fn dims(&self) -> &[Dimension] {
        &self.dims
    }

    /// Total number of ranks (GPUs).
    pub fn npus(&self) -> usize {
        self.dims.iter().map(|d| d.size).product()
    }

    /// Coordinates of `rank`, dimension 0 first (fastest-varying).
    pub fn coords(&self, rank: usize) -> Vec<usize> {
        assert!(rank < self.npus(), "rank {rank} out of range");
        let mut rest = rank;
        self.dims
            .iter()
            .map(|d| {
                let c = rest % d.size;
                rest /= d.size;
                c
            })
            .collect()
    }

    /// The rank at `coords` (dimension 0 first).
    pub fn rank(&self, coords: &[usize]) -> usize {
        assert_eq!(coords.len(), self.dims.len());
        coords.iter().zip(&self.dims).rev().fold(0, |acc, (c, d)| {
            assert!(*c < d.size);
            acc * d.size + c
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dimension::tests::switch;
    use proptest::prelude::*;

    #[test]
    fn coordinates_are_mixed_radix_dimension_zero_fastest() {
        let t = Topology::new(vec![switch(8), switch(4), switch(2)], "t").unwrap();
        assert_eq!(t.npus(), 64);
        assert_eq!(t.coords(0), vec![0, 0, 0]);
        assert_eq!(t.coords(9), vec![1, 1, 0]);
        assert_eq!(t.coords(63), vec![7, 3, 1]);
        assert_eq!(t.rank(&[1, 1, 0]), 9);
    }

    #[test]
    fn empty_and_bad_dimensions_are_rejected() {
        assert_eq!(Topology::new(vec![], "t").unwrap_err().field, "network");
        let e = Topology::new(vec![switch(8), switch(0)], "t").unwrap_err();
        assert_eq!(e.field, "network[1].size");
    }

    proptest! {
        #[test]
        fn coords_round_trip(a in 1usize..9, b in 1usize..9, c in 1usize..9, r in 0usize..512) {
            let t = Topology::new(vec![switch(a), switch(b), switch(c)], "t").unwrap();
            let rank = r % t.npus();
            prop_assert_eq!(t.rank(&t.coords(rank)), rank);
        }
    }
}
