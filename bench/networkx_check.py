#!/usr/bin/env python3
"""Check the server's partner-network analyses and exports against NetworkX.

    bench/networkx-check [--bin PATH] [--workdir DIR] [--networks a,b] [--list]

(the wrapper makes a venv with networkx 3.6.1, numpy and scipy; run this file directly with
any Python 3.11 that has them.)

What it does:
  1. Starts two servers on free loopback ports: one on a fresh demo SQLite database, one on a
     fresh `small` synthetic database (`samverka seed --synthetic --scale small`, then
     `serve --no-demo`). Both are stopped when the script ends, whatever happens.
  2. For each network case (see --list): downloads /export/network.graphml and .gexf, loads
     them with nx.read_graphml / nx.read_gexf and checks they hold the same graph (nodes,
     edges, node attributes, edge weights); checks that GraphQL `export(format: GRAPHML)` is
     the HTTP body byte for byte and that GraphQL `nodes` / `edges` are the GraphML's.
  3. Queries every analysis of the same network in one GraphQL request (all nodes, no `top`)
     and compares it with NetworkX on the GraphML graph:
       degree, weighted degree              exact
       betweenness, closeness, pagerank,
       eigenvector, brokers                 max abs diff <= 1e-6
       components, bridges, articulation    set equality (bridges as unordered pairs)
       communities                          reported modularity == nx modularity of the
                                            returned partition (<= 1e-9), and the partition
                                            covers every node exactly once
     NetworkX's own Louvain modularity (seed 0) is printed beside ours, for information.
  4. Prints a table (analysis | graph | nodes | edges | max abs diff | ok), the NetworkX
     timings and a summary line; exits 1 when any check failed, 0 otherwise.

Uses the standard library and networkx (numpy/scipy for nx.pagerank) only.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Callable

import networkx as nx

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib.processes import die_with_parent, free_port, log_tail, stop  # noqa: E402

TOLERANCE = 1e-6
MODULARITY_TOLERANCE = 1e-9
JWT_SECRET = "networkx-check-secret-0123456789abcdef"
ALL_EDGES = ["PARTNERSHIP", "COLLABORATION", "PLACEMENT"]


@dataclass
class Case:
    name: str
    server: str  # "demo" or "small"
    level: str = "ORGANISATION"
    edges: list[str] | None = None  # None: the server's default (PARTNERSHIP, COLLABORATION)
    min_weight: int | None = None
    filter: dict[str, str] = field(default_factory=dict)  # programme, project, region, country

    def http_params(self) -> dict[str, str]:
        params: dict[str, str] = dict(self.filter)
        params["level"] = self.level
        if self.edges is not None:
            params["edges"] = ",".join(self.edges)
        if self.min_weight is not None:
            params["minWeight"] = str(self.min_weight)
        return params

    def graphql_args(self) -> str:
        args = [f"level: {self.level}"]
        if self.edges is not None:
            args.append(f"edges: [{', '.join(self.edges)}]")
        if self.min_weight is not None:
            args.append(f"minWeight: {self.min_weight}")
        if self.filter:
            inner = ", ".join(f"{key}: {json.dumps(value)}" for key, value in self.filter.items())
            args.append(f"filter: {{{inner}}}")
        return ", ".join(args)

    def describe(self) -> str:
        edges = ",".join(self.edges) if self.edges else "default edges"
        extra = "".join(f" {k}={v}" for k, v in self.filter.items())
        if self.min_weight is not None:
            extra += f" minWeight={self.min_weight}"
        return f"{self.server} {self.level} ({edges}{extra})"


CASES = [
    Case("demo-org", "demo"),
    Case("demo-municipality", "demo", level="MUNICIPALITY"),
    Case("demo-region", "demo", level="REGION"),
    Case("demo-country", "demo", level="COUNTRY"),
    Case("demo-org-all", "demo", edges=ALL_EDGES),
    Case("small-org-all", "small", edges=ALL_EDGES),
    Case("small-region-all", "small", level="REGION", edges=ALL_EDGES),
    Case("small-org", "small"),
    Case("small-org-all-w3", "small", edges=ALL_EDGES, min_weight=3),
    Case("small-municipality-all", "small", level="MUNICIPALITY", edges=ALL_EDGES),
    Case("small-country-all", "small", level="COUNTRY", edges=ALL_EDGES),
]
DEFAULT_CASES = ["demo-org", "demo-region", "demo-municipality", "demo-country", "small-org-all", "small-region-all"]


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# Servers


def server_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update({"SAMVERKA_JWT_SECRET": JWT_SECRET, "SAMVERKA_RATE_LIMIT": "0", "RUST_LOG": "warn"})
    for name in ("DATABASE_URL", "SAMVERKA_SQLITE_PATH", "SAMVERKA_LISTEN", "SAMVERKA_NO_DEMO"):
        env.pop(name, None)
    return env


def run_cli(binary: str, args: list[str], workdir: str) -> str:
    result = subprocess.run(
        [binary, *args], cwd=workdir, env=server_env(), capture_output=True, text=True, timeout=600
    )
    if result.returncode != 0:
        raise RuntimeError(f"`samverka {' '.join(args)}` exited {result.returncode}:\n{result.stderr[-3000:]}")
    return result.stdout


class Server:
    def __init__(self, name: str, binary: str, workdir: str, db: str, demo: bool):
        self.name, self.binary, self.workdir, self.db, self.demo = name, binary, workdir, db, demo
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = os.path.join(workdir, f"{name}.log")
        self.token = ""

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, attempts: int = 3) -> None:
        for attempt in range(attempts):
            self.port = free_port()
            args = [self.binary, "serve", "--sqlite-path", self.db, "--listen", f"127.0.0.1:{self.port}"]
            if not self.demo:
                args.append("--no-demo")
            with open(self.log_path, "ab") as log:
                self.process = subprocess.Popen(
                    args, cwd=self.workdir, env=server_env(), stdout=log, stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=die_with_parent,
                )
            if self.wait_ready(timeout=120):
                break
            self.stop()
            if attempt == attempts - 1:
                raise RuntimeError(f"{self.name} server did not become ready; log {self.log_path}:\n{self.log_tail()}")
            progress(f"  {self.name} server did not start on port {self.port}, trying another port")
        self.token = run_cli(
            self.binary, ["token", "--role", "analyst", "--ttl", "1h", "--sqlite-path", self.db], self.workdir
        ).strip()

    def wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(f"{self.base}/readyz", timeout=2) as response:
                    if response.status == 200:
                        return True
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.2)
        return False

    def log_tail(self) -> str:
        return log_tail(self.log_path, 30)

    def stop(self) -> None:
        process, self.process = self.process, None
        stop(process)

    # --- requests ---------------------------------------------------------------------------

    def get(self, path: str, params: dict[str, str]) -> str:
        url = f"{self.base}{path}?{urllib.parse.urlencode(params)}"
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {self.token}"})
        try:
            with urllib.request.urlopen(request, timeout=300) as response:
                return response.read().decode("utf-8")
        except urllib.error.HTTPError as error:
            body = error.read().decode("utf-8", errors="replace")
            raise RuntimeError(f"GET {url}: HTTP {error.code}: {body[:2000]}") from None

    def graphql(self, query: str) -> dict[str, Any]:
        request = urllib.request.Request(
            f"{self.base}/graphql",
            data=json.dumps({"query": query}).encode("utf-8"),
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=300) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            body = error.read().decode("utf-8", errors="replace")
            try:
                return json.loads(body)
            except ValueError:
                raise RuntimeError(f"POST /graphql: HTTP {error.code}: {body[:2000]}") from None


# ---------------------------------------------------------------------------------------------
# Results


@dataclass
class Row:
    analysis: str
    graph: str
    nodes: int | str
    edges: int | str
    diff: str
    ok: bool
    detail: str = ""


class Report:
    def __init__(self) -> None:
        self.rows: list[Row] = []
        self.timings: list[tuple[str, str, float]] = []
        self.info: list[str] = []

    def add(self, row: Row) -> None:
        self.rows.append(row)
        mark = "ok" if row.ok else "FAIL"
        progress(f"    {row.analysis:<22} {row.diff:>12}  {mark}{'  ' + row.detail if row.detail and not row.ok else ''}")

    def time(self, graph: str, analysis: str, seconds: float) -> None:
        self.timings.append((graph, analysis, seconds))

    def print(self) -> None:
        header = ("analysis", "graph", "nodes", "edges", "max abs diff", "ok")
        table = [header] + [
            (r.analysis, r.graph, str(r.nodes), str(r.edges), r.diff, "ok" if r.ok else "FAIL") for r in self.rows
        ]
        widths = [max(len(line[i]) for line in table) for i in range(len(header))]
        print()
        for index, line in enumerate(table):
            print(" | ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)).rstrip())
            if index == 0:
                print("-+-".join("-" * w for w in widths))
        failures = [r for r in self.rows if not r.ok]
        if failures:
            print("\nFailures:")
            for r in failures:
                print(f"  {r.analysis} on {r.graph}: {r.detail}")
        if self.info:
            print("\nFor information:")
            for line in self.info:
                print(f"  {line}")
        if self.timings:
            print("\nNetworkX timings (seconds):")
            graphs = list(dict.fromkeys(g for g, _, _ in self.timings))
            for graph in graphs:
                items = [(a, s) for g, a, s in self.timings if g == graph]
                total = sum(s for _, s in items)
                print(f"  {graph}: " + ", ".join(f"{a} {s:.2f}" for a, s in items) + f"  (total {total:.2f})")


def fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if value == 0:
        return "0"
    return f"{value:.3g}"


# ---------------------------------------------------------------------------------------------
# Loading and comparing the exports

NODE_ATTRIBUTES = ("label", "kind", "country", "region", "organisations")


def node_attrs(data: dict[str, Any]) -> dict[str, Any]:
    return {name: data.get(name) for name in NODE_ATTRIBUTES}


def edge_key(u: str, v: str) -> frozenset[str]:
    return frozenset((u, v))


def compare_exports(case: Case, g: nx.Graph, gexf: nx.Graph, report: Report, n: int, m: int) -> None:
    problems: list[str] = []
    if set(g.nodes) != set(gexf.nodes):
        only_g = sorted(set(g.nodes) - set(gexf.nodes))[:5]
        only_x = sorted(set(gexf.nodes) - set(g.nodes))[:5]
        problems.append(f"node sets differ: only in GraphML {only_g}, only in GEXF {only_x}")
    g_edges = {edge_key(u, v): d.get("weight") for u, v, d in g.edges(data=True)}
    x_edges = {edge_key(u, v): d.get("weight") for u, v, d in gexf.edges(data=True)}
    if set(g_edges) != set(x_edges):
        only_g = [sorted(e) for e in list(set(g_edges) - set(x_edges))[:5]]
        only_x = [sorted(e) for e in list(set(x_edges) - set(g_edges))[:5]]
        problems.append(f"edge sets differ: only in GraphML {only_g}, only in GEXF {only_x}")
    worst = 0.0
    for key in set(g_edges) & set(x_edges):
        a, b = g_edges[key], x_edges[key]
        if a is None or b is None:
            problems.append(f"edge {sorted(key)} has no weight (GraphML {a}, GEXF {b})")
            break
        worst = max(worst, abs(float(a) - float(b)))
    if worst > 0:
        problems.append(f"edge weights differ by up to {worst}")
    attribute_mismatches = []
    for node in set(g.nodes) & set(gexf.nodes):
        a, b = node_attrs(g.nodes[node]), node_attrs(gexf.nodes[node])
        if a != b:
            attribute_mismatches.append(f"{node}: GraphML {a} vs GEXF {b}")
    if attribute_mismatches:
        problems.append(f"{len(attribute_mismatches)} nodes' attributes differ, e.g. {attribute_mismatches[0]}")
    missing = [node for node in g.nodes if not g.nodes[node].get("label") or not g.nodes[node].get("kind")]
    if missing:
        problems.append(f"{len(missing)} GraphML nodes lack label or kind, e.g. {missing[0]}")
    bad_weight = [(u, v) for u, v, d in g.edges(data=True) if not isinstance(d.get("weight"), float)]
    if bad_weight:
        problems.append(f"{len(bad_weight)} GraphML edges have no double weight, e.g. {bad_weight[0]}")
    report.add(Row("graphml = gexf", case.name, n, m, fmt(worst), not problems, "; ".join(problems)))


def compare_graphql_graph(case: Case, g: nx.Graph, data: dict[str, Any], report: Report, n: int, m: int) -> None:
    problems: list[str] = []
    if data.get("nodeCount") != g.number_of_nodes():
        problems.append(f"nodeCount {data.get('nodeCount')} vs GraphML {g.number_of_nodes()}")
    if data.get("edgeCount") != g.number_of_edges():
        problems.append(f"edgeCount {data.get('edgeCount')} vs GraphML {g.number_of_edges()}")
    nodes = {node["key"]: node for node in data.get("nodes") or []}
    if set(nodes) != set(g.nodes):
        problems.append(f"GraphQL nodes differ from GraphML's: {len(set(nodes) ^ set(g.nodes))} keys")
    else:
        for key, node in nodes.items():
            ours = {name: node.get(name) for name in NODE_ATTRIBUTES}
            theirs = node_attrs(g.nodes[key])
            if ours != theirs:
                problems.append(f"node {key}: GraphQL {ours} vs GraphML {theirs}")
                break
    edges = {edge_key(e["source"]["key"], e["target"]["key"]): e for e in data.get("edges") or []}
    if len(edges) != len(data.get("edges") or []):
        problems.append("GraphQL lists an edge twice")
    if set(edges) != {edge_key(u, v) for u, v in g.edges}:
        problems.append("GraphQL edges differ from GraphML's")
    else:
        for key, edge in edges.items():
            u, v = sorted(key) if len(key) == 2 else (next(iter(key)),) * 2
            d = g.edges[u, v]
            if float(edge["weight"]) != d.get("weight") or edge["crossBorder"] != d.get("crossBorder"):
                problems.append(
                    f"edge {u}–{v}: GraphQL weight {edge['weight']} crossBorder {edge['crossBorder']} "
                    f"vs GraphML {d.get('weight')} {d.get('crossBorder')}"
                )
                break
    report.add(Row("graphql nodes/edges", case.name, n, m, "-", not problems, "; ".join(problems)))


# ---------------------------------------------------------------------------------------------
# The GraphQL request

SCORE = "{ node { key } score rank }"
ANALYSES: dict[str, str] = {
    "degree": f"degree {SCORE}",
    "weightedDegree": f"weightedDegree: degree(weighted: true) {SCORE}",
    "betweenness": f"betweenness {SCORE}",
    "closeness": f"closeness {SCORE}",
    "pagerank": f"pagerank {SCORE}",
    "eigenvector": f"eigenvector {SCORE}",
    "brokers": f"brokers {SCORE}",
    "components": "components { size nodes { key } }",
    "componentCount": "componentCount",
    "bridges": "bridges { source { key } target { key } }",
    "articulationPoints": "articulationPoints { key }",
    "communities": "communities(seed: 0) { modularity count communities { size nodes { key } } }",
    "graphml": "graphml: export(format: GRAPHML)",
}
BASE_FIELDS = (
    "nodeCount edgeCount nodes { key label kind country region organisations } "
    "edges { source { key } target { key } weight crossBorder }"
)


def graphql_network(server: Server, case: Case) -> tuple[dict[str, Any], dict[str, str], int]:
    """All analyses in one request. A field that errors nulls the whole `network` (its fields are
    non-null), so on errors the failing fields are noted and the request repeated without them."""
    fields = dict(ANALYSES)
    errors: dict[str, str] = {}
    requests = 0
    while True:
        query = f"{{ network({case.graphql_args()}) {{ {BASE_FIELDS} {' '.join(fields.values())} }} }}"
        requests += 1
        response = server.graphql(query)
        found = response.get("errors") or []
        data = (response.get("data") or {}).get("network")
        if not found and data is not None:
            return data, errors, requests
        progressed = False
        for error in found:
            path = error.get("path") or []
            name = path[1] if len(path) > 1 and path[0] == "network" else None
            if name in fields:
                code = (error.get("extensions") or {}).get("code", "")
                errors[name] = f"{code + ': ' if code else ''}{error.get('message')}"
                del fields[name]
                progressed = True
        if not progressed:
            raise RuntimeError(f"GraphQL network({case.graphql_args()}) failed: {json.dumps(found)[:3000]}")


# ---------------------------------------------------------------------------------------------
# NetworkX side


def timed(report: Report, graph: str, name: str, compute: Callable[[], Any]) -> tuple[Any, BaseException | None]:
    start = time.perf_counter()
    try:
        value, failure = compute(), None
    except Exception as error:  # NetworkX refusing (e.g. no convergence) is reported, not fatal
        value, failure = None, error
    report.time(graph, name, time.perf_counter() - start)
    return value, failure


def brokers_nx(g: nx.Graph) -> dict[str, float]:
    countries: dict[str, list[str]] = {}
    for node, data in g.nodes(data=True):
        if data.get("country"):
            countries.setdefault(data["country"], []).append(node)
    scores = dict.fromkeys(g.nodes, 0.0)
    for country, members in countries.items():
        targets = [node for c, nodes in countries.items() if c != country for node in nodes]
        if not targets:
            continue
        part = nx.betweenness_centrality_subset(g, sources=members, targets=targets, normalized=False)
        for node, value in part.items():
            scores[node] += value
    return scores


def explain(error: BaseException) -> str:
    """`Type: message`; NetworkX's convergence errors carry themselves as their first argument."""
    message = error.args[-1] if isinstance(error, nx.NetworkXException) and error.args else error
    return f"{type(error).__name__}: {message}"


