//! Partner networks: the graph of who works with whom, built from rows the database
//! layer selected, and the analyses researchers run on it. Plain Rust on `petgraph`; no GraphQL,
//! no SQL. Every analysis is checked against NetworkX (`scripts/networkx_check.py`).
//!
//! Conventions follow NetworkX's defaults so that the numbers can be compared: betweenness,
//! closeness and eigenvector centrality count hops (edge weights ignored), PageRank and weighted
//! degree use the edge weight.

pub mod centrality;
pub mod communities;
pub mod export;
pub mod paths;
pub mod profile;
pub mod stop;
pub mod structure;
pub mod work;

use std::collections::HashMap;

use petgraph::graph::{NodeIndex, UnGraph};

/// What a node stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Level {
    Organisation,
    Municipality,
    Region,
    Country,
}

/// What ties two organisations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EdgeKind {
    /// Partners of the same project (weight: shared projects).
    Partnership,
    /// An explicit bilateral collaboration (weight: collaborations).
    Collaboration,
    /// A student of one placed at the other (weight: placements).
    Placement,
}

/// A node: an organisation, or the municipality, region or country organisations roll up to.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// Stable id: the slug (the country code for countries).
    pub key: String,
    pub label: String,
    /// The organisation kind, or `municipality`/`region`/`country` for rolled-up nodes.
    pub kind: String,
    /// Country code.
    pub country: Option<String>,
    /// Slug of the region (fylke/län) the node lies in, on the network's day.
    pub region: Option<String>,
    /// Organisations the node stands for (1 for an organisation).
    pub organisations: u32,
}

/// An undirected edge; `source < target` (node positions).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Edge {
    pub source: usize,
    pub target: usize,
    pub partnerships: u32,
    pub collaborations: u32,
    pub placements: u32,
}

impl Edge {
    pub fn weight(&self) -> u32 {
        self.partnerships + self.collaborations + self.placements
    }
}

/// One tie between two organisations, as selected from the registry (ids are row ids).
#[derive(Clone, Copy, Debug)]
pub struct Tie {
    pub a: i32,
    pub b: i32,
    pub kind: EdgeKind,
    pub count: u32,
}

/// A network: nodes, weighted edges (one per pair), and the graph the algorithms run on.
#[derive(Clone, Debug)]
pub struct Network {
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
    /// Node `i` is `NodeIndex(i)`; edge `j` is `EdgeIndex(j)`, weighted by [`Edge::weight`].
    graph: UnGraph<(), f64>,
    /// Neighbours of each node, ascending, in compressed rows: node `i`'s are
    /// `targets[offsets[i]..offsets[i + 1]]`. One flat array keeps the breadth-first searches of
    /// betweenness and closeness in cache.
    offsets: Vec<usize>,
    targets: Vec<u32>,
}

impl Network {
    /// Builds a network from `nodes` (by row id) and `ties` between them: ties whose ends map to
    /// the same node vanish (an organisation's ties within its own region, when rolled up), ties
    /// between the same two nodes add up, and pairs below `min_weight` are dropped. Nodes are
    /// ordered by key, so the same rows always give the same network.
    pub fn build(
        nodes: HashMap<i32, Node>,
        node_of: impl Fn(i32) -> Option<i32>,
        ties: &[Tie],
        min_weight: u32,
    ) -> Self {
        let mut keyed: Vec<(i32, Node)> = nodes.into_iter().collect();
        keyed.sort_by(|a, b| a.1.key.cmp(&b.1.key));
        let position: HashMap<i32, usize> = keyed.iter().enumerate().map(|(i, (id, _))| (*id, i)).collect();
        let mut pairs: HashMap<(usize, usize), Edge> = HashMap::new();
        for tie in ties {
            let (Some(a), Some(b)) = (node_of(tie.a), node_of(tie.b)) else { continue };
            let (Some(&a), Some(&b)) = (position.get(&a), position.get(&b)) else { continue };
            if a == b {
                continue;
            }
            let (source, target) = if a < b { (a, b) } else { (b, a) };
            let edge = pairs.entry((source, target)).or_insert_with(|| Edge { source, target, ..Edge::default() });
            match tie.kind {
                EdgeKind::Partnership => edge.partnerships += tie.count,
                EdgeKind::Collaboration => edge.collaborations += tie.count,
                EdgeKind::Placement => edge.placements += tie.count,
            }
        }
        let mut edges: Vec<Edge> = pairs.into_values().filter(|edge| edge.weight() >= min_weight.max(1)).collect();
        edges.sort_by_key(|edge| (edge.source, edge.target));
        Self::from_parts(keyed.into_iter().map(|(_, node)| node).collect(), edges)
    }

