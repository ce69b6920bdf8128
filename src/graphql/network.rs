//! `network(…)`: a partner network and its analyses in one request. The network is
//! selected (`db::queries::network`) and built (`domain::network`) once per filter and data
//! version, and each analysis is computed once per network and arguments: both live in the
//! analytics cache, so a dashboard polling the same network does not recompute. Analyses run on
//! the blocking pool, never on the request threads.

use std::sync::Arc;

use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject};
use sea_orm::DbErr;

use super::access::role_of;
use super::cost::{NetworkField, charge};
use super::error::{Code, OrInternal, bad_input, coded, not_found};
use super::loaders::RegistryLoader;
use super::query::{analytics_db, db};
use super::types::common::{Date, OrganisationKind, PeriodInput, as_of_or_today, loader};
use crate::auth::Role;
use crate::db::queries::network::{self as query, NetworkFilter};
use crate::domain::network::centrality::{self, Paths};
use crate::domain::network::communities::{self, Partition};
use crate::domain::network::export::{self, Format};
use crate::domain::network::stop::{Stop, Stopped};
use crate::domain::network::work::{Size, Work};
use crate::domain::network::{EdgeKind, Level, Network as Graph, paths, ranked, structure};
use crate::jobs;

/// Sampled betweenness draws at most this many sources.
pub const MAX_SAMPLES: usize = 100_000;

/// Searches × edges above which an all-sources analysis (exact betweenness, brokers, closeness)
/// is refused: ~10 s of work on two cores (medium's whole network is 1.0e9 and takes 6–8 s;
/// `large` is 2.8e10, minutes). Sampling stays available.
pub const MAX_SEARCH_WORK: f64 = 1.5e9;

/// Most nodes or edges one `nodes`/`edges` field returns.
pub const MAX_LIST: usize = 100_000;

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum NetworkLevel {
    #[default]
    Organisation,
    Municipality,
    /// Fylke or län, by the memberships valid `asOf`.
    Region,
    Country,
}

