#!/usr/bin/env python3
"""Checks that Samverka and PostGraphile 5 (with @graphile/pg-aggregates) returned the same
groups for the partnerships-by-fylke/län×year question.

    python3 bench/compare_groupby.py OURS.json PEER.json

OURS.json is Samverka's answer to bench/queries/groupby.graphql:

    {"data": {"partnershipAggregate": {"rows": [
        {"keys": {"region": {"slug": ...} | null, "year": 2021 | null},
         "count": ..., "projects": ..., "organisations": ...}, ...]}}}

PEER.json is PostGraphile 5's answer to bench/postgraphile5/groupby.graphql:

    {"data": {"partnershipRows": {"groupedAggregates": [
        {"keys": ["<region slug>" | null, "2021" | null],
         "sum": {"partnerships": "..."},
         "distinctCount": {"projectId": "...", "organisationId": "..."}}, ...]}}}

(pg-aggregates gives keys as strings and bigint aggregates as strings; groups come unordered.)
Both are normalised into {(region_slug, year): (count, projects, organisations)}, so order and
number formats do not matter, only the data. Exits 0 when the maps are equal, 1 with the first
difference otherwise (in key order, null keys first), 2 on unusable input.
"""

import json
import sys


class Unusable(Exception):
    pass


def load(path):
    with open(path, encoding="utf-8") as file:
        body = json.load(file)
    if not isinstance(body, dict):
        raise Unusable(f"{path}: not a GraphQL response object")
    if body.get("errors"):
        raise Unusable(f"{path}: the response has errors: {json.dumps(body['errors'])[:2000]}")
    data = body.get("data")
    if not isinstance(data, dict) or len(data) != 1:
        raise Unusable(f"{path}: expected data with one root field, got {sorted(data) if isinstance(data, dict) else data!r}")
    return next(iter(data.values()))


def number(value, where):
    """An integer given as a JSON number or as a string of digits (GraphQL BigInt)."""
    if isinstance(value, bool):
        raise Unusable(f"{where}: expected a count, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    raise Unusable(f"{where}: expected a count, got {value!r}")


def year(value, where):
    return None if value is None else number(value, where)


def put(groups, key, values, where):
    if key in groups:
        raise Unusable(f"{where}: group {key!r} appears twice")
    groups[key] = values


def ours(root, path):
    if not isinstance(root, dict) or not isinstance(root.get("rows"), list):
        raise Unusable(f"{path}: no partnershipAggregate.rows list")
    groups = {}
    for index, row in enumerate(root["rows"]):
        where = f"{path}: rows[{index}]"
        keys = row.get("keys")
        if not isinstance(keys, dict) or "region" not in keys or "year" not in keys:
            raise Unusable(f"{where}: keys without region and year: {keys!r}")
        region = keys["region"]
        if region is not None and not isinstance(region, dict):
            raise Unusable(f"{where}: region is not an object: {region!r}")
        slug = None if region is None else region.get("slug")
        values = tuple(number(row.get(name), f"{where}.{name}") for name in ("count", "projects", "organisations"))
        put(groups, (slug, year(keys["year"], f"{where}.keys.year")), values, where)
    return groups


def peer(root, path):
    if not isinstance(root, dict) or not isinstance(root.get("groupedAggregates"), list):
        raise Unusable(f"{path}: no groupedAggregates list under the root field")
    groups = {}
    for index, group in enumerate(root["groupedAggregates"]):
        where = f"{path}: groupedAggregates[{index}]"
        keys = group.get("keys")
        if not isinstance(keys, list) or len(keys) != 2:
            raise Unusable(f"{where}: expected keys [region slug, year], got {keys!r}")
        try:
            count = group["sum"]["partnerships"]
            projects = group["distinctCount"]["projectId"]
            organisations = group["distinctCount"]["organisationId"]
        except (KeyError, TypeError):
            raise Unusable(f"{where}: needs sum.partnerships and distinctCount.projectId/organisationId") from None
        values = (
            number(count, f"{where}.sum.partnerships"),
            number(projects, f"{where}.distinctCount.projectId"),
            number(organisations, f"{where}.distinctCount.organisationId"),
        )
        put(groups, (keys[0], year(keys[1], f"{where}.keys[1]")), values, where)
    return groups


def order(key):
    slug, year_ = key
    return (slug is not None, slug or "", year_ is not None, year_ or 0)


def describe(key):
    slug, year_ = key
    return f"region {slug if slug is not None else 'null'}, year {year_ if year_ is not None else 'null'}"


def first_difference(a, b):
    names = ("count", "projects", "organisations")
    for key in sorted(set(a) | set(b), key=order):
        if key not in b:
            return f"{describe(key)}: only in Samverka's answer {dict(zip(names, a[key]))}"
        if key not in a:
            return f"{describe(key)}: only in PostGraphile's answer {dict(zip(names, b[key]))}"
        for name, x, y in zip(names, a[key], b[key]):
            if x != y:
                return f"{describe(key)}: {name} {x} (Samverka) vs {y} (PostGraphile)"
    return None


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        mine = ours(load(argv[1]), argv[1])
        theirs = peer(load(argv[2]), argv[2])
    except (Unusable, OSError, ValueError) as error:
        print(f"compare_groupby: cannot compare: {error}", file=sys.stderr)
        return 2
    difference = first_difference(mine, theirs)
    if difference:
        print(f"compare_groupby: the responses differ; first difference: {difference}", file=sys.stderr)
        return 1
    regions = {slug for slug, _ in mine}
    years = {year_ for _, year_ in mine}
    partner_rows = sum(values[0] for values in mine.values())
    print(
        f"same numbers: {len(mine)} groups over {len(regions - {None})} regions"
        f"{' and no region' if None in regions else ''} × {len(years - {None})} years"
        f"{' and no year' if None in years else ''}, {partner_rows} partner rows in all "
        f"(count, projects and organisations of every group match)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
