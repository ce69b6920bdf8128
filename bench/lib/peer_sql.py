#!/usr/bin/env python3
"""The SQL a peer (PostGraphile) sent for one request, read back from PostgreSQL's log.

    python3 bench/lib/peer_sql.py LOGFILE START END OUT.sql [--pids 12,34] [--label TEXT]

bench/run starts the peer with PGOPTIONS='-c log_min_duration_statement=0 -c
log_parameter_max_length=-1' (so only the peer's own sessions log every statement, with its
duration and its parameter values, and nothing has to be reset afterwards), sends the request
once to warm it up, notes the log's size (START), sends it once more and notes the size again
(END). This reads the log entries between the two offsets (PostgreSQL's stderr format: an entry
is a line and the lines after it that start with a tab):

    ... [PID] user@db LOG:  duration: 71.095 ms  execute <name>: select ...
    ... [PID] user@db DETAIL:  parameters: $1 = '[[156],[167]]', $2 = NULL

`execute` (extended protocol, named or unnamed) and `statement` (simple protocol) entries are the
statements; `parse` and `bind` entries only add to the time spent in the database. With --pids,
only entries of those backends count (the peer's pool, found by its application_name), when the
log line prefix shows the pid (Debian's default '%m [%p] %q%u@%d ' does).

OUT.sql gets the statements in the order they ran, each with its parameters written in as
literals ('...' or NULL: node-postgres sends untyped parameters, which PostgreSQL types from
their context as it does an untyped literal), each ending with `;`: a pgbench script
(`pgbench -n -M prepared -f OUT.sql`) that replays the request's SQL with nothing around it.
stdout gets one line:

    PEERSQL statements=3 db_ms=74.80 main_ms=71.10 main=2 bytes=5012

db_ms: parse + bind + execute time of the request in the log; main: the 1-based number of the
statement with the longest execute, main_ms its bind + execute. Exit 0 when statements were
found, 1 when none were (the log does not get them), 2 on unusable input.
"""

import argparse
import re
import sys

ENTRY = re.compile(
    r"(?P<prefix>.*?)(?P<level>LOG|DETAIL):  (?P<message>.*)$",
)
DURATION = re.compile(
    r"duration: (?P<ms>[0-9.]+) ms  (?P<kind>parse|bind|execute|statement)(?: (?P<name>[^:]*))?: (?P<sql>.*)$",
    re.S,
)
PARAMETER = re.compile(r"\$(\d+) = (NULL|'(?:[^']|'')*')", re.S)
PID = re.compile(r"\[(\d+)\]")


class Unusable(Exception):
    pass


def entries(text):
    """Log entries: (prefix, level, message) with continuation lines joined (tab removed)."""
    current = None
    for line in text.split("\n"):
        if line.startswith("\t") and current is not None:
            current[2] += "\n" + line[1:]
            continue
        if current is not None:
            yield tuple(current)
            current = None
        match = ENTRY.match(line)
        if match:
            current = [match["prefix"], match["level"], match["message"]]
    if current is not None:
        yield tuple(current)


def parameters(detail):
    """{'1': "'x'", '2': 'NULL'} from `parameters: $1 = 'x', $2 = NULL`."""
    text = detail[len("parameters: ") :]
    return {match[1]: match[2] for match in PARAMETER.finditer(text)}


def inline(sql, values):
    """sql with $n replaced by values[n], outside quoted strings and quoted identifiers."""
    out, i, n = [], 0, len(sql)
    while i < n:
        char = sql[i]
        if char in "'\"":
            end = i + 1
            while end < n:
                if sql[end] == char:
                    if end + 1 < n and sql[end + 1] == char:
                        end += 2
                        continue
                    break
                end += 1
            out.append(sql[i : end + 1])
            i = end + 1
            continue
        if char == "$":
            match = re.match(r"\$(\d+)(?![0-9])", sql[i:])
            if match and not (out and re.match(r"[A-Za-z0-9_]", out[-1][-1:] or " ")):
                number = match[1]
                if number not in values:
                    raise Unusable(f"no logged value for ${number}")
                out.append(values[number])
                i += len(match[0])
                continue
        out.append(char)
        i += 1
    return "".join(out)


def extract(text, pids):
    statements, db_ms = [], 0.0
    pending = {}  # pid -> bind time of the statement about to execute
    last = None  # the last execute entry, for its DETAIL
    all_entries = list(entries(text))
    with_pid = pids and any(PID.search(prefix) for prefix, _, _ in all_entries)
    for prefix, level, message in all_entries:
        pid_match = PID.search(prefix)
        pid = pid_match[1] if pid_match else ""
        if with_pid and pid not in pids:
            continue
        if level == "DETAIL":
            if last is not None and last["pid"] == pid and message.startswith("parameters: "):
                last["values"] = parameters(message)
            continue
        match = DURATION.match(message)
        if not match:
            last = None
            continue
        ms = float(match["ms"])
        db_ms += ms
        if match["kind"] in ("parse", "bind"):
            if match["kind"] == "bind":
                pending[pid] = ms
            last = None
            continue
        last = {
            "pid": pid,
            "sql": match["sql"].strip(),
            "ms": ms + pending.pop(pid, 0.0),
            "execute_ms": ms,
            "values": {},
        }
        statements.append(last)
    return statements, db_ms


def main(argv):
    parser = argparse.ArgumentParser(prog="peer_sql.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("logfile")
    parser.add_argument("start", type=int)
    parser.add_argument("end", type=int)
    parser.add_argument("out")
    parser.add_argument("--pids", default="")
    parser.add_argument("--label", default="the peer")
    args = parser.parse_args(argv)
    try:
        if args.end < args.start:
            raise Unusable(f"the log shrank between the offsets ({args.start} > {args.end}): rotated?")
        with open(args.logfile, "rb") as file:
            file.seek(args.start)
            text = file.read(args.end - args.start).decode("utf-8", errors="replace")
        pids = {pid for pid in args.pids.split(",") if pid}
        statements, db_ms = extract(text, pids)
        if not statements:
            print(f"peer_sql: no statements of {args.label} in {args.logfile} between bytes {args.start} and {args.end}",
                  file=sys.stderr)
            return 1
        main_index = max(range(len(statements)), key=lambda k: statements[k]["execute_ms"])
        lines = [
            f"-- The SQL {args.label} sent for one request, in order, as PostgreSQL logged it (bench/run;",
            "-- parameters written in as literals). A pgbench script: pgbench -n -M prepared -f THIS_FILE",
        ]
        for index, statement in enumerate(statements, 1):
            sql = inline(statement["sql"], statement["values"]).rstrip().rstrip(";").rstrip()
            lines.append("")
            lines.append(f"-- statement {index} of {len(statements)}: {statement['ms']:.3f} ms in the log"
                         f"{' (the longest)' if index - 1 == main_index else ''}")
            lines.append(sql + ";")
        body = "\n".join(lines) + "\n"
        with open(args.out, "w", encoding="utf-8") as file:
            file.write(body)
    except (Unusable, OSError) as error:
        print(f"peer_sql: {error}", file=sys.stderr)
        return 2
    print(f"PEERSQL statements={len(statements)} db_ms={db_ms:.2f} main_ms={statements[main_index]['ms']:.2f} "
          f"main={main_index + 1} bytes={len(body)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
