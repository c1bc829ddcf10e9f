//! Executor behaviour: stream order, dependencies, rendezvous, overlap, deadlock.

use super::*;
use crate::graph::Category::*;
use crate::graph::Task;

#[test]
fn stream_runs_in_order_and_dependencies_cross_streams() {
    let mut g = Graph::default();
    let (c, m) = (g.add_stream("compute"), g.add_stream("comm"));
    let a = g.push("a", c, 10, vec![], Compute);
    let b = g.push("b", c, 5, vec![], Compute);
    let x = g.push("x", m, 7, vec![a], DpComm);
    let d = g.push("d", c, 1, vec![x], Compute);
    let t = run(&g).unwrap();
    assert_eq!((t.spans[b].start, t.spans[b].end), (TimeNs(10), TimeNs(15)));
    // x overlaps b: it waits only for a.
    assert_eq!((t.spans[x].start, t.spans[x].end), (TimeNs(10), TimeNs(17)));
    assert_eq!(t.spans[d].start, TimeNs(17));
    assert_eq!(t.makespan, TimeNs(18));
    let busy = t.busy_by_category(&g, c);
    assert_eq!(busy[&Compute], 16);
}

#[test]
fn rendezvous_members_start_together() {
    let mut g = Graph::default();
    let (r0, r1) = (g.add_stream("r0"), g.add_stream("r1"));
    g.push("slow", r0, 30, vec![], Compute);
    let coll = |g: &mut Graph, s| {
        g.add(Task {
            label: "ar".into(),
            stream: s,
            duration_ns: 4,
            deps: vec![],
            rendezvous: Some(7),
            category: DpComm,
        })
    };
    let a = coll(&mut g, r0);
    let b = coll(&mut g, r1);
    let t = run(&g).unwrap();
    assert_eq!(t.spans[a].start, TimeNs(30));
    assert_eq!(t.spans[b].start, TimeNs(30));
    assert_eq!(t.makespan, TimeNs(34));
}

#[test]
fn cycles_and_lonely_rendezvous_are_deadlocks_not_hangs() {
    let mut g = Graph::default();
    let s = g.add_stream("s");
    g.push("a", s, 1, vec![1], Compute);
    g.push("b", s, 1, vec![0], Compute);
    assert!(matches!(run(&g), Err(EngineError::Deadlock { stuck: 2, .. })));

    let mut g = Graph::default();
    let (s0, s1) = (g.add_stream("s0"), g.add_stream("s1"));
    g.add(Task {
        label: "ar".into(),
        stream: s0,
        duration_ns: 1,
        deps: vec![],
        rendezvous: Some(1),
        category: TpComm,
    });
    // The other member waits on a task queued behind it on its own stream: never arrives.
    let later = 3;
    g.add(Task {
        label: "ar".into(),
        stream: s1,
        duration_ns: 1,
        deps: vec![later],
        rendezvous: Some(1),
        category: TpComm,
    });
    g.push("late", s1, 1, vec![], Compute);
    g.push("dummy", s0, 1, vec![], Compute);
    assert!(matches!(run(&g), Err(EngineError::Deadlock { .. })));
}

#[test]
fn dangling_dependency_is_an_error() {
    let mut g = Graph::default();
    let s = g.add_stream("s");
    g.push("a", s, 1, vec![5], Compute);
    assert!(matches!(run(&g), Err(EngineError::DanglingDependency { dependency: 5, .. })));
}

#[test]
fn fifo_stream_serves_tasks_in_the_order_they_became_ready() {
    // Two ranks share one port. Rank B's access (task 3) is ready at 2 ns, rank A's (task 2) at
    // 5 ns, although A's was added first: B goes first, 2..12, then A 12..22.
    let mut g = Graph::default();
    let (a, b, port) = (g.add_stream("a"), g.add_stream("b"), g.add_fifo_stream("port"));
    g.push("a work", a, 5, vec![], Compute);
    g.push("b work", b, 2, vec![], Compute);
    g.push("a access", port, 10, vec![0], Compute);
    g.push("b access", port, 10, vec![1], Compute);
    let t = run(&g).unwrap();
    assert_eq!((t.spans[3].start.0, t.spans[3].end.0), (2, 12));
    assert_eq!((t.spans[2].start.0, t.spans[2].end.0), (12, 22));
    // One access alone takes 10 ns; two at once take 20 ns in total: the port is shared.
    let mut g = Graph::default();
    let port = g.add_fifo_stream("port");
    g.push("x", port, 10, vec![], Compute);
    g.push("y", port, 10, vec![], Compute);
    let t = run(&g).unwrap();
    assert_eq!((t.spans[0].end.0, t.spans[1].end.0), (10, 20));
}
