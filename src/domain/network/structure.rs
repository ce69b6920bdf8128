//! The network's structure: connected components (petgraph's union-find), bridges and
//! articulation points (petgraph's iterative DFS). The network has one edge per pair and no
//! self-loops, which both petgraph algorithms assume.

use petgraph::unionfind::UnionFind;
use petgraph::visit::EdgeRef;

use super::Network;

/// Connected components as node positions, largest first (ties: by their first node); each
/// component's nodes ascending.
pub fn components(network: &Network) -> Vec<Vec<usize>> {
    let n = network.len();
    let mut union = UnionFind::new(n);
    for edge in &network.edges {
        union.union(edge.source, edge.target);
    }
    let mut by_root: std::collections::HashMap<usize, Vec<usize>> = std::collections::HashMap::new();
    for node in 0..n {
        by_root.entry(union.find(node)).or_default().push(node);
    }
    let mut components: Vec<Vec<usize>> = by_root.into_values().collect();
    components.sort_by(|a, b| b.len().cmp(&a.len()).then(a[0].cmp(&b[0])));
    components
}

/// Edges whose removal disconnects their ends, as edge positions, ascending.
pub fn bridges(network: &Network) -> Vec<usize> {
    let mut bridges: Vec<usize> = petgraph::algo::bridges(network.graph()).map(|edge| edge.id().index()).collect();
    bridges.sort_unstable();
    bridges
}

/// Nodes whose removal splits their component, ascending.
pub fn articulation_points(network: &Network) -> Vec<usize> {
    let mut points: Vec<usize> = petgraph::algo::articulation_points::articulation_points(network.graph())
        .into_iter()
        .map(|node| node.index())
        .collect();
    points.sort_unstable();
    points
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::two_triangles;
    use super::*;

    #[test]
    fn components_bridges_and_articulation_points_of_two_triangles() {
        let network = two_triangles();
        assert_eq!(components(&network), vec![vec![0, 1, 2, 3, 4, 6], vec![5]]);
        let bridges = bridges(&network);
        assert_eq!(bridges.len(), 1);
        let bridge = &network.edges[bridges[0]];
        assert_eq!((bridge.source, bridge.target), (2, 3));
        assert_eq!(articulation_points(&network), vec![2, 3]);
    }
}
