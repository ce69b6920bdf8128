#!/usr/bin/env python3
"""Small JSON helpers for bench/run (python3 standard library only).

    gql.py body QUERY_FILE OUT_FILE [PLACEHOLDER=VALUE ...] [--var NAME=STRING ...]
                                                               write {"query": ...} to OUT_FILE, with
                                                               "variables" {NAME: STRING} when --var
    gql.py cursor URL ROWS                                     the endCursor of row ROWS of
                                                               organisations in the default order
    gql.py check RESPONSE_FILE LABEL                           exit 1 unless data without errors
    gql.py slugs RESPONSE_FILE                                 data.regions.nodes[].slug as a JSON list
    gql.py marker SQLITE_FILE KEY                              1 if sources holds KEY, else 0
    gql.py rss PID                                             "VmRSS_kB VmHWM_kB" of PID and its children
"""

import json
import sqlite3
import sys
import urllib.error
import urllib.request


def body(query_file, out_file, *arguments):
    substitutions, variables = [], {}
    arguments = list(arguments)
    while arguments:
        argument = arguments.pop(0)
        if argument == "--var":
            if not arguments or "=" not in arguments[0]:
                sys.exit("gql.py body: --var needs NAME=STRING")
            name, value = arguments.pop(0).split("=", 1)
            variables[name] = value
        else:
            substitutions.append(argument)
    with open(query_file, encoding="utf-8") as file:
        query = file.read()
    for name in variables:
        if f"${name}" not in query:
            sys.exit(f"gql.py: {query_file} declares no ${name}")
    for substitution in substitutions:
        placeholder, value = substitution.split("=", 1)
        if placeholder not in query:
            sys.exit(f"gql.py: {query_file} has no {placeholder}")
        query = query.replace(placeholder, value)
    # Comment lines are for readers of the file, not for the server.
    query = "\n".join(line for line in query.splitlines() if not line.lstrip().startswith("#")).strip()
    request = {"query": query}
    if variables:
        request["variables"] = variables
    with open(out_file, "w", encoding="utf-8") as file:
        json.dump(request, file)


def check(response_file, label):
    with open(response_file, "rb") as file:
        raw = file.read()
    try:
        response = json.loads(raw)
    except ValueError:
        sys.exit(f"{label}: the response is not JSON: {raw[:2000]!r}")
    if not isinstance(response, dict):
        sys.exit(f"{label}: unexpected response: {raw[:2000]!r}")
    if response.get("errors"):
        sys.exit(f"{label}: GraphQL errors: {json.dumps(response['errors'], ensure_ascii=False)[:3000]}")
    if not response.get("data"):
        sys.exit(f"{label}: no data in the response: {raw[:2000]!r}")
    print(f"{len(raw)} bytes")


def slugs(response_file):
    with open(response_file, encoding="utf-8") as file:
        nodes = json.load(file)["data"]["regions"]["nodes"]
    found = [node["slug"] for node in nodes]
    if not found:
        sys.exit("gql.py: regions(first: 10) returned no regions")
    print(json.dumps(found, ensure_ascii=False))


def graphql(url, query, variables, label):
    """POSTs one GraphQL request and returns its data; exits on HTTP or GraphQL errors."""
    request = urllib.request.Request(
        url,
        data=json.dumps({"query": query, "variables": variables}).encode(),
        headers={"Content-Type": "application/json", "Accept": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:
            raw = answer.read()
    except urllib.error.HTTPError as error:
        sys.exit(f"{label}: HTTP {error.code}: {error.read()[:2000]!r}")
    except (urllib.error.URLError, OSError) as error:
        sys.exit(f"{label}: the request failed: {error}")
    try:
        response = json.loads(raw)
    except ValueError:
        sys.exit(f"{label}: the response is not JSON: {raw[:2000]!r}")
    if not isinstance(response, dict) or response.get("errors") or not response.get("data"):
        sys.exit(f"{label}: unusable response: {raw[:3000]!r}")
    return response["data"]


# The walk to a deep page of organisations: the largest page the API gives (500 rows), then the rest.
WALK_PAGE = 500
WALK_QUERY = (
    "query($first: Int!, $after: String) "
    "{ organisations(first: $first, after: $after) { pageInfo { endCursor hasNextPage } } }"
)


def cursor(url, rows):
    """Walks organisations (default order) in pages of WALK_PAGE to row ROWS and prints the
    endCursor there: `after` with that cursor asks for the rows behind row ROWS. Exits 1 when the
    list ends at or before row ROWS (no row left behind it)."""
    rows = int(rows)
    if rows < 1:
        sys.exit("gql.py cursor: ROWS must be at least 1")
    after, walked, page = None, 0, 0
    while walked < rows:
        first = min(WALK_PAGE, rows - walked)
        page += 1
        label = f"organisations walk, request {page} (first: {first}, after row {walked})"
        info = graphql(url, WALK_QUERY, {"first": first, "after": after}, label)["organisations"]["pageInfo"]
        end, more = info.get("endCursor"), info.get("hasNextPage")
        if not end or end == after:
            sys.exit(f"{label}: no rows (endCursor {end!r}): the organisations list ends at row {walked}, before row {rows + 1}")
        walked += first
        if not more:
            sys.exit(
                f"{label}: hasNextPage is false: the organisations list ends at or before row {walked}, "
                f"so there is no row {rows + 1} (a smaller registry than `large`?)"
            )
        after = end
    print(after)


def marker(sqlite_file, key):
    try:
        connection = sqlite3.connect(f"file:{sqlite_file}?mode=ro", uri=True)
        (count,) = connection.execute("SELECT COUNT(*) FROM sources WHERE key = ?", (key,)).fetchone()
    except sqlite3.Error:
        count = 0
    print(1 if count else 0)


def status_kb(pid, field):
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8") as file:
            for line in file:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss(pid):
    pids = [int(pid)]
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="utf-8") as file:
            pids += [int(child) for child in file.read().split()]
    except OSError:
        pass
    print(sum(status_kb(p, "VmRSS") for p in pids), sum(status_kb(p, "VmHWM") for p in pids))


COMMANDS = {"body": body, "check": check, "slugs": slugs, "marker": marker, "rss": rss, "cursor": cursor}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(__doc__)
    COMMANDS[sys.argv[1]](*sys.argv[2:])