impl From<NetworkLevel> for Level {
    fn from(level: NetworkLevel) -> Self {
        match level {
            NetworkLevel::Organisation => Self::Organisation,
            NetworkLevel::Municipality => Self::Municipality,
            NetworkLevel::Region => Self::Region,
            NetworkLevel::Country => Self::Country,
        }
    }
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum NetworkEdgeKind {
    /// Partners (not funders) of the same project; weight = shared projects.
    Partnership,
    /// Explicit collaborations; weight = collaborations.
    Collaboration,
    /// Enrolling organisation ↔ host of a student placement; weight = placements. Analysts only.
    Placement,
}

impl From<NetworkEdgeKind> for EdgeKind {
    fn from(kind: NetworkEdgeKind) -> Self {
        match kind {
            NetworkEdgeKind::Partnership => Self::Partnership,
            NetworkEdgeKind::Collaboration => Self::Collaboration,
            NetworkEdgeKind::Placement => Self::Placement,
        }
    }
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum NetworkFormat {
    Graphml,
    Gexf,
    /// Node list: id,label,kind,country,region,organisations.
    CsvNodes,
    /// Edge list: source,target,weight,partnerships,collaborations,placements,cross_border.
    CsvEdges,
    /// Cytoscape.js elements JSON.
    CytoscapeJson,
}

impl From<NetworkFormat> for Format {
    fn from(format: NetworkFormat) -> Self {
        match format {
            NetworkFormat::Graphml => Self::GraphMl,
            NetworkFormat::Gexf => Self::Gexf,
            NetworkFormat::CsvNodes => Self::CsvNodes,
            NetworkFormat::CsvEdges => Self::CsvEdges,
            NetworkFormat::CytoscapeJson => Self::CytoscapeJson,
        }
    }
}

/// Which organisations and ties make the network.
#[derive(InputObject, Default, Clone)]
pub struct NetworkFilterInput {
    /// Ties within projects of this programme (slug).
    pub programme: Option<String>,
    /// Ties within this project (slug).
    pub project: Option<String>,
    /// Organisations seated in this region (slug) on `asOf`.
    pub region: Option<String>,
    pub organisation_kinds: Option<Vec<OrganisationKind>>,
    /// Organisations of this country (code).
    pub country: Option<String>,
}

/// Everything that selects a network, checked.
#[derive(Clone, Debug)]
pub struct NetworkRequest {
    pub filter: NetworkFilter,
    pub level: Level,
    pub min_weight: u32,
}

/// Arguments of `network` that cannot be served.
#[derive(Debug)]
pub enum Refused {
    BadInput { argument: &'static str, message: String },
    Forbidden(String),
}

impl From<Refused> for async_graphql::Error {
    fn from(refused: Refused) -> Self {
        match refused {
            Refused::BadInput { argument, message } => bad_input(argument, message),
            Refused::Forbidden(message) => coded(Code::Forbidden, message),
        }
    }
}

impl NetworkRequest {
    /// Checks the arguments of `network` (the HTTP export passes the same ones).
    pub fn new(
        role: Role,
        filter: NetworkFilterInput,
        period: Option<PeriodInput>,
        as_of: Option<Date>,
        level: NetworkLevel,
        edges: Option<Vec<NetworkEdgeKind>>,
        min_weight: i32,
    ) -> Result<Self, Refused> {
        let period = period.unwrap_or_default();
        let (from, to) = (period.from.map(|d| d.0), period.to.map(|d| d.0));
        if let (Some(from), Some(to)) = (from, to)
            && from > to
        {
            return Err(Refused::BadInput { argument: "period", message: "the period ends before it starts".into() });
        }
        let mut edges: Vec<EdgeKind> = edges
            .unwrap_or_else(|| vec![NetworkEdgeKind::Partnership, NetworkEdgeKind::Collaboration])
            .into_iter()
            .map(EdgeKind::from)
            .collect();
        edges.sort();
        edges.dedup();
        if edges.is_empty() {
            return Err(Refused::BadInput { argument: "edges", message: "name at least one kind of edge".into() });
        }
        if edges.contains(&EdgeKind::Placement) && role < Role::Analyst {
            return Err(Refused::Forbidden(
                "placement edges are student data: they need the Analyst role or higher".into(),
            ));
        }
        let min_weight =
            u32::try_from(min_weight).ok().filter(|w| (1..=MAX_MIN_WEIGHT).contains(w)).ok_or_else(|| {
                Refused::BadInput {
                    argument: "minWeight",
                    message: format!("minWeight is between 1 and {MAX_MIN_WEIGHT}"),
                }
            })?;
        let filter = NetworkFilter {
            programme: filter.programme,
            project: filter.project,
            region: filter.region,
            kinds: filter.organisation_kinds.map(|kinds| kinds.into_iter().map(Into::into).collect()),
            country: filter.country,
            period_from: from,
            period_to: to,
            as_of: as_of_or_today(as_of),
            edges,
        };
        Ok(Self { filter, level: level.into(), min_weight })
    }

