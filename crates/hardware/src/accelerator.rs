//! Accelerators: dense peak compute per precision, HBM, scale-up bandwidth.
//!
//! All FLOP/s figures are dense (no 2:4 structured sparsity); where a datasheet gives only
//! sparse figures they are halved here, and the comment says so.

use astrolabe_core::{Bandwidth, FlopRate, InputError};
use serde::Serialize;

/// Numeric precision of matrix multiplies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// bfloat16.
    Bf16,
    /// IEEE half precision.
    Fp16,
    /// 8-bit floating point (Hopper and later).
    Fp8,
    /// 4-bit floating point (Blackwell and later).
    Fp4,
}

impl Precision {
    /// Parses `bf16`, `fp16`, `fp8` or `fp4`.
    pub fn parse(text: &str, origin: &str) -> Result<Precision, InputError> {
        match text.trim().to_ascii_lowercase().as_str() {
            "bf16" => Ok(Precision::Bf16),
            "fp16" => Ok(Precision::Fp16),
            "fp8" => Ok(Precision::Fp8),
            "fp4" => Ok(Precision::Fp4),
            _ => Err(InputError::new(origin, text, "one of bf16, fp16, fp8, fp4")),
        }
    }
}

/// One GPU model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Accelerator {
    /// Catalog name (`h100-sxm`).
    pub name: String,
    /// Dense BF16 peak.
    pub bf16: FlopRate,
    /// Dense FP16 peak.
    pub fp16: FlopRate,
    /// Dense FP8 peak, where the GPU has FP8.
    pub fp8: Option<FlopRate>,
    /// Dense FP4 peak, where the GPU has FP4.
    pub fp4: Option<FlopRate>,
    /// HBM capacity in bytes (what the system exposes).
    pub hbm_bytes: u64,
    /// HBM bandwidth.
    pub hbm_bandwidth: Bandwidth,
    /// NVLink bandwidth per GPU per direction.
    pub scaleup_bandwidth: Bandwidth,
    /// Board power in watts.
    pub tdp_w: f64,
}

impl Accelerator {
    /// Dense peak at `precision`, or an error naming the GPU if it lacks that precision.
    pub fn peak(&self, precision: Precision) -> Result<FlopRate, InputError> {
        let rate = match precision {
            Precision::Bf16 => Some(self.bf16),
            Precision::Fp16 => Some(self.fp16),
            Precision::Fp8 => self.fp8,
            Precision::Fp4 => self.fp4,
        };
        rate.ok_or_else(|| {
            InputError::new(
                "precision",
                format!("{precision:?}").to_lowercase(),
                format!("a precision that {} supports", self.name),
            )
        })
    }
}

#[allow(clippy::too_many_arguments)]
fn gpu(
    name: &str,
    bf16_tf: f64,
    fp8_tf: Option<f64>,
    fp4_tf: Option<f64>,
    hbm_gb: f64,
    hbm_tb_s: f64,
    nvlink_gb_s_per_dir: f64,
    tdp_w: f64,
) -> Accelerator {
    Accelerator {
        name: name.into(),
        bf16: FlopRate::from_tflop_per_s(bf16_tf),
        fp16: FlopRate::from_tflop_per_s(bf16_tf),
        fp8: fp8_tf.map(FlopRate::from_tflop_per_s),
        fp4: fp4_tf.map(FlopRate::from_tflop_per_s),
        hbm_bytes: (hbm_gb * 1e9) as u64,
        hbm_bandwidth: Bandwidth::from_gb_per_s(hbm_tb_s * 1000.0),
        scaleup_bandwidth: Bandwidth::from_gb_per_s(nvlink_gb_s_per_dir),
        tdp_w,
    }
}

