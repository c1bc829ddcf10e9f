//! Prices and power per accelerator, and the global defaults, each with its public source.
//!
//! Prices change: every figure says when it was published. Per-GPU figures are an 8-GPU
//! system's (or instance's) figure divided by 8, or a 72-GPU rack's by 72. `ASSUMPTION:` marks
//! a figure with no public source in hand, and says how it was chosen. A scenario's `[cost]`
//! table overrides any of them (docs/cost.md).

use serde::Serialize;

/// The cost figures of one accelerator, by its catalog name in `astrolabe-hardware`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GpuPrices {
    /// Accelerator catalog name (`h100-sxm`).
    pub gpu: &'static str,
    /// Cloud on-demand price per GPU-hour, USD.
    pub on_demand_usd_per_gpu_hour: f64,
    /// Where the on-demand price comes from, and its date.
    pub on_demand_source: &'static str,
    /// Cloud price per GPU-hour with capacity committed ahead, USD.
    pub reserved_usd_per_gpu_hour: f64,
    /// Where the reserved price comes from, and its date.
    pub reserved_source: &'static str,
    /// Purchase price of one GPU's share of its server (or rack), USD.
    pub capex_usd_per_gpu: f64,
    /// Where the capital cost comes from, and its date.
    pub capex_source: &'static str,
    /// The system's maximum IT power divided by its GPUs, watts (CPUs, NICs, fans included).
    pub it_power_w_per_gpu: f64,
}

/// Power usage effectiveness (facility power / IT power): 1.58, the industry average of the
/// Uptime Institute Global Data Center Survey 2023 (Uptime Intelligence, Nov 2023). New
/// liquid-cooled AI halls do better (about 1.2–1.3); set `pue` for one.
pub const DEFAULT_PUE: f64 = 1.58;

/// Electricity, USD per kWh: 8.06 ¢, the 2023 US average retail price to industrial customers
/// (EIA Electric Power Annual, data for 2023, released Oct 2024).
pub const DEFAULT_USD_PER_KWH: f64 = 0.0806;

/// ASSUMPTION: servers are written off over 5 years. Cloud operators depreciate servers over
/// 5–6 years; GPUs turn over faster (a new generation every ~2 years), so the shorter end is
/// taken. No single public figure for AI clusters in hand.
pub const DEFAULT_AMORTIZATION_YEARS: f64 = 5.0;

/// Facility (space, cooling, power distribution) per kW of IT capacity per month, USD: $184.06,
/// CBRE's average asking rate for a 250–500 kW wholesale colocation requirement in North
/// American primary markets (CBRE North America Data Center Trends H2 2024, Feb 2025).
/// Electricity is billed on top (metered), as wholesale colocation usually bills it.
pub const DEFAULT_FACILITY_USD_PER_KW_MONTH: f64 = 184.06;

/// ASSUMPTION: scale-out network capital per GPU per 100 Gb/s of its injection bandwidth,
/// USD: $1,060. From a public cluster cost sheet (Aug 2024) pricing a 1,024-GPU NDR
/// InfiniBand fat tree: 48 64-port 400 Gb/s switches at $36,000 (FS.com) and $2.62 M of
/// transceivers and cables, i.e. $4,247.50 per GPU at 400 Gb/s. NICs are left out: the server
/// prices below include them. NVIDIA-branded switches cost more; treat this as a floor.
pub const DEFAULT_NETWORK_USD_PER_GPU_PER_100GBPS: f64 = 1_060.0;

/// Tokens of a compute-optimal run per model parameter: 20 (Hoffmann et al. 2022, "Training
/// Compute-Optimal Large Language Models", Chinchilla).
pub const TOKENS_PER_PARAMETER: u64 = 20;

const AWS_CAPACITY_BLOCKS: &str = "AWS EC2 Capacity Blocks for ML, effective accelerator rate \
                                   (capacity reserved ahead), rates in effect to 2025-01-01";