def score_map(items: list[dict[str, Any]]) -> tuple[dict[str, float], str]:
    """Scores by node key, and a complaint when ranks are not 1..n by non-increasing score."""
    scores = {item["node"]["key"]: float(item["score"]) for item in items}
    problem = ""
    if len(scores) != len(items):
        problem = "a node is listed twice"
    elif [item["rank"] for item in items] != list(range(1, len(items) + 1)):
        problem = "ranks are not 1..n in order"
    elif any(items[i]["score"] < items[i + 1]["score"] for i in range(len(items) - 1)):
        problem = "scores are not in non-increasing rank order"
    return scores, problem


def compare_scores(
    report: Report, case: Case, name: str, g: nx.Graph, ours: list[dict[str, Any]] | None, our_error: str | None,
    theirs: dict[str, float] | None, their_error: BaseException | None, tolerance: float, n: int, m: int,
) -> None:
    if their_error is not None or our_error is not None:
        nx_text = f"NetworkX raised {explain(their_error)}" if their_error else "NetworkX returned values"
        our_text = f"ours returned an error ({our_error})" if our_error else "ours returned values"
        both = their_error is not None and our_error is not None
        report.add(Row(name, case.name, n, m, "-", both, f"{nx_text}; {our_text}"))
        if both:
            report.info.append(f"{case.name} {name}: both refuse — {nx_text}; {our_text}")
        return
    assert ours is not None and theirs is not None
    scores, rank_problem = score_map(ours)
    problems = []
    if set(scores) != set(theirs):
        problems.append(f"node sets differ ({len(set(scores) ^ set(theirs))} keys)")
    common = set(scores) & set(theirs)
    worst_node, worst = None, 0.0
    for node in common:
        diff = abs(scores[node] - float(theirs[node]))
        if math.isnan(diff) or diff > worst:
            worst_node, worst = node, (math.inf if math.isnan(diff) else diff)
    if worst > tolerance:
        degree = g.degree(worst_node)
        problems.append(
            f"worst node {worst_node} (degree {degree}, country {g.nodes[worst_node].get('country')}): "
            f"ours {scores[worst_node]!r} vs NetworkX {float(theirs[worst_node])!r}; "
            f"{sum(abs(scores[k] - float(theirs[k])) > tolerance for k in common)} nodes beyond {tolerance:g}"
        )
    if rank_problem:
        problems.append(rank_problem)
    report.add(Row(name, case.name, n, m, fmt(worst), not problems, "; ".join(problems)))


