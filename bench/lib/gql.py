#!/usr/bin/env python3
"""Small JSON helpers for bench/run (python3 standard library only).

    gql.py body QUERY_FILE OUT_FILE [PLACEHOLDER=VALUE ...]   write {"query": ...} to OUT_FILE
    gql.py check RESPONSE_FILE LABEL                           exit 1 unless data without errors
    gql.py slugs RESPONSE_FILE                                 data.regions.nodes[].slug as a JSON list
    gql.py marker SQLITE_FILE KEY                              1 if sources holds KEY, else 0
    gql.py rss PID                                             "VmRSS_kB VmHWM_kB" of PID and its children
"""

import json
import sqlite3
import sys


def body(query_file, out_file, *substitutions):
    with open(query_file, encoding="utf-8") as file:
        query = file.read()
    for substitution in substitutions:
        placeholder, value = substitution.split("=", 1)
        if placeholder not in query:
            sys.exit(f"gql.py: {query_file} has no {placeholder}")
        query = query.replace(placeholder, value)
    # Comment lines are for readers of the file, not for the server.
    query = "\n".join(line for line in query.splitlines() if not line.lstrip().startswith("#")).strip()
    with open(out_file, "w", encoding="utf-8") as file:
        json.dump({"query": query}, file)


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


COMMANDS = {"body": body, "check": check, "slugs": slugs, "marker": marker, "rss": rss}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(__doc__)
    COMMANDS[sys.argv[1]](*sys.argv[2:])