    fn key(&self) -> String {
        format!("network {} {:?} {}", self.filter.key(), self.level, self.min_weight)
    }
}

/// A network as cached: the graph, organisations left out for want of a place, and its key.
pub struct Built {
    pub graph: Arc<Graph>,
    pub unplaced: usize,
    pub key: String,
}

/// The network of `request`, from the cache when this data version already built it.
pub async fn build(
    loader: &RegistryLoader,
    conn: &sea_orm::DatabaseConnection,
    request: &NetworkRequest,
) -> Result<Arc<Built>, DbErr> {
    let key = request.key();
    let select = {
        let key = key.clone();
        let request = request.clone();
        async move {
            let selection = query::select(conn, &request.filter).await?;
            let (graph, unplaced) = jobs::run(move |_| Ok(selection.network(request.level, request.min_weight)))
                .await
                .map_err(|error| DbErr::Custom(error.to_string()))?;
            Ok(Arc::new(Built { graph: Arc::new(graph), unplaced, key }))
        }
    };
    loader.cached(key, |built: &Arc<Built>| built.graph.approx_bytes(), select).await
}

/// The first of the filter's slugs that names nothing (`("programme", slug)`, …), so a typo is
/// `NOT_FOUND` rather than an empty network.
pub async fn unknown_slug(
    conn: &sea_orm::DatabaseConnection,
    filter: &NetworkFilterInput,
) -> Result<Option<(&'static str, String)>, DbErr> {
    query::unknown_slug(conn, filter.programme.as_deref(), filter.project.as_deref(), filter.region.as_deref()).await
}

/// How each field of `Network` costs, for the query-cost check ([`super::cost::network_cost`]);
/// `None` for fields that cost as ordinary fields. `argument` reads the field's arguments.
pub fn field_cost(name: &str, argument: &dyn Fn(&str) -> Option<async_graphql::Value>) -> Option<NetworkField> {
    let number = |name: &str| match argument(name) {
        Some(async_graphql::Value::Number(n)) => n.as_u64(),
        _ => None,
    };
    Some(match name {
        "betweenness" | "brokers" => NetworkField::Work(Work::Betweenness(number("samples"))),
        "closeness" => NetworkField::Work(Work::Closeness),
        "pagerank" | "eigenvector" => NetworkField::Work(Work::Iterative),
        "communities" => NetworkField::Work(Work::Communities),
        "components" | "componentCount" | "bridges" | "articulationPoints" | "shortestPath" => {
            NetworkField::Work(Work::Linear)
        }
        "degree" => NetworkField::Work(Work::Nodes),
        "export" => NetworkField::Work(Work::Export),
        "nodes" => NetworkField::List { edges: false, limit: number("limit") },
        "edges" => NetworkField::List { edges: true, limit: number("limit") },
        "ego" => NetworkField::Within,
        _ => return None,
    })
}

#[derive(Default)]
pub struct NetworkQuery;

#[Object]
impl NetworkQuery {
    /// The partner network: organisations (or the municipalities, regions or countries they
    /// roll up to, by the memberships valid `asOf`, default today) tied by shared projects,
    /// collaborations and — for analysts — student placements active in `period`. An edge's
    /// weight is the number of ties; pairs lighter than `minWeight` are left out. Every
    /// analysis is a field, computed once per network and data version.
    /// Example: `network(filter: {programme: "prog-interreg-vi-a-sverige-norge"}, level: REGION) { nodeCount brokers(top: 5) { node { label } score } }`.
    #[allow(clippy::too_many_arguments)]
    #[graphql(directive = super::cost::cost_weight::apply(Work::Build.floor().to_string()))]
    async fn network(
        &self,
        ctx: &Context<'_>,
        #[graphql(default)] filter: NetworkFilterInput,
        period: Option<PeriodInput>,
        as_of: Option<Date>,
        #[graphql(default)] level: NetworkLevel,
        edges: Option<Vec<NetworkEdgeKind>>,
        #[graphql(default = 1)] min_weight: i32,
    ) -> Result<Network> {
        if let Some((what, slug)) = unknown_slug(db(ctx), &filter).await.or_internal()? {
            return Err(not_found(what, &slug));
        }
        let request = NetworkRequest::new(role_of(ctx), filter, period, as_of, level, edges, min_weight)?;
        let built = build(loader(ctx).loader(), analytics_db(ctx), &request).await.or_internal()?;
        charge(ctx, Work::Build.cost(Size::of(&built.graph)));
        Ok(Network { built, members: None })
    }
}

/// A network (or an ego network within one).
pub struct Network {
    built: Arc<Built>,
    /// For an ego network: the sub-network, built on demand (not cached: it is small).
    members: Option<Arc<Graph>>,
}

impl Network {
    fn graph(&self) -> &Graph {
        self.members.as_deref().unwrap_or(&*self.built.graph)
    }