    /// A network of exactly these nodes and edges (edges: `source < target`, one per pair).
    pub fn from_parts(nodes: Vec<Node>, edges: Vec<Edge>) -> Self {
        let mut graph = UnGraph::with_capacity(nodes.len(), edges.len());
        for _ in &nodes {
            graph.add_node(());
        }
        let mut degree = vec![0usize; nodes.len()];
        for edge in &edges {
            graph.add_edge(NodeIndex::new(edge.source), NodeIndex::new(edge.target), f64::from(edge.weight()));
            degree[edge.source] += 1;
            degree[edge.target] += 1;
        }
        let mut offsets = Vec::with_capacity(nodes.len() + 1);
        offsets.push(0);
        for d in &degree {
            offsets.push(offsets[offsets.len() - 1] + d);
        }
        let mut fill = offsets.clone();
        let mut targets = vec![0u32; 2 * edges.len()];
        for edge in &edges {
            targets[fill[edge.source]] = edge.target as u32;
            fill[edge.source] += 1;
            targets[fill[edge.target]] = edge.source as u32;
            fill[edge.target] += 1;
        }
        for node in 0..nodes.len() {
            targets[offsets[node]..offsets[node + 1]].sort_unstable();
        }
        Self { nodes, edges, graph, offsets, targets }
    }

    pub fn graph(&self) -> &UnGraph<(), f64> {
        &self.graph
    }

    /// The node's neighbours, ascending.
    pub fn neighbours(&self, node: usize) -> &[u32] {
        &self.targets[self.offsets[node]..self.offsets[node + 1]]
    }

    /// About how many bytes the network holds (what the analytics cache weighs it by).
    pub fn approx_bytes(&self) -> usize {
        use std::mem::size_of;
        let text: usize = self
            .nodes
            .iter()
            .map(|node| {
                node.key.len()
                    + node.label.len()
                    + node.kind.len()
                    + node.country.as_ref().map_or(0, String::len)
                    + node.region.as_ref().map_or(0, String::len)
            })
            .sum();
        // Nodes and edges, petgraph's copies (a node is two edge indexes, an edge its weight,
        // ends and next links) and the compressed neighbour rows.
        self.nodes.len() * (size_of::<Node>() + 8 + size_of::<usize>())
            + text
            + self.edges.len() * (size_of::<Edge>() + 32 + 2 * size_of::<u32>())
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The position of the node with `key`.
    pub fn position(&self, key: &str) -> Option<usize> {
        self.nodes.binary_search_by(|node| node.key.as_str().cmp(key)).ok()
    }

    /// True when the edge's ends lie in different countries (both known).
    pub fn crosses_border(&self, edge: &Edge) -> bool {
        match (&self.nodes[edge.source].country, &self.nodes[edge.target].country) {
            (Some(a), Some(b)) => a != b,
            _ => false,
        }
    }

    /// The sub-network induced by `members` (positions, any order).
    pub fn induced(&self, members: &[usize]) -> Self {
        let mut members = members.to_vec();
        members.sort_unstable();
        members.dedup();
        let new_position: HashMap<usize, usize> = members.iter().enumerate().map(|(new, old)| (*old, new)).collect();
        let nodes = members.iter().map(|&old| self.nodes[old].clone()).collect();
        let edges = self
            .edges
            .iter()
            .filter_map(|edge| {
                let source = *new_position.get(&edge.source)?;
                let target = *new_position.get(&edge.target)?;
                Some(Edge { source, target, ..edge.clone() })
            })
            .collect();
        Self::from_parts(nodes, edges)
    }
}

/// A place organisations roll up to (a municipality, a region or a country).
#[derive(Clone, Debug, PartialEq)]
pub struct Place {
    pub key: String,
    pub label: String,
    pub country: Option<String>,
}

/// An organisation as the network needs it.
#[derive(Clone, Debug, PartialEq)]
pub struct Organisation {
    pub id: i32,
    pub key: String,
    pub label: String,
    pub kind: String,
    pub country_id: Option<i32>,
    pub municipality_id: Option<i32>,
    /// Its fylke or län on the network's day.
    pub region_id: Option<i32>,
}

/// What the database selected for one network: the organisations at the ends of the ties (and
/// allowed by the filter), the places they roll up to, and the ties.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    pub organisations: Vec<Organisation>,
    pub municipalities: HashMap<i32, Place>,
    pub regions: HashMap<i32, Place>,
    pub countries: HashMap<i32, Place>,
    pub ties: Vec<Tie>,
}

