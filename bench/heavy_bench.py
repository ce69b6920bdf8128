#!/usr/bin/env python3
"""Heavy-job benchmark: exact betweenness under load, on the synthetic `medium` registry.

The requirement it measures: network analyses run under a process-wide limit on concurrent heavy
jobs, queue fairly, and stop (stop using CPU) within 1 s when their request times out or the
client goes away; the server stays under 300 MB RSS on medium. On medium: 20 concurrent
exact-betweenness requests from 20 clients while a 21st client reads `regions(first: 10)` every
100 ms; its p99 stays under 200 ms, and after the 20 clients disconnect, CPU returns to idle
within 2 s.

What it does:
  1. starts the release server on the medium SQLite file (`--no-demo`, rate limit off, its own
     HS256 secret in SAMVERKA_JWT_SECRET, so `samverka token --role admin` and the server agree
     without a secret file), waits for /readyz;
  2. preflight (unless --no-preflight): builds the organisation network twice (`nodeCount
     edgeCount`, cold then cached) and runs one exact betweenness alone (its own seed), which
     also shows whether the server accepts it. When the query-cost check refuses it even for
     admin (QUERY_TOO_EXPENSIVE; --max-complexity can only lower the role limits), it falls
     back to sampled betweenness on the same network with the most sources the admin limit
     allows (sized from the server's own cost estimates of two small sampled runs); when the
     analysis itself refuses the network as too big (BAD_USER_INPUT), to medium's ties active
     in 2021. Either fallback is printed as a NOTE;
  3. "baseline": the reader alone for --baseline seconds: POST /graphql
     `{ regions(first: 10) { nodes { slug } } }` every 100 ms (one keep-alive connection, no token);
  4. "load": --clients raw-socket clients each send ONE betweenness (as above) on the network, each
     with its own `seed` (part of the analysis cache key, so no two share a result; the seed
     does not change the work: an exact run ignores it, a sampled one draws as many sources),
     while the reader goes on; after --hold seconds every client that has no answer yet closes
     its socket without reading further; GET /metrics every 200 ms meanwhile and after
     (samverka_heavy_jobs_{waiting,running,stopped_total});
  5. "after": from the disconnect, the server's CPU time (utime + stime of /proc/PID/stat) every
     100 ms; "idle" is the first moment after which the CPU use over every 500 ms window stays
     below 5 % of one core (the reader keeps running: its reads are part of "idle"); the phase
     lasts at least --after seconds and until idle has held for 3 s (at most --after-max);
  6. VmRSS / VmHWM / Threads of /proc/PID/status every 100 ms throughout.

Prints the reader's p50/p95/p99/max per phase, what each heavy client got before the
disconnect, the CPU curve after it, time to idle, peak RSS and the server's log lines about
cancellation and timeouts. Exit status 1 when a target is missed (reader p99 under load >= 200 ms,
idle later than 2 s, peak RSS >= 300 MB), 2 when the run itself could not be made.

Run through `bash bench/heavy` (builds the release binary, loads the medium registry).
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import re
import secrets
import select
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib.processes import die_with_parent, free_port, log_tail, stop  # noqa: E402

P99_TARGET_MS = 200.0
IDLE_TARGET_S = 2.0
RSS_TARGET_MB = 300.0
IDLE_SHARE = 0.05  # of one core
IDLE_WINDOW_S = 0.5
SAMPLE_S = 0.1
READ_EVERY_S = 0.1
READER_QUERY = "{ regions(first: 10) { nodes { slug } } }"
HEAVY_QUERY = (
    "query Heavy($seed: Int!) { network%s { betweenness(top: 5, seed: $seed%s) { rank score node { key } } } }"
)
NETWORKS = {
    "all": ("", "organisations, partnerships + collaborations, all years"),
    "2021": ('(period: {from: "2021-01-01", to: "2021-12-31"})',
             "organisations, partnerships + collaborations active in 2021"),
}


def network_of(name: str) -> tuple[str, str]:
    """(arguments of `network`, description) of --network NAME (all, 2021, programme:SLUG)."""
    if name in NETWORKS:
        return NETWORKS[name]
    if name.startswith("programme:"):
        slug = name.split(":", 1)[1]
        return (f'(filter: {{programme: "{slug}"}})',
                f"organisations, partnerships + collaborations in programme {slug}")
    raise SystemExit(f"--network {name}: expected all, 2021 or programme:SLUG")


def heavy_query(network: str, samples: int | None) -> str:
    return HEAVY_QUERY % (network_of(network)[0], "" if samples is None else f", samples: {samples}")


def analysis_label(samples: int | None) -> str:
    return "exact betweenness" if samples is None else f"sampled betweenness ({samples} sources)"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def fmt_ms(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:.1f}"


# ---------------------------------------------------------------------------------------------
# The server


class Server:
    def __init__(self, binary: str, db: str, workdir: str, extra: list[str]):
        self.binary, self.db, self.workdir, self.extra = binary, db, workdir, extra
        self.env = dict(os.environ)
        self.env["SAMVERKA_JWT_SECRET"] = secrets.token_hex(32)
        for name in ("DATABASE_URL", "SAMVERKA_SQLITE_PATH", "SAMVERKA_LISTEN", "SAMVERKA_JWT_PUBLIC_KEY",
                     "SAMVERKA_JWT_PRIVATE_KEY"):
            self.env.pop(name, None)
        self.log_path = os.path.join(workdir, "server.log")
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        return [self.binary, "--sqlite-path", self.db, "serve", "--listen", f"127.0.0.1:{self.port}", "--no-demo",
                "--rate-limit-per-second", "0", *self.extra]

    def start(self, ready_timeout: float, attempts: int = 3) -> float:
        """Starts the server; seconds until /readyz answered."""
        for attempt in range(attempts):
            self.port = free_port()
            began = time.monotonic()
            with open(self.log_path, "ab") as log:
                self.process = subprocess.Popen(
                    self.command(), cwd=self.workdir, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=die_with_parent,
                )
            if self.wait_ready(ready_timeout):
                return time.monotonic() - began
            self.stop()
            if attempt == attempts - 1:
                raise SystemExit(f"the server did not become ready; its log ({self.log_path}):\n{self.log_tail()}")
            progress(f"  the server did not start on port {self.port}, trying another port")
        raise AssertionError("unreachable")

    def wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/readyz", timeout=2) as response:
                    if response.status == 200:
                        return True
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)  # polling for readiness
        return False

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def token(self, role: str) -> str:
        result = subprocess.run(
            [self.binary, "token", "--role", role, "--ttl", "2h", "--subject", f"bench-heavy-{role}"],
            cwd=self.workdir, env=self.env, capture_output=True, text=True, timeout=60,
        )
        if result.returncode != 0:
            raise SystemExit(f"`samverka token --role {role}` exited {result.returncode}:\n{result.stderr}")
        return result.stdout.strip()

    def log_tail(self, lines: int = 30) -> str:
        return log_tail(self.log_path, lines)

    def log_lines(self) -> list[str]:
        """The log without its colours."""
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as log:
                return [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in log.read().splitlines()]
        except OSError:
            return []

    def stop(self) -> None:
        process, self.process = self.process, None
        # SIGINT: its graceful shutdown.
        stop(process, signal.SIGINT, 20, lambda: progress("  the server did not stop within 20 s of SIGINT: killing it"))


def graphql(port: int, query: str, variables: dict[str, Any] | None = None, token: str | None = None,
            timeout: float = 300, extensions: dict[str, Any] | None = None) -> tuple[int, dict[str, Any], float]:
    """(HTTP status, JSON body, seconds) of one POST /graphql."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    payload: dict[str, Any] = {"query": query, "variables": variables or {}}
    if extensions:
        payload["extensions"] = extensions
    body = json.dumps(payload).encode()
    started = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("POST", "/graphql", body, headers)
        response = connection.getresponse()
        raw = response.read()
        seconds = time.monotonic() - started
        try:
            data = json.loads(raw)
        except ValueError:
            data = {"errors": [{"message": f"not JSON: {raw[:300]!r}", "extensions": {"code": "NOT_JSON"}}]}
        return response.status, data, seconds
    finally:
        connection.close()


