//! How much work an analysis is, from the size of its network: the number the query-cost
//! check charges before a request runs (on a network size estimated from cheap counts) and the
//! `actual` cost it reports after (on the real network). Units are steps of the algorithm
//! (edge and node visits) divided by [`STEPS_PER_UNIT`]; each analysis costs at least its floor,
//! so even a tiny network's exact betweenness is dearer than its degree.

/// Algorithm steps per cost unit: about 15 µs of one core (exact betweenness on the synthetic
/// `medium` registry, ~1.1e9 steps, takes 6–8 s on two cores).
pub const STEPS_PER_UNIT: f64 = 2_000.0;

/// Size of a network: nodes and (undirected) edges.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Size {
    pub nodes: u64,
    pub edges: u64,
}

impl Size {
    pub fn of(network: &super::Network) -> Self {
        Self { nodes: network.len() as u64, edges: network.edges.len() as u64 }
    }

    /// The network of `nodes` nodes with at most this one's edges (a simple graph has at most
    /// n(n−1)/2): what rolling organisations up to fewer nodes leaves at most.
    pub fn rolled_up(self, nodes: u64) -> Self {
        let nodes = nodes.min(self.nodes);
        Self { nodes, edges: self.edges.min(nodes.saturating_mul(nodes.saturating_sub(1)) / 2) }
    }
}

/// What a field of a network does, as far as its cost goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Work {
    /// Selecting the ties and building the graph.
    Build,
    /// One breadth-first search per source with Brandes' accumulation (betweenness, brokers);
    /// `Some(k)` sources when sampled.
    Betweenness(Option<u64>),
    /// One breadth-first search per node.
    Closeness,
    /// Louvain: sweeps over the edges per level.
    Communities,
    /// Power iteration, up to 100 sweeps over the edges (PageRank, eigenvector).
    Iterative,
    /// One or two linear passes (components, bridges, articulation points, shortest path,
    /// ego network).
    Linear,
    /// One pass over the nodes (degree).
    Nodes,
    /// Writing the network as a file.
    Export,
}

impl Work {
    /// Algorithm steps on a network of `size`.
    pub fn steps(self, size: Size) -> f64 {
        let (n, m) = (size.nodes as f64, size.edges as f64);
        match self {
            // Selecting every tie in SQL and building the graph (measured: 0.8 s for the synthetic
            // `medium` registry's 141 447 nodes and edges).
            Self::Build => 800.0 * (n + m),
            Self::Betweenness(samples) => samples.map_or(n, |k| (k as f64).min(n)) * (n + 2.0 * m),
            Self::Closeness => n * (n + m),
            Self::Communities => 100.0 * (n + m),
            Self::Iterative => 100.0 * (n + m),
            Self::Linear => 2.0 * (n + m),
            Self::Nodes => n,
            // Text of every node and edge, megabytes for big networks.
            Self::Export => 1000.0 * (n + m),
        }
    }

    /// The least this work costs, whatever the size.
    pub fn floor(self) -> u64 {
        match self {
            Self::Betweenness(None) => 20,
            Self::Closeness => 10,
            Self::Build | Self::Betweenness(Some(_)) | Self::Communities => 5,
            Self::Iterative | Self::Export => 2,
            Self::Linear | Self::Nodes => 1,
        }
    }

    /// Cost units on a network of `size`.
    pub fn cost(self, size: Size) -> u64 {
        let units = (self.steps(size) / STEPS_PER_UNIT).ceil();
        // f64 → u64 saturates; sizes come from counts, never NaN.
        (units as u64).max(self.floor())
    }
}

/// Cheap counts of the registry, from which the size of a network is estimated before it is
/// built: an upper bound, since filters and `minWeight` only take nodes and edges away.
#[derive(Clone, Debug, Default)]
pub struct RegistryCounts {
    /// The organisation network of the default ties (partnerships and collaborations; partner
    /// pairs counted once per project they share, so an upper bound).
    pub organisations: Size,
    /// Student placements: edges the network gets when `edges` asks for them.
    pub placements: u64,
    pub municipalities: u64,
    pub regions: u64,
    pub countries: u64,
    /// By programme slug: the network of its projects' partners.
    pub programmes: std::collections::HashMap<String, Size>,
    /// The most partners one project has.
    pub largest_project: u64,
}

impl RegistryCounts {
    /// The largest network `network(level, filter: {programme, project})` can be.
    pub fn estimate(&self, level: super::Level, programme: Option<&str>, project: bool) -> Size {
        self.estimate_with(level, programme, project, false)
    }

    /// [`estimate`](Self::estimate), with placement edges when `placements`.
    pub fn estimate_with(&self, level: super::Level, programme: Option<&str>, project: bool, placements: bool) -> Size {
        let mut organisations = self.organisations;
        if placements {
            organisations.edges = organisations.edges.saturating_add(self.placements);
        }
        if let Some(programme) = programme {
            // An unknown programme is refused before anything is built.
            organisations = self.programmes.get(programme).copied().unwrap_or_default();
        }
        if project {
            let k = self.largest_project.min(organisations.nodes);
            organisations = Size { nodes: k, edges: organisations.edges.min(k * k.saturating_sub(1) / 2) };
        }
        match level {
            super::Level::Organisation => organisations,
            super::Level::Municipality => organisations.rolled_up(self.municipalities),
            super::Level::Region => organisations.rolled_up(self.regions),
            super::Level::Country => organisations.rolled_up(self.countries),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_betweenness_outweighs_pagerank_outweighs_degree_and_grows_with_the_network() {
        let medium = Size { nodes: 10_000, edges: 100_000 };
        let exact = Work::Betweenness(None).cost(medium);
        let pagerank = Work::Iterative.cost(medium);
        let degree = Work::Nodes.cost(medium);
        assert!(exact > 100 * pagerank && pagerank > 100 * degree, "{exact} {pagerank} {degree}");
        assert!(Work::Betweenness(Some(100)).cost(medium) < exact / 50, "sampling is cheaper");
        let tiny = Size { nodes: 10, edges: 12 };
        assert_eq!(Work::Betweenness(None).cost(tiny), 20, "the floor");
        assert!(Work::Betweenness(None).cost(tiny) > Work::Nodes.cost(tiny));
    }

    #[test]
    fn rolling_up_bounds_the_edges_by_the_pairs_of_fewer_nodes() {
        let organisations = Size { nodes: 10_000, edges: 100_000 };
        assert_eq!(organisations.rolled_up(21), Size { nodes: 21, edges: 210 });
        assert_eq!(organisations.rolled_up(1_000), Size { nodes: 1_000, edges: 100_000 });
    }
}