impl Selection {
    /// The network at `level`: organisations become their municipality, region or country
    /// (those without one are left out: `unplaced` counts them), ties between the same two
    /// nodes add up, ties inside one node vanish, and pairs lighter than `min_weight` go.
    pub fn network(&self, level: Level, min_weight: u32) -> (Network, usize) {
        let mut nodes: HashMap<i32, Node> = HashMap::new();
        let mut node_of: HashMap<i32, i32> = HashMap::new();
        let mut unplaced = 0;
        for organisation in &self.organisations {
            let country = organisation.country_id.and_then(|id| self.countries.get(&id)).map(|c| c.key.clone());
            let region = organisation.region_id.and_then(|id| self.regions.get(&id));
            let (id, place, kind) = match level {
                Level::Organisation => {
                    node_of.insert(organisation.id, organisation.id);
                    nodes.insert(
                        organisation.id,
                        Node {
                            key: organisation.key.clone(),
                            label: organisation.label.clone(),
                            kind: organisation.kind.clone(),
                            country,
                            region: region.map(|r| r.key.clone()),
                            organisations: 1,
                        },
                    );
                    continue;
                }
                Level::Municipality => (organisation.municipality_id, &self.municipalities, "municipality"),
                Level::Region => (organisation.region_id, &self.regions, "region"),
                Level::Country => (organisation.country_id, &self.countries, "country"),
            };
            let Some((id, place)) = id.and_then(|id| place.get(&id).map(|place| (id, place))) else {
                unplaced += 1;
                continue;
            };
            node_of.insert(organisation.id, id);
            let node = nodes.entry(id).or_insert_with(|| Node {
                key: place.key.clone(),
                label: place.label.clone(),
                kind: kind.to_owned(),
                country: place.country.clone(),
                region: match level {
                    Level::Municipality => region.map(|r| r.key.clone()),
                    Level::Region => Some(place.key.clone()),
                    _ => None,
                },
                organisations: 0,
            });
            node.organisations += 1;
        }
        (Network::build(nodes, |id| node_of.get(&id).copied(), &self.ties, min_weight), unplaced)
    }
}

/// `(node, score)` pairs, best first (ties by node order), at most `top` of them.
pub fn ranked(scores: &[f64], top: Option<usize>) -> Vec<(usize, f64)> {
    let mut ranked: Vec<(usize, f64)> = scores.iter().copied().enumerate().collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    if let Some(top) = top {
        ranked.truncate(top);
    }
    ranked
}

#[cfg(test)]
pub(crate) mod fixtures {
    use super::*;

    pub fn node(key: &str, country: &str) -> Node {
        Node {
            key: key.to_owned(),
            label: key.to_uppercase(),
            kind: "company".to_owned(),
            country: Some(country.to_owned()),
            region: None,
            organisations: 1,
        }
    }

    /// a b c (Norway) and d e f g (Sweden): triangles a–b–c and d–e–g, the bridge c–d
    /// (weight 3), f isolated. Positions a..g = 0..6.
    pub fn two_triangles() -> Network {
        let nodes = ["a", "b", "c", "d", "e", "f", "g"]
            .iter()
            .enumerate()
            .map(|(i, key)| node(key, if i < 3 { "NO" } else { "SE" }))
            .collect();
        let edge = |source, target, partnerships| Edge { source, target, partnerships, ..Edge::default() };
        let edges = vec![
            edge(0, 1, 2),
            edge(0, 2, 1),
            edge(1, 2, 1),
            edge(2, 3, 3),
            edge(3, 4, 1),
            edge(3, 6, 1),
            edge(4, 6, 2),
        ];
        Network::from_parts(nodes, edges)
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::*;
    use super::*;

    #[test]
    fn ties_merge_per_pair_and_roll_up_without_self_loops() {
        let nodes: HashMap<i32, Node> = [(1, node("x", "NO")), (2, node("y", "SE")), (3, node("z", "SE"))].into();
        let ties = [
            Tie { a: 1, b: 2, kind: EdgeKind::Partnership, count: 2 },
            Tie { a: 2, b: 1, kind: EdgeKind::Placement, count: 3 },
            Tie { a: 2, b: 3, kind: EdgeKind::Collaboration, count: 1 },
            Tie { a: 3, b: 3, kind: EdgeKind::Partnership, count: 5 },
        ];
        let network = Network::build(nodes.clone(), Some, &ties, 1);
        assert_eq!(network.edges.len(), 2);
        let xy = &network.edges[0];
        assert_eq!((xy.partnerships, xy.placements, xy.weight()), (2, 3, 5));
        assert!(network.crosses_border(xy));
        assert!(!network.crosses_border(&network.edges[1]));
        assert_eq!(Network::build(nodes, Some, &ties, 2).edges.len(), 1, "minWeight drops light pairs");
    }
}
