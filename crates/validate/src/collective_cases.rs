//! How each nccl-tests measurement of the development set maps to a collective run (read by
//! `astrolabe nccl-check` and `astrolabe validate` through [`crate::collective`]).
//!
//! The measured figures are read from the dataset at run time (by entry id and JSON pointer);
//! this table only says how to build the scenario the measurement describes. Where a source
//! leaves something out (message size, node count), the choice is written next to the case.

/// Which figure of the prediction a measurement is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Figure {
    /// nccl-tests bus bandwidth, GB/s.
    Busbw,
    /// Bus bandwidth divided by the NICs per node, GB/s (a "per NIC" figure).
    BusbwPerNic(usize),
    /// Algorithm bandwidth, GB/s.
    Algbw,
    /// Completion time, µs.
    TimeUs,
}

/// One comparison.
#[derive(Debug, Clone)]
pub struct Case {
    /// Dataset entry id.
    pub entry: &'static str,
    /// JSON pointer of the measured figure inside the entry's `metrics`.
    pub pointer: String,
    /// Cluster preset name or inline cluster TOML.
    pub cluster: &'static str,
    /// Outermost dimension size (nodes), if the preset's is to be changed.
    pub nodes: Option<usize>,
    /// GPUs in the group.
    pub gpus: usize,
    /// Buffer per rank, bytes.
    pub size_bytes: u64,
    /// Algorithm name for every dimension.
    pub algorithm: &'static str,
    /// Figure compared.
    pub figure: Figure,
}

const GIB: u64 = 1 << 30;

/// A100 nodes with 4 × HDR 200 Gb/s per 8 GPUs (`nccl-a100-1node-2node-user`): 12.5 GB/s per GPU.
const A100_4NIC: &str = r#"
name = "dgx-a100-4nic"
gpu = "a100-sxm-80gb"
[[network]]
fabric = "nvlink3-nvswitch"
size = 8
[[network]]
fabric = "ib-hdr"
size = 2
bandwidth_gb_per_s = 12.5
"#;

/// A800 nodes: NVLink 400 GB/s total (200 per direction) and one HDR NIC per 8 GPUs
/// (`nccl-a800-intra-inter-maintainer`): 25 / 8 GB/s per GPU.
const A800_1NIC: &str = r#"
name = "a800-1nic"
gpu = "a100-sxm-80gb"
[[network]]
fabric = "nvlink3-nvswitch"
size = 8
bandwidth_gb_per_s = 200
[[network]]
fabric = "ib-hdr"
size = 2
bandwidth_gb_per_s = 3.125
"#;

/// H100 nodes with 8 × 400 GbE RoCEv2 (`nccl-h100-roce-4node-user`).
const H100_ROCE: &str = r#"
name = "h100-roce-400"
gpu = "h100-sxm"
[[network]]
fabric = "nvlink4-nvswitch"
size = 8
[[network]]
fabric = "roce-400"
size = 4
"#;

/// A row of the table below; the argument list is the row's columns.
#[allow(clippy::too_many_arguments)]
fn case(
    entry: &'static str,
    pointer: &str,
    cluster: &'static str,
    nodes: Option<usize>,
    gpus: usize,
    size_bytes: u64,
    algorithm: &'static str,
    figure: Figure,
) -> Case {
    Case {
        entry,
        pointer: pointer.to_string(),
        cluster,
        nodes,
        gpus,
        size_bytes,
        algorithm,
        figure,
    }
}

