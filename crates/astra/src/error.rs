//! Errors of this crate: bad input (file, field, expectation), bad traces, a stuck run.

use astrolabe_chakra::ChakraError;
use astrolabe_core::InputError;
use astrolabe_engine::EngineError;

/// Everything that can stop a run of ASTRA-sim inputs.
#[derive(Debug, thiserror::Error)]
pub enum AstraError {
    /// A configuration file or a trace's content is not what was expected.
    #[error(transparent)]
    Input(#[from] InputError),
    /// A trace file cannot be read or is malformed.
    #[error(transparent)]
    Chakra(#[from] ChakraError),
    /// The traces cannot complete (a dependency or rendezvous that never resolves).
    #[error("the traces cannot complete: {0}")]
    Engine(#[from] EngineError),
}

/// Shorthand for an [`InputError`] wrapped as an [`AstraError`].
pub(crate) fn input(origin: &str, field: &str, expected: impl Into<String>) -> AstraError {
    AstraError::Input(InputError::new(origin, field, expected))
}
