//! `astrolabe`: predicts how distributed training performs on a cluster that may not exist yet.
//!
//! This binary is thin: it parses arguments into validated inputs, calls the library crates and
//! prints. Exit codes: 0 success, 2 bad input (unknown preset, malformed file, impossible sizes).

mod cluster_arg;
mod commands;
mod progress;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Astrolabe: simulate distributed AI training clusters.
#[derive(Debug, Parser)]
#[command(name = "astrolabe", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Simulate one training step: step time, MFU, memory, where the time goes.
    Simulate(commands::simulate::Args),
    /// Write one simulated step as a self-contained HTML page with charts (works offline).
    Report(commands::report::Args),
    /// Time one collective (or a size sweep) on a cluster, with nccl-tests' algbw and busbw.
    Collective(commands::collective::Args),
    /// List the built-in accelerators, fabrics and cluster presets.
    Presets(commands::presets::Args),
    /// Compare collective predictions with the nccl-tests measurements of a dataset.
    NcclCheck(commands::nccl_check::Args),
    /// Compare predictions with every published run of a dataset (training and collectives).
    Validate(commands::validate::Args),
    /// Fit the kernel efficiencies of each GPU generation to a dataset's training runs.
    Calibrate(commands::calibrate::Args),
    /// Run ASTRA-sim inputs unchanged (Chakra traces, system JSON, network YAML).
    Astra(commands::astra::Args),
    /// Write one training step of a scenario as Chakra traces with ASTRA-sim system and network files.
    ExportChakra(commands::export_chakra::Args),
    /// Regenerate a documented case study (`network`: fabrics 1K to 16K GPUs; `memory`: offload and tiers).
    CaseStudy(commands::case_study::Args),
    /// Search the parallel plans of a scenario (TP, CP, PP, chunks, micro-batch, recomputation,
    /// ZeRO, EP, schedule): drop those that are invalid or do not fit, rank the rest.
    Search(commands::search::Args),
    /// What if: variants of a scenario (another GPU, more bandwidth, FP8, more GPUs, plan keys)
    /// against the base: speed-up, MFU, days to train, cost.
    Compare(commands::compare::Args),
    /// MFU and throughput against cluster size, and where communication stops hiding.
    Scale(commands::scale::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Simulate(args) => commands::simulate::run(&args),
        Command::Report(args) => commands::report::run(&args),
        Command::Collective(args) => commands::collective::run(&args),
        Command::Presets(args) => commands::presets::run(&args),
        Command::NcclCheck(args) => commands::nccl_check::run(&args),
        Command::Validate(args) => commands::validate::run(&args),
        Command::Calibrate(args) => commands::calibrate::run(&args),
        Command::Astra(args) => commands::astra::run(&args),
        Command::ExportChakra(args) => commands::export_chakra::run(&args),
        Command::CaseStudy(args) => commands::case_study::run(&args),
        Command::Search(args) => commands::search::run(&args),
        Command::Compare(args) => commands::compare::run(&args),
        Command::Scale(args) => commands::scale::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
