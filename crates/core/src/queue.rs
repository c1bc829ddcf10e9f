//! The discrete-event queue: events leave in time order, ties first-in first-out.

use crate::time::TimeNs;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// A min-queue of events keyed by `(time, insertion sequence)`.
///
/// Guarantee: `pop` returns events in non-decreasing time; two events scheduled for the same
/// time leave in the order they were pushed. This is what makes runs deterministic.
#[derive(Debug)]
pub struct EventQueue<E> {
    heap: BinaryHeap<Reverse<(TimeNs, u64, Slot<E>)>>,
    next_seq: u64,
}

/// Wraps the payload so that ordering never looks at it.
#[derive(Debug)]
struct Slot<E>(E);

impl<E> PartialEq for Slot<E> {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl<E> Eq for Slot<E> {}
impl<E> PartialOrd for Slot<E> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Slot<E> {
    fn cmp(&self, _: &Self) -> std::cmp::Ordering {
        std::cmp::Ordering::Equal
    }
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    /// An empty queue.
    pub fn new() -> Self {
        EventQueue { heap: BinaryHeap::new(), next_seq: 0 }
    }

    /// Schedules `event` at `time`.
    pub fn push(&mut self, time: TimeNs, event: E) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.heap.push(Reverse((time, seq, Slot(event))));
    }

    /// Removes and returns the earliest event (first pushed among equals).
    pub fn pop(&mut self) -> Option<(TimeNs, E)> {
        self.heap.pop().map(|Reverse((t, _, Slot(e)))| (t, e))
    }

    /// The time of the earliest event, if any.
    pub fn peek_time(&self) -> Option<TimeNs> {
        self.heap.peek().map(|Reverse((t, _, _))| *t)
    }

    /// Number of pending events.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// True when no event is pending.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ties_leave_first_in_first_out() {
        let mut q = EventQueue::new();
        q.push(TimeNs(5), "b");
        q.push(TimeNs(1), "a");
        q.push(TimeNs(5), "c");
        q.push(TimeNs(5), "d");
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).map(|(_, e)| e).collect();
        assert_eq!(order, vec!["a", "b", "c", "d"]);
    }

    proptest! {
        #[test]
        fn time_never_goes_back(times in proptest::collection::vec(0u64..1000, 0..200)) {
            let mut q = EventQueue::new();
            for (i, t) in times.iter().enumerate() {
                q.push(TimeNs(*t), i);
            }
            let mut last = (TimeNs(0), 0usize);
            let mut first = true;
            while let Some((t, i)) = q.pop() {
                if !first {
                    prop_assert!(t > last.0 || (t == last.0 && i > last.1));
                }
                first = false;
                last = (t, i);
            }
        }
    }
}
