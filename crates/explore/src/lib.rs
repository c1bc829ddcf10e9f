//! Decisions over simulated steps.
//!
//! Everything here runs `astrolabe_sim::simulate` many times on variants of one scenario:
//! [`mod@search`] over parallel plans (the candidates of a [`space::Space`], refused by the
//! plan's own checks or by memory before their step is built, the rest simulated in parallel
//! with rayon), [`variant`] what-ifs (another GPU, more bandwidth, FP8, …) resolved as if the
//! scenario file had said them, and [`scale`] curves over cluster sizes. This crate reads no
//! files and prints nothing: the CLI hands it scenarios and formats what it returns.

pub mod compare;
pub mod scale;
pub mod search;
pub mod space;
pub mod summary;
pub mod variant;

pub use search::{search, Objective, Outcome, SearchResult};
pub use space::{Candidate, Space};
pub use summary::Summary;
pub use variant::{Change, Variant};