/// The built-in cost figures, in the accelerator catalog's order.
pub fn catalog() -> Vec<GpuPrices> {
    vec![
        // DGX A100: $199,000 at launch (NVIDIA, GTC keynote 2020-05-14, widely reported);
        // 6.5 kW maximum system power (DGX A100 user guide, May 2020) → 812.5 W per GPU.
        GpuPrices {
            gpu: "a100-sxm-40gb",
            on_demand_usd_per_gpu_hour: 32.7726 / 8.0,
            on_demand_source: "AWS p4d.24xlarge on-demand, us-east-1, $32.7726/h (list price \
                               2020-11 to the June 2025 GPU price cut, lower since)",
            reserved_usd_per_gpu_hour: 1.844,
            reserved_source: AWS_CAPACITY_BLOCKS,
            capex_usd_per_gpu: 199_000.0 / 8.0,
            capex_source: "DGX A100 launch price $199,000 (2020-05)",
            it_power_w_per_gpu: 6_500.0 / 8.0,
        },
        // ASSUMPTION: the 80 GB system costs what the 40 GB one did (no public list price in
        // hand); same 6.5 kW. Reserved: ASSUMPTION, the 40 GB part's capacity-block rate
        // scaled by the two on-demand prices (1.844 × 40.97 / 32.7726 = 2.305).
        GpuPrices {
            gpu: "a100-sxm-80gb",
            on_demand_usd_per_gpu_hour: 40.97 / 8.0,
            on_demand_source: "AWS p4de.24xlarge on-demand, about $40.97/h (pytorch/ci-infra \
                               PR #534, 2026-05)",
            reserved_usd_per_gpu_hour: 2.305,
            reserved_source: "ASSUMPTION: p4d capacity-block rate scaled by on-demand prices",
            capex_usd_per_gpu: 199_000.0 / 8.0,
            capex_source: "ASSUMPTION: DGX A100 launch price, as for 40 GB",
            it_power_w_per_gpu: 6_500.0 / 8.0,
        },
        // DGX H100: about $270,000 (SemiAnalysis estimate, May 2023, as Epoch AI's
        // training-cost-trends notes cite it); 10.2 kW maximum (DGX H100/H200 user guide)
        // → 1,275 W per GPU. On-demand: AWS cut P5 prices in June 2025; dstack PR #3264
        // (2025-11) lists p5.48xlarge at $68.80/h in us-west-1, which AWS prices at 1.25×
        // us-east-1 (p5en: $79.12 against $63.296, dstack PR #4110), so $55.04 in us-east-1.
        GpuPrices {
            gpu: "h100-sxm",
            on_demand_usd_per_gpu_hour: 55.04 / 8.0,
            on_demand_source: "AWS p5.48xlarge on-demand, us-east-1, $55.04/h (after the \
                               June 2025 price cut; derived, see catalog.rs)",
            reserved_usd_per_gpu_hour: 4.916,
            reserved_source: AWS_CAPACITY_BLOCKS,
            capex_usd_per_gpu: 270_000.0 / 8.0,
            capex_source: "DGX H100 about $270,000 (SemiAnalysis estimate, 2023-05)",
            it_power_w_per_gpu: 10_200.0 / 8.0,
        },
        // ASSUMPTION: an H200 system costs 10 % more than an H100 one (same board, 141 GB of
        // HBM3e instead of 80 GB of HBM3; no public system price in hand). 10.2 kW as DGX H100.
        GpuPrices {
            gpu: "h200-sxm",
            on_demand_usd_per_gpu_hour: 63.296 / 8.0,
            on_demand_source: "AWS p5en.48xlarge on-demand, us-east-1, $63.296/h (dstack PR \
                               #4110, 2026-08)",
            reserved_usd_per_gpu_hour: 43.26 / 8.0,
            reserved_source: AWS_CAPACITY_BLOCKS,
            capex_usd_per_gpu: 297_000.0 / 8.0,
            capex_source: "ASSUMPTION: DGX H100's $270,000 plus 10 % for HBM3e",
            it_power_w_per_gpu: 10_200.0 / 8.0,
        },
        // H800: sold in China only; no western cloud lists it. The DeepSeek-V3 report
        // (arXiv:2412.19437, Dec 2024) costs its run at an assumed $2 per H800 GPU-hour.
        // ASSUMPTION: reserved at the same $2 (already a long-rental price), and H100's
        // capital cost and power (same die, board and DGX chassis).
        GpuPrices {
            gpu: "h800-sxm",
            on_demand_usd_per_gpu_hour: 2.0,
            on_demand_source: "DeepSeek-V3 report's assumed H800 rental, $2/GPU-h (2024-12)",
            reserved_usd_per_gpu_hour: 2.0,
            reserved_source: "ASSUMPTION: the DeepSeek-V3 report's $2/GPU-h",
            capex_usd_per_gpu: 270_000.0 / 8.0,
            capex_source: "ASSUMPTION: DGX H100's price",
            it_power_w_per_gpu: 10_200.0 / 8.0,
        },
        // DGX B200: about $515,000 (reseller list price reported by the vengineer blog,
        // 2025-03-16); ~14.3 kW maximum (DGX B200 datasheet; not re-checked against a stored
        // copy) → 1,787.5 W per GPU. Reserved: ASSUMPTION, H100's capacity-block to on-demand
        // ratio (4.916 / 6.88) applied to $14.24.
        GpuPrices {
            gpu: "b200",
            on_demand_usd_per_gpu_hour: 14.24,
            on_demand_source: "AWS p6-b200.48xlarge on-demand, $113.93/h = $14.24/GPU-h \
                               (as packet.ai's price comparison quotes it, 2026-06)",
            reserved_usd_per_gpu_hour: 10.17,
            reserved_source: "ASSUMPTION: H100's capacity-block/on-demand ratio",
            capex_usd_per_gpu: 515_000.0 / 8.0,
            capex_source: "DGX B200 about $515,000 (reseller list, reported 2025-03)",
            it_power_w_per_gpu: 14_300.0 / 8.0,
        },
        // GB200 NVL72: about $3 M per rack (press estimates, 2024); 120 kW per rack
        // (ServeTheHome at GTC 2024; the power shelves supply up to 132 kW) → 1,666.7 W per
        // GPU. ASSUMPTION: cloud prices as B200's (AWS sells GB200 only as P6e UltraServer
        // capacity blocks; no on-demand list price in hand).
        GpuPrices {
            gpu: "gb200",
            on_demand_usd_per_gpu_hour: 14.24,
            on_demand_source: "ASSUMPTION: B200's AWS on-demand price",
            reserved_usd_per_gpu_hour: 10.17,
            reserved_source: "ASSUMPTION: B200's reserved price",
            capex_usd_per_gpu: 3_000_000.0 / 72.0,
            capex_source: "GB200 NVL72 rack about $3,000,000 (press estimates, 2024)",
            it_power_w_per_gpu: 120_000.0 / 72.0,
        },
    ]
}