    /// An analysis of this network, from the cache when computed before for this data version.
    /// It runs as a heavy job ([`jobs::run`]); one stopped because its request went away is
    /// never cached.
    async fn analysis<T, F>(&self, ctx: &Context<'_>, name: String, work: Work, compute: F) -> Result<Arc<T>>
    where
        T: Send + Sync + 'static,
        F: FnOnce(&Graph, &Stop) -> Result<T, Stopped> + Send + 'static,
    {
        charge(ctx, work.cost(Size::of(self.graph())));
        let built = self.built.clone();
        let members = self.members.clone();
        let run = async move {
            jobs::run(move |stop| compute(members.as_deref().unwrap_or(&*built.graph), stop))
                .await
                .map(Arc::new)
                .map_err(|failed| DbErr::Custom(failed.to_string()))
        };
        if self.members.is_some() {
            return run.await.or_internal();
        }
        let key = format!("{} / {name}", self.built.key);
        // Analyses hold a number or a group per node, or less.
        let bytes = std::mem::size_of::<T>() + 16 * self.graph().len();
        loader(ctx).loader().cached(key, move |_: &Arc<T>| bytes, run).await.or_internal()
    }

    fn scores(&self, scores: &[f64], top: Option<i32>) -> Result<Vec<NodeScore>> {
        let top = top_of(top)?;
        let graph = self.shared();
        Ok(ranked(scores, top)
            .into_iter()
            .enumerate()
            .map(|(rank, (position, score))| NodeScore {
                node: NetworkNode { network: graph.clone(), position },
                score,
                rank: rank as i32 + 1,
            })
            .collect())
    }

    /// The graph behind an `Arc`, for node and edge wrappers.
    fn shared(&self) -> Arc<Graph> {
        self.members.clone().unwrap_or_else(|| self.built.graph.clone())
    }

    fn position(&self, argument: &str, key: &str) -> Result<usize> {
        self.graph().position(key).ok_or_else(|| bad_input(argument, format!("`{key}` is not a node of this network")))
    }
}

/// `top`: how many of the highest-ranked to return (1–100 000; all when absent).
fn top_of(top: Option<i32>) -> Result<Option<usize>> {
    match top {
        None => Ok(None),
        Some(n) if n >= 1 && n as usize <= MAX_LIST => Ok(Some(n as usize)),
        Some(_) => Err(bad_input("top", format!("top is between 1 and {MAX_LIST}"))),
    }
}

/// A partner network and its analyses. Rankings take `top` (1–100 000; all nodes when absent).
///
/// Cost (see `extensions.cost`): each analysis costs its algorithm's steps ÷ 2 000 on the
/// network it runs on, at least its `@cost` weight — exact betweenness and brokers
/// n·(n + 2m), `samples: k` k·(n + 2m), closeness n·(n + m), communities 40(n + m), PageRank and
/// eigenvector 100(n + m), components, bridges, articulation points, paths and ego 2(n + m),
/// degree n, export 50(n + m), the network itself 20(n + m); `nodes`/`edges` cost per item
/// listed. Before a request runs, n and m are estimated from the registry's counts for the
/// level and programme asked (an upper bound); `extensions.cost.actual` uses the real ones.
#[Object]
impl Network {
    async fn node_count(&self) -> i32 {
        self.graph().len() as i32
    }

    async fn edge_count(&self) -> i32 {
        self.graph().edges.len() as i32
    }

    /// Organisations left out because they have no place at this level (no seat municipality,
    /// or a municipality in no fylke/län on `asOf`).
    async fn unplaced_organisations(&self) -> i32 {
        self.built.unplaced as i32
    }

    /// The nodes, ordered by key: `limit` (at most 100 000, the default) from `offset`.
    #[graphql(directive = super::cost::list_size::apply(None, Some(vec!["limit".into()]), Some(false)))]
    async fn nodes(&self, #[graphql(default)] offset: i32, limit: Option<i32>) -> Result<Vec<NetworkNode>> {
        let graph = self.shared();
        let range = window(graph.len(), offset, limit)?;
        Ok(range.map(|position| NetworkNode { network: graph.clone(), position }).collect())
    }

