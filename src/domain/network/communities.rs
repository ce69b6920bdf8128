//! Communities by the Louvain method (Blondel et al. 2008) on edge weights: move nodes to the
//! neighbouring community with the best modularity gain until nothing moves, merge communities
//! into nodes, repeat while modularity grows. Node order is shuffled with the caller's seed, so
//! the same seed always gives the same partition. No maintained Rust crate offers Louvain
//! (rustworkx-core's is an open draft), hence this module.

use std::collections::HashMap;

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::Network;
use super::stop::{Stop, Stopped};

/// A partition: the community of each node (0 = the largest community) and its modularity.
#[derive(Clone, Debug, PartialEq)]
pub struct Partition {
    pub community: Vec<usize>,
    pub modularity: f64,
}

/// A weighted graph as adjacency lists, the level Louvain works on.
struct Level {
    neighbours: Vec<Vec<(usize, f64)>>,
    /// Weight of self-loops (edges inside a merged community), counted once.
    self_loops: Vec<f64>,
}

impl Level {
    fn strength(&self, node: usize) -> f64 {
        self.neighbours[node].iter().map(|(_, w)| w).sum::<f64>() + 2.0 * self.self_loops[node]
    }
}

/// Louvain communities at `resolution` (1 = plain modularity). `stop` is checked before each
/// sweep over the nodes.
pub fn louvain(network: &Network, seed: u64, resolution: f64, stop: &Stop) -> Result<Partition, Stopped> {
    let n = network.len();
    let mut level = Level { neighbours: vec![Vec::new(); n], self_loops: vec![0.0; n] };
    for edge in &network.edges {
        let w = f64::from(edge.weight());
        level.neighbours[edge.source].push((edge.target, w));
        level.neighbours[edge.target].push((edge.source, w));
    }
    let total: f64 = network.edges.iter().map(|e| f64::from(e.weight())).sum();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    // membership[original node] = node of the current level.
    let mut membership: Vec<usize> = (0..n).collect();
    if total > 0.0 {
        loop {
            let (moved, communities) = one_level(&level, total, resolution, &mut rng, stop)?;
            if !moved {
                break;
            }
            for m in &mut membership {
                *m = communities[*m];
            }
            level = aggregate(&level, &communities);
        }
    }
    let community = relabel_by_size(&membership);
    let modularity = modularity(network, &community, resolution);
    Ok(Partition { community, modularity })
}

/// One pass of local moves; returns whether any node moved and each node's community
/// (numbered 0..c).
fn one_level(
    level: &Level,
    m: f64,
    resolution: f64,
    rng: &mut ChaCha8Rng,
    stop: &Stop,
) -> Result<(bool, Vec<usize>), Stopped> {
    let n = level.neighbours.len();
    let strength: Vec<f64> = (0..n).map(|v| level.strength(v)).collect();
    let mut community: Vec<usize> = (0..n).collect();
    let mut community_strength = strength.clone();
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(rng);
    let mut moved_any = false;
    loop {
        stop.check()?;
        let mut moved = false;
        for &v in &order {
            let current = community[v];
            // Weights from v to each neighbouring community.
            let mut links: HashMap<usize, f64> = HashMap::new();
            for &(w, weight) in &level.neighbours[v] {
                *links.entry(community[w]).or_default() += weight;
            }
            community_strength[current] -= strength[v];
            let gain =
                |c: usize, links_to_c: f64| links_to_c - resolution * community_strength[c] * strength[v] / (2.0 * m);
            let mut best = current;
            let mut best_gain = gain(current, links.get(&current).copied().unwrap_or(0.0));
            let mut candidates: Vec<(usize, f64)> = links.into_iter().collect();
            candidates.sort_by_key(|(c, _)| *c);
            for (c, links_to_c) in candidates {
                let g = gain(c, links_to_c);
                if g > best_gain + 1e-12 {
                    best = c;
                    best_gain = g;
                }
            }
            community_strength[best] += strength[v];
            if best != current {
                community[v] = best;
                moved = true;
                moved_any = true;
            }
        }
        if !moved {
            break;
        }
    }
    // Renumber 0..c in order of first appearance.
    let mut numbers: HashMap<usize, usize> = HashMap::new();
    let renumbered = community
        .iter()
        .map(|c| {
            let next = numbers.len();
            *numbers.entry(*c).or_insert(next)
        })
        .collect();
    Ok((moved_any, renumbered))
}

