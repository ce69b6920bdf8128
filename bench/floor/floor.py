#!/usr/bin/env python3
"""The SQL floor of a benchmark query: one hand-written statement that builds Samverka's `data`
as JSON inside the database, checked against a Samverka response or timed.

    python3 bench/floor/floor.py pg|sqlite --url URL --sql FILE --check RESPONSE.json [--save OUT]
    python3 bench/floor/floor.py pg|sqlite --url URL --sql FILE [--duration S] [--warmup S]
                                 [--clients N] [--protocol prepared|simple] [--jit off|on]
                                 [--any-result]

  --url       pg: a libpq URL (postgres://postgres@127.0.0.1:5432/samverka_bench);
              sqlite: the database file (a `sqlite://` prefix and `?…` options are dropped).
  --sql       bench/floor/<query>.<backend>.sql: one statement, one row, one column (JSON text).
  --check     compare the statement's JSON with a Samverka response (its `data`), after
              json.loads of both, so only values count, not key order or whitespace; prints
              "same data (N bytes)" and exits 0, or the first difference and exits 1.
  --save      with --check: also write the statement's JSON to this file.
  --any-result  pg, timing only: FILE may hold several statements returning anything (a peer's
              SQL for one request, bench/lib/peer_sql.py): one pgbench transaction runs them all
              in order; psql runs the file once first to fail early on an error.
Without --check the statement is timed (after --warmup seconds of the same load, default 1):
  latency at concurrency 1 for --duration seconds (default 5): p50 and p95 in ms, and the rate;
  then throughput with --clients concurrent connections (default 32; 0 skips it).
  pg:     pgbench (Debian package postgresql-client; on PATH or /usr/lib/postgresql/*/bin):
          `pgbench -n -M prepared -f SQL -T S -c 1 -l`
          (per-transaction latencies from its log) and `pgbench -n -M prepared -f SQL -T S
          -c N -j CORES` (tps, without connection time). --protocol simple re-parses and re-plans
          the statement on every run (the server's sqlx prepares and caches its statements,
          so prepared is the like-for-like floor). JIT is off for these sessions (PGOPTIONS
          "-c jit=off") unless --jit on: the nested statement's cost estimate (~120k on large)
          passes jit_above_cost (100k), and LLVM compilation then takes longer (~40 ms) than
          the statement runs (~20 ms); the server's sessions run with jit off too (its compiled
          nested read costs the same; bench/jit.py measures each query both ways).
  sqlite: python's sqlite3 (statements cached per connection): one connection for c=1, N
          threads with a read-only connection each for c=N (sqlite3 releases the GIL while
          the statement runs).
  Progress goes to stderr; stdout gets one line:
      FLOOR backend=pg sql=nested.pg.sql p50_ms=1.23 p95_ms=1.50 rps_c1=790.1 rps_c32=1500.2 jit=off
Exit status: 0 done, 1 the check found a difference, 2 the run could not be made.
"""

import argparse
import glob
import json
import math
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time


class Failed(Exception):
    pass


def log(message):
    print(f"[floor {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def sqlite_path(url):
    path = url
    for prefix in ("sqlite://", "sqlite:"):
        if path.startswith(prefix):
            path = path[len(prefix) :]
            break
    path = path.split("?", 1)[0]
    if not os.path.isfile(path):
        raise Failed(f"no SQLite file at {path}")
    return path


def sqlite_connect(path):
    # Read-only: the floor only reads, and concurrent readers never wait on a write lock.
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)


def read_statement(path):
    with open(path, encoding="utf-8") as file:
        text = file.read()
    if not text.strip():
        raise Failed(f"{path} is empty")
    return text


# ---------------------------------------------------------------------------------------------
# Running the statement once


def pg_env(jit):
    """The environment for psql and pgbench: PGOPTIONS with jit off unless asked for."""
    env = dict(os.environ)
    if jit == "off":
        env["PGOPTIONS"] = (env.get("PGOPTIONS", "") + " -c jit=off").strip()
    return env


def run_once(backend, url, sql_file, jit="off", any_result=False):
    """The statement's single value, as text (with any_result: psql's whole output)."""
    if backend == "pg":
        done = subprocess.run(
            ["psql", url, "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-f", sql_file],
            capture_output=True,
            text=True,
            check=False,
            env=pg_env(jit),
        )
        if done.returncode != 0:
            raise Failed(f"psql failed ({done.returncode}): {done.stderr.strip()[:3000]}")
        if any_result:
            return done.stdout
        lines = done.stdout.splitlines()
        if len(lines) != 1:
            raise Failed(f"expected one row of one column, psql printed {len(lines)} lines")
        return lines[0]
    connection = sqlite_connect(sqlite_path(url))
    try:
        rows = connection.execute(read_statement(sql_file)).fetchall()
    except sqlite3.Error as error:
        raise Failed(f"sqlite3: {error}") from error
    finally:
        connection.close()
    if len(rows) != 1 or len(rows[0]) != 1:
        raise Failed(f"expected one row of one column, got {len(rows)} rows")
    return rows[0][0]


