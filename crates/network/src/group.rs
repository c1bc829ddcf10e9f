//! Communicator groups as boxes in coordinate space: how many ranks along each dimension.

use crate::topology::Topology;
use astrolabe_core::InputError;
use serde::Serialize;

/// A group of ranks described by its extent along each dimension of a topology.
///
/// Extent 1 means the group does not use that dimension; extent `size` means all of it; any
/// value between is a subset of the dimension (e.g. 4 of the 8 GPUs behind an NVSwitch). Every
/// Megatron-style parallel group on a topology whose sizes align with the parallel sizes is such
/// a box, so collectives need only the extents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Group {
    extents: Vec<usize>,
}

impl Group {
    /// A group with the given extent per dimension, checked against `topology`.
    pub fn new(
        topology: &Topology,
        extents: Vec<usize>,
        origin: &str,
    ) -> Result<Group, InputError> {
        if extents.len() != topology.dims().len() {
            return Err(InputError::new(
                origin,
                "group",
                format!(
                    "one extent per network dimension ({}), got {}",
                    topology.dims().len(),
                    extents.len()
                ),
            ));
        }
        for (i, (e, d)) in extents.iter().zip(topology.dims()).enumerate() {
            if *e == 0 || *e > d.size {
                return Err(InputError::new(
                    origin,
                    format!("group[{i}]"),
                    format!(
                        "between 1 and {} (the size of dimension `{}`), got {e}",
                        d.size, d.name
                    ),
                ));
            }
        }
        Ok(Group { extents })
    }

    /// The first `n` ranks in rank order: dimension 0 filled first, then dimension 1, and so on.
    /// `n` must fill whole inner dimensions, e.g. 16 on 8-GPU nodes, not 12.
    pub fn leading(topology: &Topology, n: usize, origin: &str) -> Result<Group, InputError> {
        let total = topology.npus();
        if n == 0 || n > total {
            return Err(InputError::new(
                origin,
                "gpus",
                format!("between 1 and {total} (the GPUs in the cluster), got {n}"),
            ));
        }
        let mut extents = Vec::with_capacity(topology.dims().len());
        let mut rest = n;
        for d in topology.dims() {
            if rest >= d.size {
                if rest % d.size != 0 {
                    return Err(not_a_block(topology, n, origin));
                }
                extents.push(d.size);
                rest /= d.size;
            } else {
                extents.push(rest);
                rest = 1;
            }
        }
        let group = Group { extents };
        if group.size() != n {
            return Err(not_a_block(topology, n, origin));
        }
        Ok(group)
    }

    /// Extent along each dimension.
    pub fn extents(&self) -> &[usize] {
        &self.extents
    }

    /// Number of ranks in the group.
    pub fn size(&self) -> usize {
        self.extents.iter().product()
    }

    /// Indices of the dimensions the group spans (extent > 1), innermost first.
    pub fn spanned_dims(&self) -> Vec<usize> {
        (0..self.extents.len()).filter(|i| self.extents[*i] > 1).collect()
    }
}

fn not_a_block(topology: &Topology, n: usize, origin: &str) -> InputError {
    let sizes: Vec<String> = topology.dims().iter().map(|d| d.size.to_string()).collect();
    InputError::new(
        origin,
        "gpus",
        format!(
            "a count that fills whole inner dimensions of the {} network (e.g. a divisor of {} or a multiple of it), got {n}",
            sizes.join("×"),
            sizes[0]
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dimension::tests::switch;

    fn topo() -> Topology {
        Topology::new(vec![switch(8), switch(12)], "t").unwrap()
    }

    #[test]
    fn leading_groups_fill_inner_dimensions_first() {
        let t = topo();
        let cases = [
            (1, vec![1, 1]),
            (4, vec![4, 1]),
            (8, vec![8, 1]),
            (16, vec![8, 2]),
            (96, vec![8, 12]),
        ];
        for (n, extents) in cases {
            let g = Group::leading(&t, n, "--gpus").unwrap();
            assert_eq!(g.extents(), extents.as_slice(), "n = {n}");
            assert_eq!(g.size(), n);
        }
        assert_eq!(Group::leading(&t, 16, "x").unwrap().spanned_dims(), vec![0, 1]);
    }

    #[test]
    fn impossible_groups_are_rejected() {
        let t = topo();
        for n in [0, 12, 97, 200] {
            let e = Group::leading(&t, n, "--gpus").unwrap_err();
            assert_eq!(e.field, "gpus", "n = {n}");
        }
        assert_eq!(Group::new(&t, vec![9, 1], "g").unwrap_err().field, "group[0]");
        assert_eq!(Group::new(&t, vec![8], "g").unwrap_err().field, "group");
    }
}
