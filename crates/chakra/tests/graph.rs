//! `validate_dependencies` on small graphs written as tables, and on random acyclic graphs.

use astrolabe_chakra::*;
use proptest::prelude::*;

/// Nodes from (id, ctrl_deps, data_deps).
fn graph(spec: &[(u64, &[u64], &[u64])]) -> Vec<Node> {
    let node = |&(id, ctrl, data): &(u64, &[u64], &[u64])| Node {
        ctrl_deps: ctrl.to_vec(),
        data_deps: data.to_vec(),
        ..Node::new(id, format!("n{id}"), NodeType::Comp)
    };
    spec.iter().map(node).collect()
}

fn check(spec: &[(u64, &[u64], &[u64])], expected: Result<(), &str>) {
    let result = validate_dependencies(&graph(spec), "g.et").map_err(|e| e.to_string());
    assert_eq!(result, expected.map_err(str::to_string), "{spec:?}");
}

#[test]
fn valid_graphs_pass() {
    check(&[], Ok(()));
    check(&[(0, &[], &[])], Ok(()));
    // A diamond, listed out of order, with a repeated dependency.
    check(&[(3, &[1], &[2, 2]), (1, &[0], &[]), (2, &[], &[0]), (0, &[], &[])], Ok(()));
    check(&[(u64::MAX, &[], &[]), (5, &[u64::MAX], &[u64::MAX])], Ok(()));
}

#[test]
fn duplicate_ids_name_both_positions() {
    let expected =
        "g.et: duplicate node id 2: nodes number 1 and 3 (counting from 0) both have it, \
                    expected unique ids";
    check(&[(1, &[], &[]), (2, &[], &[]), (3, &[], &[]), (2, &[], &[])], Err(expected));
}

#[test]
fn dangling_dependencies_name_the_node_the_list_and_the_missing_id() {
    let ctrl = "g.et: node 5: ctrl_deps names node 99, expected the id of a node in the trace";
    check(&[(0, &[], &[]), (5, &[0, 99], &[])], Err(ctrl));
    let data = "g.et: node 5: data_deps names node 7, expected the id of a node in the trace";
    check(&[(0, &[], &[]), (5, &[0], &[7])], Err(data));
}

#[test]
fn cycles_name_a_node_on_the_cycle() {
    let cycle = |id: u64| {
        format!(
            "g.et: dependency cycle through node {id}, expected the ctrl_deps and data_deps to \
             form an acyclic graph"
        )
    };
    check(&[(0, &[0], &[])], Err(&cycle(0)));
    // 1 -> 2 -> 3 -> 1 through mixed lists, behind an acyclic node 0.
    let spec: &[(u64, &[u64], &[u64])] =
        &[(0, &[], &[]), (1, &[0], &[2]), (2, &[3], &[]), (3, &[], &[1])];
    check(spec, Err(&cycle(1)));
    // The cycle is only reachable from the last node listed.
    check(&[(7, &[8], &[]), (8, &[], &[7]), (9, &[7], &[])], Err(&cycle(7)));
}

#[test]
fn a_chain_of_200_000_nodes_needs_no_recursion() {
    let nodes: Vec<Node> = (0..200_000u64)
        .map(|id| Node {
            data_deps: id.checked_sub(1).into_iter().collect(),
            id,
            ..Node::default()
        })
        .collect();
    validate_dependencies(&nodes, "long.et").unwrap();
}

/// A random acyclic graph: node i depends only on nodes listed before it, then shuffled ids.
fn dag() -> impl Strategy<Value = Vec<Node>> {
    (1usize..40).prop_flat_map(|count| {
        let deps = proptest::collection::vec(
            (
                proptest::collection::vec(any::<u32>(), 0..4),
                proptest::collection::vec(any::<u32>(), 0..4),
            ),
            count,
        );
        let ids = Just((0..count as u64).map(|i| i * 1000 + 7).collect::<Vec<_>>()).prop_shuffle();
        (deps, ids).prop_map(|(deps, ids)| {
            let pick = |i: usize, raw: &[u32]| -> Vec<u64> {
                if i == 0 {
                    return vec![];
                }
                raw.iter().map(|r| ids[*r as usize % i]).collect()
            };
            deps.iter()
                .enumerate()
                .map(|(i, (ctrl, data))| Node {
                    ctrl_deps: pick(i, ctrl),
                    data_deps: pick(i, data),
                    ..Node::new(ids[i], "", NodeType::Comp)
                })
                .collect()
        })
    })
}

proptest! {
    #[test]
    fn random_dags_pass_and_a_back_edge_makes_a_cycle(nodes in dag(), reverse in any::<bool>()) {
        let order = |mut nodes: Vec<Node>| {
            if reverse {
                nodes.reverse();
            }
            nodes
        };
        prop_assert!(validate_dependencies(&order(nodes.clone()), "p.et").is_ok());
        // The first node (in dependency order) waits for the last, which waits for the first.
        let mut cyclic = nodes;
        let (first_id, last) = (cyclic[0].id, cyclic.len() - 1);
        let last_id = cyclic[last].id;
        cyclic[0].ctrl_deps.push(last_id);
        cyclic[last].data_deps.push(first_id);
        let result = validate_dependencies(&order(cyclic), "p.et");
        let is_cycle = matches!(result, Err(ChakraError::Cycle { .. }));
        prop_assert!(is_cycle, "{:?}", result);
    }
}