/// Every comparison, in dataset order.
pub fn cases(sweep_sizes: &[(String, u64)]) -> Vec<Case> {
    let h100 = "dgx-h100-basepod";
    let a100 = "dgx-a100-superpod";
    let mut out: Vec<Case> = sweep_sizes
        .iter()
        .map(|(key, bytes)| {
            case(
                "nccl-dgxh100-1node-allreduce-sample",
                &format!("/busbw_GBps_out_of_place/{key}"),
                h100,
                None,
                8,
                *bytes,
                "auto",
                Figure::Busbw,
            )
        })
        .collect();
    out.extend([
        case(
            "nccl-dgxh100-1node-allreduce-sample",
            "/small_msg_latency_us_8B",
            h100,
            None,
            8,
            8,
            "auto",
            Figure::TimeUs,
        ),
        case(
            "nccl-dgxh100-1node-allreduce-sample",
            "/algbw_GBps_16GiB",
            h100,
            None,
            8,
            16 * GIB,
            "auto",
            Figure::Algbw,
        ),
        // "when running with NCCL_ALGO=RING": at 16 GiB, the largest size of the sweep above.
        case(
            "nccl-h100-nvls-vs-ring-maintainer",
            "/ring_effective_busbw_GBps",
            h100,
            None,
            8,
            16 * GIB,
            "ring",
            Figure::Busbw,
        ),
        case(
            "nccl-h100-nvls-vs-ring-maintainer",
            "/nvls_peak_busbw_GBps",
            h100,
            None,
            8,
            16 * GIB,
            "in-network",
            Figure::Busbw,
        ),
        case(
            "nccl-h100-nvls-vs-ring-maintainer",
            "/nvls_algbw_GBps",
            h100,
            None,
            8,
            16 * GIB,
            "in-network",
            Figure::Algbw,
        ),
        // `all_reduce_perf -b 2G -e 4G`: 4 GiB.
        case(
            "nccl-h100-ring-vs-nvls-by-gpucount",
            "/ring_busbw_GBps_2to8gpus",
            h100,
            None,
            2,
            4 * GIB,
            "ring",
            Figure::Busbw,
        ),
        case(
            "nccl-h100-ring-vs-nvls-by-gpucount",
            "/ring_busbw_GBps_2to8gpus",
            h100,
            None,
            8,
            4 * GIB,
            "ring",
            Figure::Busbw,
        ),
        case(
            "nccl-h100-ring-vs-nvls-by-gpucount",
            "/nvls_busbw_GBps_by_ngpus/5",
            h100,
            None,
            5,
            4 * GIB,
            "in-network",
            Figure::Busbw,
        ),
        case(
            "nccl-h100-ring-vs-nvls-by-gpucount",
            "/nvls_busbw_GBps_by_ngpus/6",
            h100,
            None,
            6,
            4 * GIB,
            "in-network",
            Figure::Busbw,
        ),
        case(
            "nccl-h100-ring-vs-nvls-by-gpucount",
            "/nvls_busbw_GBps_by_ngpus/7",
            h100,
            None,
            7,
            4 * GIB,
            "in-network",
            Figure::Busbw,
        ),
        case(
            "nccl-h100-ring-vs-nvls-by-gpucount",
            "/nvls_busbw_GBps_by_ngpus/8",
            h100,
            None,
            8,
            4 * GIB,
            "in-network",
            Figure::Busbw,
        ),
        // Size not stated: 16 GiB, where bandwidth has plateaued.
        case(
            "nccl-h100-2node-ndr-per-nic-maintainer",
            "/single_node_busbw_GBps",
            h100,
            None,
            8,
            16 * GIB,
            "auto",
            Figure::Busbw,
        ),
        case(
            "nccl-h100-2node-ndr-per-nic-maintainer",
            "/expected_per_nic_GBps",
            h100,
            Some(2),
            16,
            16 * GIB,
            "auto",
            Figure::BusbwPerNic(8),
        ),
        // Node count and size not stated: 2 nodes, 8 GiB.
        case(
            "nccl-dgxa100-multinode-allreduce-maintainer",
            "/busbw_GBps",
            a100,
            Some(2),
            16,
            8 * GIB,
            "auto",
            Figure::Busbw,
        ),
        case(
            "nccl-a100-intranode-maintainer",
            "/expected_busbw_GBps",
            a100,
            None,
            8,
            8 * GIB,
            "auto",
            Figure::Busbw,
        ),
        // `-b 8 -e 4G`: the peak, at 4 GiB.
        case(
            "nccl-a100-1node-2node-user",
            "/single_node_busbw_GBps",
            a100,
            None,
            8,
            4 * GIB,
            "auto",
            Figure::Busbw,
        ),
        case(
            "nccl-a100-1node-2node-user",
            "/two_node_busbw_GBps",
            A100_4NIC,
            None,
            16,
            4 * GIB,
            "auto",
            Figure::Busbw,
        ),
        case(
            "nccl-a800-intra-inter-maintainer",
            "/intra_node_busbw_GBps",
            A800_1NIC,
            None,
            8,
            8 * GIB,
            "auto",
            Figure::Busbw,
        ),
        case(
            "nccl-a800-intra-inter-maintainer",
            "/inter_node_busbw_GBps",
            A800_1NIC,
            None,
            16,
            8 * GIB,
            "auto",
            Figure::Busbw,
        ),
        // `-b 4G -e 8G`: 8 GiB. "1 or 2 nodes" measured alike: 2 nodes.
        case(
            "nccl-h100-roce-4node-user",
            "/busbw_GBps_1or2_nodes_nvls_off",
            H100_ROCE,
            Some(2),
            16,
            8 * GIB,
            "ring",
            Figure::Busbw,
        ),
        case(
            "nccl-h100-roce-4node-user",
            "/busbw_GBps_1or2_nodes_nvls_on",
            H100_ROCE,
            Some(2),
            16,
            8 * GIB,
            "auto",
            Figure::Busbw,
        ),
        case(
            "nccl-h100-roce-4node-user",
            "/busbw_GBps_gt2_nodes",
            H100_ROCE,
            Some(4),
            32,
            8 * GIB,
            "auto",
            Figure::Busbw,
        ),
    ]);
    out
}