def compare_sets(report: Report, case: Case, name: str, ours: set[Any] | None, our_error: str | None,
                 theirs: set[Any] | None, their_error: BaseException | None, n: int, m: int, extra: str = "") -> None:
    if their_error is not None or our_error is not None:
        nx_text = f"NetworkX raised {explain(their_error)}" if their_error else "NetworkX returned a value"
        our_text = f"ours returned an error ({our_error})" if our_error else "ours returned a value"
        report.add(Row(name, case.name, n, m, "-", False, f"{nx_text}; {our_text}"))
        return
    assert ours is not None and theirs is not None
    problems = []
    if ours != theirs:
        def show(items: set[Any]) -> list[Any]:
            return sorted((sorted(x) if isinstance(x, frozenset) else x for x in items), key=str)[:5]
        problems.append(
            f"{len(ours - theirs)} only ours {show(ours - theirs)}, {len(theirs - ours)} only NetworkX {show(theirs - ours)}"
        )
    if extra:
        problems.append(extra)
    report.add(Row(name, case.name, n, m, f"{len(ours ^ theirs)} differ", not problems, "; ".join(problems)))


def check_case(server: Server, case: Case, report: Report, workdir: str) -> None:
    progress(f"  {case.name}: {case.describe()}")
    params = case.http_params()
    graphml_text = server.get("/export/network.graphml", params)
    gexf_text = server.get("/export/network.gexf", params)
    base = os.path.join(workdir, case.name)
    for suffix, text in (("graphml", graphml_text), ("gexf", gexf_text)):
        with open(f"{base}.{suffix}", "w", encoding="utf-8") as file:
            file.write(text)
    g = nx.read_graphml(f"{base}.graphml")
    gexf = nx.read_gexf(f"{base}.gexf")
    if g.is_directed() or g.is_multigraph():
        raise RuntimeError(f"{case.name}: the GraphML is not a simple undirected graph ({type(g).__name__})")
    n, m = g.number_of_nodes(), g.number_of_edges()
    progress(f"    GraphML: {n} nodes, {m} edges; GEXF: {gexf.number_of_nodes()} nodes, {gexf.number_of_edges()} edges")
    compare_exports(case, g, gexf, report, n, m)

    started = time.perf_counter()
    data, errors, requests = graphql_network(server, case)
    progress(f"    GraphQL: all analyses in {time.perf_counter() - started:.2f} s ({requests} request{'s' if requests > 1 else ''})")
    for name, message in errors.items():
        progress(f"    GraphQL error on {name}: {message}")

    compare_graphql_graph(case, g, data, report, n, m)
    if "graphml" in data:
        same = data["graphml"] == graphml_text
        detail = "" if same else f"GraphQL export {len(data['graphml'])} chars vs HTTP {len(graphml_text)} chars"
        report.add(Row("export = download", case.name, n, m, "-" if same else "differs", same, detail))
    else:
        report.add(Row("export = download", case.name, n, m, "-", False, f"GraphQL export failed: {errors.get('graphml')}"))

    def ours(name: str) -> tuple[Any, str | None]:
        return data.get(name), errors.get(name)

    graph = case.name
    exact = 0.0
    value, failure = timed(report, graph, "degree", lambda: {k: float(d) for k, d in g.degree()})
    compare_scores(report, case, "degree", g, *ours("degree"), value, failure, exact, n, m)
    value, failure = timed(report, graph, "weighted degree", lambda: {k: float(d) for k, d in g.degree(weight="weight")})
    compare_scores(report, case, "weighted degree", g, *ours("weightedDegree"), value, failure, exact, n, m)
    value, failure = timed(report, graph, "betweenness", lambda: nx.betweenness_centrality(g))
    compare_scores(report, case, "betweenness", g, *ours("betweenness"), value, failure, TOLERANCE, n, m)
    value, failure = timed(report, graph, "closeness", lambda: nx.closeness_centrality(g))
    compare_scores(report, case, "closeness", g, *ours("closeness"), value, failure, TOLERANCE, n, m)
    value, failure = timed(report, graph, "pagerank", lambda: nx.pagerank(g, alpha=0.85, weight="weight"))
    compare_scores(report, case, "pagerank", g, *ours("pagerank"), value, failure, TOLERANCE, n, m)
    value, failure = timed(
        report, graph, "eigenvector", lambda: nx.eigenvector_centrality(g, max_iter=100, tol=1e-6, weight=None)
    )
    compare_scores(report, case, "eigenvector", g, *ours("eigenvector"), value, failure, TOLERANCE, n, m)
    value, failure = timed(report, graph, "brokers", lambda: brokers_nx(g))
    compare_scores(report, case, "brokers", g, *ours("brokers"), value, failure, TOLERANCE, n, m)

    # Components: sets of nodes; also the count, sizes and largest-first order.
    value, failure = timed(report, graph, "components", lambda: {frozenset(c) for c in nx.connected_components(g)})
    our_components, our_error = ours("components")
    our_set, extra = None, []
    if our_components is not None:
        groups = [frozenset(node["key"] for node in c["nodes"]) for c in our_components]
        our_set = set(groups)
        if any(c["size"] != len(c["nodes"]) for c in our_components):
            extra.append("a component's size is not its node count")
        if any(len(a) < len(b) for a, b in zip(groups, groups[1:])):
            extra.append("components are not largest first")
        count = data.get("componentCount")
        if count != len(our_components):
            extra.append(f"componentCount {count} vs {len(our_components)} components listed")
    compare_sets(report, case, "components", our_set, our_error, value, failure, n, m, "; ".join(extra))

    value, failure = timed(report, graph, "bridges", lambda: {edge_key(u, v) for u, v in nx.bridges(g)})
    our_bridges, our_error = ours("bridges")
    our_set = None if our_bridges is None else {edge_key(b["source"]["key"], b["target"]["key"]) for b in our_bridges}
    compare_sets(report, case, "bridges", our_set, our_error, value, failure, n, m)

    value, failure = timed(report, graph, "articulation points", lambda: set(nx.articulation_points(g)))
    our_points, our_error = ours("articulationPoints")
    our_set = None if our_points is None else {p["key"] for p in our_points}
    compare_sets(report, case, "articulation points", our_set, our_error, value, failure, n, m)

    check_communities(report, case, g, *ours("communities"), n, m)


