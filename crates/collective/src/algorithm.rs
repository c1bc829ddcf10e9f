//! Per-dimension collective algorithms.

use astrolabe_core::InputError;
use serde::Serialize;
use std::fmt;

/// An algorithm run on one dimension of a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Algorithm {
    /// Pick the fastest algorithm that applies to the dimension and operation.
    Auto,
    /// Ring: n−1 neighbour steps per pass.
    Ring,
    /// Direct: every rank exchanges with every other at once, one step.
    Direct,
    /// Recursive halving / doubling: log2(n) steps (Bruck-style for all-to-all).
    HalvingDoubling,
    /// NCCL-style double binary tree: log2(n)-deep trees, each carrying half the data.
    DoubleBinaryTree,
    /// Reduction in the switches (NVLink SHARP / NVLS, InfiniBand SHARP).
    InNetwork,
}

impl Algorithm {
    /// The concrete algorithms, in the order `Auto` tries them.
    pub const CONCRETE: [Algorithm; 5] = [
        Algorithm::Ring,
        Algorithm::Direct,
        Algorithm::HalvingDoubling,
        Algorithm::DoubleBinaryTree,
        Algorithm::InNetwork,
    ];

    /// The name used on the command line and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Auto => "auto",
            Algorithm::Ring => "ring",
            Algorithm::Direct => "direct",
            Algorithm::HalvingDoubling => "halving-doubling",
            Algorithm::DoubleBinaryTree => "double-binary-tree",
            Algorithm::InNetwork => "in-network",
        }
    }

    /// Parses one name (`ring`, `direct`, `halving-doubling`, `double-binary-tree`, `in-network`,
    /// `auto`; `hd`, `tree`, `nvls` and `sharp` are accepted as short forms).
    pub fn parse(text: &str, origin: &str) -> Result<Algorithm, InputError> {
        let wanted = text.trim().replace('_', "-").to_ascii_lowercase();
        let alias = match wanted.as_str() {
            "hd" => Some(Algorithm::HalvingDoubling),
            "tree" => Some(Algorithm::DoubleBinaryTree),
            "nvls" | "sharp" => Some(Algorithm::InNetwork),
            _ => None,
        };
        alias
            .or_else(|| {
                std::iter::once(Algorithm::Auto).chain(Self::CONCRETE).find(|a| a.name() == wanted)
            })
            .ok_or_else(|| {
                InputError::new(
                    origin,
                    text,
                    "one of auto, ring, direct, halving-doubling, double-binary-tree, in-network",
                )
            })
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_and_aliases() {
        let cases = [
            ("ring", Algorithm::Ring),
            ("HD", Algorithm::HalvingDoubling),
            ("halving_doubling", Algorithm::HalvingDoubling),
            ("nvls", Algorithm::InNetwork),
            ("tree", Algorithm::DoubleBinaryTree),
            ("auto", Algorithm::Auto),
        ];
        for (text, alg) in cases {
            assert_eq!(Algorithm::parse(text, "--algorithm").unwrap(), alg, "{text}");
        }
        assert_eq!(Algorithm::parse("magic", "--algorithm").unwrap_err().field, "magic");
    }
}