def error_codes(data: Any) -> list[str]:
    if not isinstance(data, dict):
        return []
    return [str((error.get("extensions") or {}).get("code", "-")) for error in data.get("errors") or []
            if isinstance(error, dict)]


def error_extensions(data: Any) -> dict[str, Any]:
    if isinstance(data, dict) and data.get("errors"):
        return data["errors"][0].get("extensions") or {}
    return {}


def first_error(data: Any) -> str:
    if isinstance(data, dict) and data.get("errors"):
        error = data["errors"][0]
        code = (error.get("extensions") or {}).get("code", "-")
        return f"{code}: {str(error.get('message', ''))[:200]}"
    return ""


# ---------------------------------------------------------------------------------------------
# /proc sampling


def read_proc(pid: int) -> tuple[int, int, int, int] | None:
    """(utime + stime ticks, VmRSS kB, VmHWM kB, threads) of pid, or None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as file:
            stat = file.read()
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as file:
            status = file.read()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()  # fields[0] is field 3 (state)
    ticks = int(fields[11]) + int(fields[12])  # fields 14 (utime) and 15 (stime)
    values = {}
    for line in status.splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM", "Threads"):
            values[name] = int(rest.split()[0])
    return ticks, values.get("VmRSS", 0), values.get("VmHWM", 0), values.get("Threads", 0)


class Sampler(threading.Thread):
    """Every 100 ms (on a fixed schedule): (monotonic time, CPU ticks, VmRSS kB, VmHWM kB, threads)."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid = pid
        self.samples: list[tuple[float, int, int, int, int]] = []
        self.stopping = threading.Event()
        self.lock = threading.Lock()

    def run(self) -> None:
        next_at = time.monotonic()
        while not self.stopping.is_set():
            now = time.monotonic()
            reading = read_proc(self.pid)
            if reading is None:
                return
            with self.lock:
                self.samples.append((now, *reading))
            next_at += SAMPLE_S
            if next_at < time.monotonic():
                next_at = time.monotonic()
            self.stopping.wait(max(0.0, next_at - time.monotonic()))

    def snapshot(self) -> list[tuple[float, int, int, int, int]]:
        with self.lock:
            return list(self.samples)


