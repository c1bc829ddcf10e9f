//! Graph checks on the nodes of one trace file: unique ids, no dangling dependency, no cycle.

use std::collections::HashMap;

use crate::error::{ChakraError, DepKind};
use crate::message::Node;

/// Checks that node ids are unique, that every `ctrl_deps` and `data_deps` entry names a node of
/// `nodes`, and that the dependencies are acyclic. `origin` (the file) names the errors.
///
/// Errors come in that order, each for the first offender in file order; a cycle is reported by
/// one node on it. Runs in linear time without recursion, so long chains are fine.
pub fn validate_dependencies(nodes: &[Node], origin: &str) -> Result<(), ChakraError> {
    let positions = index_ids(nodes, origin)?;
    check_dangling(nodes, &positions, origin)?;
    match find_cycle(nodes, &positions) {
        Some(node_id) => Err(ChakraError::Cycle { origin: origin.to_string(), node_id }),
        None => Ok(()),
    }
}

/// Node id → position in `nodes`; a repeated id is an error.
fn index_ids(nodes: &[Node], origin: &str) -> Result<HashMap<u64, usize>, ChakraError> {
    let mut positions = HashMap::with_capacity(nodes.len());
    for (position, node) in nodes.iter().enumerate() {
        if let Some(first_position) = positions.insert(node.id, position) {
            return Err(ChakraError::DuplicateNodeId {
                origin: origin.to_string(),
                node_id: node.id,
                first_position,
                second_position: position,
            });
        }
    }
    Ok(positions)
}

fn check_dangling(
    nodes: &[Node],
    positions: &HashMap<u64, usize>,
    origin: &str,
) -> Result<(), ChakraError> {
    for node in nodes {
        let ctrl = node.ctrl_deps.iter().map(|&id| (DepKind::Ctrl, id));
        let data = node.data_deps.iter().map(|&id| (DepKind::Data, id));
        if let Some((kind, dep_id)) = ctrl.chain(data).find(|(_, id)| !positions.contains_key(id)) {
            return Err(ChakraError::DanglingDependency {
                origin: origin.to_string(),
                node_id: node.id,
                kind,
                dep_id,
            });
        }
    }
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mark {
    Unseen,
    OnPath,
    Finished,
}

/// The id of a node on a cycle, by depth-first search with an explicit stack.
fn find_cycle(nodes: &[Node], positions: &HashMap<u64, usize>) -> Option<u64> {
    let mut marks = vec![Mark::Unseen; nodes.len()];
    // Each frame: a node's position and how many of its dependencies were followed.
    let mut stack: Vec<(usize, usize)> = Vec::new();
    for root in 0..nodes.len() {
        if marks[root] != Mark::Unseen {
            continue;
        }
        marks[root] = Mark::OnPath;
        stack.push((root, 0));
        while let Some((position, followed)) = stack.last_mut() {
            let Some(dep_id) = dependency(&nodes[*position], *followed) else {
                marks[*position] = Mark::Finished;
                stack.pop();
                continue;
            };
            *followed += 1;
            let Some(&dep) = positions.get(&dep_id) else { continue };
            match marks[dep] {
                Mark::OnPath => return Some(dep_id),
                Mark::Unseen => {
                    marks[dep] = Mark::OnPath;
                    stack.push((dep, 0));
                }
                Mark::Finished => {}
            }
        }
    }
    None
}

/// The `index`-th dependency of `node`, control dependencies first.
fn dependency(node: &Node, index: usize) -> Option<u64> {
    match index.checked_sub(node.ctrl_deps.len()) {
        None => node.ctrl_deps.get(index).copied(),
        Some(data_index) => node.data_deps.get(data_index).copied(),
    }
}
