//! The network YAML: dimensions (innermost first), each Ring, FullyConnected or Switch, and the
//! cost of one message between two ranks.
//!
//! Bandwidth in the file is GB/s with GB = 2^30 bytes (ASTRA-sim's convention), converted here,
//! once, to bytes per ns. Latency is ns per hop.

use crate::error::{input, AstraError};
use serde::Serialize;
use serde_norway::Value;

/// Largest rank count accepted (a limit on everything).
pub const MAX_NPUS: u64 = 1 << 20;

/// The shape of one network dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum DimKind {
    /// A bidirectional ring: hops = shortest way round.
    Ring,
    /// Every pair linked directly: one hop.
    FullyConnected,
    /// One switch: two hops (up, down).
    Switch,
}

/// One dimension of the network.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Dim {
    /// Its shape.
    pub kind: DimKind,
    /// Ranks along it.
    pub npus: u64,
    /// Link bandwidth in bytes per ns (the file's GB/s × 2^30 / 1e9).
    pub bandwidth_bytes_per_ns: f64,
    /// Latency of one hop in ns.
    pub latency_ns: f64,
}

impl Dim {
    /// Hops between two positions `distance` apart along this dimension.
    pub fn hops(&self, distance: u64) -> u64 {
        let d = distance % self.npus.max(1);
        match self.kind {
            _ if d == 0 => 0,
            DimKind::Ring => d.min(self.npus - d),
            DimKind::FullyConnected => 1,
            DimKind::Switch => 2,
        }
    }
}

/// The whole network, innermost dimension first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Network {
    /// The dimensions.
    pub dims: Vec<Dim>,
}

impl Network {
    /// Total ranks: the product of the dimension sizes.
    pub fn npus(&self) -> u64 {
        self.dims.iter().map(|d| d.npus).product()
    }

    /// Coordinates of `rank`, dimension 0 varying fastest.
    pub fn coords(&self, rank: u64) -> Vec<u64> {
        let mut rest = rank;
        self.dims
            .iter()
            .map(|d| {
                let n = d.npus.max(1);
                let c = rest % n;
                rest /= n;
                c
            })
            .collect()
    }

    /// The lowest dimension where `src` and `dst` differ and the hops there; `None` if equal.
    pub fn route(&self, src: u64, dst: u64) -> Option<(usize, u64)> {
        let (a, b) = (self.coords(src), self.coords(dst));
        let dim = (0..self.dims.len()).find(|&i| a[i] != b[i])?;
        let n = self.dims[dim].npus.max(1);
        Some((dim, self.dims[dim].hops((b[dim] + n - a[dim]) % n)))
    }
}

const KEYS: [&str; 4] = ["topology", "npus_count", "bandwidth", "latency"];

/// Parses the network YAML `text`; `origin` (the file name) goes into errors.
pub fn parse_network(text: &str, origin: &str) -> Result<Network, AstraError> {
    let value: Value = serde_norway::from_str(text)
        .map_err(|e| input(origin, "(file)", format!("valid YAML, parse error: {e}")))?;
    let Value::Mapping(map) = value else {
        return Err(input(
            origin,
            "(file)",
            "a YAML mapping of topology, npus_count, bandwidth, latency",
        ));
    };
    for key in map.keys() {
        let name = key.as_str().unwrap_or("(non-string key)");
        if !KEYS.contains(&name) {
            return Err(input(origin, name, format!("a known key, one of: {}", KEYS.join(", "))));
        }
    }
    let list = |key: &str| -> Result<&Vec<Value>, AstraError> {
        match map.get(key) {
            Some(Value::Sequence(items)) if !items.is_empty() => Ok(items),
            Some(_) => Err(input(origin, key, "a non-empty list, one entry per dimension")),
            None => Err(input(origin, key, "a list, one entry per dimension, found nothing")),
        }
    };
    let (kinds, npus, bws, lats) =
        (list("topology")?, list("npus_count")?, list("bandwidth")?, list("latency")?);
    let n = kinds.len();
    for (key, l) in [("npus_count", npus), ("bandwidth", bws), ("latency", lats)] {
        if l.len() != n {
            let expected = format!("{n} entries like `topology`, found {}", l.len());
            return Err(input(origin, key, expected));
        }
    }
    let dims = (0..n)
        .map(|i| dim(origin, i, &kinds[i], &npus[i], &bws[i], &lats[i]))
        .collect::<Result<Vec<_>, _>>()?;
    let network = Network { dims };
    if network
        .dims
        .iter()
        .try_fold(1u64, |acc, d| acc.checked_mul(d.npus))
        .is_none_or(|p| p > MAX_NPUS)
    {
        return Err(input(origin, "npus_count", format!("a product of at most {MAX_NPUS} ranks")));
    }
    Ok(network)
}

fn dim(
    origin: &str,
    i: usize,
    kind: &Value,
    npus: &Value,
    bw: &Value,
    lat: &Value,
) -> Result<Dim, AstraError> {
    let kind = match kind.as_str() {
        Some("Ring") => DimKind::Ring,
        Some("FullyConnected") => DimKind::FullyConnected,
        Some("Switch") => DimKind::Switch,
        _ => {
            return Err(input(origin, &format!("topology[{i}]"), "Ring, FullyConnected or Switch"))
        }
    };
    let npus = match npus.as_u64() {
        Some(n) if (2..=MAX_NPUS).contains(&n) => n,
        _ => {
            return Err(input(
                origin,
                &format!("npus_count[{i}]"),
                format!("an integer from 2 to {MAX_NPUS}"),
            ))
        }
    };
    let number = |v: &Value, key: &str, min_ok: fn(f64) -> bool, what: &str| match v.as_f64() {
        Some(x) if x.is_finite() && min_ok(x) => Ok(x),
        _ => Err(input(origin, &format!("{key}[{i}]"), what.to_string())),
    };
    let gib_per_s =
        number(bw, "bandwidth", |x| x > 0.0, "a positive number of GB/s (GB = 2^30 bytes)")?;
    let latency_ns = number(lat, "latency", |x| x >= 0.0, "a non-negative number of ns")?;
    let bandwidth_bytes_per_ns = gib_per_s * (1u64 << 30) as f64 / 1e9;
    Ok(Dim { kind, npus, bandwidth_bytes_per_ns, latency_ns })
}

#[cfg(test)]
#[path = "network_tests.rs"]
mod tests;