    /// The edges, ordered by their ends: `limit` (at most 100 000, the default) from `offset`.
    #[graphql(directive = super::cost::list_size::apply(None, Some(vec!["limit".into()]), Some(false)))]
    async fn edges(&self, #[graphql(default)] offset: i32, limit: Option<i32>) -> Result<Vec<NetworkEdge>> {
        let graph = self.shared();
        let range = window(graph.edges.len(), offset, limit)?;
        Ok(range.map(|position| NetworkEdge { network: graph.clone(), position }).collect())
    }

    /// Degree (neighbours), or with `weighted` the sum of edge weights; highest first.
    #[graphql(directive = super::cost::cost_weight::apply(Work::Nodes.floor().to_string()))]
    async fn degree(
        &self,
        ctx: &Context<'_>,
        top: Option<i32>,
        #[graphql(default)] weighted: bool,
    ) -> Result<Vec<NodeScore>> {
        charge(ctx, Work::Nodes.cost(Size::of(self.graph())));
        let scores =
            if weighted { centrality::weighted_degree(self.graph()) } else { centrality::degree(self.graph()) };
        self.scores(&scores, top)
    }

    /// Betweenness centrality (hops, normalised as NetworkX). With `samples`, estimated from that
    /// many source nodes drawn with `seed` (for big networks); exact otherwise. Exact is refused
    /// (`BAD_USER_INPUT`) when nodes × edges exceed 1.5e9 (minutes of work): sample instead.
    #[graphql(directive = super::cost::cost_weight::apply(Work::Betweenness(None).floor().to_string()))]
    async fn betweenness(
        &self,
        ctx: &Context<'_>,
        top: Option<i32>,
        samples: Option<i32>,
        #[graphql(default)] seed: i32,
    ) -> Result<Vec<NodeScore>> {
        self.betweenness_over(ctx, Paths::All, top, samples, seed).await
    }

    /// Cross-border brokers: nodes ranked by betweenness over shortest paths between nodes of
    /// different countries only (score: cross-border pairs whose shortest paths pass through).
    /// `samples` and the size limit as for `betweenness`.
    #[graphql(directive = super::cost::cost_weight::apply(Work::Betweenness(None).floor().to_string()))]
    async fn brokers(
        &self,
        ctx: &Context<'_>,
        top: Option<i32>,
        samples: Option<i32>,
        #[graphql(default)] seed: i32,
    ) -> Result<Vec<NodeScore>> {
        self.betweenness_over(ctx, Paths::CrossBorder, top, samples, seed).await
    }

    /// Closeness centrality (hops; Wasserman–Faust scaling when the network is disconnected).
    /// Refused when nodes × edges exceed 3e9: filter the network first.
    #[graphql(directive = super::cost::cost_weight::apply(Work::Closeness.floor().to_string()))]
    async fn closeness(&self, ctx: &Context<'_>, top: Option<i32>) -> Result<Vec<NodeScore>> {
        // Closeness is one search per node without the accumulation: half a betweenness.
        affordable(self.graph(), Some(self.graph().len() / 2), "closeness")?;
        let scores = self.analysis(ctx, "closeness".into(), Work::Closeness, centrality::closeness).await?;
        self.scores(&scores, top)
    }

    /// PageRank on edge weights (damping 0.85).
    #[graphql(directive = super::cost::cost_weight::apply(Work::Iterative.floor().to_string()))]
    async fn pagerank(&self, ctx: &Context<'_>, top: Option<i32>) -> Result<Vec<NodeScore>> {
        let scores = self.analysis(ctx, "pagerank".into(), Work::Iterative, centrality::pagerank).await?;
        let scores = scores.as_ref().as_ref().map_err(|error| coded(Code::BadUserInput, error.to_string()))?;
        self.scores(scores, top)
    }

    /// Eigenvector centrality (hops).
    #[graphql(directive = super::cost::cost_weight::apply(Work::Iterative.floor().to_string()))]
    async fn eigenvector(&self, ctx: &Context<'_>, top: Option<i32>) -> Result<Vec<NodeScore>> {
        let scores = self.analysis(ctx, "eigenvector".into(), Work::Iterative, centrality::eigenvector).await?;
        let scores = scores.as_ref().as_ref().map_err(|error| coded(Code::BadUserInput, error.to_string()))?;
        self.scores(scores, top)
    }

