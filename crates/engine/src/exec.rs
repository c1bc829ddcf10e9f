//! The executor: in-order (or arrival-order) streams, dependencies, rendezvous; produces a timeline.

use crate::graph::{Category, Graph, StreamId, TaskId};
use crate::EngineError;
use astrolabe_core::{EventQueue, TimeNs};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// When one task ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Span {
    /// The task.
    pub task: TaskId,
    /// Start time.
    pub start: TimeNs,
    /// End time.
    pub end: TimeNs,
}

/// The result of a run: every task's span, in task order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Timeline {
    /// One span per task, indexed by task id.
    pub spans: Vec<Span>,
    /// When the last task finished.
    pub makespan: TimeNs,
}

impl Timeline {
    /// Busy time per category on `stream`, in nanoseconds.
    pub fn busy_by_category(&self, graph: &Graph, stream: StreamId) -> BTreeMap<Category, u64> {
        let mut out = BTreeMap::new();
        for (t, s) in graph.tasks.iter().zip(&self.spans) {
            if t.stream == stream {
                *out.entry(t.category).or_insert(0) += (s.end - s.start).0;
            }
        }
        out
    }
}

struct State<'g> {
    graph: &'g Graph,
    order: Vec<Vec<TaskId>>,
    head: Vec<usize>,
    /// Per arrival-order stream: its ready tasks by (ready time, task id).
    ready: BTreeMap<StreamId, BTreeSet<(TimeNs, TaskId)>>,
    busy: Vec<bool>,
    missing_deps: Vec<usize>,
    dependents: Vec<Vec<TaskId>>,
    arrived: BTreeMap<usize, Vec<TaskId>>,
    members: BTreeMap<usize, usize>,
    spans: Vec<Option<Span>>,
    queue: EventQueue<TaskId>,
}

/// Runs `graph` from time zero until every task has finished.
pub fn run(graph: &Graph) -> Result<Timeline, EngineError> {
    let mut st = State::new(graph)?;
    for s in 0..graph.streams.len() {
        st.try_start(s, TimeNs::ZERO);
    }
    while let Some((now, task)) = st.queue.pop() {
        st.finish(task, now);
    }
    let stuck: Vec<String> = (0..graph.tasks.len())
        .filter(|t| st.spans[*t].is_none())
        .map(|t| graph.tasks[t].label.clone())
        .collect();
    if !stuck.is_empty() {
        let examples = stuck.iter().take(5).cloned().collect();
        return Err(EngineError::Deadlock { stuck: stuck.len(), examples });
    }
    let spans: Vec<Span> = st.spans.into_iter().map(|s| s.expect("checked above")).collect();
    let makespan = spans.iter().map(|s| s.end).max().unwrap_or(TimeNs::ZERO);
    Ok(Timeline { spans, makespan })
}

impl<'g> State<'g> {
    fn new(graph: &'g Graph) -> Result<Self, EngineError> {
        let n = graph.tasks.len();
        let mut order = vec![Vec::new(); graph.streams.len()];
        let mut dependents = vec![Vec::new(); n];
        let mut members = BTreeMap::new();
        for (id, t) in graph.tasks.iter().enumerate() {
            order[t.stream].push(id);
            for &d in &t.deps {
                if d >= n {
                    let task = t.label.clone();
                    return Err(EngineError::DanglingDependency { task, dependency: d });
                }
                dependents[d].push(id);
            }
            if let Some(r) = t.rendezvous {
                *members.entry(r).or_insert(0) += 1;
            }
        }
        let mut st = State {
            graph,
            order,
            head: vec![0; graph.streams.len()],
            ready: graph.arrival_order.iter().map(|&s| (s, BTreeSet::new())).collect(),
            busy: vec![false; graph.streams.len()],
            missing_deps: graph.tasks.iter().map(|t| t.deps.len()).collect(),
            dependents,
            arrived: BTreeMap::new(),
            members,
            spans: vec![None; n],
            queue: EventQueue::new(),
        };
        for task in 0..n {
            if st.missing_deps[task] == 0 {
                st.became_ready(task, TimeNs::ZERO);
            }
        }
        Ok(st)
    }

    /// Queues `task` on its stream if that stream serves tasks in arrival order.
    fn became_ready(&mut self, task: TaskId, now: TimeNs) {
        if let Some(ready) = self.ready.get_mut(&self.graph.tasks[task].stream) {
            ready.insert((now, task));
        }
    }

    /// The task `stream` would start next: its program-order head, or for an arrival-order
    /// stream its earliest-ready task; `None` if that task is not ready.
    fn next_task(&mut self, stream: StreamId) -> Option<TaskId> {
        if let Some(ready) = self.ready.get_mut(&stream) {
            return ready.pop_first().map(|(_, task)| task);
        }
        let &task = self.order[stream].get(self.head[stream])?;
        if self.missing_deps[task] > 0 {
            return None;
        }
        self.head[stream] += 1;
        Some(task)
    }

    /// Starts the next task of `stream` if the stream is free and that task is ready.
    fn try_start(&mut self, stream: StreamId, now: TimeNs) {
        if self.busy[stream] {
            return;
        }
        let Some(task) = self.next_task(stream) else { return };
        self.busy[stream] = true;
        match self.graph.tasks[task].rendezvous {
            None => self.start(task, now),
            Some(r) => {
                let arrived = self.arrived.entry(r).or_default();
                arrived.push(task);
                if arrived.len() == self.members[&r] {
                    for t in self.arrived.remove(&r).unwrap_or_default() {
                        self.start(t, now);
                    }
                }
            }
        }
    }

    fn start(&mut self, task: TaskId, now: TimeNs) {
        let end = now + TimeNs(self.graph.tasks[task].duration_ns);
        self.spans[task] = Some(Span { task, start: now, end });
        self.queue.push(end, task);
    }

    fn finish(&mut self, task: TaskId, now: TimeNs) {
        let stream = self.graph.tasks[task].stream;
        self.busy[stream] = false;
        let mut wake = vec![stream];
        for i in 0..self.dependents[task].len() {
            let d = self.dependents[task][i];
            self.missing_deps[d] -= 1;
            if self.missing_deps[d] == 0 {
                self.became_ready(d, now);
                wake.push(self.graph.tasks[d].stream);
            }
        }
        for s in wake {
            self.try_start(s, now);
        }
    }
}

#[cfg(test)]
#[path = "exec_tests.rs"]
mod tests;
