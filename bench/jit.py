#!/usr/bin/env python3
"""What PostgreSQL's JIT does to the SQL of each bench query (issue 18, item 5).

    python3 bench/jit.py [--bin BIN] [--url URL] [--queries nested,groupby] [--duration 10]
                         [--warmup 1] [--protocol simple|prepared] [--explain-runs 3] [--keep DIR]

The server sets `jit = off` on every PostgreSQL session it opens (src/db/mod.rs, SESSION and
ANALYTICS_SESSION). This measures what that setting is worth, per bench query
(bench/queries/*.graphql), on the PostgreSQL bench database (`large` loaded, as bench/run leaves it):

1. Capture. Starts the release server (BIN serve --no-demo on a free loopback port, rate limit
   lifted, the analytics cache off, the events poll slowed to once an hour so it stays out of the
   capture) on URL with, in the URL's query string, an application_name of its own and
   `options=-c log_min_duration_statement=0 -c log_parameter_max_length=-1` plus auto_explain
   loaded per session (`session_preload_libraries=auto_explain`, log_min_duration 0, JSON,
   log_settings on). sqlx passes both to PostgreSQL as startup parameters of each connection, and
   appends the server's own `-c jit=off` (and the analytics pool's `-c work_mem=64MB`) after them,
   so only the server's sessions log, nothing database-wide is set and nothing is left to reset
   (needs a superuser, as log_min_duration_statement and session_preload_libraries are). The
   server reaches PostgreSQL through a pass-through proxy in this script that notes the parameter
   types of each Parse message (the log has the values, not the types sqlx bound them with; TLS
   is off for the capture). Per query: warm-up requests (--warmup-requests, default 2), then one
   request whose log entries (the bytes the PostgreSQL log grew by, of the backends with that
   application_name) are read back with bench/lib/peer_sql.py: its statements in order, their
   parameter values written in as literals, here cast to their bound types ('13'::integer).
   auto_explain's entry for each statement gives the cost of the plan the server actually ran (a
   cached generic plan included) and the session's settings (which pool ran it). The server is
   stopped before anything is timed.
2. Replay, per query, of that SQL as one pgbench script (statements grouped by the backend that
   ran them, in order, with `SET work_mem` etc. where the server's session had them, `jit`
   excluded; statements that would write are left out and reported):
   a. EXPLAIN (FORMAT JSON) of each read: its plan's total cost against jit_above_cost,
      jit_inline_above_cost and jit_optimize_above_cost (PostgreSQL compiles a statement when the
      cost of its top plan node passes jit_above_cost; that is all `jit = on` changes);
   b. pgbench -n -M PROTOCOL -f SCRIPT -T DURATION -c 1 with PGOPTIONS '-c jit=off', then
      '-c jit=on' (each after --warmup seconds of the same): p50 and p95 of the whole request's SQL;
   c. EXPLAIN (ANALYZE, FORMAT JSON) under jit=on (--explain-runs times, the median kept) of the
      statements over jit_above_cost: the JIT section's functions and generation, inlining,
      optimization and emission ms, and under jit=off once for comparison.
3. Prints a table (stdout):
       query | statements | max plan cost (replayed; the server's own plans) | statements over
       jit_above_cost / inline / optimize | p50 ms jit on | p50 ms jit off | on/off | JIT ms
   then each compiled statement in detail and a one-line conclusion. Progress goes to stderr.

The replay times PostgreSQL alone, one statement after another on one connection: not the
request's wall time (the server runs some statements concurrently on several connections) and
not its network or Rust time. With --protocol simple (the default) each run re-plans with the
literals (a custom plan); the server's sqlx prepares its statements, so a generic plan may cost
differently: the "srv cost" column is the cost of the plans the server ran. JIT compiles at
every execution either way (PostgreSQL caches no JIT code between executions).

Options:
  --bin          release binary (default /var/tmp/samverka-target/release/samverka)
  --url          PostgreSQL bench database (default postgres://postgres@127.0.0.1:5432/samverka_bench)
  --queries      comma-separated subset of bench/queries/*.graphql names (default: all)
  --duration     seconds of pgbench per configuration and query (default 10)
  --warmup       seconds of pgbench before each timed configuration (default 1; 0 skips)
  --protocol     pgbench's -M (default simple)
  --explain-runs EXPLAIN ANALYZE runs under jit=on per compiled statement (default 3)
  --warmup-requests  requests before the captured one (default 2)
  --logfile      the PostgreSQL log (default: pg_current_logfile(), else
                 /var/log/postgresql/postgresql-<major>-main.log)
  --keep DIR     keep the captured SQL (DIR/<query>.sql, runnable with pgbench or psql), each
                 query's log excerpt and the server's log
Figures from a busy machine are not measurements: run it when nothing else does.
Exit status: 0 done (a query that could not be captured or replayed is reported in its row),
2 the run could not be made.
"""

import argparse
import json
import math
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "lib"))
sys.path.insert(0, os.path.join(HERE, "floor"))

import floor  # noqa: E402  (pgbench_path, pgbench_latencies, percentile)
import gql  # noqa: E402  (body: a query file as a request body)
import peer_sql  # noqa: E402  (entries, extract, inline: statements from the log)
import processes  # noqa: E402  (free_port, die_with_parent, stop)