    /// Connected components, largest first.
    #[graphql(directive = super::cost::cost_weight::apply(Work::Linear.floor().to_string()))]
    async fn components(&self, ctx: &Context<'_>, top: Option<i32>) -> Result<Vec<NodeGroup>> {
        let components =
            self.analysis(ctx, "components".into(), Work::Linear, |g, _| Ok(structure::components(g))).await?;
        let graph = self.shared();
        let top = top_of(top)?.unwrap_or(usize::MAX);
        Ok(components
            .iter()
            .take(top)
            .map(|members| NodeGroup { network: graph.clone(), members: members.clone() })
            .collect())
    }

    #[graphql(directive = super::cost::cost_weight::apply(Work::Linear.floor().to_string()))]
    async fn component_count(&self, ctx: &Context<'_>) -> Result<i32> {
        Ok(self.analysis(ctx, "components".into(), Work::Linear, |g, _| Ok(structure::components(g))).await?.len()
            as i32)
    }

    /// Edges whose removal disconnects their ends.
    #[graphql(directive = super::cost::cost_weight::apply(Work::Linear.floor().to_string()))]
    async fn bridges(&self, ctx: &Context<'_>) -> Result<Vec<NetworkEdge>> {
        let bridges = self.analysis(ctx, "bridges".into(), Work::Linear, |g, _| Ok(structure::bridges(g))).await?;
        let graph = self.shared();
        Ok(bridges.iter().map(|&position| NetworkEdge { network: graph.clone(), position }).collect())
    }

    /// Nodes whose removal splits their component.
    #[graphql(directive = super::cost::cost_weight::apply(Work::Linear.floor().to_string()))]
    async fn articulation_points(&self, ctx: &Context<'_>) -> Result<Vec<NetworkNode>> {
        let points = self
            .analysis(ctx, "articulation points".into(), Work::Linear, |g, _| Ok(structure::articulation_points(g)))
            .await?;
        Ok(points.iter().map(|&position| self.node_at(position)).collect())
    }

    /// Communities by the Louvain method on edge weights; the same `seed` gives the same answer.
    #[graphql(directive = super::cost::cost_weight::apply(Work::Communities.floor().to_string()))]
    async fn communities(
        &self,
        ctx: &Context<'_>,
        #[graphql(default)] seed: i32,
        #[graphql(default = 1.0)] resolution: f64,
    ) -> Result<Communities> {
        if !(resolution > 0.0 && resolution.is_finite()) {
            return Err(bad_input("resolution", "resolution is a positive number"));
        }
        let partition = self
            .analysis(ctx, format!("louvain {seed} {resolution}"), Work::Communities, move |g, stop| {
                communities::louvain(g, seed as u64, resolution, stop)
            })
            .await?;
        Ok(Communities { network: self.shared(), partition })
    }

    /// A shortest path (fewest hops) between two nodes, both included; null when unconnected.
    #[graphql(directive = super::cost::cost_weight::apply(Work::Linear.floor().to_string()))]
    async fn shortest_path(&self, ctx: &Context<'_>, from: String, to: String) -> Result<Option<Vec<NetworkNode>>> {
        charge(ctx, Work::Linear.cost(Size::of(self.graph())));
        let (from, to) = (self.position("from", &from)?, self.position("to", &to)?);
        Ok(paths::shortest_path(self.graph(), from, to).map(|path| path.into_iter().map(|p| self.node_at(p)).collect()))
    }

    /// The ego network: `center` and everything within `radius` hops (0–10), with the edges among them.
    /// Every analysis is available on it.
    async fn ego(&self, center: String, #[graphql(default = 1)] radius: i32) -> Result<Network> {
        let center = self.position("center", &center)?;
        // Beyond a few hops an ego network is the whole component: 0–10 covers every use.
        let radius = usize::try_from(radius)
            .ok()
            .filter(|r| *r <= MAX_RADIUS)
            .ok_or_else(|| bad_input("radius", format!("radius is between 0 and {MAX_RADIUS}")))?;
        let members = paths::ego(self.graph(), center, radius);
        Ok(Network { built: self.built.clone(), members: Some(Arc::new(self.graph().induced(&members))) })
    }