def check_communities(report: Report, case: Case, g: nx.Graph, ours: dict[str, Any] | None, our_error: str | None,
                      n: int, m: int) -> None:
    if our_error is not None or ours is None:
        report.add(Row("communities", case.name, n, m, "-", False, f"ours returned an error ({our_error})"))
        return
    groups = [[node["key"] for node in c["nodes"]] for c in ours["communities"]]
    problems = []
    seen: dict[str, int] = {}
    for members in groups:
        for key in members:
            seen[key] = seen.get(key, 0) + 1
    twice = [k for k, c in seen.items() if c > 1]
    missing = [k for k in g.nodes if k not in seen]
    strangers = [k for k in seen if k not in g]
    if twice:
        problems.append(f"{len(twice)} nodes in more than one community, e.g. {twice[0]}")
    if missing:
        problems.append(f"{len(missing)} nodes in no community, e.g. {missing[0]}")
    if strangers:
        problems.append(f"{len(strangers)} unknown nodes, e.g. {strangers[0]}")
    if any(not members for members in groups):
        problems.append("an empty community")
    if ours["count"] != len(groups):
        problems.append(f"count {ours['count']} vs {len(groups)} communities listed")
    if any(c["size"] != len(c["nodes"]) for c in ours["communities"]):
        problems.append("a community's size is not its node count")
    diff: float | None = None
    ours_q = float(ours["modularity"])
    start = time.perf_counter()
    if not problems:
        try:
            theirs_q = nx.community.modularity(g, [set(c) for c in groups if c], weight="weight")
            diff = abs(ours_q - theirs_q)
            if diff > MODULARITY_TOLERANCE:
                problems.append(f"reported modularity {ours_q!r} vs nx.community.modularity {theirs_q!r}")
        except ZeroDivisionError:
            theirs_q = None
            if g.number_of_edges() != 0:
                raise
            report.info.append(f"{case.name} communities: no edges, NetworkX modularity undefined (ours {ours_q!r})")
        except Exception as error:  # noqa: BLE001 - reported
            problems.append(f"nx.community.modularity raised {explain(error)}")
    report.time(case.name, "modularity", time.perf_counter() - start)
    report.add(Row("communities", case.name, n, m, fmt(diff), not problems, "; ".join(problems)))

    louvain, failure = timed(report, case.name, "louvain (info)", lambda: nx.community.louvain_communities(g, weight="weight", seed=0))
    if failure is None and g.number_of_edges() > 0:
        q = nx.community.modularity(g, louvain, weight="weight")
        report.info.append(
            f"{case.name} louvain: ours modularity {ours_q:.6f} in {len(groups)} communities; "
            f"NetworkX louvain_communities(seed=0) {q:.6f} in {len(louvain)} communities"
        )
    elif failure is not None:
        report.info.append(f"{case.name} louvain: NetworkX raised {explain(failure)}")