/// The built-in accelerators, in catalog order.
pub fn catalog() -> Vec<Accelerator> {
    vec![
        // NVIDIA A100 datasheet (nvidia-a100-datasheet-us-nvidia-1758950-r4): BF16/FP16 312 TFLOP/s
        // dense (624 sparse); 40 GB HBM2 at 1,555 GB/s; NVLink 3 600 GB/s total = 300 per
        // direction; 400 W.
        gpu("a100-sxm-40gb", 312.0, None, None, 40.0, 1.555, 300.0, 400.0),
        // Same datasheet, 80 GB HBM2e at 2,039 GB/s.
        gpu("a100-sxm-80gb", 312.0, None, None, 80.0, 2.039, 300.0, 400.0),
        // NVIDIA H100 datasheet (SXM5): BF16 1,979 and FP8 3,958 TFLOP/s with sparsity → 989.4
        // and 1,978.9 dense; 80 GB HBM3 at 3.35 TB/s; NVLink 4 900 GB/s total; up to 700 W.
        gpu("h100-sxm", 989.4, Some(1978.9), None, 80.0, 3.35, 450.0, 700.0),
        // NVIDIA H200 datasheet: same GH100 compute as H100 SXM; 141 GB HBM3e at 4.8 TB/s
        // (DGX H200 = 1,128 GB = 8 × 141); NVLink 4 900 GB/s total; up to 700 W.
        gpu("h200-sxm", 989.4, Some(1978.9), None, 141.0, 4.8, 450.0, 700.0),
        // H800 SXM: H100 compute and memory with NVLink cut to 400 GB/s total (200 per
        // direction), per NVIDIA/nccl issue #1374 and trade press; the DeepSeek-V3 report
        // (arXiv:2412.19437 §3.2.2) quotes 160 GB/s achievable NVLink.
        gpu("h800-sxm", 989.4, Some(1978.9), None, 80.0, 3.35, 200.0, 700.0),
        // NVIDIA DGX B200 user guide and SuperPOD B200 RA: 72 PFLOP/s FP8 and 144 PFLOP/s FP4
        // (sparse) per 8 GPUs → 4,500 FP8 and 9,000 FP4 dense per GPU, BF16 2,250 dense;
        // 1,440 GB HBM3e per 8 GPUs = 180 GB; 64 TB/s per 8 = 8 TB/s; NVLink 5 1,800 GB/s total;
        // 1,000 W.
        gpu("b200", 2250.0, Some(4500.0), Some(9000.0), 180.0, 8.0, 900.0, 1000.0),
        // NVIDIA GB200 NVL72 specifications: 360 / 720 / 1,440 PFLOP/s FP16 / FP8 / FP4 (sparse)
        // per 72 GPUs → 2,500 / 5,000 / 10,000 dense per GPU; up to 13.4 TB HBM3e and 576 TB/s
        // per rack → 186 GB and 8 TB/s per GPU; NVLink 5 1,800 GB/s total; 1,200 W.
        gpu("gb200", 2500.0, Some(5000.0), Some(10000.0), 186.0, 8.0, 900.0, 1200.0),
    ]
}

/// Looks an accelerator up by catalog name (case-insensitive).
pub fn find(name: &str, origin: &str) -> Result<Accelerator, InputError> {
    let wanted = name.trim().to_ascii_lowercase();
    catalog().into_iter().find(|a| a.name == wanted).ok_or_else(|| {
        let names: Vec<_> = catalog().into_iter().map(|a| a.name).collect();
        InputError::new(origin, name, format!("one of {}", names.join(", ")))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn h100_figures() {
        let h = find("H100-SXM", "gpu").unwrap();
        assert_eq!(h.peak(Precision::Bf16).unwrap().tflop_per_s(), 989.4);
        assert_eq!(h.peak(Precision::Fp8).unwrap().tflop_per_s(), 1978.9);
        assert_eq!(h.hbm_bytes, 80_000_000_000);
        assert_eq!(h.scaleup_bandwidth.gb_per_s(), 450.0);
        assert!(h.peak(Precision::Fp4).is_err());
    }

    #[test]
    fn a100_has_no_fp8_and_says_so() {
        let e = find("a100-sxm-80gb", "gpu").unwrap().peak(Precision::Fp8).unwrap_err();
        assert!(e.expected.contains("a100-sxm-80gb"));
    }

    #[test]
    fn unknown_gpu_lists_the_catalog() {
        let e = find("tpu-v5", "cluster.toml").unwrap_err();
        assert_eq!(e.origin, "cluster.toml");
        assert!(e.expected.contains("h100-sxm") && e.expected.contains("gb200"));
    }

    #[test]
    fn names_are_unique() {
        let mut names: Vec<_> = catalog().into_iter().map(|a| a.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), catalog().len());
    }
}