/// The next level: one node per community, edges summed, inner edges as self-loops.
fn aggregate(level: &Level, communities: &[usize]) -> Level {
    let count = communities.iter().copied().max().map_or(0, |c| c + 1);
    let mut links: Vec<HashMap<usize, f64>> = vec![HashMap::new(); count];
    let mut self_loops = vec![0.0; count];
    for (v, c) in communities.iter().enumerate() {
        self_loops[*c] += level.self_loops[v];
        for &(w, weight) in &level.neighbours[v] {
            let d = communities[w];
            if d == *c {
                // Each inner edge is seen from both ends.
                self_loops[*c] += weight / 2.0;
            } else {
                *links[*c].entry(d).or_default() += weight;
            }
        }
    }
    let neighbours = links
        .into_iter()
        .map(|map| {
            let mut list: Vec<(usize, f64)> = map.into_iter().collect();
            list.sort_by_key(|(c, _)| *c);
            list
        })
        .collect();
    Level { neighbours, self_loops }
}

/// Community numbers by size (0 = largest; ties: by lowest node).
fn relabel_by_size(membership: &[usize]) -> Vec<usize> {
    let mut members: HashMap<usize, Vec<usize>> = HashMap::new();
    for (node, c) in membership.iter().enumerate() {
        members.entry(*c).or_default().push(node);
    }
    let mut groups: Vec<Vec<usize>> = members.into_values().collect();
    groups.sort_by(|a, b| b.len().cmp(&a.len()).then(a[0].cmp(&b[0])));
    let mut community = vec![0; membership.len()];
    for (number, group) in groups.iter().enumerate() {
        for &node in group {
            community[node] = number;
        }
    }
    community
}

/// Newman's weighted modularity of a partition, as `networkx.community.modularity`.
pub fn modularity(network: &Network, community: &[usize], resolution: f64) -> f64 {
    let m: f64 = network.edges.iter().map(|e| f64::from(e.weight())).sum();
    if m == 0.0 {
        return 0.0;
    }
    let strength = super::centrality::weighted_degree(network);
    let count = community.iter().copied().max().map_or(0, |c| c + 1);
    let mut inner = vec![0.0; count];
    let mut total = vec![0.0; count];
    for edge in &network.edges {
        if community[edge.source] == community[edge.target] {
            inner[community[edge.source]] += f64::from(edge.weight());
        }
    }
    for (node, c) in community.iter().enumerate() {
        total[*c] += strength[node];
    }
    (0..count).map(|c| inner[c] / m - resolution * (total[c] / (2.0 * m)).powi(2)).sum()
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::two_triangles;
    use super::*;

    #[test]
    fn louvain_finds_what_networkx_finds_the_same_way_for_a_seed() {
        let network = two_triangles();
        // networkx.community.modularity of the triangles and of what its Louvain finds.
        assert!((modularity(&network, &[0, 0, 0, 1, 1, 2, 1], 1.0) - 0.2272727272727273).abs() < 1e-12);
        assert!((modularity(&network, &[0, 0, 1, 1, 2, 3, 2], 1.0) - 0.28099173553719003).abs() < 1e-12);
        // nx.community.louvain_communities(G, seed=0..4): {a,b} {c,d} {e,g} {f}, Q = 0.28099…
        let partition = louvain(&network, 7, 1.0, &Stop::default()).expect("not stopped");
        let c = &partition.community;
        assert_eq!((c[0] == c[1], c[2] == c[3], c[4] == c[6]), (true, true, true), "{c:?}");
        assert_eq!([c[0], c[2], c[4], c[5]].iter().collect::<std::collections::HashSet<_>>().len(), 4, "{c:?}");
        assert!((partition.modularity - 0.28099173553719003).abs() < 1e-12, "{}", partition.modularity);
        assert_eq!(
            louvain(&network, 7, 1.0, &Stop::default()).expect("not stopped"),
            partition,
            "deterministic for a seed"
        );
    }
}
