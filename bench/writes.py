#!/usr/bin/env python3
"""Write benchmark: the latency of typical editor writes on an existing registry.

Every write recomputes the derived tables it touches (partnership cells, placement cells) in
the same transaction, so a write costs more than its own row. This times three everyday
edits, one request at a time, client-side wall time (request sent to response read, over one
keep-alive connection):

  move_organisation  `updateOrganisation`: a project partner that is seated in a municipality
                     (not a municipality acting as partner; by default the one in the most
                     projects among the first --scan organisations, or --organisation SLUG)
                     moves to another municipality of its country (the seat of another
                     organisation, or --to-municipality SLUG) and back, alternately. Every
                     other input field is sent back as read (name, short name, kind, country,
                     org number, ROR, dates, source, verified), with the current version as
                     `expectedVersion`; the response gives the next one. Not readable over
                     GraphQL, hence not sent back: `kindLabel` and the source locator, so the
                     first move clears them when the organisation has them (organisations with
                     a source locator are skipped; municipalities, which carry a kind label in
                     the demo, are skipped too). After an odd --count the organisation is
                     moved back (untimed).
  add_placement      `addPlacement` of slug `bench-writes-<pid>-<i>`: an existing student (the
                     first of `students`; the editor role reads students) placed for an
                     internship at a host in the other country (else any other organisation),
                     from the student's enrolment start for 120 days (within the enrolment).
                     When the registry has no student (the demo has none), one is created,
                     `bench-writes-<pid>-student`, and deleted at the end (untimed).
  remove_placement   `removePlacement` of each of them again, with its version.

Any GraphQL error aborts the run (exit status 1) after printing it (a token the server refuses,
HTTP 401, is exit status 2: --secret is not the server's); placements and the student
the run added are removed and the organisation is moved back as far as the server lets.

    python3 bench/writes.py [--url http://127.0.0.1:18090/graphql] [--count 20]
    python3 bench/writes.py --start-server 'postgres://postgres@127.0.0.1:5432/DB'
    python3 bench/writes.py --start-server 'sqlite:///tmp/writes-demo.db?mode=rwc' --demo --count 3

  --url           the GraphQL endpoint of a running server (its JWT secret must be --secret);
                  ignored with --start-server.
  --bin           the release samverka binary: mints the editor token (`SAMVERKA_JWT_SECRET=…
                  samverka token --role editor --ttl 1h`) and, with --start-server, serves.
  --secret        the HS256 secret shared by the token and the server (at least 32 bytes).
  --start-server  start `samverka serve --no-demo --listen 127.0.0.1:<free port>` on this
                  DATABASE_URL (rate limit off, RUST_LOG=warn), wait for GET /readyz = 200
                  (--ready-timeout), run, then stop it (SIGINT). --no-demo keeps an empty
                  database empty, so the run then stops for want of a partner (exit 2); pass
                  --demo to let the server load the demo registry into an empty database
                  (e.g. a SQLite file that does not exist yet).

Progress and the per-kind table (count, p50, p95, max in ms) go to stderr; stdout gets one line:
    WRITES move_organisation_p50_ms=4.1 move_organisation_p95_ms=5.0 add_placement_p50_ms=3.2 …
Exit status: 0 done, 1 a GraphQL error (printed), 2 the run could not be made.
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib.processes import die_with_parent, free_port, log_tail, stop  # noqa: E402

KINDS = ("move_organisation", "add_placement", "remove_placement")
PLACEMENT_DAYS = 120

ORGANISATIONS = """
query Organisations($first: Int!, $after: String) {
  organisations(first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes {
      slug name shortName kind orgNumber ror validFrom validTo verified version projectCount sourceLocator
      country { code } source { key } municipality { slug country { code } } representsMunicipality { slug }
    }
  }
}"""
ORGANISATION = """
query Organisation($slug: String!) {
  organisation(slug: $slug) {
    slug name shortName kind orgNumber ror validFrom validTo verified version projectCount sourceLocator
    country { code } source { key } municipality { slug country { code } } representsMunicipality { slug }
  }
}"""
MUNICIPALITIES = """
query Municipalities($country: String!) {
  municipalities(first: 5, filter: {country: $country, status: ACTIVE}) { nodes { slug } }
}"""
STUDENTS = """
{ students(first: 1) { nodes { slug version enrolledFrom enrolledTo enrollingOrganisation { slug country { code } } } } }"""
UPDATE_ORGANISATION = """
mutation Move($slug: String!, $expectedVersion: Int!, $input: OrganisationInput!) {
  updateOrganisation(slug: $slug, expectedVersion: $expectedVersion, input: $input) { version municipality { slug } }
}"""
CREATE_STUDENT = """
mutation Student($input: StudentInput!) { createStudent(input: $input) { slug version } }"""
DELETE_STUDENT = """
mutation Erase($slug: String!, $expectedVersion: Int!) { deleteStudent(slug: $slug, expectedVersion: $expectedVersion) { slug } }"""
ADD_PLACEMENT = """
mutation Add($input: PlacementInput!) { addPlacement(input: $input) { slug version } }"""
REMOVE_PLACEMENT = """
mutation Remove($slug: String!, $expectedVersion: Int!) { removePlacement(slug: $slug, expectedVersion: $expectedVersion) { slug } }"""


class Failed(Exception):
    """The run could not be made (exit status 2)."""


class GraphQLFailed(Exception):
    """The server answered with GraphQL errors (exit status 1)."""


def log(message: str) -> None:
    print(f"[writes {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


# ---------------------------------------------------------------------------------------------
# The server (only with --start-server) and the token


def base_env(secret: str) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("DATABASE_URL", "SAMVERKA_SQLITE_PATH", "SAMVERKA_LISTEN", "SAMVERKA_JWT_PUBLIC_KEY",
                 "SAMVERKA_JWT_PRIVATE_KEY", "SAMVERKA_JWT_SECRET_FILE", "SAMVERKA_NO_DEMO"):
        env.pop(name, None)
    env["SAMVERKA_JWT_SECRET"] = secret
    return env


class Server:
    def __init__(self, binary: str, database_url: str, secret: str, demo: bool, workdir: str):
        self.binary, self.demo, self.workdir = binary, demo, workdir
        self.env = base_env(secret)
        self.env.update(DATABASE_URL=database_url, SAMVERKA_RATE_LIMIT="1000000", SAMVERKA_RATE_BURST="1000000",
                        RUST_LOG="warn")
        self.log_path = os.path.join(workdir, "server.log")
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float) -> str:
        """Starts the server and waits for /readyz; its GraphQL URL."""
        self.port = free_port()
        command = [self.binary, "serve", "--listen", f"127.0.0.1:{self.port}"]
        if not self.demo:
            command.append("--no-demo")
        log(f"starting {' '.join(command)} (DATABASE_URL from --start-server)")
        began = time.monotonic()
        with open(self.log_path, "ab") as server_log:
            self.process = subprocess.Popen(
                command, cwd=self.workdir, env=self.env, stdout=server_log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=die_with_parent,
            )
        deadline = began + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise Failed(f"the server exited with status {self.process.returncode}; its log:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/readyz", timeout=2) as response:
                    if response.status == 200:
                        log(f"server ready on port {self.port} after {time.monotonic() - began:.1f} s")
                        return f"http://127.0.0.1:{self.port}/graphql"
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)  # polling for readiness
        raise Failed(f"the server was not ready within {timeout:.0f} s; its log:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        return log_tail(self.log_path, lines)

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        # SIGINT: its graceful shutdown.
        stop(process, signal.SIGINT, 20, lambda: log("the server did not stop within 20 s of SIGINT: killing it"))
        log("server stopped")


def mint_token(binary: str, secret: str, workdir: str) -> str:
    try:
        done = subprocess.run([binary, "token", "--role", "editor", "--ttl", "1h", "--subject", "bench-writes"],
                              cwd=workdir, env=base_env(secret), capture_output=True, text=True, timeout=60)
    except OSError as error:
        raise Failed(f"cannot run {binary}: {error}") from error
    if done.returncode != 0 or not done.stdout.strip():
        raise Failed(f"`{binary} token --role editor` exited {done.returncode}: {done.stderr.strip()[:1000]}")
    return done.stdout.strip()


# ---------------------------------------------------------------------------------------------
# GraphQL over one keep-alive connection


class Client:
    def __init__(self, url: str, token: str):
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise Failed(f"--url {url!r} is not an http(s) URL")
        self.scheme, self.host, self.port = parts.scheme, parts.hostname, parts.port
        self.path = parts.path or "/"
        if parts.query:
            self.path += "?" + parts.query
        self.headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
        self.connection: http.client.HTTPConnection | None = None

    def connect(self) -> http.client.HTTPConnection:
        if self.connection is None:
            kind = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
            self.connection = kind(self.host, self.port, timeout=120)
        return self.connection

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def post(self, body: bytes) -> tuple[int, bytes, float]:
        """(HTTP status, body, seconds); one retry on a fresh connection if the kept one was closed."""
        for attempt in (0, 1):
            connection = self.connect()
            started = time.perf_counter()
            try:
                connection.request("POST", self.path, body, self.headers)
                response = connection.getresponse()
                raw = response.read()
                return response.status, raw, time.perf_counter() - started
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as error:
                self.close()
                if attempt == 1:
                    raise Failed(f"POST {self.path}: {error}") from error
            except (OSError, http.client.HTTPException) as error:
                self.close()
                raise Failed(f"POST {self.host}:{self.port}{self.path}: {error}") from error
        raise AssertionError("unreachable")

    def run(self, label: str, query: str, variables: dict[str, Any] | None = None) -> tuple[dict[str, Any], float]:
        """(data, seconds) of one request; GraphQLFailed on errors."""
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        status, raw, seconds = self.post(body)
        try:
            answer = json.loads(raw)
        except ValueError:
            raise Failed(f"{label}: HTTP {status}, not JSON: {raw[:500]!r}") from None
        if status == 401:
            raise Failed(f"{label}: HTTP 401, the server refuses the token (is --secret its SAMVERKA_JWT_SECRET?): "
                         f"{raw[:500]!r}")
        if isinstance(answer, dict) and answer.get("errors"):
            raise GraphQLFailed(f"{label}: HTTP {status}: {json.dumps(answer['errors'], ensure_ascii=False)[:3000]}")
        if status != 200 or not isinstance(answer, dict) or answer.get("data") is None:
            raise Failed(f"{label}: HTTP {status}: {raw[:500]!r}")
        return answer["data"], seconds


# ---------------------------------------------------------------------------------------------
# What to write


def organisation_input(org: dict[str, Any], municipality: str) -> dict[str, Any]:
    """The organisation as read, seated in `municipality`."""
    return {
        "slug": org["slug"],
        "name": org["name"],
        "shortName": org["shortName"],
        "kind": org["kind"],
        "country": (org.get("country") or {}).get("code"),
        "municipality": municipality,
        "representsMunicipality": (org.get("representsMunicipality") or {}).get("slug"),
        "orgNumber": org["orgNumber"],
        "ror": org["ror"],
        "validFrom": org["validFrom"],
        "validTo": org["validTo"],
        "source": (org.get("source") or {}).get("key"),
        "verified": org["verified"],
    }


def scan_organisations(client: Client, most: int) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    after = None
    while len(found) < most:
        data, _ = client.run("organisations", ORGANISATIONS, {"first": min(50, most - len(found)), "after": after})
        page = data["organisations"]
        found += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    return found


def movable(org: dict[str, Any]) -> bool:
    return (org["projectCount"] > 0 and org.get("municipality") is not None and org["kind"] != "MUNICIPALITY"
            and not org.get("representsMunicipality") and not org.get("sourceLocator"))


def pick_move(client: Client, orgs: list[dict[str, Any]], args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    """The organisation to move and the municipality to move it to."""
    if args.organisation:
        data, _ = client.run("organisation", ORGANISATION, {"slug": args.organisation})
        org = data["organisation"]
        if org.get("municipality") is None:
            raise Failed(f"{args.organisation} is seated in no municipality")
    else:
        candidates = sorted((o for o in orgs if movable(o)), key=lambda o: (-o["projectCount"], o["slug"]))
        if not candidates:
            raise Failed(f"none of the first {len(orgs)} organisations is a project partner seated in a municipality "
                         "(an empty database? see --demo)")
        org = candidates[0]
    home = org["municipality"]["slug"]
    country = (org["municipality"].get("country") or {}).get("code")
    if args.to_municipality:
        target = args.to_municipality
    else:
        seats = sorted({o["municipality"]["slug"] for o in orgs if o.get("municipality")
                        and (o["municipality"].get("country") or {}).get("code") == country} - {home})
        if not seats and country:
            data, _ = client.run("municipalities", MUNICIPALITIES, {"country": country})
            seats = [m["slug"] for m in data["municipalities"]["nodes"] if m["slug"] != home]
        if not seats:
            raise Failed(f"no other municipality in {country or 'the same country'} to move {org['slug']} to")
        target = seats[0]
    if target == home:
        raise Failed(f"{org['slug']} is already seated in {target}")
    return org, target


def day(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


# ---------------------------------------------------------------------------------------------
# The run


class Run:
    def __init__(self, client: Client, args: argparse.Namespace):
        self.client, self.args = client, args
        self.times: dict[str, list[float]] = {kind: [] for kind in KINDS}
        self.prefix = f"bench-writes-{os.getpid()}"
        # What to undo.
        self.org: dict[str, Any] | None = None
        self.org_home: str | None = None
        self.org_seat: str | None = None
        self.org_version = 0
        self.placements: dict[str, int] = {}
        self.student: tuple[str, int] | None = None

    def move(self, municipality: str, timed: bool) -> None:
        assert self.org is not None
        data, seconds = self.client.run(
            f"updateOrganisation {self.org['slug']} → {municipality}", UPDATE_ORGANISATION,
            {"slug": self.org["slug"], "expectedVersion": self.org_version,
             "input": organisation_input(self.org, municipality)},
        )
        moved = data["updateOrganisation"]
        if (moved.get("municipality") or {}).get("slug") != municipality:
            raise Failed(f"updateOrganisation answered municipality {moved.get('municipality')}, not {municipality}")
        self.org_version, self.org_seat = moved["version"], municipality
        if timed:
            self.times["move_organisation"].append(seconds)

    def main(self) -> None:
        count = self.args.count
        orgs = scan_organisations(self.client, self.args.scan)
        org, target = pick_move(self.client, orgs, self.args)
        self.org, self.org_home, self.org_seat, self.org_version = org, org["municipality"]["slug"], \
            org["municipality"]["slug"], org["version"]
        log(f"move_organisation: {org['slug']} ({org['kind']}, {org['projectCount']} projects, version "
            f"{org['version']}) between {self.org_home} and {target}, {count} times")
        for i in range(count):
            self.move(target if i % 2 == 0 else self.org_home, timed=True)
        if self.org_seat != self.org_home:
            self.move(self.org_home, timed=False)
            log(f"  moved {org['slug']} back to {self.org_home} (untimed)")

        data, _ = self.client.run("students", STUDENTS)
        students = data["students"]["nodes"]
        if students:
            student = students[0]
            enrolling = (student.get("enrollingOrganisation") or {})
            student_slug, enrolled_from, enrolled_to = student["slug"], student["enrolledFrom"], student["enrolledTo"]
            home_country = (enrolling.get("country") or {}).get("code")
            log(f"add_placement: student {student_slug} (enrolled at {enrolling.get('slug')})")
        else:
            enrolling = next((o for o in orgs if o["kind"] in ("UNIVERSITY", "UNIVERSITY_COLLEGE")), None) or orgs[0]
            home_country = (enrolling.get("country") or {}).get("code")
            enrolled_from, enrolled_to = "2024-08-15", None
            data, _ = self.client.run("createStudent", CREATE_STUDENT, {"input": {
                "slug": f"{self.prefix}-student", "enrolledFrom": enrolled_from,
                "enrollingOrganisation": enrolling["slug"], "fieldOfStudy": "benchmark",
                "homeMunicipality": (enrolling.get("municipality") or {}).get("slug"),
            }})
            created = data["createStudent"]
            self.student = (created["slug"], created["version"])
            student_slug = created["slug"]
            log(f"add_placement: no student in the registry: created {student_slug} (enrolled at "
                f"{enrolling['slug']}; deleted at the end)")
        hosts = [o for o in orgs if o["slug"] not in (enrolling.get("slug"), org["slug"])]
        abroad = [o for o in hosts if home_country and (o.get("country") or {}).get("code") not in (None, home_country)]
        host = (abroad or hosts or orgs)[0]
        valid_from = day(enrolled_from)
        valid_to = valid_from + datetime.timedelta(days=PLACEMENT_DAYS)
        if enrolled_to and day(enrolled_to) < valid_to:
            valid_to = day(enrolled_to)
        log(f"  host {host['slug']} ({(host.get('country') or {}).get('code')}), INTERNSHIP {valid_from} – "
            f"{valid_to}, slugs {self.prefix}-0…{count - 1}")
        for i in range(count):
            slug = f"{self.prefix}-{i}"
            data, seconds = self.client.run(f"addPlacement {slug}", ADD_PLACEMENT, {"input": {
                "slug": slug, "student": student_slug, "host": host["slug"], "kind": "INTERNSHIP",
                "validFrom": valid_from.isoformat(), "validTo": valid_to.isoformat(),
            }})
            self.placements[slug] = data["addPlacement"]["version"]
            self.times["add_placement"].append(seconds)
        for slug, version in list(self.placements.items()):
            _, seconds = self.client.run(f"removePlacement {slug}", REMOVE_PLACEMENT,
                                         {"slug": slug, "expectedVersion": version})
            del self.placements[slug]
            self.times["remove_placement"].append(seconds)
        if self.student:
            self.client.run("deleteStudent", DELETE_STUDENT, {"slug": self.student[0], "expectedVersion": self.student[1]})
            log(f"  deleted {self.student[0]} (untimed)")
            self.student = None

    def undo(self) -> None:
        """After a failure: best-effort removal of what this run added, and the move back."""
        if not (self.placements or self.student or (self.org and self.org_seat != self.org_home)):
            return
        for slug, version in list(self.placements.items()):
            try:
                self.client.run(f"removePlacement {slug}", REMOVE_PLACEMENT, {"slug": slug, "expectedVersion": version})
                del self.placements[slug]
            except (Failed, GraphQLFailed) as error:
                log(f"cleanup: {error}")
        if self.student:
            try:
                self.client.run("deleteStudent", DELETE_STUDENT,
                                {"slug": self.student[0], "expectedVersion": self.student[1]})
                self.student = None
            except (Failed, GraphQLFailed) as error:
                log(f"cleanup: {error}")
        if self.org and self.org_home and self.org_seat != self.org_home:
            try:
                data, _ = self.client.run("organisation", ORGANISATION, {"slug": self.org["slug"]})
                self.org_version = data["organisation"]["version"]
                self.move(self.org_home, timed=False)
            except (Failed, GraphQLFailed) as error:
                log(f"cleanup: {error}")
        left = list(self.placements) + ([self.student[0]] if self.student else [])
        if self.org and self.org_seat != self.org_home:
            left.append(f"{self.org['slug']} seated in {self.org_seat} (was {self.org_home})")
        if left:
            log(f"cleanup left behind: {', '.join(left)}")
        else:
            log("cleanup: the run's placements and student are gone and the organisation is back home")


def report(times: dict[str, list[float]]) -> None:
    log(f"{'kind':<18} {'count':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    fields = []
    for kind in KINDS:
        values = [seconds * 1000 for seconds in times[kind]]
        if not values:
            log(f"{kind:<18} {0:>5} {'-':>8} {'-':>8} {'-':>8}")
            continue
        p50, p95 = percentile(values, 0.50), percentile(values, 0.95)
        log(f"{kind:<18} {len(values):>5} {p50:>8.2f} {p95:>8.2f} {max(values):>8.2f}")
        fields += [f"{kind}_p50_ms={p50:.2f}", f"{kind}_p95_ms={p95:.2f}"]
    count = max(len(v) for v in times.values())
    print(f"WRITES {' '.join(fields)} count={count}", flush=True)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="writes.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:18090/graphql",
                        help="GraphQL endpoint of a running server (default %(default)s)")
    parser.add_argument("--bin", default="/var/tmp/samverka-target/release/samverka",
                        help="the samverka binary: mints the token, serves with --start-server (default %(default)s)")
    parser.add_argument("--secret", default="bench-writes-secret-not-for-production",
                        help="HS256 secret of the token and the server, at least 32 bytes (default %(default)s)")
    parser.add_argument("--count", type=int, default=20, help="writes of each kind (default %(default)s)")
    parser.add_argument("--start-server", metavar="DATABASE_URL",
                        help="start `samverka serve --no-demo` on this database for the run, and stop it afterwards")
    parser.add_argument("--demo", action="store_true",
                        help="with --start-server: no --no-demo, so an empty database gets the demo registry")
    parser.add_argument("--ready-timeout", type=float, default=300.0,
                        help="seconds to wait for /readyz with --start-server (default %(default)s)")
    parser.add_argument("--organisation", metavar="SLUG", help="the organisation to move (default: chosen)")
    parser.add_argument("--to-municipality", metavar="SLUG", help="where to move it (default: chosen)")
    parser.add_argument("--scan", type=int, default=500,
                        help="organisations read to choose from (default %(default)s)")
    args = parser.parse_args(argv)
    if args.count < 1 or args.scan < 1:
        parser.error("--count and --scan are at least 1")
    if len(args.secret.encode()) < 32:
        parser.error("--secret must be at least 32 bytes (the server refuses shorter HS256 secrets)")

    server: Server | None = None
    client: Client | None = None
    run: Run | None = None
    with tempfile.TemporaryDirectory(prefix="samverka-writes-") as workdir:
        try:
            url = args.url
            if args.start_server:
                server = Server(args.bin, args.start_server, args.secret, args.demo, workdir)
                url = server.start(args.ready_timeout)
            client = Client(url, mint_token(args.bin, args.secret, workdir))
            log(f"{args.count} writes of each kind against {url}")
            run = Run(client, args)
            try:
                run.main()
            except Exception:
                run.undo()
                raise
            report(run.times)
            return 0
        except GraphQLFailed as error:
            print(f"writes: GraphQL error: {error}", file=sys.stderr)
            return 1
        except (Failed, OSError, ValueError, KeyError, TypeError) as error:
            print(f"writes: {type(error).__name__ + ': ' if not isinstance(error, Failed) else ''}{error}",
                  file=sys.stderr)
            return 2
        finally:
            if client is not None:
                client.close()
            if server is not None:
                server.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
