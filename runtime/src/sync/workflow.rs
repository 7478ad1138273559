//! Reaching a target status: a shortest path over the workflow's transitions, learnt as the node goes.
//!
//! Jira's REST API lists only the transitions available from an issue's current
//! status (both flavours), so the node remembers each status's outgoing edges
//! per project and issue type as it sees them, and plans over that graph. When
//! the target is not yet reachable in what it has seen, it steps towards a
//! status it has not explored, within a bound.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Mutex;

/// A transition available from the current status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Available {
    pub(crate) id: String,
    pub(crate) to: String,
}

/// The next transition to take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    /// Already there.
    Arrived,
    /// Take this transition (towards or onto the target).
    Take(String),
    /// No seen path, and nothing left to explore.
    Unreachable,
}

/// Steps allowed to reach one target, so a strange workflow cannot loop forever.
pub(crate) const MAX_STEPS: usize = 12;

/// Status (lowercase) -> edges (transition id, target status lowercase), for one scope.
type Graph = HashMap<String, Vec<(String, String)>>;

#[derive(Default)]
pub(crate) struct WorkflowGraph {
    /// Scope ("project/issue type") -> the edges seen so far.
    edges: Mutex<HashMap<String, Graph>>,
}

impl WorkflowGraph {
    /// Remembers the edges out of `from`, then picks the next step to `target`.
    /// `visited` holds statuses this walk has passed through (to avoid cycles while exploring).
    pub(crate) fn next_step(
        &self,
        scope: &str,
        from: &str,
        target: &str,
        available: &[Available],
        visited: &HashSet<String>,
    ) -> Step {
        let from = from.to_lowercase();
        let target = target.to_lowercase();
        if from == target {
            return Step::Arrived;
        }
        let mut all = self.edges.lock().unwrap_or_else(|p| p.into_inner());
        let graph = all.entry(scope.to_string()).or_default();
        graph.insert(
            from.clone(),
            available
                .iter()
                .map(|a| (a.id.clone(), a.to.to_lowercase()))
                .collect(),
        );
        if let Some(first) = shortest_first_step(graph, &from, &target) {
            return Step::Take(first);
        }
        // Explore: prefer a status never seen, then one not yet visited in this walk.
        let pick = |pred: &dyn Fn(&str) -> bool| {
            available
                .iter()
                .find(|a| pred(&a.to.to_lowercase()))
                .map(|a| a.id.clone())
        };
        pick(&|to| !graph.contains_key(to) && !visited.contains(to))
            .or_else(|| pick(&|to| !visited.contains(to) && to != from))
            .map_or(Step::Unreachable, Step::Take)
    }
}

/// Breadth-first search; returns the first transition of a shortest path.
fn shortest_first_step(
    graph: &HashMap<String, Vec<(String, String)>>,
    from: &str,
    target: &str,
) -> Option<String> {
    let mut seen: HashSet<&str> = HashSet::from([from]);
    let mut queue: VecDeque<(&str, &str)> = VecDeque::new();
    for (id, to) in graph.get(from)? {
        if to == target {
            return Some(id.clone());
        }
        if seen.insert(to) {
            queue.push_back((to, id));
        }
    }
    while let Some((status, first)) = queue.pop_front() {
        for (_, to) in graph.get(status).into_iter().flatten() {
            if to == target {
                return Some(first.to_string());
            }
            if seen.insert(to) {
                queue.push_back((to, first));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn av(pairs: &[(&str, &str)]) -> Vec<Available> {
        pairs
            .iter()
            .map(|(id, to)| Available {
                id: id.to_string(),
                to: to.to_string(),
            })
            .collect()
    }

    #[test]
    fn takes_a_direct_transition() {
        let g = WorkflowGraph::default();
        let step = g.next_step(
            "P/Bug",
            "To Do",
            "In Progress",
            &av(&[("11", "In Progress")]),
            &HashSet::new(),
        );
        assert_eq!(step, Step::Take("11".into()));
    }

    #[test]
    fn plans_a_shortest_path_over_learnt_edges() {
        let g = WorkflowGraph::default();
        // Learn: To Do -> In Progress -> In Review -> Done, and To Do -> Blocked.
        g.next_step(
            "P",
            "In Progress",
            "x",
            &av(&[("21", "In Review"), ("22", "To Do")]),
            &HashSet::new(),
        );
        g.next_step(
            "P",
            "In Review",
            "x",
            &av(&[("31", "Done"), ("32", "In Progress")]),
            &HashSet::new(),
        );
        let step = g.next_step(
            "P",
            "To Do",
            "Done",
            &av(&[("11", "In Progress"), ("12", "Blocked")]),
            &HashSet::new(),
        );
        assert_eq!(step, Step::Take("11".into()));
    }

    #[test]
    fn explores_unknown_statuses_then_gives_up() {
        let g = WorkflowGraph::default();
        let step = g.next_step(
            "P",
            "To Do",
            "Done",
            &av(&[("11", "In Progress")]),
            &HashSet::new(),
        );
        assert_eq!(
            step,
            Step::Take("11".into()),
            "explores towards the unknown"
        );
        let visited = HashSet::from(["to do".to_string()]);
        let step = g.next_step(
            "P",
            "In Progress",
            "Done",
            &av(&[("22", "To Do")]),
            &visited,
        );
        assert_eq!(step, Step::Unreachable);
    }

    #[test]
    fn arrived_is_case_insensitive() {
        let g = WorkflowGraph::default();
        assert_eq!(
            g.next_step("P", "Done", "done", &[], &HashSet::new()),
            Step::Arrived
        );
    }
}
