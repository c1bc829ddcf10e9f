//! Execution graphs: tasks on streams, with dependencies and collective rendezvous.

use serde::Serialize;

/// Index of a task in its graph.
pub type TaskId = usize;
/// Index of a stream (one per rank and kind of work).
pub type StreamId = usize;

/// What a task's time counts as in the step-time breakdown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Forward and backward computation (including recomputation).
    Compute,
    /// Tensor-parallel communication.
    TpComm,
    /// Context-parallel key/value (and gradient) exchanges, ring sends and receives or
    /// all-gathers.
    CpComm,
    /// Expert-parallel token dispatch and combine (all-to-alls).
    EpComm,
    /// Pipeline-parallel sends and receives.
    PpComm,
    /// Data-parallel gradient reduction and parameter gathering.
    DpComm,
    /// The optimizer step.
    Optimizer,
}

/// One unit of work.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Task {
    /// Human-readable name (`s2 F mb3 L17`).
    pub label: String,
    /// The stream it runs on.
    pub stream: StreamId,
    /// How long it runs once started, in nanoseconds.
    pub duration_ns: u64,
    /// Tasks that must finish first.
    pub deps: Vec<TaskId>,
    /// Tasks with the same rendezvous id start together (one collective, one task per member).
    pub rendezvous: Option<usize>,
    /// Breakdown category.
    pub category: Category,
}

/// A set of tasks over named streams.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Graph {
    /// Tasks, in insertion order (which is each stream's program order).
    pub tasks: Vec<Task>,
    /// Stream names, indexed by `StreamId`.
    pub streams: Vec<String>,
    /// Streams that serve their tasks in the order they become ready (a shared FIFO, such as
    /// one memory port serving many ranks) instead of in program order.
    pub arrival_order: Vec<StreamId>,
}

impl Graph {
    /// Adds a stream and returns its id.
    pub fn add_stream(&mut self, name: impl Into<String>) -> StreamId {
        self.streams.push(name.into());
        self.streams.len() - 1
    }

    /// Adds a stream that serves tasks first come, first served: among its tasks whose
    /// dependencies are met, the one that became ready first starts next (ties: lower task id).
    pub fn add_fifo_stream(&mut self, name: impl Into<String>) -> StreamId {
        let id = self.add_stream(name);
        self.arrival_order.push(id);
        id
    }

    /// Appends a task to its stream's program order and returns its id.
    pub fn add(&mut self, task: Task) -> TaskId {
        self.tasks.push(task);
        self.tasks.len() - 1
    }

    /// Shorthand for a task without rendezvous.
    pub fn push(
        &mut self,
        label: impl Into<String>,
        stream: StreamId,
        duration_ns: u64,
        deps: Vec<TaskId>,
        category: Category,
    ) -> TaskId {
        let label = label.into();
        self.add(Task { label, stream, duration_ns, deps, rendezvous: None, category })
    }
}