class MetricsPoller(threading.Thread):
    """GET /metrics every 200 ms: the server's heavy-job gauges (waiting, running, stopped_total)."""

    NAMES = ("samverka_heavy_jobs_waiting", "samverka_heavy_jobs_running", "samverka_heavy_jobs_stopped_total")

    def __init__(self, port: int):
        super().__init__(daemon=True)
        self.port = port
        self.samples: list[tuple[float, int, int, int]] = []
        self.stopping = threading.Event()
        self.missing = False

    def read(self) -> tuple[int, int, int] | None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=5) as response:
                text = response.read().decode("utf-8", errors="replace")
        except (urllib.error.URLError, OSError):
            return None
        values = {}
        for line in text.splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[0] in self.NAMES:
                values[parts[0]] = int(float(parts[1]))
        if len(values) < len(self.NAMES):
            self.missing = True
            return None
        return tuple(values[name] for name in self.NAMES)  # type: ignore[return-value]

    def run(self) -> None:
        while not self.stopping.is_set() and not self.missing:
            started = time.monotonic()
            reading = self.read()
            if reading is not None:
                self.samples.append((started, *reading))
            self.stopping.wait(max(0.0, 0.2 - (time.monotonic() - started)))


def cpu_between(samples: list[tuple[float, int, int, int, int]], start: float, end: float) -> float | None:
    """Mean CPU use (cores) from the first sample at or after start to the last at or before end."""
    inside = [s for s in samples if start <= s[0] <= end]
    if len(inside) < 2:
        return None
    return (inside[-1][1] - inside[0][1]) / CLK_TCK / (inside[-1][0] - inside[0][0])


def idle_from(samples: list[tuple[float, int, int, int, int]], since: float) -> tuple[float | None, int]:
    """(seconds after `since` from which every 500 ms window stays under 5 % of one core, or None;
    index of the first sample considered)."""
    first = 0
    for index, sample in enumerate(samples):
        if sample[0] <= since:
            first = index
    steps = round(IDLE_WINDOW_S / SAMPLE_S)
    windows = []
    for k in range(first, len(samples)):
        end = k + steps
        if end >= len(samples):
            break
        span = samples[end][0] - samples[k][0]
        windows.append((samples[k][0], (samples[end][1] - samples[k][1]) / CLK_TCK / span))
    if not windows:
        return None, first
    busy = [index for index, (_, share) in enumerate(windows) if share >= IDLE_SHARE]
    if not busy:
        return max(0.0, windows[0][0] - since), first
    if busy[-1] == len(windows) - 1:
        return None, first
    return max(0.0, windows[busy[-1] + 1][0] - since), first


# ---------------------------------------------------------------------------------------------
# The reader (the 21st client)


class Reader(threading.Thread):
    """`regions(first: 10)` every 100 ms on one keep-alive connection, as the public (no token)."""

    def __init__(self, port: int, timeout: float):
        super().__init__(daemon=True)
        self.port, self.timeout = port, timeout
        # (started, seconds, ok, detail)
        self.reads: list[tuple[float, float, bool, str]] = []
        self.late = 0  # reads that started late because the one before was still running
        self.stopping = threading.Event()
        self.body = json.dumps({"query": READER_QUERY}).encode()

    def run(self) -> None:
        connection: http.client.HTTPConnection | None = None
        due = time.monotonic()
        while not self.stopping.is_set():
            wait = due - time.monotonic()
            if wait > 0 and self.stopping.wait(wait):
                break
            started = time.monotonic()
            ok, detail = False, ""
            try:
                if connection is None:
                    connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
                connection.request("POST", "/graphql", self.body, {"Content-Type": "application/json"})
                response = connection.getresponse()
                raw = response.read()
                seconds = time.monotonic() - started
                try:
                    data = json.loads(raw)
                except ValueError:
                    data = None
                nodes = (((data or {}).get("data") or {}).get("regions") or {}).get("nodes")
                ok = response.status == 200 and isinstance(nodes, list) and len(nodes) > 0 and not data.get("errors")
                if not ok:
                    detail = f"HTTP {response.status} {first_error(data) or raw[:200]!r}"
                if response.getheader("connection", "").lower() == "close":
                    connection.close()
                    connection = None
            except (OSError, http.client.HTTPException) as error:
                seconds = time.monotonic() - started
                detail = f"{type(error).__name__}: {error}"
                if connection is not None:
                    connection.close()
                connection = None
            self.reads.append((started, seconds, ok, detail))
            due += READ_EVERY_S
            if due < time.monotonic():
                self.late += 1
                due = time.monotonic()
        if connection is not None:
            connection.close()


def reader_stats(reads: list[tuple[float, float, bool, str]], start: float, end: float) -> dict[str, Any]:
    inside = [r for r in reads if start <= r[0] < end]
    latencies = [r[1] for r in inside]
    errors = [r[3] for r in inside if not r[2]]
    return {
        "reads": len(inside),
        "errors": len(errors),
        "error_examples": sorted(set(errors))[:5],
        "p50_ms": None if not latencies else percentile(latencies, 50) * 1000,
        "p95_ms": None if not latencies else percentile(latencies, 95) * 1000,
        "p99_ms": None if not latencies else percentile(latencies, 99) * 1000,
        "max_ms": None if not latencies else max(latencies) * 1000,
    }


# ---------------------------------------------------------------------------------------------
# The heavy clients


