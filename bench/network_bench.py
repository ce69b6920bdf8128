#!/usr/bin/env python3
"""Network analysis benchmark (issue 7): the server's analyses against NetworkX's, in one run.

For each network it (1) times every analysis in Samverka's own code, in-process, with
`samverka network --timings --json` (fastest of --repeat runs, release build), (2) exports the
same network as GraphML with `samverka network --format graphml`, loads it into NetworkX and times
the same analyses there, and (3) prints both and the ratio.

NetworkX's exact betweenness, cross-border brokers and closeness take many minutes on thousands
of nodes, so where the network is larger than --nx-sources nodes they are timed on that many
source nodes and scaled up linearly (their cost is one search per source); such rows say
"extrapolated". Everything else is timed whole.

Run through `bench/network` (which builds the release binary, loads the synthetic registries and
sets up the NetworkX venv).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from typing import Any, Callable

import networkx as nx

TARGET_RATIO = 10.0


def run(binary: str, db: str, args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, RUST_LOG="warn")
    env.pop("DATABASE_URL", None)
    command = [binary, "network", "--sqlite-path", db, *args]
    result = subprocess.run(command, env=env, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr}")
    print(result.stderr.strip(), file=sys.stderr)
    return result


def brokers_on(g: nx.Graph, sources: list[str]) -> None:
    country = nx.get_node_attributes(g, "country")
    by_country: dict[str, list[str]] = {}
    for node in sources:
        if country.get(node):
            by_country.setdefault(country[node], []).append(node)
    for code, members in by_country.items():
        targets = [v for v in g if country.get(v) and country[v] != code]
        nx.betweenness_centrality_subset(g, sources=members, targets=targets, normalized=False)


def networkx_timings(g: nx.Graph, samples: int, nx_sources: int) -> dict[str, tuple[float, str]]:
    """Seconds per analysis (and a note when extrapolated)."""
    n = g.number_of_nodes()
    rng = random.Random(0)
    nodes = list(g)
    subset = nodes if n <= nx_sources else rng.sample(nodes, nx_sources)
    scale = n / len(subset) if subset else 1.0
    note = "" if len(subset) == n else f"extrapolated from {len(subset)} sources"

    def timed(work: Callable[[], Any]) -> float:
        started = time.perf_counter()
        work()
        return time.perf_counter() - started

    results: dict[str, tuple[float, str]] = {}
    plan: list[tuple[str, Callable[[], Any], float, str]] = [
        ("degree", lambda: dict(g.degree()), 1.0, ""),
        ("weighted-degree", lambda: dict(g.degree(weight="weight")), 1.0, ""),
        (
            "betweenness",
            # NetworkX's sampled run over a subset of sources is the exact algorithm's loop cut short.
            (lambda: nx.betweenness_centrality(g, k=len(subset), seed=0)) if note else (lambda: nx.betweenness_centrality(g)),
            scale,
            note,
        ),
        ("betweenness-sampled", lambda: nx.betweenness_centrality(g, k=min(samples, n), seed=0), 1.0, ""),
        ("closeness", lambda: [nx.closeness_centrality(g, u=v) for v in subset], scale, note),
        ("pagerank", lambda: nx.pagerank(g), 1.0, ""),
        ("eigenvector", lambda: nx.eigenvector_centrality(g, max_iter=100, tol=1e-6), 1.0, ""),
        ("components", lambda: list(nx.connected_components(g)), 1.0, ""),
        ("bridges", lambda: list(nx.bridges(g)), 1.0, ""),
        ("articulation-points", lambda: list(nx.articulation_points(g)), 1.0, ""),
        ("brokers", lambda: brokers_on(g, subset), scale, note),
        ("communities", lambda: nx.community.louvain_communities(g, seed=0), 1.0, ""),
    ]
    for name, work, factor, why in plan:
        print(f"  networkx: {name} …", file=sys.stderr, flush=True)
        results[name] = (timed(work) * factor, why)
    return results


def bench_network(binary: str, db: str, label: str, network_args: list[str], repeat: int, samples: int,
                  nx_sources: int, with_networkx: bool, only: list[str] | None = None) -> bool:
    print(f"\n## {label}: samverka network {' '.join(network_args)}", flush=True)
    selection = ["--only", ",".join(only)] if only else []
    ours = json.loads(
        run(binary, db, [*network_args, "--timings", "--json", "--repeat", str(repeat), "--samples", str(samples),
                         *selection]).stdout
    )
    print(f"{ours['nodes']} nodes, {ours['edges']} edges; selected in {ours['select_s']:.2f} s, built in {ours['build_s']:.2f} s")
    theirs: dict[str, tuple[float, str]] = {}
    if with_networkx:
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "network.graphml")
            run(binary, db, [*network_args, "--format", "graphml", "--output", path])
            started = time.perf_counter()
            g = nx.read_graphml(path)
            print(f"NetworkX {nx.__version__} read the GraphML in {time.perf_counter() - started:.1f} s", flush=True)
            theirs = networkx_timings(g, samples, nx_sources)
    ok = True
    print(f"{'analysis':<28} {'samverka s':>11} {'networkx s':>11} {'ratio':>8}  note")
    for name, seconds in ours["analyses"].items():
        if only and name not in only:
            continue
        if name in theirs:
            nx_seconds, note = theirs[name]
            ratio = nx_seconds / max(seconds, 1e-6)
            flag = "" if ratio >= TARGET_RATIO else "  BELOW 10x"
            ok &= ratio >= TARGET_RATIO
            print(f"{name:<28} {seconds:>11.4f} {nx_seconds:>11.3f} {ratio:>7.0f}x  {note}{flag}")
        else:
            print(f"{name:<28} {seconds:>11.4f} {'-':>11} {'-':>8}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", required=True, help="release samverka binary")
    parser.add_argument("--medium", required=True, help="SQLite file holding the medium synthetic registry")
    parser.add_argument("--large", help="SQLite file holding the large synthetic registry (sampled betweenness)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--samples", type=int, default=256)
    parser.add_argument("--nx-sources", type=int, default=200)
    args = parser.parse_args()

    ok = bench_network(args.bin, args.medium, "medium, organisations, partnerships + collaborations", [],
                       args.repeat, args.samples, args.nx_sources, True)
    # A network of more than 5 000 organisations: the ties active in one year (2021) of medium,
    # the question an analyst asks of a period. Exact betweenness is the target here (< 2 s).
    bench_network(args.bin, args.medium, "medium, ties active in 2021 (5 000-node target)",
                  ["--from", "2021-01-01", "--to", "2021-12-31"], args.repeat, args.samples, args.nx_sources, False,
                  only=["betweenness", "betweenness-sampled", "closeness", "brokers"])
    if args.large:
        bench_network(args.bin, args.large, "large, organisations, partnerships + collaborations", [],
                      1, args.samples, args.nx_sources, False,
                      only=["betweenness-sampled", "pagerank", "components", "communities"])
    print("\nall analyses at least 10x faster than NetworkX" if ok else "\nsome analyses are below 10x (marked)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
