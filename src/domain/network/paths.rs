//! Paths through the network: the shortest path between two nodes (fewest hops; among equal
//! ones, the one through lower node positions) and ego networks (everything within k hops).

use std::collections::VecDeque;

use super::Network;

/// Hop distances from `source` (`None`: unreachable), stopping beyond `radius` when given.
fn distances(network: &Network, source: usize, radius: Option<usize>) -> (Vec<Option<usize>>, Vec<Option<usize>>) {
    let n = network.len();
    let mut distance = vec![None; n];
    let mut parent = vec![None; n];
    let mut queue = VecDeque::from([source]);
    distance[source] = Some(0);
    while let Some(v) = queue.pop_front() {
        let d = distance[v].unwrap_or(0);
        if radius.is_some_and(|r| d >= r) {
            continue;
        }
        for &w in network.neighbours(v) {
            let w = w as usize;
            if distance[w].is_none() {
                distance[w] = Some(d + 1);
                parent[w] = Some(v);
                queue.push_back(w);
            }
        }
    }
    (distance, parent)
}

/// The nodes of a shortest path from `from` to `to`, both included; `None` when unconnected.
pub fn shortest_path(network: &Network, from: usize, to: usize) -> Option<Vec<usize>> {
    let (distance, parent) = distances(network, from, None);
    distance[to]?;
    let mut path = vec![to];
    let mut at = to;
    while let Some(previous) = parent[at] {
        path.push(previous);
        at = previous;
    }
    path.reverse();
    Some(path)
}

/// The nodes within `radius` hops of `center` (itself included), ascending: what
/// `networkx.ego_graph(G, center, radius)` keeps.
pub fn ego(network: &Network, center: usize, radius: usize) -> Vec<usize> {
    let (distance, _) = distances(network, center, Some(radius));
    distance.iter().enumerate().filter_map(|(node, d)| d.map(|_| node)).collect()
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::two_triangles;
    use super::*;

    #[test]
    fn shortest_paths_and_ego_networks() {
        let network = two_triangles();
        assert_eq!(shortest_path(&network, 0, 4), Some(vec![0, 2, 3, 4]));
        assert_eq!(shortest_path(&network, 0, 5), None, "f is isolated");
        assert_eq!(shortest_path(&network, 1, 1), Some(vec![1]));
        assert_eq!(ego(&network, 2, 1), vec![0, 1, 2, 3]);
        assert_eq!(ego(&network, 2, 2), vec![0, 1, 2, 3, 4, 6]);
        let sub = network.induced(&ego(&network, 2, 1));
        assert_eq!(sub.len(), 4);
        assert_eq!(sub.edges.len(), 4);
    }
}