def parse_response(raw: bytes, eof: bool) -> tuple[int, dict[str, str], bytes] | None:
    """(status, headers, body) once raw holds a whole HTTP/1.1 response, else None."""
    head_end = raw.find(b"\r\n\r\n")
    if head_end < 0:
        return None
    lines = raw[:head_end].decode("latin-1").split("\r\n")
    try:
        status = int(lines[0].split()[1])
    except (IndexError, ValueError):
        status = 0
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    body = raw[head_end + 4:]
    if "content-length" in headers:
        length = int(headers["content-length"])
        return (status, headers, body[:length]) if len(body) >= length else None
    if "chunked" in headers.get("transfer-encoding", "").lower():
        decoded, at = b"", 0
        while True:
            line_end = body.find(b"\r\n", at)
            if line_end < 0:
                return None
            size = int(body[at:line_end].split(b";")[0] or b"0", 16)
            if size == 0:
                return status, headers, decoded
            if len(body) < line_end + 2 + size + 2:
                return None
            decoded += body[line_end + 2:line_end + 2 + size]
            at = line_end + 2 + size + 2
    return (status, headers, body) if eof else None


class HeavyClient(threading.Thread):
    """Sends one request on its own socket, then waits for the answer until told to disconnect."""

    def __init__(self, index: int, port: int, request: bytes, go: threading.Barrier, disconnect: threading.Event,
                 reset: bool):
        super().__init__(daemon=True)
        self.index, self.port, self.request = index, port, request
        self.go, self.disconnect, self.reset = go, disconnect, reset
        self.sent_at: float | None = None
        self.answered_at: float | None = None
        self.closed_at: float | None = None
        self.status: int | None = None
        self.codes: list[str] = []
        self.detail = ""
        self.ok = False

    def run(self) -> None:
        sock: socket.socket | None = None
        try:
            sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        except OSError as error:
            self.detail = f"connect failed: {error}"
        try:
            self.go.wait(timeout=30)
        except threading.BrokenBarrierError:
            pass
        if sock is None:
            return
        try:
            sock.sendall(self.request)
            self.sent_at = time.monotonic()
            raw, eof = b"", False
            while not self.disconnect.is_set():
                readable, _, _ = select.select([sock], [], [], 0.01)
                if not readable:
                    continue
                chunk = sock.recv(1 << 16)
                eof = not chunk
                raw += chunk
                parsed = parse_response(raw, eof)
                if parsed is not None:
                    self.answered_at = time.monotonic()
                    self.record(*parsed)
                    return
                if eof:
                    self.answered_at = time.monotonic()
                    self.detail = f"the server closed the connection ({len(raw)} bytes received)"
                    return
        except OSError as error:
            self.detail = f"{type(error).__name__}: {error}"
        finally:
            if self.answered_at is None and self.disconnect.is_set() and self.reset:
                # RST instead of FIN: SO_LINGER on, 0 s.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()
            self.closed_at = time.monotonic()

    def record(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        try:
            data = json.loads(body)
        except ValueError:
            self.detail = f"not JSON: {body[:200]!r}"
            return
        self.codes = error_codes(data)
        betweenness = (((data.get("data") or {}).get("network") or {}).get("betweenness")
                       if isinstance(data, dict) else None)
        self.ok = status == 200 and not self.codes and isinstance(betweenness, list)
        self.detail = first_error(data) if self.codes else f"{len(betweenness or [])} top nodes"


def heavy_request(port: int, token: str, query: str, seed: int) -> bytes:
    body = json.dumps({"query": query, "variables": {"seed": seed}}).encode()
    head = (f"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer {token}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n")
    return head.encode() + body


# ---------------------------------------------------------------------------------------------
# Preflight


def preflight(port: int, token: str, network: str, samples: int | None, timeout: float) -> dict[str, Any]:
    """Builds the network (cold, then again) and runs one betweenness alone (with its cost)."""
    args, _ = network_of(network)
    facts: dict[str, Any] = {"network": network, "samples": samples}
    size_query = "{ network%s { nodeCount edgeCount } }" % args
    status, data, cold = graphql(port, size_query, token=token, timeout=timeout)
    if error_codes(data) or status != 200:
        raise SystemExit(f"preflight: `{size_query}` failed: HTTP {status} {first_error(data)}")
    facts["nodes"] = data["data"]["network"]["nodeCount"]
    facts["edges"] = data["data"]["network"]["edgeCount"]
    facts["build_cold_s"] = cold
    _, _, warm = graphql(port, size_query, token=token, timeout=timeout)
    facts["build_again_s"] = warm
    progress(f"  network {network}: {facts['nodes']} nodes, {facts['edges']} edges; "
             f"built in {cold:.2f} s, asked again {warm:.2f} s")
    progress(f"  one {analysis_label(samples)} alone …")
    status, data, seconds = graphql(port, heavy_query(network, samples), {"seed": 1_000_000}, token=token,
                                    timeout=timeout, extensions={"cost": True})
    facts["single_status"] = status
    facts["single_codes"] = error_codes(data)
    facts["single_error"] = first_error(data)
    facts["single_error_extensions"] = error_extensions(data)
    facts["single_cost"] = (data.get("extensions") or {}).get("cost") if isinstance(data, dict) else None
    facts["single_s"] = seconds
    progress(f"  … HTTP {status} in {seconds:.2f} s {first_error(data)}"
             + (f" cost {facts['single_cost']}" if facts["single_cost"] else ""))
    return facts


def largest_samples(port: int, token: str, network: str, limit: int, timeout: float) -> int:
    """The most betweenness sources the role's cost limit allows on `network`, from the server's
    own estimates of two small sampled runs (the estimate is linear in the sources)."""
    estimates = []
    for k in (200, 400):
        status, data, _ = graphql(port, heavy_query(network, k), {"seed": 2_000_000 + k}, token=token,
                                  timeout=timeout, extensions={"cost": True})
        cost = (data.get("extensions") or {}).get("cost") if isinstance(data, dict) else None
        if status != 200 or error_codes(data) or not cost or "estimated" not in cost:
            raise SystemExit(f"sampled betweenness ({k} sources) fails or reports no cost: HTTP {status} "
                             f"{first_error(data)}")
        estimates.append(int(cost["estimated"]))
    per_source = (estimates[1] - estimates[0]) / 200
    rest = estimates[0] - 200 * per_source
    if per_source <= 0:
        raise SystemExit(f"cannot size the sampled fallback: estimates {estimates}")
    return max(2, int((limit - rest) / per_source * 0.98))


def wait_idle(sampler: Sampler, timeout: float) -> float | None:
    """Seconds until one full second under 5 % of one core, or None."""
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        time.sleep(0.2)
        now = time.monotonic()
        use = cpu_between(sampler.snapshot(), now - 1.0, now)
        if use is not None and use < IDLE_SHARE and now - began >= 1.0:
            return now - began
    return None


# ---------------------------------------------------------------------------------------------


def check_marker(db: str, seed: int) -> None:
    marker = f"synthetic-medium-{seed}"
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as connection:
            found = connection.execute("SELECT COUNT(*) FROM sources WHERE key = ?", (marker,)).fetchone()[0]
    except sqlite3.Error as error:
        raise SystemExit(f"{db}: cannot read the sources table ({error}); is it a Samverka database?") from None
    if not found:
        raise SystemExit(f"{db} has no sources row {marker}: not (or not completely) loaded with the medium "
                         f"registry of seed {seed}; remove it and run bench/heavy again")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", required=True, help="release samverka binary")
    parser.add_argument("--medium", required=True, help="SQLite file holding the medium synthetic registry")
    parser.add_argument("--seed", type=int, default=42, help="the registry's seed (checked against the file)")
    parser.add_argument("--clients", type=int, default=20, help="concurrent exact-betweenness clients (20)")
    parser.add_argument("--hold", type=float, default=10.0, help="seconds the clients wait before disconnecting (10)")
    parser.add_argument("--baseline", type=float, default=5.0, help="seconds of the reader alone (5)")
    parser.add_argument("--after", type=float, default=5.0,
                        help="least seconds observed after the disconnect (5; longer until idle has held 3 s)")
    parser.add_argument("--after-max", type=float, default=180.0,
                        help="most seconds observed after the disconnect (180)")
    parser.add_argument("--network", default="all",
                        help="the organisation network: all (default), 2021 (ties active in 2021) or programme:SLUG")
    parser.add_argument("--samples", type=int,
                        help="sampled betweenness from this many sources instead of exact (default exact; chosen "
                             "automatically when the server refuses exact as too expensive even for admin)")
    parser.add_argument("--no-preflight", action="store_true",
                        help="no network build and single betweenness before the run (cold caches, no fallback)")
    parser.add_argument("--reset", action="store_true", help="disconnect with RST instead of FIN")
    parser.add_argument("--request-timeout-secs", type=int, help="the server's request timeout (default its own, 30)")
    parser.add_argument("--max-complexity", type=int, help="the server's --max-complexity (default its own)")
    parser.add_argument("--ready-timeout", type=float, default=300.0, help="seconds to wait for /readyz")
    parser.add_argument("--json", metavar="OUT", help="write the figures to OUT as JSON")
    parser.add_argument("--keep-log", metavar="FILE", help="copy the server's log to FILE")
    args = parser.parse_args()
    if args.clients < 1:
        parser.error("--clients is at least 1")

    network_of(args.network)
    if args.samples is not None and args.samples < 2:
        parser.error("--samples is at least 2")
    check_marker(args.medium, args.seed)
    extra: list[str] = []
    if args.request_timeout_secs is not None:
        extra += ["--request-timeout-secs", str(args.request_timeout_secs)]
    if args.max_complexity is not None:
        extra += ["--max-complexity", str(args.max_complexity)]

    with tempfile.TemporaryDirectory(prefix="samverka-heavy-") as workdir:
        server = Server(args.bin, args.medium, workdir, extra)
        try:
            return run(args, server)
        finally:
            server.stop()
            if args.keep_log:
                with open(server.log_path, "rb") as source, open(args.keep_log, "wb") as target:
                    target.write(source.read())


def run(args: argparse.Namespace, server: Server) -> int:
    figures: dict[str, Any] = {"clients": args.clients, "hold_s": args.hold, "seed": args.seed, "db": args.medium}
    progress(f"starting the server on {args.medium} …")
    ready = server.start(args.ready_timeout)
    progress(f"  ready in {ready:.1f} s: pid {server.pid}, port {server.port}")
    figures["server_command"] = " ".join(server.command())
    token = server.token("admin")
    sampler = Sampler(server.pid)
    sampler.start()

    network, samples = args.network, args.samples
    notes: list[str] = []
    if not args.no_preflight:
        progress("preflight (admin token):")
        facts = preflight(server.port, token, network, samples, timeout=600)
        first_build = facts["build_cold_s"]
        if "QUERY_TOO_EXPENSIVE" in facts["single_codes"]:
            # Too dear for admin, the dearest role; --max-complexity only lowers the role limits.
            limit = int(facts["single_error_extensions"].get("limit") or 0)
            estimated = facts["single_error_extensions"].get("estimated")
            if not limit:
                raise SystemExit(f"the server refuses the request as too expensive: {facts['single_error']}")
            samples = largest_samples(server.port, token, network, limit, timeout=600)
            notes.append(
                f"the server REFUSES {analysis_label(args.samples)} on this network even for admin "
                f"(QUERY_TOO_EXPENSIVE: estimated {estimated}, admin limit {limit}; --max-complexity can only lower "
                f"it); FELL BACK to {analysis_label(samples)}, the most the admin limit allows, on the same network")
            progress(f"  {notes[-1]}")
            facts = preflight(server.port, token, network, samples, timeout=600)
        elif "BAD_USER_INPUT" in facts["single_codes"] and network != "2021":
            notes.append(f"the server refused {analysis_label(samples)} on network {network} "
                         f"({facts['single_error']}); FELL BACK to the ties active in 2021")
            progress(f"  {notes[-1]}")
            network = "2021"
            facts = preflight(server.port, token, network, samples, timeout=600)
        if facts["single_codes"] == ["TIMEOUT"]:
            notes.append(f"one {analysis_label(samples)} alone outlasts the server's request timeout (408 TIMEOUT "
                         f"after {facts['single_s']:.1f} s)")
            progress(f"  {notes[-1]}")
            facts["single_codes"], facts["single_status"] = [], 200
        if facts["network"] == args.network:
            facts["build_cold_s"] = first_build  # the first build of this network, not a cached one
        if facts["single_codes"] or facts["single_status"] != 200:
            raise SystemExit(f"{analysis_label(samples)} fails on network {network}: HTTP {facts['single_status']} "
                             f"{facts['single_error']}")
        figures["preflight"] = facts
        settled = wait_idle(sampler, 60)
        if settled is None:
            notes.append("the server was still using CPU 60 s after the preflight")
    else:
        figures["preflight"] = None
    network_args, network_label = network_of(network)
    query = heavy_query(network, samples)
    figures["network"] = {"name": network, "label": network_label, "args": network_args}
    figures["analysis"] = analysis_label(samples)
    figures["samples"] = samples
    figures["heavy_query"] = query

    reader = Reader(server.port, timeout=10)
    marks: dict[str, float] = {"baseline": time.monotonic()}
    reader.start()
    progress(f"baseline: the reader alone for {args.baseline:g} s …")
    time.sleep(args.baseline)  # the phase's length

    progress(f"load: {args.clients} {analysis_label(samples)} requests (seeds 0–{args.clients - 1}), "
             f"disconnect after {args.hold:g} s …")
    go = threading.Barrier(args.clients + 1)
    disconnect = threading.Event()
    clients = [HeavyClient(i, server.port, heavy_request(server.port, token, query, i), go, disconnect,
                           args.reset) for i in range(args.clients)]
    for client in clients:
        client.start()
    metrics = MetricsPoller(server.port)
    metrics.start()
    go.wait(timeout=60)
    marks["load"] = time.monotonic()
    disconnect.wait(args.hold)  # the hold; the clients read their answers meanwhile
    marks["disconnect"] = time.monotonic()
    disconnect.set()
    for client in clients:
        client.join(timeout=10)
    marks["closed"] = time.monotonic()
    progress(f"after: the clients disconnected ({sum(c.answered_at is None for c in clients)} without an answer); "
             "watching the server's CPU …")

    while True:
        time.sleep(SAMPLE_S)
        elapsed = time.monotonic() - marks["disconnect"]
        if not sampler.is_alive():
            notes.append("the server exited during the run")
            break
        idle, _ = idle_from(sampler.snapshot(), marks["disconnect"])
        if elapsed >= args.after_max:
            break
        if elapsed >= args.after and idle is not None and elapsed >= idle + 3.0:
            break
    marks["end"] = time.monotonic()
    reader.stopping.set()
    metrics.stopping.set()
    reader.join(timeout=15)
    metrics.join(timeout=10)
    sampler.stopping.set()
    sampler.join(timeout=5)
    samples = sampler.snapshot()

    return report(args, server, figures, marks, reader, clients, samples, metrics, notes)


def report(args: argparse.Namespace, server: Server, figures: dict[str, Any], marks: dict[str, float],
           reader: Reader, clients: list[HeavyClient], samples: list[tuple[float, int, int, int, int]],
           metrics: MetricsPoller, notes: list[str]) -> int:
    out = print
    disconnect = marks["disconnect"]
    out(f"\n# Heavy jobs on medium (seed {args.seed}): {args.clients} {figures['analysis']} requests, "
        f"a reader every 100 ms")
    out(f"server: {figures['server_command']}")
    out(f"network: {figures['network']['label']}"
        + (f" `network{figures['network']['args']}`" if figures["network"]["args"] else ""))
    pre = figures.get("preflight")
    if pre:
        cost = pre.get("single_cost") or {}
        out(f"preflight: {pre['nodes']} nodes, {pre['edges']} edges; network built in {pre['build_cold_s']:.2f} s, "
            f"asked again {pre['build_again_s']:.2f} s; one {figures['analysis']} alone {pre['single_s']:.2f} s"
            + (f" (cost estimated {cost.get('estimated')}, actual {cost.get('actual')}, limit {cost.get('limit')})"
               if cost else ""))
    for note in notes:
        out(f"NOTE: {note}")

    # The reader.
    phases = {
        "baseline": (marks["baseline"], marks["load"]),
        "load": (marks["load"], disconnect),
        "after": (disconnect, marks["end"] + 1),
    }
    stats = {name: reader_stats(reader.reads, *span) for name, span in phases.items()}
    figures["reader"] = stats
    figures["reader_late_starts"] = reader.late
    out(f"\n## the reader: `{READER_QUERY}` every 100 ms (public, one keep-alive connection)")
    out(f"{'phase':<9} {'seconds':>7} {'reads':>6} {'errors':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for name, (start, end) in phases.items():
        s = stats[name]
        length = min(end, marks["end"]) - start
        out(f"{name:<9} {length:>7.1f} {s['reads']:>6} {s['errors']:>6} "
            + " ".join(f"{'-' if s[k] is None else f'{s[k]:.1f}':>8}" for k in ("p50_ms", "p95_ms", "p99_ms", "max_ms")))
    base, load = stats["baseline"], stats["load"]
    ratio = None
    if base["p99_ms"] and load["p99_ms"] is not None:
        ratio = load["p99_ms"] / base["p99_ms"]
        out(f"p99 load / baseline: {ratio:.1f}x   (p50 {load['p50_ms'] / base['p50_ms']:.1f}x)")
    figures["reader_p99_ratio"] = ratio
    if reader.late:
        out(f"reads that started late (the previous read was still running at the next 100 ms tick): {reader.late}")
    for name in phases:
        for example in stats[name]["error_examples"]:
            out(f"reader error ({name}): {example}")

    # The heavy clients.
    out(f"\n## the {len(clients)} heavy clients (admin token, one connection each, seed = client number)")
    out(f"query: {figures['heavy_query']}")
    out(f"{'client':>6} {'outcome':<12} {'seconds':>8} {'status':>6}  code / detail")
    rows = []
    for client in clients:
        if client.answered_at is not None and client.sent_at is not None:
            outcome = "answered" if client.ok else ("error" if client.status else "closed")
            seconds = client.answered_at - client.sent_at
        elif client.sent_at is None:
            outcome, seconds = "not sent", None
        else:
            outcome, seconds = "disconnected", (client.closed_at or disconnect) - client.sent_at
        rows.append({"client": client.index, "seed": client.index, "outcome": outcome, "seconds": seconds,
                     "status": client.status, "codes": client.codes, "detail": client.detail})
        out(f"{client.index:>6} {outcome:<12} {'-' if seconds is None else f'{seconds:.2f}':>8} "
            f"{client.status or '-':>6}  {client.detail}")
    answered = [r for r in rows if r["outcome"] == "answered"]
    errored = [r for r in rows if r["outcome"] in ("error", "closed", "not sent")]
    codes: dict[str, int] = {}
    for r in rows:
        for code in r["codes"]:
            codes[code] = codes.get(code, 0) + 1
    figures["heavy"] = rows
    figures["heavy_answered"] = len(answered)
    figures["heavy_errors"] = len(errored)
    figures["heavy_error_codes"] = codes
    order = sorted(answered, key=lambda r: r["seconds"])
    out(f"answered before the disconnect: {len(answered)} of {len(clients)}"
        + (" (after " + ", ".join(f"{r['seconds']:.1f}" for r in order) + " s)" if order else "")
        + f"; errors: {len(errored)}" + (f" {codes}" if codes else ""))

    # CPU.
    load_cpu = cpu_between(samples, marks["load"], disconnect)
    base_cpu = cpu_between(samples, marks["baseline"], marks["load"])
    idle, first = idle_from(samples, disconnect)
    threads_max = max((s[4] for s in samples), default=0)
    figures["cpu_baseline_cores"] = base_cpu
    figures["cpu_load_cores"] = load_cpu
    figures["idle_after_disconnect_s"] = idle
    figures["threads_max"] = threads_max
    curve = []
    for k in range(first, len(samples) - 1):
        t0, t1 = samples[k][0], samples[k + 1][0]
        if t0 - disconnect >= 5.0:
            break
        curve.append((round(t0 - disconnect, 2), (samples[k + 1][1] - samples[k][1]) / CLK_TCK / (t1 - t0)))
    figures["cpu_after_curve"] = [{"t_s": t, "cores": c} for t, c in curve]
    figures["cpu_samples"] = [{"t_s": round(t - disconnect, 3), "ticks": ticks, "rss_kb": rss, "threads": threads}
                              for t, ticks, rss, _, threads in samples]  # t from the disconnect
    figures["marks_s"] = {name: round(t - disconnect, 3) for name, t in marks.items()}
    out(f"\n## server CPU ({CLK_TCK} ticks/s, sampled every 100 ms; 100 % = one core)")
    out(f"baseline: {'-' if base_cpu is None else f'{base_cpu * 100:.0f} %'}   "
        f"load: {'-' if load_cpu is None else f'{load_cpu * 100:.0f} %'}   "
        f"most threads: {threads_max}")
    observed = marks["end"] - disconnect
    out("after the disconnect: " + (f"idle from {idle:.1f} s" if idle is not None else
                                    f"NOT idle within the {observed:.0f} s observed"))
    out("CPU per 100 ms from the disconnect (%; each row 1 s):")
    for row in range(0, len(curve), 10):
        chunk = curve[row:row + 10]
        start = 0.0 if abs(chunk[0][0]) < 0.05 else chunk[0][0]
        out(f"  {start:>5.1f} s: " + " ".join(f"{c * 100:>4.0f}" for _, c in chunk))
    tail = cpu_between(samples, disconnect + 5.0, marks["end"])
    if tail is not None:
        out(f"  from 5 s to {observed:.1f} s: mean {tail * 100:.0f} %")

    # The server's own heavy-job gauges.
    gauges = metrics.samples
    figures["heavy_jobs_metrics"] = [{"t_s": round(t - disconnect, 2), "waiting": w, "running": r, "stopped_total": st}
                                     for t, w, r, st in gauges]
    if gauges:
        during = [g for g in gauges if marks["load"] <= g[0] <= disconnect]
        before = max((g for g in gauges if g[0] <= disconnect), key=lambda g: g[0], default=None)
        after = [g for g in gauges if g[0] > disconnect]
        drained = next((g[0] - disconnect for g in after if g[1] == 0 and g[2] == 0), None)
        figures["heavy_jobs_running_max"] = max((g[2] for g in during), default=None)
        figures["heavy_jobs_drained_s"] = drained
        out("\n## heavy-job gauges from /metrics (every 200 ms)")
        if during:
            out(f"during the load: running at most {max(g[2] for g in during)}, waiting at most "
                f"{max(g[1] for g in during)}")
        if before:
            out(f"last reading before the disconnect: waiting {before[1]}, running {before[2]}, "
                f"stopped so far {before[3]}")
        out("after the disconnect: " + (f"none waiting or running from {drained:.1f} s" if drained is not None
                                        else "jobs still waiting or running at the end")
            + (f"; stopped_total {gauges[-1][3]} at the end" if gauges else ""))
        for t, w, r, st in after[:10]:
            out(f"  {t - disconnect:>5.1f} s: waiting {w}, running {r}, stopped_total {st}")
    elif metrics.missing:
        out("\n(/metrics has no samverka_heavy_jobs_* gauges)")

    # Memory.
    rss_peak = max((s[2] for s in samples), default=0) / 1024
    hwm = max((s[3] for s in samples), default=0) / 1024
    peak = max(rss_peak, hwm)
    figures["rss_sampled_peak_mb"] = rss_peak
    figures["vm_hwm_mb"] = hwm
    figures["rss_peak_mb"] = peak
    load_rss = max((s[2] for s in samples if marks["load"] <= s[0] <= disconnect), default=0) / 1024
    out(f"\n## memory: peak {peak:.0f} MB (VmHWM {hwm:.0f} MB; highest VmRSS sampled {rss_peak:.0f} MB, "
        f"{load_rss:.0f} MB during the load)")

    # The server's log.
    lines = server.log_lines()
    pattern = re.compile(r"cancel|time[d ]?[- ]?out|timeout|abort|dropp", re.IGNORECASE)
    about = [line for line in lines if pattern.search(line)]
    problems = [line for line in lines if re.search(r"\b(WARN|ERROR)\b", line) and line not in about]
    figures["log_cancel_timeout_lines"] = about
    out(f"\n## server log ({len(lines)} lines): {len(about)} about cancellation or timeouts")
    for line in about[:40]:
        out(f"  {line}")
    if len(about) > 40:
        out(f"  … {len(about) - 40} more")
    if problems:
        out(f"other WARN/ERROR lines ({len(problems)}):")
        for line in problems[:10]:
            out(f"  {line}")

    # Targets.
    failed = []
    p99 = load["p99_ms"]
    out("\n## targets")
    checks = [
        (f"reader p99 under load < {P99_TARGET_MS:.0f} ms", "-" if p99 is None else f"{p99:.1f} ms",
         p99 is not None and p99 < P99_TARGET_MS and load["errors"] == 0),
        (f"CPU idle within {IDLE_TARGET_S:.0f} s of the disconnect",
         f"{idle:.1f} s" if idle is not None else f"not idle in {observed:.0f} s",
         idle is not None and idle <= IDLE_TARGET_S),
        (f"peak RSS < {RSS_TARGET_MB:.0f} MB", f"{peak:.0f} MB", 0 < peak < RSS_TARGET_MB),
    ]
    for label, value, ok in checks:
        out(f"{label:<42} {value:>18}  {'ok' if ok else 'FAIL'}")
        if not ok:
            failed.append(label)
    if load["errors"]:
        out(f"(the reader had {load['errors']} failed reads under load: counted as a miss of the p99 target)")
    figures["failed"] = failed
    figures["notes"] = notes
    out("\nall targets met" if not failed else f"\nFAILED: {'; '.join(failed)}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as file:
            json.dump(figures, file, indent=2)
        out(f"figures written to {args.json}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