def first_difference(ours, theirs, where="data"):
    """Where two JSON values first differ (None when equal); `ours` is the statement's."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        for key in theirs:
            if key not in ours:
                return f"{where}: key {key!r} only in Samverka's response"
        for key in ours:
            if key not in theirs:
                return f"{where}: key {key!r} only in the statement's result"
            found = first_difference(ours[key], theirs[key], f"{where}.{key}")
            if found:
                return found
        return None
    if isinstance(ours, list) and isinstance(theirs, list):
        for index, (x, y) in enumerate(zip(ours, theirs)):
            found = first_difference(x, y, f"{where}[{index}]")
            if found:
                return found
        if len(ours) != len(theirs):
            return f"{where}: {len(ours)} items (statement) vs {len(theirs)} (Samverka)"
        return None
    # bool is an int in Python: compare types too, so true never equals 1.
    if type(ours) is not type(theirs) or ours != theirs:
        return f"{where}: {json.dumps(ours, ensure_ascii=False)[:300]} (statement) vs {json.dumps(theirs, ensure_ascii=False)[:300]} (Samverka)"
    return None


def check(args):
    with open(args.check, encoding="utf-8") as file:
        response = json.load(file)
    if response.get("errors"):
        raise Failed(f"{args.check} carries GraphQL errors: {json.dumps(response['errors'])[:2000]}")
    if "data" not in response:
        raise Failed(f"{args.check} has no data")
    text = run_once(args.backend, args.url, args.sql, args.jit)
    if args.save:
        with open(args.save, "w", encoding="utf-8") as file:
            file.write(text)
    try:
        ours = json.loads(text)
    except ValueError as error:
        raise Failed(f"the statement did not return JSON ({error}): {text[:500]!r}") from error
    difference = first_difference(ours, response["data"])
    if difference:
        print(f"floor: the statement's JSON differs from {args.check}; first difference: {difference}")
        return 1
    print(f"same data ({len(text)} bytes of JSON from the statement)")
    return 0


# ---------------------------------------------------------------------------------------------
# Timing


def percentile(sorted_values, fraction):
    """Nearest-rank percentile of sorted values."""
    if not sorted_values:
        return float("nan")
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


def pgbench_path():
    """pgbench on PATH, else the newest under /usr/lib/postgresql/*/bin (Debian keeps it there)."""
    found = shutil.which("pgbench")
    if found:
        return found

    def version(path):
        major = path.split("/")[-3]
        return int(major) if major.isdigit() else 0

    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pgbench"), key=version)
    return candidates[-1] if candidates else None


def pgbench(url, sql_file, seconds, clients, protocol, jit, log_dir=None):
    command = [pgbench_path(), "-n", "-M", protocol, "-f", sql_file, "-T", str(seconds), "-c", str(clients)]
    command += ["-j", str(min(clients, max(1, len(os.sched_getaffinity(0)))))]
    if log_dir:
        command += ["-l", f"--log-prefix={os.path.join(log_dir, 'pgbench_log')}"]
    command.append(url)
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=pg_env(jit))
    output = done.stdout + done.stderr
    if done.returncode != 0:
        raise Failed(f"pgbench failed ({done.returncode}): {output.strip()[-3000:]}")
    tps = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", output)
    if not tps:
        raise Failed(f"no tps in pgbench's output: {output.strip()[-2000:]}")
    return float(tps.group(1))


def pgbench_latencies(log_dir):
    """Per-transaction latencies in ms from pgbench -l logs (`client tx latency_us script …`)."""
    latencies = []
    for path in glob.glob(os.path.join(log_dir, "pgbench_log*")):
        with open(path, encoding="utf-8") as file:
            for line in file:
                fields = line.split()
                if len(fields) >= 3 and fields[2].isdigit():
                    latencies.append(int(fields[2]) / 1000.0)
    return sorted(latencies)


def time_pg(args):
    if not pgbench_path():
        raise Failed("pgbench is not installed (Debian: apt-get install postgresql-client)")
    run_once("pg", args.url, args.sql, args.jit, args.any_result)  # fails early, with psql's message, on a broken statement
    seconds = max(1, math.ceil(args.duration))
    if args.warmup > 0:
        log(f"warm-up: {max(1, math.ceil(args.warmup))} s at c=1")
        pgbench(args.url, args.sql, max(1, math.ceil(args.warmup)), 1, args.protocol, args.jit)
    with tempfile.TemporaryDirectory(prefix="floor-pgbench-") as log_dir:
        log(f"latency: pgbench -c 1 -T {seconds} -M {args.protocol}, jit {args.jit}")
        rps_c1 = pgbench(args.url, args.sql, seconds, 1, args.protocol, args.jit, log_dir)
        latencies = pgbench_latencies(log_dir)
    if not latencies:
        raise Failed("pgbench logged no transactions")
    rps_cn = None
    if args.clients > 0:
        log(f"throughput: pgbench -c {args.clients} -T {seconds}")
        rps_cn = pgbench(args.url, args.sql, seconds, args.clients, args.protocol, args.jit)
    return latencies, rps_c1, rps_cn


def sqlite_loop(connection, statement, seconds, latencies=None, start=None):
    """Runs the statement on `connection` until `seconds` have passed; returns the runs made."""
    if start is not None:
        start.wait()
    runs = 0
    deadline = time.perf_counter() + seconds
    while True:
        began = time.perf_counter()
        if began >= deadline:
            return runs
        row = connection.execute(statement).fetchone()
        if row is None:
            raise Failed("the statement returned no row")
        runs += 1
        if latencies is not None:
            latencies.append((time.perf_counter() - began) * 1000.0)


def time_sqlite(args):
    path = sqlite_path(args.url)
    statement = read_statement(args.sql)
    run_once("sqlite", args.url, args.sql)
    connection = sqlite_connect(path)
    try:
        if args.warmup > 0:
            log(f"warm-up: {args.warmup:g} s at c=1 (the same connection)")
            sqlite_loop(connection, statement, args.warmup)
        log(f"latency: one connection, {args.duration:g} s")
        latencies = []
        began = time.perf_counter()
        runs = sqlite_loop(connection, statement, args.duration, latencies=latencies)
        rps_c1 = runs / (time.perf_counter() - began)
    finally:
        connection.close()
    rps_cn = None
    if args.clients > 0:
        log(f"throughput: {args.clients} threads, a connection each, {args.duration:g} s")
        counts, errors, start = [], [], threading.Barrier(args.clients + 1)

        def worker():
            connection = None
            try:
                connection = sqlite_connect(path)
                counts.append(sqlite_loop(connection, statement, args.duration, start=start))
            except threading.BrokenBarrierError:
                pass
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(error)
                start.abort()
            finally:
                if connection is not None:
                    connection.close()

        threads = [threading.Thread(target=worker, daemon=True) for _ in range(args.clients)]
        for thread in threads:
            thread.start()
        try:
            start.wait()
        except threading.BrokenBarrierError:
            pass
        began = time.perf_counter()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - began
        if errors:
            raise Failed(f"a client failed: {errors[0]}")
        rps_cn = sum(counts) / elapsed
    return sorted(latencies), rps_c1, rps_cn


def timing(args):
    latencies, rps_c1, rps_cn = (time_pg if args.backend == "pg" else time_sqlite)(args)
    p50, p95 = percentile(latencies, 0.50), percentile(latencies, 0.95)
    log(f"{len(latencies)} runs at c=1: p50 {p50:.3f} ms, p95 {p95:.3f} ms, {rps_c1:.1f}/s")
    fields = [
        f"backend={args.backend}",
        f"sql={os.path.basename(args.sql)}",
        f"p50_ms={p50:.3f}",
        f"p95_ms={p95:.3f}",
        f"rps_c1={rps_c1:.1f}",
    ]
    if rps_cn is not None:
        fields.append(f"rps_c{args.clients}={rps_cn:.1f}")
    if args.backend == "pg":
        fields.append(f"jit={args.jit}")
    print("FLOOR " + " ".join(fields), flush=True)
    return 0


def main(argv):
    parser = argparse.ArgumentParser(
        prog="floor.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter, add_help=True
    )
    parser.add_argument("backend", choices=["pg", "sqlite"])
    parser.add_argument("--url", required=True)
    parser.add_argument("--sql", required=True)
    parser.add_argument("--check", metavar="RESPONSE.json")
    parser.add_argument("--save", metavar="OUT")
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--protocol", choices=["prepared", "simple"], default="prepared")
    parser.add_argument("--jit", choices=["off", "on"], default="off", help="pg: JIT for the timed sessions")
    parser.add_argument("--any-result", action="store_true", help="pg, timing only: any statements, any rows")
    args = parser.parse_args(argv)
    if args.duration <= 0 or args.warmup < 0 or args.clients < 0:
        parser.error("--duration must be positive, --warmup and --clients not negative")
    if args.any_result and (args.backend != "pg" or args.check):
        parser.error("--any-result is for timing on pg only (not with --check)")
    try:
        return check(args) if args.check else timing(args)
    except (Failed, OSError, ValueError) as error:
        print(f"floor: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