/// The cost figures of the accelerator named `gpu` (case-insensitive), if the catalog has them.
pub fn find(gpu: &str) -> Option<GpuPrices> {
    let wanted = gpu.trim().to_ascii_lowercase();
    catalog().into_iter().find(|p| p.gpu == wanted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_gpu_figures_divide_the_system_figures() {
        let h100 = find("H100-SXM").unwrap();
        assert_eq!(h100.on_demand_usd_per_gpu_hour, 6.88);
        assert_eq!(h100.capex_usd_per_gpu, 33_750.0);
        assert_eq!(h100.it_power_w_per_gpu, 1_275.0);
        assert_eq!(find("a100-sxm-40gb").unwrap().it_power_w_per_gpu, 812.5);
        assert_eq!(find("b200").unwrap().it_power_w_per_gpu, 1_787.5);
        assert_eq!(find("h200-sxm").unwrap().reserved_usd_per_gpu_hour, 5.4075);
        assert!(find("tpu-v5").is_none());
    }

    #[test]
    fn every_figure_is_positive_and_names_a_source() {
        let cat = catalog();
        assert_eq!(cat.len(), 7);
        for p in &cat {
            for v in [
                p.on_demand_usd_per_gpu_hour,
                p.reserved_usd_per_gpu_hour,
                p.capex_usd_per_gpu,
                p.it_power_w_per_gpu,
            ] {
                assert!(v.is_finite() && v > 0.0, "{}", p.gpu);
            }
            assert!(p.reserved_usd_per_gpu_hour <= p.on_demand_usd_per_gpu_hour, "{}", p.gpu);
            for s in [p.on_demand_source, p.reserved_source, p.capex_source] {
                assert!(!s.is_empty(), "{}", p.gpu);
            }
        }
    }
}
