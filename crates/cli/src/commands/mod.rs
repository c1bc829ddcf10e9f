//! One module per subcommand.

pub mod collective;
pub mod nccl_cases;
pub mod nccl_check;
pub mod presets;