DEFAULT_BIN = "/var/tmp/samverka-target/release/samverka"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/samverka_bench"
QUERIES = ["nested", "metrics", "groupby", "compare", "placements", "programmes", "municipalities", "attainment"]
CAPTURE_OPTIONS = [
    ("log_min_duration_statement", "0"),
    ("log_parameter_max_length", "-1"),
]
AUTO_EXPLAIN_OPTIONS = [
    ("session_preload_libraries", "auto_explain"),
    ("auto_explain.log_min_duration", "0"),
    ("auto_explain.log_format", "json"),
    ("auto_explain.log_settings", "on"),
]
# Settings of the server's sessions that the replay does not copy: jit is what is measured;
# plan_cache_mode is set with SET LOCAL by the statements themselves (and literals plan alike).
NOT_REPLAYED = re.compile(r"^(jit($|_)|plan_cache_mode$)")
PLAN = re.compile(r"duration: [0-9.]+ ms  plan:\n(?P<json>.*)$", re.S)
REGION_LIST = '{ regions(first: 10, filter: { kindIn: [FYLKE, LAN], existsOn: "2024-06-01" }) { nodes { slug } } }'
NOISE = 0.05  # on/off ratios within 1 ± this are reported as no difference


class Failed(Exception):
    pass


def log(message):
    print(f"[jit {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# PostgreSQL helpers


def options_value(pairs):
    """A libpq `options` value: -c name=value ... (values here have no spaces)."""
    return " ".join(f"-c {name}={value}" for name, value in pairs)


def env_with(pgoptions):
    env = dict(os.environ)
    env["PGOPTIONS"] = (env.get("PGOPTIONS", "") + " " + pgoptions).strip()
    return env


def psql(url, script, pgoptions="", check=True):
    """Runs `script` (text) with psql -X -A -t -q; returns (returncode, stdout, stderr)."""
    done = subprocess.run(
        ["psql", url, "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-f", "-"],
        input=script,
        capture_output=True,
        text=True,
        check=False,
        env=env_with(pgoptions),
        preexec_fn=processes.die_with_parent,
    )
    if check and done.returncode != 0:
        raise Failed(f"psql failed ({done.returncode}): {done.stderr.strip()[:3000]}")
    return done.returncode, done.stdout, done.stderr


def scalar(url, sql, pgoptions=""):
    return psql(url, sql + ";\n", pgoptions)[1].strip()


def capture_url(url, application_name, with_auto_explain):
    """URL with application_name and the logging options added to its query string (sqlx parses
    both; an `options` already there is kept, ours appended)."""
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    pairs = CAPTURE_OPTIONS + (AUTO_EXPLAIN_OPTIONS if with_auto_explain else [])
    ours = options_value(pairs)
    kept = [(k, v) for k, v in query if k not in ("options", "application_name")]
    existing = " ".join(v for k, v in query if k == "options")
    kept.append(("application_name", application_name))
    kept.append(("options", (existing + " " + ours).strip()))
    new_query = urllib.parse.urlencode(kept, quote_via=urllib.parse.quote)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, new_query, parts.fragment))


def pg_logfile(url, given):
    if given:
        if not os.access(given, os.R_OK):
            raise Failed(f"cannot read the PostgreSQL log {given}")
        return given
    current = scalar(url, "SELECT coalesce(pg_current_logfile(), '')")
    if current:
        if not os.path.isabs(current):
            current = os.path.join(scalar(url, "SHOW data_directory"), current)
        if os.access(current, os.R_OK):
            return current
    major = scalar(url, "SELECT current_setting('server_version_num')::int / 10000")
    candidate = f"/var/log/postgresql/postgresql-{major}-main.log"
    if os.access(candidate, os.R_OK):
        return candidate
    raise Failed("no readable PostgreSQL log (logging_collector's pg_current_logfile() or "
                 f"{candidate}); give it with --logfile")


# ---------------------------------------------------------------------------------------------
# Parameter types: a pass-through proxy between the server and PostgreSQL

SSL_REQUEST, GSSENC_REQUEST, CANCEL_REQUEST = 80877103, 80877104, 80877102


def read_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