    /// The network as a file: GraphML, GEXF, CSV or Cytoscape.js JSON.
    #[graphql(directive = super::cost::cost_weight::apply(Work::Export.floor().to_string()))]
    async fn export(&self, ctx: &Context<'_>, format: NetworkFormat) -> String {
        charge(ctx, Work::Export.cost(Size::of(self.graph())));
        export::write(self.graph(), format.into(), &[])
    }
}

impl Network {
    /// `betweenness` and `brokers`: checked, cached, ranked.
    async fn betweenness_over(
        &self,
        ctx: &Context<'_>,
        paths: Paths,
        top: Option<i32>,
        samples: Option<i32>,
        seed: i32,
    ) -> Result<Vec<NodeScore>> {
        let samples = samples_of(samples)?;
        let name = if paths == Paths::All { "betweenness" } else { "brokers" };
        affordable(self.graph(), samples, name)?;
        let scores = self
            .analysis(
                ctx,
                format!("{name} {samples:?} {seed}"),
                Work::Betweenness(samples.map(|k| k as u64)),
                move |g, stop| centrality::betweenness(g, paths, samples, seed as u64, stop),
            )
            .await?;
        self.scores(&scores, top)
    }

    fn node_at(&self, position: usize) -> NetworkNode {
        NetworkNode { network: self.shared(), position }
    }
}

/// Refuses an all-sources search over a network too big to answer while a person waits.
fn affordable(graph: &Graph, sources: Option<usize>, analysis: &str) -> Result<()> {
    let searches = sources.unwrap_or(graph.len()).min(graph.len()) as f64;
    if searches * graph.edges.len() as f64 > MAX_SEARCH_WORK {
        let hint = if analysis == "closeness" {
            "filter the network (a programme, a region, a period) or raise minWeight".to_owned()
        } else {
            "pass `samples` (e.g. 256) for an estimate, or filter the network".to_owned()
        };
        return Err(coded(
            Code::BadUserInput,
            format!(
                "exact {analysis} on {} nodes and {} edges would take minutes; {hint}",
                graph.len(),
                graph.edges.len()
            ),
        ));
    }
    Ok(())
}

/// `offset`/`limit` of a `nodes` or `edges` list over `len` items.
fn window(len: usize, offset: i32, limit: Option<i32>) -> Result<std::ops::Range<usize>> {
    let offset = usize::try_from(offset).map_err(|_| bad_input("offset", "offset is at least 0"))?;
    let limit = match limit {
        None => MAX_LIST,
        Some(n) if n >= 0 && n as usize <= MAX_LIST => n as usize,
        Some(_) => return Err(bad_input("limit", format!("limit is between 0 and {MAX_LIST}"))),
    };
    let start = offset.min(len);
    Ok(start..(start + limit).min(len))
}

/// The largest ego radius (hops).
const MAX_RADIUS: usize = 10;
/// The largest tie weight a filter may ask for (no pair has more shared projects).
const MAX_MIN_WEIGHT: u32 = 100_000;

fn samples_of(samples: Option<i32>) -> Result<Option<usize>> {
    match samples {
        None => Ok(None),
        Some(n) if n >= 2 && n as usize <= MAX_SAMPLES => Ok(Some(n as usize)),
        Some(_) => Err(bad_input("samples", format!("samples is between 2 and {MAX_SAMPLES}"))),
    }
}

/// A node of a network.
pub struct NetworkNode {
    network: Arc<Graph>,
    position: usize,
}

#[Object]
impl NetworkNode {
    /// The organisation's or place's slug (a country's code).
    async fn key(&self) -> &str {
        &self.network.nodes[self.position].key
    }

    async fn label(&self) -> &str {
        &self.network.nodes[self.position].label
    }

    /// The organisation's kind, or `municipality`, `region`, `country`.
    async fn kind(&self) -> &str {
        &self.network.nodes[self.position].kind
    }