# ---------------------------------------------------------------------------------------------


def main() -> int:
    target = os.environ.get("CARGO_TARGET_DIR") or "/var/tmp/samverka-target"
    parser = argparse.ArgumentParser(description="Check the server's network analyses and exports against NetworkX.")
    parser.add_argument("--bin", default=os.path.join(target, "debug", "samverka"),
                        help="server binary (default: ${CARGO_TARGET_DIR:-/var/tmp/samverka-target}/debug/samverka)")
    parser.add_argument("--workdir", help="where the databases, logs and downloads go (default: a new temporary directory, removed afterwards)")
    parser.add_argument("--networks", help=f"comma-separated cases to run (default: {','.join(DEFAULT_CASES)}; see --list)")
    parser.add_argument("--list", action="store_true", help="list the network cases and exit")
    args = parser.parse_args()

    if args.list:
        for case in CASES:
            print(f"{case.name:<20} {case.describe()}{'  (default)' if case.name in DEFAULT_CASES else ''}")
        return 0
    names = [n.strip() for n in (args.networks or ",".join(DEFAULT_CASES)).split(",") if n.strip()]
    by_name = {case.name: case for case in CASES}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        parser.error(f"unknown network case(s) {unknown}; known: {', '.join(by_name)}")
    cases = [by_name[n] for n in names]
    binary = os.path.abspath(args.bin)
    if not os.access(binary, os.X_OK):
        parser.error(f"no server binary at {binary} (build it, or pass --bin)")

    own_workdir = args.workdir is None
    workdir = tempfile.mkdtemp(prefix="networkx-check-") if own_workdir else os.path.abspath(args.workdir)
    os.makedirs(workdir, exist_ok=True)
    started = time.perf_counter()
    progress(f"networkx-check: networkx {nx.__version__}, binary {binary}, workdir {workdir}")

    report = Report()
    servers: dict[str, Server] = {}

    def on_signal(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_signal)
    try:
        for kind in dict.fromkeys(case.server for case in cases):
            db = os.path.join(workdir, f"{kind}.db")
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(db + suffix):
                    os.remove(db + suffix)
            if kind == "small":
                progress("seeding small…")
                t = time.perf_counter()
                run_cli(binary, ["seed", "--synthetic", "--scale", "small", "--quiet", "--sqlite-path", db], workdir)
                progress(f"  seeded in {time.perf_counter() - t:.1f} s")
            progress(f"starting {kind} server…")
            server = Server(kind, binary, workdir, db, demo=(kind == "demo"))
            servers[kind] = server
            server.start()
            progress(f"  {kind} server ready on {server.base}")
        dead: set[str] = set()
        for case in cases:
            server = servers[case.server]
            if server.name in dead:
                report.add(Row("(case)", case.name, "?", "?", "-", False, f"skipped: the {server.name} server died"))
                continue
            progress(f"checking {case.name}…")
            try:
                check_case(server, case, report, workdir)
            except Exception as error:  # noqa: BLE001 - one broken case does not hide the others
                report.add(Row("(case)", case.name, "?", "?", "-", False, f"{type(error).__name__}: {error}"))
                if server.process is None or server.process.poll() is not None:
                    progress(f"  the {server.name} server died; log:\n{server.log_tail()}")
                    dead.add(server.name)
    except Exception as error:  # noqa: BLE001
        report.add(Row("(setup)", "-", "-", "-", "-", False, f"{type(error).__name__}: {error}"))
    except KeyboardInterrupt as interrupt:
        for server in servers.values():
            server.stop()
        if own_workdir:
            shutil.rmtree(workdir, ignore_errors=True)
        progress(f"networkx-check: interrupted ({interrupt or 'SIGINT'}); servers stopped")
        return 130
    finally:
        for server in servers.values():
            server.stop()

    report.print()
    failures = sum(not r.ok for r in report.rows)
    if own_workdir and not failures:
        shutil.rmtree(workdir, ignore_errors=True)
    elapsed = time.perf_counter() - started
    print(
        f"\nnetworkx-check: {len(report.rows) - failures} passed, {failures} failed "
        f"({len(cases)} networks, networkx {nx.__version__}, {elapsed:.1f} s)"
    )
    if failures and own_workdir:
        print(f"(server logs and downloaded files kept in {workdir})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
