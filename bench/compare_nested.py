#!/usr/bin/env python3
"""Checks that Samverka and a PostGraphile peer (4 or 5) returned the same data for the nested read.

    python3 bench/compare_nested.py OURS.json POSTGRAPHILE.json

Both responses are normalised into one shape, a tree of

    {"count": <total count>, "items": [{"slug", "name", "children": <same shape or None>}, ...]}

so the field layout of each server does not matter, only the data: Samverka gives a level as a
list with its count on the parent (`municipalities` + `municipalityCount`) or as a connection
(`{totalCount, nodes}`); PostGraphile 4 and 5 give connections (bench/postgraphile/nested.graphql
and bench/postgraphile5/nested.graphql alias them to Samverka's field names). Exits 0 when the
trees are equal, 1 with the first difference otherwise (2 on unusable input).
"""

import json
import sys

LEVELS = ["regions", "municipalities", "organisations", "projects"]


class Unusable(Exception):
    pass


def load(path):
    with open(path, encoding="utf-8") as file:
        body = json.load(file)
    if body.get("errors"):
        raise Unusable(f"{path}: the response has errors: {json.dumps(body['errors'])[:2000]}")
    data = body.get("data")
    if not isinstance(data, dict) or "regions" not in data:
        raise Unusable(f"{path}: no data.regions in the response")
    return data


def level(value, sibling_count, where):
    """A level given as a connection ({totalCount, nodes|edges}) or as a bare list."""
    if isinstance(value, dict):
        if "nodes" in value:
            items = value["nodes"]
        elif "edges" in value:
            items = [edge["node"] for edge in value["edges"]]
        else:
            raise Unusable(f"{where}: a connection without nodes or edges")
        count = value.get("totalCount", sibling_count)
    elif isinstance(value, list):
        items, count = value, sibling_count
    else:
        raise Unusable(f"{where}: expected a list or a connection, got {type(value).__name__}")
    return count, items


def normalise(value, depth, sibling_count, where):
    count, items = level(value, sibling_count, where)
    out = {"count": count, "items": []}
    for index, node in enumerate(items):
        here = f"{where}[{index}]"
        child = None
        if depth + 1 < len(LEVELS):
            name = LEVELS[depth + 1]
            if name not in node:
                raise Unusable(f"{here}: no field {name!r} (fields: {sorted(node)})")
            # The count of a list level sits next to it, e.g. `municipalityCount`.
            counts = [v for k, v in node.items() if k.endswith("Count") and k != "totalCount"]
            sibling = counts[0] if len(counts) == 1 else None
            child = normalise(node[name], depth + 1, sibling, f"{here}.{name}")
        out["items"].append({"slug": node.get("slug"), "name": node.get("name"), "children": child})
    return out


def first_difference(a, b, where="regions"):
    if a["count"] != b["count"]:
        return f"{where}: total count {a['count']!r} (Samverka) vs {b['count']!r} (PostGraphile)"
    if len(a["items"]) != len(b["items"]):
        return f"{where}: {len(a['items'])} items (Samverka) vs {len(b['items'])} (PostGraphile)"
    for index, (x, y) in enumerate(zip(a["items"], b["items"])):
        here = f"{where}[{index}]"
        for key in ("slug", "name"):
            if x[key] != y[key]:
                return f"{here}.{key}: {x[key]!r} (Samverka) vs {y[key]!r} (PostGraphile)"
        if (x["children"] is None) != (y["children"] is None):
            return f"{here}: children on one side only"
        if x["children"] is not None:
            depth = where.count(".") + 1
            found = first_difference(x["children"], y["children"], f"{here}.{LEVELS[depth]}")
            if found:
                return found
    return None


def tally(tree, depth=0, totals=None):
    totals = totals if totals is not None else [0] * len(LEVELS)
    totals[depth] += len(tree["items"])
    for item in tree["items"]:
        if item["children"] is not None:
            tally(item["children"], depth + 1, totals)
    return totals


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        ours = normalise(load(argv[1])["regions"], 0, None, "regions")
        theirs = normalise(load(argv[2])["regions"], 0, None, "regions")
    except (Unusable, OSError, ValueError, KeyError, TypeError) as error:
        print(f"compare_nested: cannot compare: {error}", file=sys.stderr)
        return 2
    difference = first_difference(ours, theirs)
    if difference:
        print(f"compare_nested: the responses differ; first difference: {difference}", file=sys.stderr)
        return 1
    counts = ", ".join(f"{n} {name}" for n, name in zip(tally(ours), LEVELS))
    print(f"same data: {counts} (names, slugs, order and every count match)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
