#!/usr/bin/env python3
"""Hostile-input benchmark: a corpus of malformed, abusive and forged requests against the release
server on a copy of the synthetic `medium` registry, each checked for a coded, fast refusal (or
for a correct answer where one is due), while the server's health and memory are watched and the
database is checked for writes.

    python3 bench/hostile_bench.py --bin PATH --medium FILE [--json OUT] [--only TEXT] [--list]

Run through `bash bench/hostile` (which loads the `medium` registry first). Standard library only.

What it does:
  1. Copies FILE (SQLite backup API, the source opened read-only) into a temporary directory, so
     nothing the corpus does can spoil the shared file, and starts
     `samverka --sqlite-path COPY serve --listen 127.0.0.1:PORT --no-demo --rate-limit-per-second 0`
     (a free port; an HS256 secret of its own in SAMVERKA_JWT_SECRET; every other setting at its
     default: body limit 4 MiB, batches of 10, depth 16, request timeout 30 s), and waits for
     /readyz.
  2. Mints analyst, editor and admin tokens with `samverka token --role R` (no token is the public
     role), and forges bad ones itself (alg none, wrong key, expired, swapped payload, …).
  3. Runs the corpus (`corpus()`; `--list` prints it): one request per case on a fresh TCP
     connection, written and read by hand (raw sockets), so malformed HTTP can be sent too.
     Case kinds (`expect`):
       refused       a refusal (HTTP 4xx or a GraphQL `errors` list) whose every error carries
                     `extensions.code`, from the expected set when the case names one;
       ok            HTTP 200, `data`, no `errors` (and the case's own check, e.g. that
                     nameContains "%" matches almost nothing);
       answered      either of the two (for inputs with more than one right answer, e.g. an
                     after-cursor past the end), still never uncoded, 5xx or INTERNAL;
       http-refused  malformed HTTP that the HTTP library refuses before the application sees it
                     (4xx or a closed connection; its body is not checked for a code);
       ws-closed     a WebSocket given garbage or a forged token: the server must close it.
  4. Every answer: HTTP status not 5xx (a case may allow a status the RFCs prescribe, e.g. 505
     for HTTP/9.9), no INTERNAL code, JSON `errors[*].extensions.code` on every refusal, the
     latency (connect to last byte) and the size. After each case the events outbox
     (`SELECT COUNT(*), MAX(seq) FROM events`, the data version) is read, so a write is pinned to
     the case that made it. A server that dies is restarted (and the case marked); so is one that
     left a request unanswered, so a stuck request does not slow the cases after it.
  5. Meanwhile a separate process probes GET /healthz every 100 ms (failure: no 200 within
     --health-timeout, 1 s) and samples the server's VmRSS/VmHWM from /proc/PID/status.
  6. Nothing written: the row count of every table and the events count and data version of the
     copy, before the corpus and after the server has stopped.
  7. Prints a table (case, HTTP status, codes, latency, bytes, verdict) and a summary; exits 1 when
     any answer was a 5xx or INTERNAL, any refusal was uncoded, anything was written, a health
     probe failed, the slowest refusal took >= --refusal-ms (50), or any case missed its
     expectation (each is printed). `--json OUT` writes every result and the summary.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import multiprocessing
import os
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any, Callable

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib.processes import die_with_parent, free_port, log_tail, stop  # noqa: E402

REFUSAL_MS = 50.0
ISSUER = "samverka"


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# HTTP by hand: one request per connection, any bytes at all


@dataclass
class Answer:
    status: int | None = None
    reason: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    latency_ms: float = 0.0
    error: str | None = None  # transport trouble: timeout, reset, closed without an answer
    timed_out: bool = False


def _parse_head(buffer: bytes) -> tuple[int, str, dict[str, str], int] | None:
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        return None
    lines = buffer[:end].decode("latin-1").split("\r\n")
    match = re.match(r"HTTP/\d(?:\.\d)?\s+(\d{3})\s*(.*)", lines[0])
    if not match:
        raise ValueError(f"not an HTTP status line: {lines[0][:80]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        key = name.strip().lower()
        headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
    return int(match.group(1)), match.group(2), headers, end + 4


def _dechunk(data: bytes) -> bytes | None:
    """The decoded body, or None while the last chunk has not arrived."""
    out = bytearray()
    position = 0
    while True:
        line_end = data.find(b"\r\n", position)
        if line_end < 0:
            return None
        size = int(data[position:line_end].split(b";")[0].strip() or b"0", 16)
        position = line_end + 2
        if size == 0:
            return bytes(out) if data.find(b"\r\n", position) >= 0 else None
        if len(data) < position + size + 2:
            return None
        out += data[position : position + size]
        position += size + 2


def exchange(
    port: int,
    request: bytes,
    timeout: float = 60.0,
    half_close: bool = False,
    head_only: bool = False,
    chunk: int = 65536,
) -> Answer:
    """Sends `request` (in `chunk`-byte writes, from a thread, stopping once an answer is in) and
    reads one HTTP response. `head_only` returns at the end of the header (a 101 upgrade)."""
    answer = Answer()
    start = time.perf_counter()
    deadline = start + timeout
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    except OSError as error:
        answer.error = f"connect: {error}"
        answer.latency_ms = (time.perf_counter() - start) * 1000
        return answer
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    answered = threading.Event()

    def send() -> None:
        view = memoryview(request)
        offset = 0
        try:
            while offset < len(view) and not answered.is_set():
                offset += sock.send(view[offset : offset + chunk])
            if half_close and not answered.is_set():
                sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server may answer (413) and close before the body is all sent

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    buffer = bytearray()
    head = None
    try:
        while True:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                answer.error, answer.timed_out = f"no answer within {timeout:.0f} s", True
                break
            sock.settimeout(remaining)
            try:
                data = sock.recv(1 << 20)
            except socket.timeout:
                answer.error, answer.timed_out = f"no answer within {timeout:.0f} s", True
                break
            except OSError as error:
                answer.error = f"recv: {error}"
                break
            if data:
                buffer += data
            if head is None:
                try:
                    head = _parse_head(bytes(buffer[:65536])) if b"\r\n\r\n" in buffer[:65536] else None
                except ValueError as error:
                    answer.error = str(error)
                    break
                if head is not None:
                    answer.status, answer.reason, answer.headers, _ = head
                    if head_only or answer.status == 101:
                        answer.body = bytes(buffer[head[3] :])
                        break
            if head is not None:
                start_of_body = head[3]
                if answer.headers.get("transfer-encoding", "").lower().endswith("chunked"):
                    if buffer.endswith(b"\r\n\r\n") or not data:
                        decoded = _dechunk(bytes(buffer[start_of_body:]))
                        if decoded is not None:
                            answer.body = decoded
                            break
                elif "content-length" in answer.headers:
                    length = int(answer.headers["content-length"])
                    if len(buffer) - start_of_body >= length:
                        answer.body = bytes(buffer[start_of_body : start_of_body + length])
                        break
                elif not data:
                    answer.body = bytes(buffer[start_of_body:])
                    break
            if not data:
                answer.error = "connection closed " + ("mid-body" if head else "without an answer")
                break
    finally:
        answer.latency_ms = (time.perf_counter() - start) * 1000
        answered.set()
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sender.join(timeout=2)
        sock.close()
    return answer


def http(
    method: str,
    target: str,
    body: bytes | None = None,
    content_type: str | None = "application/json",
    token: str | None = None,
    headers: list[tuple[str, str | bytes]] | None = None,
) -> bytes:
    """An HTTP/1.1 request (Connection: close)."""
    lines: list[bytes] = [f"{method} {target} HTTP/1.1".encode(), b"Host: 127.0.0.1", b"Connection: close"]
    if token is not None:
        lines.append(b"Authorization: Bearer " + token.encode())
    if body is not None and content_type is not None:
        lines.append(f"Content-Type: {content_type}".encode())
    for name, value in headers or []:
        lines.append(name.encode() + b": " + (value if isinstance(value, bytes) else value.encode()))
    if body is not None and not any(name.lower() in ("content-length", "transfer-encoding") for name, _ in headers or []):
        lines.append(f"Content-Length: {len(body)}".encode())
    return b"\r\n".join(lines) + b"\r\n\r\n" + (body or b"")


# ---------------------------------------------------------------------------------------------
# WebSocket by hand


def ws_frame(payload: bytes, opcode: int = 1, masked: bool = True) -> bytes:
    head = bytearray([0x80 | opcode])
    mask_bit = 0x80 if masked else 0
    if len(payload) < 126:
        head.append(mask_bit | len(payload))
    elif len(payload) < 65536:
        head.append(mask_bit | 126)
        head += len(payload).to_bytes(2, "big")
    else:
        head.append(mask_bit | 127)
        head += len(payload).to_bytes(8, "big")
    if not masked:
        return bytes(head) + payload
    key = secrets.token_bytes(4)
    return bytes(head) + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def ws_exchange(port: int, protocol: str, after_upgrade: list[bytes], timeout: float = 10.0) -> Answer:
    """Upgrades /graphql/ws, sends `after_upgrade`, and waits for the server to close the socket (or
    send a close frame). `answer.reason` holds what came back; latency runs from the first send
    after the upgrade to the close."""
    answer = Answer()
    key = base64.b64encode(secrets.token_bytes(16)).decode()
    request = http(
        "GET",
        "/graphql/ws",
        content_type=None,
        headers=[
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Key", key),
            ("Sec-WebSocket-Version", "13"),
            ("Sec-WebSocket-Protocol", protocol),
        ],
    ).replace(b"Connection: close\r\n", b"", 1)
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    except OSError as error:
        answer.error = f"connect: {error}"
        return answer
    try:
        sock.sendall(request)
        buffer = bytearray()
        head = None
        while head is None:
            data = sock.recv(65536)
            if not data:
                answer.error = "closed before the upgrade answer"
                return answer
            buffer += data
            head = _parse_head(bytes(buffer))
        answer.status, _, answer.headers, used = head
        if answer.status != 101:
            answer.body = bytes(buffer[used:])
            return answer
        rest = bytearray(buffer[used:])
        start = time.perf_counter()
        for message in after_upgrade:
            sock.sendall(message)
        deadline = start + timeout
        frames: list[str] = []
        while True:
            # Parse whatever whole frames are in.
            while len(rest) >= 2:
                opcode, length, offset = rest[0] & 0x0F, rest[1] & 0x7F, 2
                if length == 126:
                    length, offset = int.from_bytes(rest[2:4], "big"), 4
                elif length == 127:
                    length, offset = int.from_bytes(rest[2:10], "big"), 10
                if len(rest) < offset + length:
                    break
                payload = bytes(rest[offset : offset + length])
                del rest[: offset + length]
                if opcode == 8:
                    code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else None
                    frames.append(f"close {code} {payload[2:].decode('utf-8', 'replace')}".strip())
                    answer.reason = "; ".join(frames)
                    answer.latency_ms = (time.perf_counter() - start) * 1000
                    return answer
                frames.append(payload.decode("utf-8", "replace")[:200] if opcode == 1 else f"opcode {opcode}")
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                answer.error, answer.timed_out = f"still open after {timeout:.0f} s", True
                answer.reason = "; ".join(frames)
                return answer
            sock.settimeout(remaining)
            try:
                data = sock.recv(65536)
            except socket.timeout:
                continue
            except OSError as error:
                data = b""
                frames.append(f"reset ({error.__class__.__name__})")
            if not data:
                frames.append("TCP closed")
                answer.reason = "; ".join(frames)
                answer.latency_ms = (time.perf_counter() - start) * 1000
                return answer
            rest += data
    except OSError as error:
        answer.error = f"{error}"
        return answer
    finally:
        sock.close()


# ---------------------------------------------------------------------------------------------
# Tokens


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header: dict[str, Any], claims: dict[str, Any], key: bytes | None, digest: Any = hashlib.sha256) -> str:
    signing = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
    signature = "" if key is None else b64url(hmac.new(key, signing.encode(), digest).digest())
    return f"{signing}.{signature}"


def claims(role: str, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    base: dict[str, Any] = {"sub": f"bench-hostile-forged-{role}", "role": role, "iss": ISSUER, "iat": now, "exp": now + 3600}
    base.update(changes)
    return {key: value for key, value in base.items() if value is not None}


# ---------------------------------------------------------------------------------------------
# The corpus


@dataclass
class Case:
    name: str
    group: str
    request: bytes | None  # None for WebSocket cases (see ws)
    expect: str = "refused"  # refused | ok | answered | http-refused | ws-closed
    codes: frozenset[str] | None = None  # refused: every code must be one of these
    status: int | None = None  # the HTTP status it must have, when it matters
    check: Callable[[Any], str | None] | None = None  # on `data` (ok / answered)
    allow_status: frozenset[int] = frozenset()  # a 5xx the RFCs prescribe for this input
    also_ok: bool = False  # http-refused: a normal 2xx answer is fine too
    half_close: bool = False
    timeout: float = 60.0
    ws: tuple[str, list[bytes]] | None = None  # (subprotocol, frames after the upgrade)
    note: str = ""


def codes(*names: str) -> frozenset[str]:
    return frozenset(names)


@dataclass
class Context:
    tokens: dict[str, str]
    secret: bytes
    organisations: int
    project_slug: str
    project_version: int
    organisation_slug: str
    region_slugs: list[str]
    batch_op: str  # the dearest network analysis the public may ask for alone ({seed} in it)
    batch_op_cost: int
    public_limit: int


def count_at(*path: str, most: int) -> Callable[[Any], str | None]:
    """A check: the number at `path` in `data` is at most `most`."""

    def check(data: Any) -> str | None:
        value = data
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if not isinstance(value, int):
            return f"{'.'.join(path)} missing"
        return None if value <= most else f"{'.'.join(path)} = {value}, expected at most {most}"

    return check


def empty_at(*path: str) -> Callable[[Any], str | None]:
    def check(data: Any) -> str | None:
        value = data
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if not isinstance(value, list):
            return f"{'.'.join(path)} missing"
        return None if not value else f"{'.'.join(path)} has {len(value)} rows, expected none"

    return check


def corpus(ctx: Context) -> list[Case]:
    """Every case, in the order they run (the heavy ones last)."""
    t = ctx.tokens
    cases: list[Case] = []

    def add(case: Case) -> None:
        cases.append(case)

    def body(query: str, variables: Any = None, operation: str | None = None, extensions: Any = None) -> bytes:
        payload: dict[str, Any] = {"query": query}
        if variables is not None:
            payload["variables"] = variables
        if operation is not None:
            payload["operationName"] = operation
        if extensions is not None:
            payload["extensions"] = extensions
        return json.dumps(payload).encode()

    def gql(name: str, group: str, query: str, variables: Any = None, role: str = "public", **kw: Any) -> None:
        token = None if role == "public" else t[role]
        add(Case(name, group, http("POST", "/graphql", body(query, variables), token=token), **kw))

    def post(name: str, group: str, raw: bytes, content_type: str | None = "application/json", role: str = "public",
             headers: list[tuple[str, str | bytes]] | None = None, **kw: Any) -> None:
        token = None if role == "public" else t[role]
        add(Case(name, group, http("POST", "/graphql", raw, content_type=content_type, token=token, headers=headers), **kw))

    def get(name: str, group: str, target: str, role: str = "public", **kw: Any) -> None:
        token = None if role == "public" else t[role]
        add(Case(name, group, http("GET", target, content_type=None, token=token), **kw))

    def get_query(query: str, **params: str) -> str:
        return "/graphql?" + urllib.parse.urlencode({"query": query, **params})

    simple = "{ regions(first: 1) { nodes { slug } } }"
    admin_only = "{ changeEvents(first: 1) { seq } }"
    mb = 1024 * 1024
    deep = 100_000

    # -- malformed JSON bodies ---------------------------------------------------------------
    g = "json"
    post("empty body", g, b"", codes=codes("BAD_REQUEST"), status=400)
    post("truncated JSON", g, b'{"query": "{ regions { nodes { slug } } }"', codes=codes("BAD_REQUEST"), status=400)
    post("JSON number, not an object", g, b"42", codes=codes("BAD_REQUEST"), status=400)
    post("JSON string, not an object", g, b'"{ __typename }"', codes=codes("BAD_REQUEST"), status=400)
    post("JSON null", g, b"null", codes=codes("BAD_REQUEST"), status=400)
    post("empty batch []", g, b"[]", codes=codes("BAD_REQUEST"), status=400)
    post("batch of non-objects [1,2,3]", g, b"[1,2,3]", codes=codes("BAD_REQUEST"), status=400)
    post("empty object {} (no query)", g, b"{}", codes=codes("GRAPHQL_PARSE_FAILED", "BAD_REQUEST"))
    post("query is a number", g, b'{"query": 42}', codes=codes("BAD_REQUEST"), status=400)
    post("query is an object", g, b'{"query": {"a": 1}}', codes=codes("BAD_REQUEST"), status=400)
    post("variables is a string", g, json.dumps({"query": simple, "variables": "{}x"}).encode(),
         codes=codes("BAD_REQUEST"), status=400)
    post("variables is a list", g, json.dumps({"query": simple, "variables": [1, 2]}).encode(),
         codes=codes("BAD_REQUEST"), status=400)
    post("operationName is a number", g, json.dumps({"query": simple, "operationName": 7}).encode(),
         codes=codes("BAD_REQUEST"), status=400)
    post("extensions is a list", g, json.dumps({"query": simple, "extensions": [1]}).encode(),
         codes=codes("BAD_REQUEST"), status=400)
    post("duplicate query key", g, b'{"query": "{ __typename }", "query": "{ __typename }"}',
         codes=codes("BAD_REQUEST"), status=400)
    post("trailing garbage after the JSON", g, b'{"query": "{ __typename }"} xyz', codes=codes("BAD_REQUEST"), status=400)
    post("invalid UTF-8 in the body", g, b'{"query": "{ regions(filter: {nameContains: \\"\xff\xfe\\"}) { totalCount } }"}',
         codes=codes("BAD_REQUEST"), status=400)
    post("lone surrogate \\ud800 in a string", g, b'{"query": "{ __typename }", "variables": {"x": "\\ud800"}}',
         codes=codes("BAD_REQUEST"), status=400)
    post("raw NUL byte inside a JSON string", g, b'{"query": "{ __type\x00name }"}', codes=codes("BAD_REQUEST"), status=400)
    post("escaped NUL inside the GraphQL document", g, body("{ __type\u0000name }"), codes=codes("GRAPHQL_PARSE_FAILED"))
    post("UTF-8 BOM before the JSON", g, b"\xef\xbb\xbf" + body(simple), expect="answered",
         note="RFC 8259 lets a parser ignore a BOM or refuse it")
    post("number 1e400 in variables", g, b'{"query": "{ __typename }", "variables": {"x": 1e400}}',
         codes=codes("BAD_REQUEST"), status=400)
    post("3 MB JSON string as the whole body", g, b'"' + b"A" * (3 * mb) + b'"', codes=codes("BAD_REQUEST"), status=400)
    post("3 MB unterminated JSON string", g, b'{"query": "' + b"A" * (3 * mb), codes=codes("BAD_REQUEST"), status=400)
    post(f"JSON array nested {deep:,} deep (body)", g, b"[" * deep + b"]" * deep, codes=codes("BAD_REQUEST"), status=400)
    post(f"JSON array nested {deep:,} deep (variables)", g,
         b'{"query": "{ __typename }", "variables": {"x": ' + b"[" * deep + b"]" * deep + b"}}",
         codes=codes("BAD_REQUEST"), status=400)
    post(f"JSON object nested {deep:,} deep (extensions)", g,
         b'{"query": "{ __typename }", "extensions": ' + b'{"a":' * deep + b"1" + b"}" * deep + b"}",
         codes=codes("BAD_REQUEST"), status=400)

    # -- GraphQL syntax and validation errors ------------------------------------------------
    g = "syntax"
    gql("unclosed selection set", g, "{ regions { nodes { slug }", codes=codes("GRAPHQL_PARSE_FAILED"))
    gql("stray closing brace", g, "}", codes=codes("GRAPHQL_PARSE_FAILED"))
    gql("empty document", g, "", codes=codes("GRAPHQL_PARSE_FAILED"))
    gql("only a comment", g, "# nothing here", codes=codes("GRAPHQL_PARSE_FAILED"))
    gql("unterminated string", g, '{ region(slug: "abc) { name } }', codes=codes("GRAPHQL_PARSE_FAILED"))
    gql("bad variable definition", g, "query Q($x: ) { __typename }", codes=codes("GRAPHQL_PARSE_FAILED"))
    gql("two anonymous operations", g, "{ __typename } { __typename }", codes=codes("GRAPHQL_PARSE_FAILED"))
    gql("duplicate operation names", g, "query A { __typename } query A { __typename }", codes=codes("GRAPHQL_PARSE_FAILED"))
    gql("control character in the document", g, "{ \u0001 __typename }", codes=codes("GRAPHQL_PARSE_FAILED"))
    gql("unknown field", g, "{ noSuchField }", codes=codes("GRAPHQL_VALIDATION_FAILED"))
    gql("fragment on an unknown type", g, "{ ...F } fragment F on Nope { a }", codes=codes("GRAPHQL_VALIDATION_FAILED"))
    gql("unused fragment", g, "{ __typename } fragment F on Query { __typename }", codes=codes("GRAPHQL_VALIDATION_FAILED"))
    gql("float for an Int argument", g, "{ regions(first: 1.5) { totalCount } }", codes=codes("BAD_USER_INPUT"))
    gql("string for an enum argument", g, '{ network(level: COUNTRY, edges: ["PARTNERSHIP"]) { nodeCount } }',
        expect="answered", note="the spec refuses a string for an enum; async-graphql accepts it (harmless)")
    add(Case("unknown operationName", g, http("POST", "/graphql", body(simple, operation="Missing")),
             codes=codes("GRAPHQL_VALIDATION_FAILED")))
    gql("subscription over HTTP POST", g, "subscription { registryChanged { cursor } }")

    # -- depth --------------------------------------------------------------------------------
    g = "depth"
    chain = lambda n: 'municipality(slug: "mun-no-baerum") ' + "{ successor " * n + "{ slug }" + " }" * n  # noqa: E731
    gql("nested 20 deep (limit 16)", g, "{ " + chain(19) + " }", codes=codes("QUERY_TOO_EXPENSIVE"))
    gql("nested 40 deep (beyond the parser's 32)", g, "{ " + chain(39) + " }", codes=codes("QUERY_TOO_EXPENSIVE"),
        note="documented: too deep is QUERY_TOO_EXPENSIVE")
    gql("nested lists 500 x 500", g, "{ organisations(first: 500) { nodes { projects(first: 500) { slug } } } }",
        codes=codes("QUERY_TOO_EXPENSIVE"))
    gql("deep __type recursion (introspection)", g,
        '{ __type(name: "Query") { ' + "fields { type { " * 10 + "name" + " } }" * 10 + " } }",
        codes=codes("QUERY_TOO_EXPENSIVE"))

    # -- width and aliases --------------------------------------------------------------------
    g = "width"
    gql("5 000 fields in one selection", g, "{ regions(first: 1) { nodes { " + "slug " * 5000 + "} } }",
        codes=codes("QUERY_TOO_EXPENSIVE"))
    gql("5 000 aliased root __typename", g, "{ " + " ".join(f"a{i}: __typename" for i in range(5000)) + " }",
        codes=codes("QUERY_TOO_EXPENSIVE"))
    gql("2 000 aliases of regions(first: 500)", g,
        "{ " + " ".join(f"r{i}: regions(first: 500) {{ nodes {{ slug }} }}" for i in range(2000)) + " }",
        codes=codes("QUERY_TOO_EXPENSIVE"))
    gql("300 aliased network analyses", g,
        "{ " + " ".join(f"n{i}: network(minWeight: {i + 1}) {{ betweenness {{ score }} closeness {{ score }} "
                        f"communities {{ count }} }}" for i in range(300)) + " }",
        codes=codes("QUERY_TOO_EXPENSIVE"))
    gql("10 aliased exact betweenness, whole network (public)", g,
        "{ " + " ".join(f"b{i}: network {{ betweenness {{ score }} }}" for i in range(10)) + " }",
        codes=codes("QUERY_TOO_EXPENSIVE"))
    gql("exact betweenness, whole network (public)", g, "{ network { betweenness(top: 1) { score } } }",
        codes=codes("QUERY_TOO_EXPENSIVE"), note="the public may spend ~0.7 s of analysis")
    gql("51 root fields", g, "{ " + " ".join(f"c{i}: countries(first: 1) {{ totalCount }}" for i in range(51)) + " }",
        codes=codes("QUERY_TOO_EXPENSIVE"))
    gql("51 aliased __schema", g, "{ " + " ".join(f"s{i}: __schema {{ types {{ name }} }}" for i in range(51)) + " }",
        codes=codes("QUERY_TOO_EXPENSIVE"))
    gql("1 990 repeats of one field (validation cost)", g, "{ regions(first: 1) { nodes { " + "slug " * 1990 + "} } }",
        expect="ok")

    # -- batches ------------------------------------------------------------------------------
    g = "batch"
    post("batch of 1 000 operations", g, json.dumps([{"query": simple}] * 1000).encode(),
         codes=codes("BATCH_TOO_LARGE"), status=400)
    post("batch of 11 operations (limit 10)", g, json.dumps([{"query": simple}] * 11).encode(),
         codes=codes("BATCH_TOO_LARGE"), status=400)
    post("batch of 10 valid operations", g, json.dumps([{"query": simple}] * 10).encode(), expect="ok")
    post("batch of 10 writes as public", g,
         json.dumps([{"query": f'mutation {{ createSource(input: {{key: "bench-hostile-batch-{i}", kind: "x"}}) {{ key }} }}'}
                     for i in range(10)]).encode(),
         codes=codes("FORBIDDEN"))

    # -- fragments ----------------------------------------------------------------------------
    g = "fragments"
    gql("fragment cycle A -> B -> A", g, "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }")
    gql("fragment spreading itself", g, "{ ...A } fragment A on Query { __typename ...A }")
    gql("doubling fragment cycle", g, "{ ...A } fragment A on Query { ...B ...B } fragment B on Query { ...A ...A }")
    thousand = "{ regions(first: 1) { nodes { ...F0 } } } " + " ".join(
        f"fragment F{i} on Region {{ ...F{i + 1} ...F{i + 1} }}" for i in range(999)
    ) + " fragment F999 on Region { slug }"
    gql("1 000 fragments, each spreading the next twice", g, thousand)

    # -- directives ---------------------------------------------------------------------------
    g = "directives"
    # The document cap (200 directives, fragments expanded) refuses these before validation.
    gql("@include 10 000 times on one field", g, "{ regions(first: 1) { totalCount " + "@include(if: true) " * 10000 + "} }",
        codes=codes("QUERY_TOO_EXPENSIVE"), note="on __typename async-graphql checks no directives at all")
    gql("@skip 10 000 times on one field", g, "{ regions(first: 1) { totalCount " + "@skip(if: false) " * 10000 + "} }",
        codes=codes("QUERY_TOO_EXPENSIVE"))
    gql("unknown directive 10 000 times", g, "{ regions(first: 1) { totalCount " + "@nope " * 10000 + "} }",
        codes=codes("QUERY_TOO_EXPENSIVE"))

    # -- variables ----------------------------------------------------------------------------
    g = "variables"
    by_name = "query($q: String) { organisations(filter: {nameContains: $q}) { totalCount } }"
    gql("3 MB variable in nameContains", g, by_name, {"q": "x" * (3 * mb)}, codes=codes("BAD_USER_INPUT"),
        note="text filters hold at most 200 characters")
    gql("100 000-element list variable (codes)", g,
        'query($c: [String!]!) { translateMunicipalityCodes(codes: $c, from: "2019-06-01", to: "2024-06-01") { code } }',
        {"c": ["0301"] * 100_000}, codes=codes("BAD_USER_INPUT"))
    gql("100 000-element list variable (kindIn)", g,
        "query($k: [OrganisationKind!]) { organisations(filter: {kindIn: $k}, first: 1) { totalCount } }",
        {"k": ["UNIVERSITY"] * 100_000}, expect="answered")
    gql("100 000 distinct region slugs (compare)", g,
        'query($r: [String!]!) { compare(regions: $r, periods: [{from: "2020-01-01"}]) { region { slug } } }',
        {"r": [f"reg-{i}" for i in range(100_000)]}, codes=codes("BAD_USER_INPUT"))
    gql("variable of the wrong type", g, "query($n: Int) { regions(first: $n) { totalCount } }", {"n": "ten"},
        codes=codes("BAD_USER_INPUT"))
    gql("Int variable beyond 32 bits", g, "query($n: Int) { regions(first: $n) { totalCount } }", {"n": 2**40},
        codes=codes("BAD_USER_INPUT"))
    gql("undeclared variable", g, "{ regions(first: $n) { totalCount } }", {"n": 1},
        codes=codes("GRAPHQL_VALIDATION_FAILED"))

    # -- paging and text filters --------------------------------------------------------------
    g = "paging"
    gql("first: 1000000", g, "{ organisations(first: 1000000) { nodes { slug } } }", codes=codes("BAD_USER_INPUT"))
    gql("first: 2147483648 (not an Int)", g, "{ organisations(first: 2147483648) { totalCount } }",
        codes=codes("BAD_USER_INPUT"))
    gql("first and last together", g, "{ organisations(first: 5, last: 5) { nodes { slug } } }",
        codes=codes("BAD_USER_INPUT"))
    gql("negative first", g, "{ organisations(first: -1) { nodes { slug } } }", codes=codes("BAD_USER_INPUT"))
    gql("negative last", g, "{ organisations(last: -5) { nodes { slug } } }", codes=codes("BAD_USER_INPUT"))
    gql("nested first: 1000000", g, '{ region(slug: "reg-no-telemark") { municipalities(first: 1000000) { slug } } }',
        codes=codes("BAD_USER_INPUT"))
    gql("after: a garbage cursor", g, '{ organisations(after: "not-a-cursor!") { nodes { slug } } }',
        codes=codes("BAD_USER_INPUT"))
    for label, offset in (("u64::MAX", 2**64 - 1), ("2^63", 2**63)):
        cursor = b64url(f"o:{offset}".encode())
        gql(f"after: a cursor at offset {label}", g, f'{{ organisations(first: 2, after: "{cursor}") {{ nodes {{ slug }} }} }}',
            expect="answered", check=empty_at("organisations", "nodes"),
            note="past the end: an empty page or a refusal, never the first page")
    few = 10  # "%" or "_" matching almost nothing, not everything
    gql('nameContains "\\x00" (organisations)', g, by_name, {"q": "\u0000"}, codes=codes("BAD_USER_INPUT"),
        note="SQLite's LIKE would stop at NUL and match everything")
    for text in ("%", "_", "%%", "\\", "\\%"):
        shown = text.encode("unicode_escape").decode()
        gql(f'nameContains "{shown}" (organisations)', g, by_name, {"q": text}, expect="ok",
            check=count_at("organisations", "totalCount", most=few),
            note=f"of {ctx.organisations} organisations")
    gql('nameContains "%" (regions)', g, '{ regions(filter: {nameContains: "%"}) { totalCount } }', expect="ok",
        check=count_at("regions", "totalCount", most=10))
    gql("changeEvents(first: 1000000) as admin", g, "{ changeEvents(first: 1000000) { seq } }", role="admin",
        codes=codes("BAD_USER_INPUT"))

    # -- tokens -------------------------------------------------------------------------------
    g = "tokens"
    now = int(time.time())
    hs = {"alg": "HS256", "typ": "JWT"}
    wrong_key = b"not-the-server-secret-0123456789abcdef"
    analyst = t["analyst"]
    head, payload, signature = analyst.split(".")
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    swapped = head + "." + b64url(json.dumps(claims("admin", sub="bench-hostile-analyst")).encode()) + "." + signature
    forged = {
        "alg none, role admin": forge({"alg": "none", "typ": "JWT"}, claims("admin"), None),
        "wrong signature (one character changed)": f"{head}.{payload}.{flipped}",
        "expired (right key)": forge(hs, claims("admin", iat=now - 7200, exp=now - 60), ctx.secret),
        "role admin signed with a wrong key": forge(hs, claims("admin"), wrong_key),
        "payload swapped to admin, signature kept": swapped,
        "HS512 with the right key": forge({"alg": "HS512", "typ": "JWT"}, claims("admin"), ctx.secret, hashlib.sha512),
        "RS256 header, HMAC signature": forge({"alg": "RS256", "typ": "JWT"}, claims("admin"), ctx.secret),
        "unknown role 'superuser' (right key)": forge(hs, claims("superuser"), ctx.secret),
        "wrong issuer (right key)": forge(hs, claims("admin", iss="someone-else"), ctx.secret),
        "no exp claim (right key)": forge(hs, claims("admin", exp=None), ctx.secret),
        "garbage": "not.a.jwt",
        "10 kB of garbage": "A" * 10240,
    }
    for label, token in forged.items():
        add(Case(f"token: {label}", g, http("POST", "/graphql", body(admin_only), token=token),
                 codes=codes("UNAUTHENTICATED"), status=401))
    for label, value in (("Basic credentials", b"Basic dXNlcjpwYXNz"), ("'Bearer' and nothing", b"Bearer "),
                         ("non-ASCII bytes", b"Bearer \xff\xfe\xfd"), ("10 kB header, no scheme", b"x" * 10240)):
        add(Case(f"authorization: {label}", g,
                 http("POST", "/graphql", body(admin_only), headers=[("Authorization", value)]),
                 codes=codes("UNAUTHENTICATED"), status=401))

    # -- roles --------------------------------------------------------------------------------
    g = "roles"
    gql("changeEvents as public", g, admin_only, codes=codes("FORBIDDEN"))
    gql("changeEvents as editor", g, admin_only, role="editor", codes=codes("FORBIDDEN"))
    gql("students as public", g, "{ students(first: 1) { nodes { slug } } }", codes=codes("FORBIDDEN"))
    gql("placements as public", g, "{ placements(first: 1) { nodes { slug } } }", codes=codes("FORBIDDEN"))
    gql("network with placement edges as public", g, "{ network(level: COUNTRY, edges: [PLACEMENT]) { nodeCount } }",
        codes=codes("FORBIDDEN", "QUERY_TOO_EXPENSIVE"), note="refused by its cost first on medium")

    # -- writes: invalid input as an editor, and any write as public or analyst ---------------
    g = "writes"
    n = iter(range(1, 10_000))

    def create_project(label: str, fields: str, role: str = "editor", **kw: Any) -> None:
        slug = f"bench-hostile-{next(n)}"
        gql(label, g, f'mutation {{ createProject(input: {{slug: "{slug}", {fields}}}) {{ slug version }} }}',
            role=role, **kw)

    bad = codes("BAD_USER_INPUT")
    create_project("budget 1e400 (infinite) as a literal", 'name: "x", budgetTotal: 1e400, budgetCurrency: "EUR"')
    gql("budget 1.7e308 as a variable", g,
        'mutation($b: Float) { createProject(input: {slug: "bench-hostile-var", name: "x", budgetTotal: $b, '
        'budgetCurrency: "EUR"}) { slug } }', {"b": 1.7e308}, role="editor", codes=bad)
    create_project("budget 1e300", 'name: "x", budgetTotal: 1e300, budgetCurrency: "EUR"', codes=bad)
    create_project("budget 1e13 + 1 (above the cap)", 'name: "x", budgetTotal: 10000000000001, budgetCurrency: "EUR"',
                   codes=bad)
    create_project("negative budget", 'name: "x", budgetTotal: -1, budgetCurrency: "EUR"', codes=bad)
    create_project('currency "XXX" (ISO 4217 for "no currency")', 'name: "x", budgetTotal: 1000, budgetCurrency: "XXX"',
                   codes=bad, note="the brief lists XXX as unknown; the server's code list has it")
    create_project('currency "ABCD"', 'name: "x", budgetTotal: 1000, budgetCurrency: "ABCD"', codes=bad)
    create_project('currency "nok" (lower case)', 'name: "x", budgetTotal: 1000, budgetCurrency: "nok"', codes=bad)
    create_project('date "2024-02-30"', 'name: "x", validFrom: "2024-02-30"', codes=bad)
    create_project('date "0000-01-01" (year 0)', 'name: "x", validFrom: "0000-01-01"', codes=bad)
    create_project('date "99999-12-31" (5-digit year)', 'name: "x", validTo: "99999-12-31"', codes=bad)
    create_project('date "+262143-12-31" (chrono\'s last year)', 'name: "x", validTo: "+262143-12-31"', codes=bad)
    create_project("period ending before it starts", 'name: "x", validFrom: "2020-01-01", validTo: "2019-01-01"',
                   codes=bad)
    # Literals of 1 MB make the document longer than its 100 kB cap; as variables they reach the
    # write rules (text_length, slug_format).
    too_long = codes("QUERY_TOO_EXPENSIVE")
    create_project("name of 1 MB", f'name: "{"N" * mb}"', codes=too_long)
    create_project("periodText of 1 MB", f'name: "x", periodText: "{"P" * mb}"', codes=too_long)
    gql("slug of 1 MB", g, f'mutation {{ createProject(input: {{slug: "{"s" * mb}", name: "x"}}) {{ slug }} }}',
        role="editor", codes=too_long)
    for field, others in (("name", 'slug: "bench-hostile-v-name"'),
                          ("periodText", 'slug: "bench-hostile-v-period", name: "x"'), ("slug", 'name: "x"')):
        gql(f"{field} of 1 MB as a variable", g,
            f"mutation($v: String!) {{ createProject(input: {{{others}, {field}: $v}}) {{ slug }} }}",
            {"v": "v" * mb}, role="editor", codes=bad)
    gql("slug with spaces and unicode", g,
        'mutation { createProject(input: {slug: "bad slug ø", name: "x"}) { slug } }', role="editor", codes=bad)
    create_project("blank name", 'name: "   "', codes=bad)
    create_project("unknown programme slug", 'name: "x", programme: "no-such-programme"', codes=codes("NOT_FOUND"))
    gql("source key of 1 MB", g, f'mutation {{ createSource(input: {{key: "{"k" * mb}", kind: "x"}}) {{ key }} }}',
        role="editor", codes=too_long)
    gql("source key of 1 MB as a variable", g, 'mutation($k: String!) { createSource(input: {key: $k, kind: "x"}) { key } }',
        {"k": "k" * mb}, role="editor", codes=bad)
    gql("existing project slug again", g,
        f'mutation {{ createProject(input: {{slug: "{ctx.project_slug}", name: "x"}}) {{ slug }} }}', role="editor",
        codes=codes("CONFLICT"))
    gql("update of an unknown project", g,
        'mutation { updateProject(slug: "no-such-project", expectedVersion: 1, input: {slug: "no-such-project", '
        'name: "x"}) { slug } }', role="editor", codes=codes("NOT_FOUND"))
    gql("update with a stale version", g,
        f'mutation {{ updateProject(slug: "{ctx.project_slug}", expectedVersion: {ctx.project_version + 1000}, '
        f'input: {{slug: "{ctx.project_slug}", name: "x"}}) {{ slug }} }}', role="editor", codes=codes("CONFLICT"))
    gql("update with a negative budget", g,
        f'mutation {{ updateProject(slug: "{ctx.project_slug}", expectedVersion: {ctx.project_version}, '
        f'input: {{slug: "{ctx.project_slug}", name: "x", budgetTotal: -5, budgetCurrency: "EUR"}}) {{ slug }} }}',
        role="editor", codes=bad)
    gql("delete of an unknown project", g, 'mutation { deleteProject(slug: "no-such-project", expectedVersion: 1) { slug } }',
        role="editor", codes=codes("NOT_FOUND"))
    gql("delete with a stale version", g,
        f'mutation {{ deleteProject(slug: "{ctx.project_slug}", expectedVersion: {ctx.project_version + 1000}) {{ slug }} }}',
        role="editor", codes=codes("CONFLICT"))
    gql("partner for an unknown project", g,
        f'mutation {{ addProjectPartner(input: {{project: "no-such-project", organisation: "{ctx.organisation_slug}", '
        f'role: PARTNER}}) {{ role }} }}', role="editor", codes=codes("NOT_FOUND"))
    gql("partner with a budget share of 1e20", g,
        f'mutation {{ addProjectPartner(input: {{project: "{ctx.project_slug}", organisation: "{ctx.organisation_slug}", '
        f'role: PARTNER, budgetShare: 1e20}}) {{ role }} }}', role="editor", codes=bad)
    gql('budget line in currency "ABCD"', g,
        f'mutation {{ addBudgetLine(input: {{project: "{ctx.project_slug}", kind: TOTAL, label: "bench-hostile", '
        f'amount: 100, currency: "ABCD"}}) {{ label }} }}', role="editor", codes=bad)
    gql("budget line of -100", g,
        f'mutation {{ addBudgetLine(input: {{project: "{ctx.project_slug}", kind: TOTAL, label: "bench-hostile", '
        f'amount: -100, currency: "EUR"}}) {{ label }} }}', role="editor", codes=bad)
    gql("organisation with a Swedish personnummer as orgNumber", g,
        'mutation { createOrganisation(input: {slug: "bench-hostile-pnr", name: "x", kind: COMPANY, country: "SE", '
        'orgNumber: "121212-1212"}) { slug } }', role="editor", codes=bad)
    gql("importRegistry of junk", g, 'mutation($r: JSON!) { importRegistry(registry: $r) { inserted } }',
        {"r": {"junk": True}}, role="editor", codes=bad)
    gql("importRegistry of a 3 MB junk list", g, 'mutation($r: JSON!) { importRegistry(registry: $r) { inserted } }',
        {"r": ["x" * 1000] * 3000}, role="editor", codes=bad)
    create_project("createProject as public", 'name: "x"', role="public", codes=codes("FORBIDDEN"))
    create_project("createProject as analyst", 'name: "x"', role="analyst", codes=codes("FORBIDDEN"))
    gql("deleteProject (right version) as public", g,
        f'mutation {{ deleteProject(slug: "{ctx.project_slug}", expectedVersion: {ctx.project_version}) {{ slug }} }}',
        codes=codes("FORBIDDEN"))
    gql("importRegistry as public", g, 'mutation($r: JSON!) { importRegistry(registry: $r) { inserted } }',
        {"r": {"sources": []}}, codes=codes("FORBIDDEN"))
    mutation = 'mutation { createSource(input: {key: "bench-hostile-get", kind: "x"}) { key } }'
    get("mutation over GET as editor", g, get_query(mutation), role="editor", codes=codes("METHOD_NOT_ALLOWED"), status=405)
    get("mutation over GET as public", g, get_query(mutation), codes=codes("METHOD_NOT_ALLOWED"), status=405)
    get("GET naming the mutation of a mixed document", g,
        get_query("query Q { __typename } " + mutation.replace("mutation", "mutation M", 1), operationName="M"),
        role="editor", codes=codes("METHOD_NOT_ALLOWED"), status=405)
    get("GET naming the query of a mixed document", g,
        get_query("query Q { __typename } " + mutation.replace("mutation", "mutation M", 1), operationName="Q"),
        role="editor", expect="ok")

    # -- introspection ------------------------------------------------------------------------
    g = "introspection"
    gql("the standard introspection query", g, INTROSPECTION, expect="ok")

    # -- the HTTP edge ------------------------------------------------------------------------
    g = "http"
    for label, content_type in (("text/plain", "text/plain"), ("form-urlencoded", "application/x-www-form-urlencoded"),
                                ("multipart/form-data", "multipart/form-data; boundary=x"),
                                ("application/jsonx", "application/jsonx"), ("none", None)):
        post(f"content type {label}", g, body(simple), content_type=content_type,
             codes=codes("UNSUPPORTED_MEDIA_TYPE"), status=415)
    post("content type application/json; charset=utf-8", g, body(simple), content_type="application/json; charset=utf-8",
         expect="ok")
    big = b'{"query": "{ __typename }", "variables": {"x": "' + b"A" * (5 * mb) + b'"}}'
    post("5 MB body (limit 4 MiB), Content-Length", g, big, codes=codes("PAYLOAD_TOO_LARGE"), status=413)
    chunked = b"".join(f"{len(part):x}\r\n".encode() + part + b"\r\n" for part in
                       (big[i : i + 65536] for i in range(0, len(big), 65536))) + b"0\r\n\r\n"
    post("5 MB body (limit 4 MiB), chunked", g, chunked, headers=[("Transfer-Encoding", "chunked")],
         codes=codes("PAYLOAD_TOO_LARGE"), status=413)
    post("Content-Length of 10 GB, 30 bytes sent", g, body(simple)[:30], headers=[("Content-Length", "10000000000")],
         codes=codes("PAYLOAD_TOO_LARGE"), status=413, half_close=True)
    post("body cut short (Content-Length 1000, 30 bytes, then EOF)", g, body(simple)[:30],
         headers=[("Content-Length", "1000")], half_close=True, codes=codes("BAD_REQUEST"),
         note="a body that ends early is not too large")
    post("invalid chunk size", g, b"zz\r\n" + body(simple) + b"\r\n0\r\n\r\n", headers=[("Transfer-Encoding", "chunked")],
         codes=codes("BAD_REQUEST"))
    get("GET /graphql without a query", g, "/graphql")
    get("GET /graphql with variables that are not JSON", g, get_query(simple, variables="{not json"),
        codes=codes("BAD_REQUEST"), status=400)
    add(Case("PUT /graphql", g, http("PUT", "/graphql", body(simple)), codes=codes("METHOD_NOT_ALLOWED"), status=405))
    add(Case("DELETE /graphql", g, http("DELETE", "/graphql", content_type=None), codes=codes("METHOD_NOT_ALLOWED"),
             status=405))
    add(Case("POST /healthz", g, http("POST", "/healthz", body(simple)), codes=codes("METHOD_NOT_ALLOWED"), status=405))
    get("unknown route /nope", g, "/nope", codes=codes("NOT_FOUND"), status=404)
    get("path traversal /graphql/../../etc/passwd", g, "/graphql/../../etc/passwd", codes=codes("NOT_FOUND"), status=404)
    get("unknown export format", g, "/export/network.exe", codes=codes("NOT_FOUND", "BAD_USER_INPUT"))
    get("export with minWeight=abc", g, "/export/network.graphml?minWeight=abc", codes=codes("BAD_USER_INPUT"), status=400)
    get("export with an unknown parameter", g, "/export/network.graphml?bogus=1", codes=codes("BAD_USER_INPUT"), status=400)
    get("export of placement edges as public", g, "/export/network.graphml?level=country&edges=placement",
        codes=codes("FORBIDDEN"), status=403)
    get("export for an unknown programme", g, "/export/network.graphml?programme=no-such-programme",
        codes=codes("NOT_FOUND"), status=404)
    add(Case("GET /graphql/ws without an upgrade", g, http("GET", "/graphql/ws", content_type=None)))
    add(Case("WebSocket upgrade with an unknown subprotocol", g, http("GET", "/graphql/ws", content_type=None, headers=[
        ("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ("Sec-WebSocket-Version", "13"), ("Sec-WebSocket-Protocol", "chat")]).replace(b"Connection: close\r\n", b"", 1)))

    # -- HTTP the library refuses before the application ----------------------------------------
    g = "raw-http"
    add(Case("not HTTP at all", g, b"HELLO THERE\r\n\r\n", expect="http-refused"))
    add(Case("request line with HTTP/9.9", g, b"GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n", expect="http-refused",
             allow_status=frozenset({505}), note="505 is the status RFC 9110 prescribes"))
    add(Case("header line without a colon", g, b"GET /healthz HTTP/1.1\r\nHost x\r\n\r\n", expect="http-refused"))
    add(Case("two different Content-Lengths", g,
             b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5\r\n"
             b"Content-Length: 50\r\n\r\n{}{}{}", expect="http-refused"))
    add(Case("NUL in the request target", g, b"GET /graph\x00ql HTTP/1.1\r\nHost: x\r\n\r\n", expect="http-refused"))
    add(Case("500 kB header", g, http("GET", "/healthz", content_type=None, headers=[("X-Big", "b" * 500_000)]),
             expect="http-refused", also_ok=True,
             note="hyper caps an incomplete head at ~400 kB; a head read whole may pass (431 or 200)"))
    add(Case("200 headers", g, http("GET", "/healthz", content_type=None,
                                    headers=[(f"X-H{i}", "v") for i in range(200)]), expect="http-refused"))

    # -- WebSocket ----------------------------------------------------------------------------
    g = "ws"
    add(Case("ws: garbage bytes after the upgrade", g, None, expect="ws-closed",
             ws=("graphql-transport-ws", [b"\xff" * 64]), note="reserved opcode, RSV bits set"))
    add(Case("ws: unmasked client frame", g, None, expect="ws-closed",
             ws=("graphql-transport-ws", [ws_frame(b'{"type":"connection_init"}', masked=False)])))
    add(Case("ws: connection_init with a forged token", g, None, expect="ws-closed",
             ws=("graphql-transport-ws", [ws_frame(json.dumps(
                 {"type": "connection_init", "payload": {"Authorization": "Bearer " + forged["role admin signed with a wrong key"]}}
             ).encode())])))
    add(Case("ws: a message that is not JSON", g, None, expect="ws-closed",
             ws=("graphql-transport-ws", [ws_frame(b"{{{{ not json")])))

    # -- heavy: last, so what they leave behind (CPU, memory) does not weigh on the rest --------
    g = "heavy"
    gql("20 aliased whole edge lists (public)", g,
        "{ " + " ".join(f"e{i}: network {{ edges {{ source {{ key }} target {{ key }} weight }} }}" for i in range(20)) + " }",
        codes=codes("QUERY_TOO_EXPENSIVE"))
    gql("20 aliased GraphML exports (public)", g,
        "{ " + " ".join(f"x{i}: network {{ export(format: GRAPHML) }}" for i in range(20)) + " }",
        codes=codes("QUERY_TOO_EXPENSIVE"))
    periods = ", ".join(f'{{from: "{y}-01-01", to: "{y}-12-31"}}' for y in range(1975, 2025))
    regions = ", ".join(json.dumps(slug) for slug in ctx.region_slugs[:50])
    gql(f"compare {len(ctx.region_slugs[:50])} regions x 50 periods (public)", g,
        f"{{ compare(regions: [{regions}], periods: [{periods}]) {{ region {{ slug }} cells {{ metrics {{ organisations "
        f"activeProjects partnerships budgetTotalEur }} }} }} }}", expect="answered",
        note="within the documented limits (50 x 50); its latency is for information")
    if ctx.batch_op and ctx.batch_op_cost * 10 > ctx.public_limit:
        ops = [{"query": ctx.batch_op.replace("{seed}", str(seed))} for seed in range(1, 11)]
        post(f"batch of 10 x the dearest allowed analysis (cost {ctx.batch_op_cost:,} each, limit {ctx.public_limit:,})",
             g, json.dumps(ops).encode(), codes=codes("QUERY_TOO_EXPENSIVE"),
             note=f"a batch is one request; its operations' costs are not added up: {ctx.batch_op}")
    get("GET /export/network.json, whole network (public)", g, "/export/network.json?asOf=2023-06-01",
        codes=codes("QUERY_TOO_EXPENSIVE"),
        note="GraphQL refuses the same network's export and betweenness to the public")
    bomb = "{ regions(first: 1) { nodes { ...F0 } } } " + " ".join(
        f"fragment F{i} on Region {{ ...F{i + 1} ...F{i + 1} }}" for i in range(29)
    ) + " fragment F29 on Region { slug }"
    gql("fragment bomb within the depth limit (2^29 spreads)", g, bomb, codes=codes("QUERY_TOO_EXPENSIVE"))
    gql(f"selection sets nested {deep:,} deep", g, "{ a" + " { a" * deep + " }" * deep + " }",
        codes=codes("QUERY_TOO_EXPENSIVE", "GRAPHQL_PARSE_FAILED"))
    gql(f"list literal nested {deep:,} deep", g,
        "{ regions(filter: {nameContains: " + "[" * deep + '"x"' + "]" * deep + "}) { totalCount } }")
    gql(f"object literal nested {deep:,} deep", g,
        "{ regions(filter: " + "{a: " * deep + "1" + "}" * deep + ") { totalCount } }")
    return cases


INTROSPECTION = """
query IntrospectionQuery {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } }
}
"""

# Analyses the public might afford alone: the dearest one under its limit is sent ten times in one
# batch (with distinct seeds, so no answer comes from the cache).
BATCH_CANDIDATES = [
    "{ network { betweenness(samples: 256, seed: {seed}, top: 1) { score } } }",
    "{ network { communities(seed: {seed}) { count } } }",
    "{ network(minWeight: {seed}) { closeness(top: 1) { score } } }",
    "{ network(minWeight: {seed}) { pagerank(top: 1) { score } } }",
    "{ network(level: MUNICIPALITY, minWeight: {seed}) { betweenness(top: 1) { score } } }",
    "{ network(level: MUNICIPALITY) { communities(seed: {seed}) { count } } }",
]


# ---------------------------------------------------------------------------------------------
# Judging an answer


@dataclass
class Result:
    case: Case
    answer: Answer
    codes: list[str] = field(default_factory=list)
    refusal: bool = False
    uncoded: bool = False
    server_error: bool = False
    internal: bool = False
    wrote: str = ""
    crashed: bool = False
    restarted: bool = False
    detail: str = ""
    errors: list[str] = field(default_factory=list)
    began: float = 0.0
    ended: float = 0.0
    rss_mb: float = 0.0  # the server's largest VmRSS sampled while the case ran
    health_failures: int = 0  # /healthz probes that failed while the case ran
    rss_growth_mb: float = 0.0  # how much the server's RSS grew while the case ran
    reasons: list[str] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        return "ok" if not self.reasons else "FAIL"


def errors_of(payload: Any) -> tuple[list[dict[str, Any]], list[Any]]:
    """The errors of a response (or of each response of a batch) and its `data` values."""
    items = payload if isinstance(payload, list) else [payload]
    errors: list[dict[str, Any]] = []
    data: list[Any] = []
    for item in items:
        if isinstance(item, dict):
            errors += [e if isinstance(e, dict) else {"message": str(e)} for e in item.get("errors") or []]
            data.append(item.get("data"))
        else:
            data.append(None)
    return errors, data


def judge(case: Case, answer: Answer, refusal_ms: float) -> Result:
    result = Result(case, answer)
    if case.expect == "ws-closed":
        if answer.status != 101:
            result.reasons.append(f"no upgrade (HTTP {answer.status}, {answer.error or ''})".strip())
        elif answer.timed_out or answer.error:
            result.reasons.append(f"not closed: {answer.error}")
        result.detail = answer.reason or answer.error or ""
        return result
    if answer.status is None:
        if case.expect == "http-refused" and not answer.timed_out:
            result.refusal, result.detail = True, answer.error or "closed"
            return result
        result.reasons.append(f"no answer ({answer.error})")
        return result
    status = answer.status
    payload: Any = None
    text = answer.body.decode("utf-8", "replace")
    if answer.body:
        try:
            payload = json.loads(answer.body)
        except ValueError:
            payload = None
    errors, data = errors_of(payload) if payload is not None else ([], [])
    result.codes = [str((e.get("extensions") or {}).get("code")) if (e.get("extensions") or {}).get("code") else "-"
                    for e in errors]
    result.server_error = status >= 500 and status not in case.allow_status
    result.internal = "INTERNAL" in result.codes
    result.refusal = 400 <= status < 500 or bool(errors) or (status >= 500 and status in case.allow_status)
    coded = bool(errors) and all(code != "-" for code in result.codes)
    if case.expect == "http-refused":
        result.detail = text[:120]
    else:
        result.uncoded = result.refusal and not coded
    result.errors = [f"{code}: {str(e.get('message', ''))[:200]}" for code, e in zip(result.codes, errors[:5])]
    if errors:
        first = errors[0]
        result.detail = str(first.get("message", ""))[:160]
    elif payload is None:
        result.detail = (text[:120] or "(empty body)") if status != 200 else f"non-JSON body: {text[:80]!r}"
    else:
        result.detail = f"data: {json.dumps(data[0] if len(data) == 1 else data)[:150]}"
    if result.server_error:
        result.reasons.append(f"HTTP {status}")
    if result.internal:
        result.reasons.append("INTERNAL")
    if result.uncoded:
        result.reasons.append("uncoded refusal")
    all_ok = status == 200 and not errors and bool(data) and all(d is not None for d in data)
    if case.expect == "refused":
        if not result.refusal:
            result.reasons.append("not refused")
        elif case.codes is not None and coded and not set(result.codes) <= case.codes:
            result.reasons.append(f"code {'/'.join(sorted(set(result.codes)))}, expected {'/'.join(sorted(case.codes))}")
        if case.status is not None and status != case.status:
            result.reasons.append(f"HTTP {status}, expected {case.status}")
    elif case.expect == "ok":
        if not all_ok:
            result.reasons.append("not answered" + (f" ({'/'.join(sorted(set(result.codes)))})" if errors else f" (HTTP {status})"))
    elif case.expect == "answered":
        if not all_ok and not (result.refusal and coded):
            result.reasons.append("neither an answer nor a coded refusal")
    elif case.expect == "http-refused":
        if not (400 <= status < 500 or status in case.allow_status or (case.also_ok and 200 <= status < 300)) \
                and not result.server_error:
            result.reasons.append(f"accepted (HTTP {status})")
    if case.check is not None and all_ok and len(data) == 1:
        problem = case.check(data[0])
        if problem:
            result.reasons.append(problem)
    if result.refusal and answer.latency_ms >= refusal_ms:
        result.reasons.append(f"slow refusal ({answer.latency_ms:.0f} ms)")
    return result


# ---------------------------------------------------------------------------------------------
# The server and the database


def clean_env(secret: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAMVERKA_") and k != "DATABASE_URL"}
    env["SAMVERKA_JWT_SECRET"] = secret
    env["RUST_LOG"] = os.environ.get("RUST_LOG", "warn")
    return env


class Server:
    def __init__(self, binary: str, db: str, workdir: str, secret: str, extra: list[str]):
        self.binary, self.db, self.workdir, self.secret, self.extra = binary, db, workdir, secret, extra
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.log_path = os.path.join(workdir, "server.log")
        self.starts = 0

    def start(self, port: int | None = None) -> None:
        for attempt in range(3):
            self.port = port if (port and attempt == 0) else free_port()
            args = [self.binary, "--sqlite-path", self.db, "serve", "--listen", f"127.0.0.1:{self.port}", "--no-demo",
                    "--rate-limit-per-second", "0", *self.extra]
            with open(self.log_path, "ab") as log:
                log.write(f"\n--- start {self.starts + 1}: {' '.join(args)}\n".encode())
                log.flush()
                self.process = subprocess.Popen(args, cwd=self.workdir, env=clean_env(self.secret), stdout=log,
                                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                                start_new_session=True, preexec_fn=die_with_parent)
            if self.wait_ready(300):
                self.starts += 1
                return
            self.stop()
        raise RuntimeError(f"the server did not become ready; log {self.log_path}:\n{self.log_tail()}")

    def wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                return False
            answer = exchange(self.port, http("GET", "/readyz", content_type=None), timeout=2)
            if answer.status == 200:
                return True
            time.sleep(0.2)
        return False

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def pid(self) -> int:
        return self.process.pid if self.process else 0

    def stop(self) -> None:
        process, self.process = self.process, None
        stop(process)

    def log_tail(self, lines: int = 20) -> str:
        return log_tail(self.log_path, lines)


def copy_database(source: str, target: str) -> None:
    try:
        src = sqlite3.connect(f"file:{urllib.parse.quote(source)}?mode=ro", uri=True)
        dst = sqlite3.connect(target)
        with dst:
            src.backup(dst)
        src.close()
        dst.close()
    except sqlite3.Error as error:
        progress(f"  (backup API failed: {error}; copying the file instead)")
        for suffix in ("", "-wal"):
            if os.path.exists(source + suffix):
                shutil.copyfile(source + suffix, target + suffix)


def connect_ro(path: str, immutable: bool = False) -> sqlite3.Connection:
    uri = f"file:{urllib.parse.quote(path)}?mode=ro" + ("&immutable=1" if immutable else "")
    return sqlite3.connect(uri, uri=True, timeout=10)


def events_state(conn: sqlite3.Connection) -> tuple[int, int]:
    count, version = conn.execute("SELECT COUNT(*), COALESCE(MAX(seq), 0) FROM events").fetchone()
    return int(count), int(version)


def table_counts(conn: sqlite3.Connection) -> dict[str, int]:
    names = [row[0] for row in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    return {name: int(conn.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0]) for name in names}


def db_state(path: str, immutable: bool = False) -> dict[str, Any]:
    conn = connect_ro(path, immutable)
    try:
        count, version = events_state(conn)
        return {"events": count, "data_version": version, "tables": table_counts(conn)}
    finally:
        conn.close()


# ---------------------------------------------------------------------------------------------
# The watcher: health probes and RSS, in a process of its own (no GIL shared with the corpus)


def watch(port: Any, pid: Any, paused: Any, stop: Any, out_path: str, interval: float, timeout: float) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    samples: list[list[Any]] = []
    request = http("GET", "/healthz", content_type=None)
    while not stop.is_set():
        began = time.monotonic()
        answer = exchange(port.value, request, timeout=timeout)
        ok = answer.status == 200
        rss = hwm = 0
        try:
            with open(f"/proc/{pid.value}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        rss = int(line.split()[1])
                    elif line.startswith("VmHWM:"):
                        hwm = int(line.split()[1])
        except OSError:
            pass
        samples.append([time.time(), round(answer.latency_ms, 2), ok, answer.error or (None if ok else f"HTTP {answer.status}"),
                        bool(paused.value), rss, hwm])
        time.sleep(max(0.0, interval - (time.monotonic() - began)))
    with open(out_path, "w") as out:
        json.dump(samples, out)


# ---------------------------------------------------------------------------------------------
# Setup queries


def graphql(port: int, query: str, token: str | None = None, extensions: Any = None) -> Any:
    payload: dict[str, Any] = {"query": query}
    if extensions is not None:
        payload["extensions"] = extensions
    answer = exchange(port, http("POST", "/graphql", json.dumps(payload).encode(), token=token), timeout=120)
    if answer.status is None:
        raise RuntimeError(f"{query[:80]}: {answer.error}")
    return json.loads(answer.body)


def mint(binary: str, role: str, workdir: str, secret: str) -> str:
    result = subprocess.run([binary, "token", "--role", role, "--ttl", "2h", "--subject", f"bench-hostile-{role}"],
                            cwd=workdir, env=clean_env(secret), capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise RuntimeError(f"samverka token --role {role}: {result.stderr.strip()}")
    return result.stdout.strip()


def dearest_affordable(port: int) -> tuple[str, int, int]:
    """The candidate analysis with the highest estimated cost the public may still run alone."""
    best = ("", 0)
    limit = 0
    for candidate in BATCH_CANDIDATES:
        response = graphql(port, candidate.replace("{seed}", "999"), extensions={"cost": True})
        cost = (response.get("extensions") or {}).get("cost") or {}
        errors = response.get("errors") or []
        estimated = cost.get("estimated")
        if errors:
            ext = errors[0].get("extensions") or {}
            if ext.get("code") == "QUERY_TOO_EXPENSIVE" and ext.get("measure") == "cost":
                limit = max(limit, int(ext.get("limit") or 0))
            continue
        if isinstance(estimated, int):
            limit = max(limit, int(cost.get("limit") or 0))
            if estimated > best[1]:
                best = (candidate, estimated)
    return best[0], best[1], limit


# ---------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", required=True, help="the samverka release binary")
    parser.add_argument("--medium", required=True, help="the synthetic medium registry (SQLite); copied, never written")
    parser.add_argument("--json", metavar="OUT", help="write every result and the summary as JSON to OUT")
    parser.add_argument("--only", action="append", default=[], help="run only cases whose name or group contains TEXT")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    parser.add_argument("--refusal-ms", type=float, default=REFUSAL_MS, help="slowest refusal allowed (default 50)")
    parser.add_argument("--health-interval", type=float, default=0.1, help="seconds between /healthz probes")
    parser.add_argument("--health-timeout", type=float, default=1.0, help="a probe without 200 within this fails")
    parser.add_argument("--workdir", help="where the copy and the log go (default: a new directory beside --medium)")
    parser.add_argument("--keep", action="store_true", help="keep the working directory (copy, log)")
    parser.add_argument("--server-arg", action="append", default=[], help="extra argument for `serve` (repeatable)")
    parser.add_argument("--case-timeout", type=float, help="seconds to wait for any one answer (default 60)")
    parser.add_argument("--seed", help="(recorded in the JSON only)")
    args = parser.parse_args()

    if args.list:
        dummy = Context(tokens={r: "e30.e30.c2lnbmF0dXJlLXBsYWNlaG9sZGVy" for r in ("analyst", "editor", "admin")},
                        secret=b"x" * 32, organisations=10_000, project_slug="syn-project-00001", project_version=1,
                        organisation_slug="syn-org-000001", region_slugs=["reg-no-telemark"] * 50,
                        batch_op=BATCH_CANDIDATES[0], batch_op_cost=50_000, public_limit=50_000)
        for case in corpus(dummy):
            if not args.only or any(text.lower() in (case.name + " " + case.group).lower() for text in args.only):
                print(f"{case.group:14} {case.expect:12} {case.name}")
        return 0
    for path, what in ((args.bin, "binary"), (args.medium, "medium registry")):
        if not os.path.exists(path):
            progress(f"no {what} at {path}")
            return 2
    workdir = args.workdir or tempfile.mkdtemp(prefix="samverka-hostile-", dir=os.path.dirname(os.path.abspath(args.medium)))
    os.makedirs(workdir, exist_ok=True)
    copy = os.path.join(workdir, "medium-copy.db")
    secret = secrets.token_hex(32)
    server = Server(args.bin, copy, workdir, secret, args.server_arg)
    watcher = None
    stop_watch = multiprocessing.Event()
    failed_setup = False
    try:
        progress(f"copying {args.medium} to {copy}")
        started = time.monotonic()
        copy_database(args.medium, copy)
        progress(f"  {os.path.getsize(copy) / 1e6:.0f} MB in {time.monotonic() - started:.1f} s")
        before_start = db_state(copy, immutable=True)
        progress("starting the server")
        server.start()
        progress(f"  pid {server.pid}, port {server.port}, log {server.log_path}")
        tokens = {role: mint(args.bin, role, workdir, secret) for role in ("analyst", "editor", "admin")}
        setup = graphql(server.port, "{ organisations(first: 1) { totalCount nodes { slug } } "
                                     "projects(first: 1) { nodes { slug version } } regions(first: 50) { nodes { slug } } }")
        if setup.get("errors") or not setup.get("data"):
            raise RuntimeError(f"setup query failed: {json.dumps(setup)[:500]}")
        data = setup["data"]
        batch_op, batch_cost, public_limit = dearest_affordable(server.port)
        ctx = Context(
            tokens=tokens, secret=secret.encode(), organisations=data["organisations"]["totalCount"],
            project_slug=data["projects"]["nodes"][0]["slug"], project_version=data["projects"]["nodes"][0]["version"],
            organisation_slug=data["organisations"]["nodes"][0]["slug"],
            region_slugs=[r["slug"] for r in data["regions"]["nodes"]],
            batch_op=batch_op, batch_op_cost=batch_cost, public_limit=public_limit or 50_000,
        )
        cases = corpus(ctx)
        if args.only:
            cases = [c for c in cases if any(text.lower() in (c.name + " " + c.group).lower() for text in args.only)]
        if args.case_timeout:
            for case in cases:
                case.timeout = min(case.timeout, args.case_timeout)
        # Warm up (the first requests of a process pay for lazy initialisation).
        for _ in range(3):
            graphql(server.port, "{ regions(first: 1) { nodes { slug } } }")
        before = db_state(copy)
        conn = connect_ro(copy)
        events = events_state(conn)

        port_v = multiprocessing.Value("i", server.port)
        pid_v = multiprocessing.Value("i", server.pid)
        paused_v = multiprocessing.Value("b", 0)
        watch_out = os.path.join(workdir, "health.json")
        watcher = multiprocessing.Process(target=watch, args=(port_v, pid_v, paused_v, stop_watch, watch_out,
                                                             args.health_interval, args.health_timeout), daemon=True)
        watcher.start()
        time.sleep(0.3)

        results: list[Result] = []
        progress(f"running {len(cases)} cases")
        for index, case in enumerate(cases, 1):
            began = time.time()
            if case.ws is not None:
                answer = ws_exchange(server.port, case.ws[0], case.ws[1], timeout=min(case.timeout, 15))
            else:
                answer = exchange(server.port, case.request or b"", timeout=case.timeout, half_close=case.half_close)
            result = judge(case, answer, args.refusal_ms)
            result.began, result.ended = began, time.time()
            time.sleep(0.02)
            now = events_state(conn)
            if now != events:
                result.wrote = f"events {events[0]} -> {now[0]}, data version {events[1]} -> {now[1]}"
                result.reasons.append("wrote to the database")
                events = now
            if not server.alive():
                result.crashed = True
                result.reasons.append(f"server died (exit {server.process.returncode if server.process else '?'})")
                progress(f"  the server died after case {index} ({case.name}); log tail:\n{server.log_tail(8)}")
            if result.crashed or answer.timed_out:
                paused_v.value = 1
                server.stop()
                server.start(port=server.port)
                port_v.value, pid_v.value = server.port, server.pid
                paused_v.value = 0
                result.restarted = True
                progress(f"  restarted the server after case {index} ({case.name}): pid {server.pid}")
            results.append(result)
            mark = "ok" if not result.reasons else "FAIL: " + "; ".join(result.reasons)
            progress(f"  [{index:3}/{len(cases)}] {case.name[:60]:60} {answer.latency_ms:8.1f} ms  {mark}")
        time.sleep(1.0)  # the probes after the last case
        stop_watch.set()
        watcher.join(timeout=30)
        server_alive = server.alive()
        final_hwm = read_hwm(server.pid) if server_alive else 0
        server.stop()
        conn.close()
        after = db_state(copy)
        samples = json.load(open(watch_out)) if os.path.exists(watch_out) else []
        return report(args, results, samples, before_start, before, after, final_hwm, server)
    except Exception as error:  # noqa: BLE001 - report, clean up, exit 2
        failed_setup = True
        progress(f"error: {error}")
        if server.process is not None or os.path.exists(server.log_path):
            progress(f"server log tail:\n{server.log_tail()}")
        return 2
    finally:
        stop_watch.set()
        if watcher is not None and watcher.is_alive():
            watcher.join(timeout=5)
            if watcher.is_alive():
                watcher.terminate()
        server.stop()
        if args.keep or failed_setup:
            progress(f"kept {workdir}")
        else:
            kept_log = os.path.join(tempfile.gettempdir(), "samverka-hostile-server.log")
            try:
                shutil.copyfile(server.log_path, kept_log)
                progress(f"server log: {kept_log}")
            except OSError:
                pass
            shutil.rmtree(workdir, ignore_errors=True)


def read_hwm(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def report(args: argparse.Namespace, results: list[Result], samples: list[list[Any]], before_start: dict[str, Any],
           before: dict[str, Any], after: dict[str, Any], final_hwm_kb: int, server: Server) -> int:
    for r in results:  # the samples taken while each case ran (and the one right after)
        during = [s[5] for s in samples if r.began - 0.01 <= s[0] <= r.ended + args.health_interval * 1.5]
        r.rss_mb = max(during) / 1024 if during else 0.0
        earlier = [s[5] for s in samples if s[0] < r.began and s[5]]
        if during and earlier:
            r.rss_growth_mb = max(0.0, (max(during) - earlier[-1]) / 1024)
        r.health_failures = sum(1 for s in samples if not s[2] and not s[4] and r.began - 0.01 <= s[0] <= r.ended + 0.5)
    width = max(len(r.case.name) for r in results) if results else 20
    width = min(width, 66)
    print()
    print(f"{'case':{width}}  {'group':13} {'HTTP':>5}  {'codes':26} {'ms':>8} {'bytes':>9} {'RSS MB':>6}  verdict")
    print("-" * (width + 87))
    for r in results:
        status = "ws" if r.case.expect == "ws-closed" and r.answer.status == 101 else (str(r.answer.status) if r.answer.status else "-")
        shown = ",".join(sorted(set(r.codes))) if r.codes else ("(close)" if r.case.expect == "ws-closed" else "")
        name = r.case.name if len(r.case.name) <= width else r.case.name[: width - 1] + "…"
        verdict = "ok" if not r.reasons else "FAIL: " + "; ".join(r.reasons)
        print(f"{name:{width}}  {r.case.group:13} {status:>5}  {shown[:26]:26} {r.answer.latency_ms:8.1f} "
              f"{len(r.answer.body):9} {r.rss_mb:6.0f}  {verdict}")
    print()

    counted = [s for s in samples if not s[4]]
    health_failures = [s for s in counted if not s[2]]
    latencies = sorted(s[1] for s in counted)
    health_max = latencies[-1] if latencies else 0.0
    health_p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else 0.0
    peak_kb = max([final_hwm_kb] + [max(s[5], s[6]) for s in samples]) if samples else final_hwm_kb
    refusals = [r for r in results if r.refusal]
    slowest = max(refusals, key=lambda r: r.answer.latency_ms) if refusals else None
    fives = [r for r in results if r.server_error]
    internals = [r for r in results if r.internal]
    uncoded = [r for r in results if r.uncoded]
    wrote = [r for r in results if r.wrote]
    crashed = [r for r in results if r.crashed]
    missed = [r for r in results if r.reasons]
    slow = [r for r in refusals if r.answer.latency_ms >= args.refusal_ms]
    changed_tables = {t: (before["tables"].get(t), after["tables"].get(t))
                      for t in sorted(set(before["tables"]) | set(after["tables"]))
                      if before["tables"].get(t) != after["tables"].get(t)}
    written = bool(changed_tables) or before["events"] != after["events"] or before["data_version"] != after["data_version"]

    print("summary")
    print(f"  cases                  {len(results)} ({len(refusals)} refusals, {len(results) - len(missed)} as expected)")
    print(f"  5xx answers            {len(fives)}" + (f"  ({', '.join(r.case.name for r in fives)})" if fives else ""))
    print(f"  INTERNAL codes         {len(internals)}" + (f"  ({', '.join(r.case.name for r in internals)})" if internals else ""))
    print(f"  uncoded refusals       {len(uncoded)}" + (f"  ({', '.join(r.case.name for r in uncoded)})" if uncoded else ""))
    if slowest:
        print(f"  slowest refusal        {slowest.answer.latency_ms:.1f} ms  ({slowest.case.name})")
    print(f"  refusals >= {args.refusal_ms:.0f} ms      {len(slow)}" + (
        f"  ({', '.join(f'{r.case.name} {r.answer.latency_ms:.0f} ms' for r in slow)})" if slow else ""))
    print(f"  health probes          {len(counted)}, max {health_max:.1f} ms, p99 {health_p99:.1f} ms, "
          f"failures {len(health_failures)}" + (f" (e.g. {health_failures[0][3]})" if health_failures else "")
          + (f"; {len(samples) - len(counted)} skipped during restarts" if len(samples) != len(counted) else ""))
    stalled = [r for r in results if r.health_failures]
    if stalled:
        print("  health failed during   " + ", ".join(f"{r.case.name} ({r.health_failures})" for r in stalled))
    growers = sorted((r for r in results if r.rss_growth_mb >= 20), key=lambda r: -r.rss_growth_mb)[:3]
    print(f"  peak RSS               {peak_kb / 1024:.0f} MB" + (
        "  (grew most during: " + ", ".join(f"{r.case.name} +{r.rss_growth_mb:.0f} MB" for r in growers) + ")"
        if growers else ""))
    print(f"  server restarts        {server.starts - 1}" + (f"  (crashes: {', '.join(r.case.name for r in crashed)})" if crashed else ""))
    print(f"  events before/after    {before['events']} / {after['events']} (data version {before['data_version']} / "
          f"{after['data_version']}; at copy {before_start['events']} / {before_start['data_version']})")
    print(f"  rows before/after      {sum(before['tables'].values())} / {sum(after['tables'].values())}"
          + (f"  changed: {changed_tables}" if changed_tables else ""))
    if wrote:
        print(f"  written by             {', '.join(f'{r.case.name} ({r.wrote})' for r in wrote)}")

    failures: list[str] = []
    if fives:
        failures.append(f"{len(fives)} 5xx answer(s)")
    if internals:
        failures.append(f"{len(internals)} INTERNAL error(s)")
    if uncoded:
        failures.append(f"{len(uncoded)} uncoded refusal(s)")
    if written or wrote:
        failures.append("the database was written")
    if health_failures:
        failures.append(f"{len(health_failures)} health probe failure(s)")
    if slowest and slowest.answer.latency_ms >= args.refusal_ms:
        failures.append(f"slowest refusal {slowest.answer.latency_ms:.0f} ms >= {args.refusal_ms:.0f} ms ({slowest.case.name})")
    if crashed:
        failures.append(f"the server died {len(crashed)} time(s)")
    other = [r for r in missed if not (r.server_error or r.internal or r.uncoded or r.wrote or r.crashed)
             and any(not reason.startswith("slow refusal") for reason in r.reasons)]
    if other:
        failures.append(f"{len(other)} other expectation(s) missed: " + "; ".join(
            f"{r.case.name}: {', '.join(x for x in r.reasons if not x.startswith('slow refusal'))}" for r in other))
    print()
    if failures:
        print("FAILED: " + " | ".join(failures))
    else:
        print("PASSED: every refusal coded and fast, nothing written, the server healthy throughout")

    if args.json:
        out = {
            "binary": args.bin, "medium": args.medium, "seed": args.seed, "refusal_ms": args.refusal_ms,
            "cases": [{
                "name": r.case.name, "group": r.case.group, "expect": r.case.expect,
                "expected_codes": sorted(r.case.codes) if r.case.codes else None, "expected_status": r.case.status,
                "status": r.answer.status, "codes": r.codes, "latency_ms": round(r.answer.latency_ms, 2),
                "bytes": len(r.answer.body), "refusal": r.refusal, "uncoded": r.uncoded, "server_error": r.server_error,
                "internal": r.internal, "wrote": r.wrote or None, "crashed": r.crashed, "restarted": r.restarted,
                "transport_error": r.answer.error, "detail": r.detail, "errors": r.errors, "rss_mb": round(r.rss_mb, 1), "rss_growth_mb": round(r.rss_growth_mb, 1),
                "health_failures": r.health_failures,
                "note": r.case.note, "reasons": r.reasons,
            } for r in results],
            "summary": {
                "cases": len(results), "refusals": len(refusals), "as_expected": len(results) - len(missed),
                "http_5xx": len(fives), "internal": len(internals), "uncoded": len(uncoded),
                "slowest_refusal": {"case": slowest.case.name, "ms": round(slowest.answer.latency_ms, 2)} if slowest else None,
                "slow_refusals": [{"case": r.case.name, "ms": round(r.answer.latency_ms, 2)} for r in slow],
                "health": {"probes": len(counted), "max_ms": health_max, "p99_ms": health_p99,
                           "failures": len(health_failures), "skipped_during_restarts": len(samples) - len(counted)},
                "peak_rss_mb": round(peak_kb / 1024, 1), "server_starts": server.starts,
                "db": {"at_copy": {k: v for k, v in before_start.items() if k != "tables"},
                       "before": {k: v for k, v in before.items() if k != "tables"},
                       "after": {k: v for k, v in after.items() if k != "tables"}, "changed_tables": changed_tables},
                "failures": failures, "passed": not failures,
            },
        }
        with open(args.json, "w") as handle:
            json.dump(out, handle, indent=2)
        progress(f"wrote {args.json}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