class TypeProxy:
    """Forwards the server's connections to PostgreSQL byte for byte and notes the parameter
    types of every Parse message (extended protocol) they send: {SQL text: (type oid, ...)}.
    The log gives the values of a statement's parameters but not their types, and sqlx binds
    typed parameters: an untyped literal in their place resolves differently where nothing else
    types it (a VALUES list of ints and dates becomes text). It answers the client's SSL and GSS
    encryption requests with 'N' itself, so the stream stays readable (capture only)."""

    def __init__(self, url):
        parts = urllib.parse.urlsplit(url)
        port = parts.port or 5432
        if parts.hostname:
            self.upstream = (socket.AF_INET6 if ":" in parts.hostname else socket.AF_INET, (parts.hostname, port))
        else:
            self.upstream = (socket.AF_UNIX, f"/var/run/postgresql/.s.PGSQL.{port}")
        self.types = {}
        self.lock = threading.Lock()
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self.accept_loop, daemon=True).start()

    def url(self, url):
        """url pointed at the proxy (host and port replaced, TLS off)."""
        parts = urllib.parse.urlsplit(url)
        userinfo = parts.netloc.rpartition("@")[0]
        netloc = (userinfo + "@" if userinfo else "") + f"127.0.0.1:{self.port}"
        query = [(k, v) for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
                 if k not in ("host", "hostaddr", "port", "sslmode")]
        query.append(("sslmode", "disable"))
        return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path,
                                        urllib.parse.urlencode(query, quote_via=urllib.parse.quote), ""))

    def close(self):
        try:
            self.listener.close()
        except OSError:
            pass

    def accept_loop(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self.connection, args=(client,), daemon=True).start()

    def connection(self, client):
        upstream = None
        try:
            upstream = socket.socket(self.upstream[0], socket.SOCK_STREAM)
            upstream.connect(self.upstream[1])
            threading.Thread(target=self.copy, args=(upstream, client), daemon=True).start()
            while True:  # start-up: untyped messages (length, code, ...)
                header = read_exact(client, 4)
                body = read_exact(client, int.from_bytes(header, "big") - 4)
                code = int.from_bytes(body[:4], "big")
                if code in (SSL_REQUEST, GSSENC_REQUEST):
                    client.sendall(b"N")
                    continue
                upstream.sendall(header + body)
                if code == CANCEL_REQUEST:
                    return
                break
            while True:  # typed messages
                kind = read_exact(client, 1)
                header = read_exact(client, 4)
                body = read_exact(client, int.from_bytes(header, "big") - 4)
                if kind == b"P":
                    self.note_parse(body)
                upstream.sendall(kind + header + body)
        except (EOFError, OSError):
            pass
        finally:
            for sock in (client, upstream):
                if sock is not None:
                    try:
                        sock.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    sock.close()

    @staticmethod
    def copy(source, target):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                target.sendall(data)
        except OSError:
            pass
        finally:
            try:
                target.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def note_parse(self, body):
        name_end = body.index(b"\0")
        query_end = body.index(b"\0", name_end + 1)
        sql = body[name_end + 1 : query_end].decode("utf-8", errors="replace").strip()
        at = query_end + 1
        count = int.from_bytes(body[at : at + 2], "big")
        oids = tuple(int.from_bytes(body[at + 2 + 4 * i : at + 6 + 4 * i], "big") for i in range(count))
        with self.lock:
            self.types[sql] = oids


def type_names(url, oids):
    """{oid: 'integer', ...} for the given type oids (0, unspecified, left out)."""
    wanted = sorted({oid for oid in oids if oid})
    if not wanted:
        return {}
    out = scalar(url, "SELECT string_agg(oid::text || '|' || format_type(oid, NULL), E'\\n') FROM pg_type "
                      f"WHERE oid IN ({','.join(map(str, wanted))})")
    names = {}
    for line in out.splitlines():
        oid, _, name = line.partition("|")
        names[int(oid)] = name
    return names


# ---------------------------------------------------------------------------------------------
# The server