    /// Country code.
    async fn country(&self) -> Option<&str> {
        self.network.nodes[self.position].country.as_deref()
    }

    /// Slug of its fylke or län on the network's day.
    async fn region(&self) -> Option<&str> {
        self.network.nodes[self.position].region.as_deref()
    }

    /// Organisations it stands for.
    async fn organisations(&self) -> i32 {
        self.network.nodes[self.position].organisations as i32
    }
}

/// An edge: one per pair of nodes, its weight the sum of the ties.
pub struct NetworkEdge {
    network: Arc<Graph>,
    position: usize,
}

#[Object]
impl NetworkEdge {
    async fn source(&self) -> NetworkNode {
        NetworkNode { network: self.network.clone(), position: self.network.edges[self.position].source }
    }

    async fn target(&self) -> NetworkNode {
        NetworkNode { network: self.network.clone(), position: self.network.edges[self.position].target }
    }

    async fn weight(&self) -> i32 {
        self.network.edges[self.position].weight() as i32
    }

    async fn partnerships(&self) -> i32 {
        self.network.edges[self.position].partnerships as i32
    }

    async fn collaborations(&self) -> i32 {
        self.network.edges[self.position].collaborations as i32
    }

    async fn placements(&self) -> i32 {
        self.network.edges[self.position].placements as i32
    }

    /// Its ends lie in different countries.
    async fn cross_border(&self) -> bool {
        self.network.crosses_border(&self.network.edges[self.position])
    }
}

/// A node with its score and rank (1 = highest).
#[derive(SimpleObject)]
pub struct NodeScore {
    node: NetworkNode,
    score: f64,
    rank: i32,
}

/// A set of nodes (a component or a community).
pub struct NodeGroup {
    network: Arc<Graph>,
    members: Vec<usize>,
}

#[Object]
impl NodeGroup {
    async fn size(&self) -> i32 {
        self.members.len() as i32
    }

    async fn nodes(&self) -> Vec<NetworkNode> {
        self.members.iter().map(|&position| NetworkNode { network: self.network.clone(), position }).collect()
    }
}

/// A partition into communities.
pub struct Communities {
    network: Arc<Graph>,
    partition: Arc<Partition>,
}

#[Object]
impl Communities {
    /// Newman modularity of the partition (weighted).
    async fn modularity(&self) -> f64 {
        self.partition.modularity
    }

    async fn count(&self) -> i32 {
        self.partition.community.iter().copied().max().map_or(0, |c| c as i32 + 1)
    }

    /// The communities, largest first.
    async fn communities(&self, top: Option<i32>) -> Result<Vec<NodeGroup>> {
        let count = self.partition.community.iter().copied().max().map_or(0, |c| c + 1);
        let mut groups = vec![Vec::new(); count];
        for (node, c) in self.partition.community.iter().enumerate() {
            groups[*c].push(node);
        }
        let top = top_of(top)?.unwrap_or(usize::MAX);
        Ok(groups.into_iter().take(top).map(|members| NodeGroup { network: self.network.clone(), members }).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::network::{Edge, Node};

    #[test]
    fn all_source_searches_are_refused_on_networks_too_big_to_wait_for() {
        let node = |i: usize| Node {
            key: format!("n{i:06}"),
            label: String::new(),
            kind: "company".into(),
            country: None,
            region: None,
            organisations: 1,
        };
        let n = 40_000;
        let edges = (0..n - 1).map(|i| Edge { source: i, target: i + 1, partnerships: 1, ..Edge::default() }).collect();
        let big = Graph::from_parts((0..n).map(node).collect(), edges);
        assert!(affordable(&big, None, "betweenness").is_err(), "40 000 × 39 999 > 1.5e9");
        assert!(affordable(&big, Some(256), "betweenness").is_ok(), "sampling is always affordable here");
        assert!(affordable(&big, Some(n / 2), "closeness").is_ok(), "closeness is half the work: 8e8");
        assert_eq!(window(10, 8, None).ok(), Some(8..10));
        assert!(window(10, 0, Some(MAX_LIST as i32 + 1)).is_err());
    }
}
