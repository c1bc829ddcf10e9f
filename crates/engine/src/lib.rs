//! Layer 8 of Astrolabe: executes an execution graph in simulated time.
//!
//! A [`Graph`] is a set of tasks, each bound to one stream (a rank's compute stream, its
//! communication stream, its pipeline send stream, …) with a duration and dependencies. Streams
//! run their tasks one at a time, in the order they were added (as CUDA streams do); a task starts
//! when its stream reaches it and all its dependencies have finished. Tasks that share a
//! rendezvous id are one collective seen from each member rank: they start together, when every
//! member is ready. Pipeline schedules, overlap and bubbles emerge from these rules; nothing here
//! knows about training.

mod exec;
mod graph;

pub use exec::{run, Span, Timeline};
pub use graph::{Category, Graph, StreamId, Task, TaskId};

/// The graph cannot complete.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// Some tasks never became ready: a dependency cycle or a rendezvous that never completes.
    #[error("deadlock: {stuck} task(s) never ran, e.g. {examples:?}")]
    Deadlock {
        /// Number of tasks that never ran.
        stuck: usize,
        /// Labels of a few of them.
        examples: Vec<String>,
    },
    /// A dependency names a task that does not exist.
    #[error("task `{task}` depends on task {dependency}, which does not exist")]
    DanglingDependency {
        /// Label of the task.
        task: String,
        /// The missing id.
        dependency: usize,
    },
}
