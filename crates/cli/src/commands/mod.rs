//! One module per subcommand.

pub mod astra;
pub mod calibrate;
pub mod case_study;
pub mod case_study_memory;
pub mod collective;
pub mod compare;
pub mod dataset;
pub mod export_chakra;
pub mod nccl_check;
pub mod presets;
pub mod report;
pub mod scale;
pub mod search;
pub mod simulate;
pub mod table;
pub mod validate;