class Server:
    def __init__(self, binary, database_url, workdir):
        self.port = processes.free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = os.path.join(workdir, "server.log")
        env = dict(os.environ)
        env.update({
            "DATABASE_URL": database_url,
            "SAMVERKA_RATE_LIMIT": "1000000",
            "SAMVERKA_RATE_BURST": "1000000",
            "SAMVERKA_JWT_SECRET_FILE": os.path.join(workdir, "samverka.jwt-secret"),
            "RUST_LOG": "warn",
        })
        env.pop("PGOPTIONS", None)  # only the URL's options reach the server's sessions
        env.pop("PGAPPNAME", None)
        command = [binary, "serve", "--no-demo", "--listen", f"127.0.0.1:{self.port}",
                   "--analytics-cache-mb", "0", "--feed-poll-ms", "3600000"]
        self.log_file = open(self.log_path, "wb")
        self.process = subprocess.Popen(command, cwd=workdir, env=env, stdout=self.log_file,
                                        stderr=subprocess.STDOUT, preexec_fn=processes.die_with_parent)
        log(f"server pid {self.process.pid} on {self.base} (log {self.log_path})")

    def tail(self):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as file:
                return file.read()[-3000:]
        except OSError:
            return ""

    def wait_ready(self, seconds=300):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise Failed(f"the server exited ({self.process.returncode}):\n{self.tail()}")
            try:
                with urllib.request.urlopen(self.base + "/readyz", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.2)
        raise Failed(f"the server was not ready within {seconds} s:\n{self.tail()}")

    def post(self, query, label):
        body = json.dumps({"query": query}).encode()
        request = urllib.request.Request(self.base + "/graphql", data=body,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                raw = response.read()
        except urllib.error.HTTPError as error:
            raise Failed(f"{label}: HTTP {error.code}: {error.read()[:2000]!r}") from error
        except (urllib.error.URLError, OSError) as error:
            raise Failed(f"{label}: {error}") from error
        answer = json.loads(raw)
        if answer.get("errors") or not answer.get("data"):
            raise Failed(f"{label}: {raw[:2000]!r}")
        return answer

    def stop(self):
        processes.stop(self.process, grace=15)
        self.log_file.close()


def query_text(name, server, workdir):
    path = os.path.join(HERE, "queries", f"{name}.graphql")
    out = os.path.join(workdir, f"{name}.body.json")
    substitutions = []
    if name == "compare":
        nodes = server.post(REGION_LIST, "region list")["data"]["regions"]["nodes"]
        if not nodes:
            raise Failed("regions(first: 10) returned no regions for compare")
        substitutions.append("__REGION_SLUGS__=" + json.dumps([node["slug"] for node in nodes], ensure_ascii=False))
    gql.body(path, out, *substitutions)
    with open(out, encoding="utf-8") as file:
        return json.load(file)["query"]


def server_pids(url, application_name):
    text = scalar(url, f"SELECT coalesce(string_agg(pid::text, ','), '') FROM pg_stat_activity "
                       f"WHERE application_name = '{application_name}'")
    return {pid for pid in text.split(",") if pid}


def wait_quiet(url, application_name, seconds=120):
    """Until none of the server's backends is active for a second (its start-up work is done)."""
    deadline = time.monotonic() + seconds
    quiet_since = None
    while time.monotonic() < deadline:
        active = scalar(url, f"SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                             f"'{application_name}' AND state <> 'idle'")
        now = time.monotonic()
        if active == "0":
            quiet_since = quiet_since or now
            if now - quiet_since >= 1.0:
                return
        else:
            quiet_since = None
        time.sleep(0.2)
    log("WARNING the server's sessions were still busy after its start; capturing anyway")


# ---------------------------------------------------------------------------------------------
# Capture: the log excerpt of one request into a replay script


def plans_by_statement(text, pids):
    """auto_explain entries of `pids`: {(pid, query text): [plan json, ...]} in log order."""
    found = {}
    for prefix, level, message in peer_sql.entries(text):
        if level != "LOG":
            continue
        match = PLAN.match(message)
        if not match:
            continue
        pid_match = peer_sql.PID.search(prefix)
        pid = pid_match[1] if pid_match else ""
        if pids and pid not in pids:
            continue
        try:
            plan = json.loads(match["json"])
        except ValueError:
            continue
        key = (pid, plan.get("Query Text", "").strip())
        found.setdefault(key, []).append(plan)
    return found


def kind_of(sql):
    """read | tx | set | write | other, by the statement's first word."""
    word = re.match(r"\s*(?:/\*.*?\*/\s*)*([A-Za-z]+)", sql, re.S)
    word = word[1].upper() if word else ""
    if word in ("SELECT", "VALUES", "TABLE"):
        return "read"
    if word == "WITH":
        return "write" if re.search(r"\b(INSERT|UPDATE|DELETE|MERGE)\b", sql, re.I) else "read"
    if word in ("BEGIN", "START", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE"):
        return "tx"
    if word in ("SET", "RESET", "SHOW"):
        return "set"
    if word in ("INSERT", "UPDATE", "DELETE", "MERGE", "COPY", "CREATE", "ALTER", "DROP", "TRUNCATE",
                "LISTEN", "UNLISTEN", "NOTIFY", "LOCK", "VACUUM", "ANALYZE", "REFRESH", "CALL", "DO"):
        return "write"
    return "other"


class Captured:
    """One request's statements, ready to replay."""

    def __init__(self, name):
        self.name = name
        self.statements = []  # dicts: sql (literals in), kind, pid, settings, srv_cost, log_ms
        self.left_out = []  # (reason, sql)
        self.db_ms = 0.0
        self.untyped = 0  # statements with parameters whose types the proxy did not see
        self.error = None
        self.script = None  # path of the pgbench script

    def reads(self):
        return [s for s in self.statements if s["kind"] == "read"]


def typed_values(values, oids, names):
    """The logged literals of a statement's parameters with the types sqlx bound them with:
    {'1': "('13'::integer)"}; a parameter of unknown type stays an untyped literal."""
    typed = {}
    for number, literal in values.items():
        index = int(number) - 1
        oid = oids[index] if oids and index < len(oids) else 0
        typed[number] = f"({literal}::{names[oid]})" if oid in names else literal
    return typed


def capture(name, text, pids, with_plans, types, names):
    captured = Captured(name)
    statements, captured.db_ms = peer_sql.extract(text, pids)
    if not statements:
        raise Failed("no statement of the server's sessions in the log for this request")
    plans = plans_by_statement(text, pids) if with_plans else {}
    # The session settings of each backend (which pool it belongs to), from its plans.
    settings_of = {}
    for statement in statements:
        queue = plans.get((statement["pid"], statement["sql"]), [])
        plan = queue.pop(0) if queue else None
        statement["plan"] = plan
        if plan is not None:
            settings = {k: v for k, v in (plan.get("Settings") or {}).items() if not NOT_REPLAYED.match(k)}
            settings_of.setdefault(statement["pid"], {}).update(settings)
    # Grouped by backend (first appearance), each backend's statements in their order.
    order = []
    for statement in statements:
        if statement["pid"] not in order:
            order.append(statement["pid"])
    for pid in order:
        for statement in (s for s in statements if s["pid"] == pid):
            if statement["values"] and statement["sql"] not in types:
                captured.untyped += 1
            values = typed_values(statement["values"], types.get(statement["sql"]), names)
            sql = peer_sql.inline(statement["sql"], values).rstrip().rstrip(";").rstrip()
            kind = kind_of(sql)
            if kind == "write" or kind == "other":
                captured.left_out.append((kind, sql))
                continue
            if kind == "set" and re.search(r"\bjit", sql, re.I):
                captured.left_out.append(("sets jit", sql))
                continue
            plan = statement["plan"]
            captured.statements.append({
                "sql": sql,
                "kind": kind,
                "pid": pid,
                "settings": settings_of.get(pid, {}),
                "srv_cost": plan["Plan"]["Total Cost"] if plan and "Plan" in plan else None,
                "log_ms": statement["ms"],
            })
    if not captured.reads():
        raise Failed("the request's statements hold no read to replay")
    return captured


def setting_lines(current, wanted):
    """SET/RESET lines that take a session from settings `current` to `wanted`."""
    lines = [f"RESET {name};" for name in sorted(current) if name not in wanted]
    lines += [f"SET {name} = '{value}';" for name, value in sorted(wanted.items()) if current.get(name) != value]
    return lines


def write_script(captured, path):
    lines = [
        f"-- The SQL the server sent for one `{captured.name}` request (bench/jit.py), as PostgreSQL",
        "-- logged it: parameters written in as literals, grouped by the backend that ran it, with that",
        "-- session's settings (jit excluded). A pgbench script: pgbench -n -M simple -f THIS_FILE",
    ]
    current = {}
    for index, statement in enumerate(captured.statements, 1):
        if statement["settings"] != current:
            lines += setting_lines(current, statement["settings"])
            current = dict(statement["settings"])
        lines.append("")
        cost = f", plan cost {statement['srv_cost']:.0f} on the server" if statement["srv_cost"] is not None else ""
        lines.append(f"-- statement {index} of {len(captured.statements)} (backend {statement['pid']}): "
                     f"{statement['log_ms']:.3f} ms in the log{cost}")
        lines.append(statement["sql"] + ";")
    if current:
        lines.append("")
        lines += setting_lines(current, {})
    with open(path, "w", encoding="utf-8") as file:
        file.write("\n".join(lines) + "\n")
    captured.script = path


# ---------------------------------------------------------------------------------------------
# Replay


def explain(url, captured, analyze, jit):
    """[(statement index, plan json)] of the reads; index is 0-based into captured.statements."""
    lines = []
    current = {}
    targets = [(i, s) for i, s in enumerate(captured.statements) if s["kind"] == "read"]
    if analyze is not None:
        targets = [(i, s) for i, s in targets if i in analyze]
    for index, statement in targets:
        if statement["settings"] != current:
            lines += setting_lines(current, statement["settings"])
            current = dict(statement["settings"])
        option = "ANALYZE, FORMAT JSON" if analyze is not None else "FORMAT JSON"
        lines.append(f"\\echo @@@ {index}")
        lines.append(f"EXPLAIN ({option}) {statement['sql']};")
    if not targets:
        return []
    _, out, _ = psql(url, "\n".join(lines) + "\n", f"-c jit={jit}")
    found, current_index, buffer = [], None, []
    for line in out.split("\n") + ["@@@ end"]:
        match = re.match(r"^@@@ (\d+|end)$", line)
        if match:
            if current_index is not None:
                found.append((current_index, json.loads("\n".join(buffer))[0]))
            current_index = None if match[1] == "end" else int(match[1])
            buffer = []
        elif current_index is not None:
            buffer.append(line)
    return found


def jit_ms(plan):
    """(functions, generation, inlining, optimization, emission, total) ms of an EXPLAIN ANALYZE
    JIT section; None when the statement was not compiled."""
    section = plan.get("JIT")
    if not section:
        return None
    timing = section.get("Timing", {})

    def ms(key):
        value = timing.get(key, 0.0)
        return value.get("Total", 0.0) if isinstance(value, dict) else float(value)

    return (section.get("Functions", 0), ms("Generation"), ms("Inlining"), ms("Optimization"),
            ms("Emission"), ms("Total"))


def pgbench(url, script, seconds, protocol, jit, log_dir=None):
    command = [floor.pgbench_path(), "-n", "-M", protocol, "-f", script, "-T", str(seconds), "-c", "1"]
    if log_dir:
        command += ["-l", f"--log-prefix={os.path.join(log_dir, 'pgbench_log')}"]
    command.append(url)
    done = subprocess.run(command, capture_output=True, text=True, check=False,
                          env=env_with(f"-c jit={jit}"), preexec_fn=processes.die_with_parent)
    if done.returncode != 0:
        raise Failed(f"pgbench failed ({done.returncode}): {(done.stdout + done.stderr).strip()[-3000:]}")


def time_script(url, script, seconds, warmup, protocol, jit):
    """Sorted per-run latencies (ms) of the whole script under jit."""
    if warmup > 0:
        pgbench(url, script, max(1, math.ceil(warmup)), protocol, jit)
    with tempfile.TemporaryDirectory(prefix="jit-pgbench-") as log_dir:
        pgbench(url, script, max(1, math.ceil(seconds)), protocol, jit, log_dir)
        latencies = floor.pgbench_latencies(log_dir)
    if not latencies:
        raise Failed("pgbench logged no transactions")
    return latencies


class Result:
    def __init__(self, captured):
        self.captured = captured
        self.costs = {}  # statement index -> replayed plan cost
        self.on = self.off = None  # sorted latencies
        self.jit = {}  # statement index -> [jit_ms tuples per run]
        self.exec_on = {}  # statement index -> [execution ms per run]
        self.exec_off = {}  # statement index -> execution ms
        self.error = None


def replay(url, captured, thresholds, args):
    result = Result(captured)
    # Fails early, with psql's message, on a statement that does not run as captured.
    code, _, err = psql(url, f"\\o /dev/null\n\\i {captured.script}\n", "-c jit=off", check=False)
    if code != 0:
        raise Failed(f"the captured SQL does not run: {err.strip()[:2000]}")
    for index, plan in explain(url, captured, None, "on"):
        result.costs[index] = plan["Plan"]["Total Cost"]
    compiled = {i for i, cost in result.costs.items() if jit_level(cost, thresholds, "jit_above_cost")}
    log(f"{captured.name}: {len(captured.statements)} statements replayed, {len(compiled)} over jit_above_cost; "
        f"pgbench {args.duration:g} s per configuration")
    result.off = time_script(url, captured.script, args.duration, args.warmup, args.protocol, "off")
    result.on = time_script(url, captured.script, args.duration, args.warmup, args.protocol, "on")
    if compiled:
        for _ in range(args.explain_runs):
            for index, plan in explain(url, captured, compiled, "on"):
                result.jit.setdefault(index, []).append(jit_ms(plan))
                result.exec_on.setdefault(index, []).append(plan["Execution Time"])
        for index, plan in explain(url, captured, compiled, "off"):
            result.exec_off[index] = plan["Execution Time"]
    return result


# ---------------------------------------------------------------------------------------------
# Report


def jit_level(cost, thresholds, key):
    """True when a plan of this total cost gets that level of JIT (PostgreSQL's planner: JIT at all
    above jit_above_cost, and only then inlining and optimization above their own thresholds; -1
    turns a level off)."""
    jit = thresholds["jit_above_cost"]
    return jit >= 0 and cost > jit and thresholds[key] >= 0 and cost > thresholds[key]


def jit_total(result):
    """Median over the EXPLAIN ANALYZE runs of the request's total JIT ms; None if none compiled."""
    if not result.jit:
        return None
    runs = len(next(iter(result.jit.values())))
    per_run = [sum(timings[k][5] for timings in result.jit.values() if timings[k] is not None) for k in range(runs)]
    return statistics.median(per_run)


def fmt_ms(value):
    if value is None:
        return "n/a"
    return f"{value:.2f}" if value < 100 else f"{value:.0f}"


def fmt_cost(value):
    if value is None:
        return "n/a"
    return f"{value:.0f}"


def report(results, failures, thresholds, args, jit_available):
    rows = []
    header = ["query", "stmts", "max cost", "srv cost", ">jit", ">inl", ">opt",
              "p50 on ms", "p50 off ms", "on/off", "JIT ms"]
    for name in args.queries:
        if name in failures:
            rows.append([name, "-", "-", "-", "-", "-", "-", "-", "-", "-", f"failed: {failures[name]}"[:60]])
            continue
        result = results[name]
        captured = result.captured
        costs = list(result.costs.values())
        srv = [s["srv_cost"] for s in captured.statements if s["srv_cost"] is not None]
        above = {key: sum(1 for c in costs if jit_level(c, thresholds, key))
                 for key in ("jit_above_cost", "jit_inline_above_cost", "jit_optimize_above_cost")}
        p50_on = floor.percentile(result.on, 0.5)
        p50_off = floor.percentile(result.off, 0.5)
        total = jit_total(result)
        jit_cell = fmt_ms(total) if total is not None else "-"
        rows.append([
            name,
            str(len(captured.statements)),
            fmt_cost(max(costs) if costs else None),
            fmt_cost(max(srv) if srv else None),
            str(above["jit_above_cost"]),
            str(above["jit_inline_above_cost"]),
            str(above["jit_optimize_above_cost"]),
            fmt_ms(p50_on),
            fmt_ms(p50_off),
            f"{p50_on / p50_off:.2f}" if p50_off > 0 else "n/a",
            jit_cell,
        ])
    widths = [max(len(header[i]), *(len(row[i]) for row in rows)) for i in range(len(header))]
    out = []
    out.append(f"== JIT on the bench queries' SQL (PostgreSQL {thresholds['server_version']}, "
               f"jit_above_cost {thresholds['jit_above_cost']:g}, jit_inline_above_cost "
               f"{thresholds['jit_inline_above_cost']:g}, jit_optimize_above_cost "
               f"{thresholds['jit_optimize_above_cost']:g}; pgbench -M {args.protocol} -c 1, "
               f"{args.duration:g} s per configuration)")
    if not jit_available:
        out.append("WARNING pg_jit_available() is false: jit = on changes nothing on this server")

    def line(cells):
        return "  ".join(cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(cells)).rstrip()

    out.append(line(header))
    for row in rows:
        out.append(line(row))
    out.append("stmts: statements of one request, replayed one after another on one connection; max cost: the")
    out.append("highest plan total cost when replayed (EXPLAIN), srv cost: of the plans the server itself ran")
    out.append("(auto_explain); >jit/>inl/>opt: replayed statements over jit_above_cost / _inline_ / _optimize_;")
    out.append("p50: the whole request's SQL with jit on / off; JIT ms: generation + inlining + optimization +")
    out.append(f"emission of the compiled statements (EXPLAIN ANALYZE under jit on, median of {args.explain_runs}).")
    details = []
    for name in args.queries:
        result = results.get(name)
        if result is None:
            continue
        for index in sorted(result.jit):
            statement = result.captured.statements[index]
            runs = [r for r in result.jit[index] if r is not None]
            if not runs:
                details.append(f"  {name} statement {index + 1}: cost {result.costs[index]:.0f}, not compiled under EXPLAIN ANALYZE")
                continue
            median = lambda k: statistics.median(r[k] for r in runs)  # noqa: E731
            sql = re.sub(r"\s+", " ", statement["sql"])[:110]
            details.append(
                f"  {name} statement {index + 1}: cost {result.costs[index]:.0f}, {runs[0][0]} functions; JIT "
                f"{median(5):.1f} ms (generation {median(1):.1f}, inlining {median(2):.1f}, optimization "
                f"{median(3):.1f}, emission {median(4):.1f}); execution {statistics.median(result.exec_on[index]):.1f} ms "
                f"with jit on (JIT included), {result.exec_off[index]:.1f} ms with jit off\n      {sql}")
        for reason, sql in result.captured.left_out:
            details.append(f"  {name}: left out of the replay ({reason}): {re.sub(chr(10) + '|  +', ' ', sql)[:100]}")
    if details:
        out.append("")
        out.append("Compiled statements (EXPLAIN ANALYZE) and statements left out:")
        out += details
    out.append("")
    out.append(conclusion(results, thresholds))
    print("\n".join(out), flush=True)


def conclusion(results, thresholds):
    compiled, untouched = [], []
    for name, result in results.items():
        ratio = floor.percentile(result.on, 0.5) / floor.percentile(result.off, 0.5)
        n = sum(1 for c in result.costs.values() if jit_level(c, thresholds, "jit_above_cost"))
        total = jit_total(result)
        label = f"{name} {ratio:.2f}x" + (f" ({total:.0f} ms of JIT)" if total is not None else "")
        (compiled if n else untouched).append((label, ratio, n))
    if not results:
        return "Conclusion: nothing was measured."
    parts = []
    if compiled:
        slower = [label for label, ratio, _ in compiled if ratio > 1 + NOISE]
        faster = [label for label, ratio, _ in compiled if ratio < 1 - NOISE]
        same = [label for label, ratio, _ in compiled if 1 - NOISE <= ratio <= 1 + NOISE]
        text = (f"{len(compiled)} of {len(results)} queries {'has' if len(compiled) == 1 else 'have'} "
                f"statements over jit_above_cost "
                f"({thresholds['jit_above_cost']:g})")
        effects = []
        if slower:
            effects.append("slower with jit on: " + ", ".join(slower))
        if faster:
            effects.append("faster with jit on: " + ", ".join(faster))
        if same:
            effects.append("within ±5 %: " + ", ".join(same))
        parts.append(text + " (" + "; ".join(effects) + ")")
    else:
        ratios = [ratio for _, ratio, _ in untouched]
        return (f"Conclusion: no statement of the {len(results)} queries passes jit_above_cost "
                f"({thresholds['jit_above_cost']:g}), so jit changes nothing for them (their on/off "
                f"{min(ratios):.2f}–{max(ratios):.2f} is noise): the server's jit = off neither costs nor saves.")
    if untouched:
        ratios = [ratio for _, ratio, _ in untouched]
        parts.append(f"the other {len(untouched)} never compile, so jit changes nothing for them "
                     f"(their on/off {min(ratios):.2f}–{max(ratios):.2f} is noise)")
    verdict = ""
    if compiled:
        if all(ratio > 1 + NOISE for _, ratio, _ in compiled):
            verdict = "; the server's jit = off is right"
        elif any(ratio < 1 - NOISE for _, ratio, _ in compiled):
            verdict = "; jit = on would pay for some statements"
        else:
            verdict = "; jit = off neither costs nor saves much"
    return "Conclusion: " + "; ".join(parts) + verdict + "."


# ---------------------------------------------------------------------------------------------


def thresholds_of(url):
    out = psql(url, "SELECT current_setting('jit_above_cost'), current_setting('jit_inline_above_cost'), "
                    "current_setting('jit_optimize_above_cost'), pg_jit_available(), "
                    "current_setting('server_version');\n", "-c jit=on")[1].strip()
    above, inline_, optimize, available, version = out.split("|")
    return ({"jit_above_cost": float(above), "jit_inline_above_cost": float(inline_),
             "jit_optimize_above_cost": float(optimize), "server_version": version.split()[0]},
            available == "t")


def run(args, workdir):
    if not floor.pgbench_path():
        raise Failed("pgbench is not installed (Debian: apt-get install postgresql-client)")
    if not shutil.which("psql"):
        raise Failed("psql is not installed (Debian: apt-get install postgresql-client)")
    if not os.access(args.bin, os.X_OK):
        raise Failed(f"no server binary at {args.bin} (cargo build --release)")
    thresholds, jit_available = thresholds_of(args.url)
    if not jit_available:
        log("WARNING pg_jit_available() is false (no llvmjit): jit = on changes nothing here")
    logfile = pg_logfile(args.url, args.logfile)
    code, _, err = psql(args.url, "SELECT 1;\n", options_value(AUTO_EXPLAIN_OPTIONS), check=False)
    with_plans = code == 0
    if not with_plans:
        log(f"WARNING auto_explain cannot be loaded per session ({err.strip()[:300]}): no server plan costs, "
            "and the replay cannot tell the analytics pool's work_mem")
    application_name = f"samverka-jit-{os.getpid()}"
    proxy = TypeProxy(args.url)
    server = Server(args.bin, capture_url(proxy.url(args.url), application_name, with_plans), workdir)
    texts, failures = {}, {}
    try:
        server.wait_ready()
        wait_quiet(args.url, application_name)
        for name in args.queries:
            try:
                query = query_text(name, server, workdir)
                for i in range(args.warmup_requests):
                    server.post(query, f"{name} (warm-up {i + 1})")
                time.sleep(0.3)  # the warm-up's log lines are in before the mark
                start = os.path.getsize(logfile)
                began = time.perf_counter()
                server.post(query, f"{name} (captured)")
                elapsed = (time.perf_counter() - began) * 1000
                time.sleep(0.5)  # and the request's (auto_explain's come when a portal closes)
                end = os.path.getsize(logfile)
                pids = server_pids(args.url, application_name)
                if end < start:
                    raise Failed(f"{logfile} shrank during the request (rotated?)")
                with open(logfile, "rb") as file:
                    file.seek(start)
                    texts[name] = (file.read(end - start).decode("utf-8", errors="replace"), pids)
                log(f"{name}: captured ({elapsed:.0f} ms request, {end - start} bytes of log)")
            except Failed as error:
                failures[name] = str(error)
                log(f"{name}: FAILED: {error}")
    finally:
        server.stop()
        proxy.close()
        log("server stopped")
    with proxy.lock:
        types = dict(proxy.types)
    names = type_names(args.url, [oid for oids in types.values() for oid in oids])
    captures = {}
    for name, (text, pids) in texts.items():
        if args.keep:
            with open(os.path.join(args.keep, f"{name}.log"), "w", encoding="utf-8") as file:
                file.write(text)
        try:
            captured = capture(name, text, pids, with_plans, types, names)
            if captured.untyped:
                log(f"WARNING {name}: {captured.untyped} statement(s) with parameters of unknown type "
                    "(their Parse not seen): written in as untyped literals")
            write_script(captured, os.path.join(args.keep or workdir, f"{name}.sql"))
            captures[name] = captured
        except (Failed, peer_sql.Unusable) as error:
            failures[name] = str(error)
            log(f"{name}: FAILED: {error}")
    results = {}
    for name in args.queries:
        if name not in captures:
            continue
        try:
            results[name] = replay(args.url, captures[name], thresholds, args)
        except (Failed, ValueError, KeyError) as error:
            failures[name] = str(error)
            log(f"{name}: FAILED: {error}")
    if args.keep:
        shutil.copy(server.log_path, os.path.join(args.keep, "server.log"))
    report(results, failures, thresholds, args, jit_available)
    return 0


def main(argv):
    parser = argparse.ArgumentParser(prog="jit.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default=DEFAULT_BIN)
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--queries", default=",".join(QUERIES))
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--protocol", choices=["simple", "prepared"], default="simple")
    parser.add_argument("--explain-runs", type=int, default=3)
    parser.add_argument("--warmup-requests", type=int, default=2)
    parser.add_argument("--logfile")
    parser.add_argument("--keep", metavar="DIR")
    args = parser.parse_args(argv)
    args.queries = [q.strip() for q in args.queries.split(",") if q.strip()]
    unknown = [q for q in args.queries if q not in QUERIES]
    if unknown or not args.queries:
        parser.error(f"unknown queries {unknown}; known: {','.join(QUERIES)}")
    if args.duration <= 0 or args.warmup < 0 or args.explain_runs < 1 or args.warmup_requests < 0:
        parser.error("--duration and --explain-runs must be positive, --warmup and --warmup-requests not negative")
    if args.keep:
        os.makedirs(args.keep, exist_ok=True)
        args.keep = os.path.abspath(args.keep)

    def terminate(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, terminate)
    workdir = tempfile.mkdtemp(prefix="samverka-jit-")
    try:
        return run(args, workdir)
    except Failed as error:
        print(f"jit: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("jit: interrupted", file=sys.stderr)
        return 130
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
