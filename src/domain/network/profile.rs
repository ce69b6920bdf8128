//! Times every analysis on one network (`samverka network --timings`, the network benchmark):
//! the fastest of `repeat` runs of each, in-process, so the figures are the algorithms' own.

use std::time::{Duration, Instant};

use super::centrality::{self, Paths};
use super::stop::Stop;
use super::{Network, communities, structure};

/// The names of the analyses [`time_all`] runs, in its order.
pub const ANALYSES: [&str; 12] = [
    "degree",
    "weighted-degree",
    "betweenness",
    "betweenness-sampled",
    "closeness",
    "pagerank",
    "eigenvector",
    "components",
    "bridges",
    "articulation-points",
    "brokers",
    "communities",
];

/// The analyses named in `only` (all when empty), with the fastest of `repeat` runs each.
pub fn time_all(network: &Network, samples: usize, repeat: u32, only: &[String]) -> Vec<(&'static str, Duration)> {
    let fastest = |work: &dyn Fn()| {
        (0..repeat.max(1))
            .map(|_| {
                let started = Instant::now();
                work();
                started.elapsed()
            })
            .min()
            .unwrap_or_default()
    };
    let wanted = |name: &str| only.is_empty() || only.iter().any(|o| o == name);
    let mut timings = Vec::new();
    let mut time = |name: &'static str, work: &dyn Fn()| {
        if wanted(name) {
            timings.push((name, fastest(work)));
        }
    };
    time("degree", &|| drop(centrality::degree(network)));
    time("weighted-degree", &|| drop(centrality::weighted_degree(network)));
    time("betweenness", &|| drop(centrality::betweenness(network, Paths::All, None, 0, &Stop::default())));
    time("betweenness-sampled", &|| {
        drop(centrality::betweenness(network, Paths::All, Some(samples), 0, &Stop::default()))
    });
    time("closeness", &|| drop(centrality::closeness(network, &Stop::default())));
    time("pagerank", &|| drop(centrality::pagerank(network, &Stop::default())));
    time("eigenvector", &|| drop(centrality::eigenvector(network, &Stop::default())));
    time("components", &|| drop(structure::components(network)));
    time("bridges", &|| drop(structure::bridges(network)));
    time("articulation-points", &|| drop(structure::articulation_points(network)));
    time("brokers", &|| drop(centrality::betweenness(network, Paths::CrossBorder, None, 0, &Stop::default())));
    time("communities", &|| drop(communities::louvain(network, 0, 1.0, &Stop::default())));
    timings
}
