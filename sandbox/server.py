"""The sandbox HTTP server: the goszakup OWS API contract served over a DuckDB "world" file.

Why: the connector, the tests and the demo must run without a real API token, against data whose
truth is known (the world generator plants it), with the real API's paging, auth, rate limiting
and failure modes. Everything the server says about entities, tables and fields comes from
``pipelines.goszakup_api``.

Served (every API path needs ``Authorization: Bearer <token>``, else 401 with the API's error
shape ``{name, message, code, status, type}``):

* ``GET /v3/<rest path>`` (and ``/v2/...``): keyset pages ``{total, limit, next_page, items}``,
  ``limit`` default and max 500, ``next_page`` a relative path with ``search_after`` (``""`` on the
  last page); ``GET /v3/<rest path>/<id>`` one object or 404; ``GET /v3/refs`` and
  ``GET /v3/refs/<ref>`` the code tables.
* ``GET /v2/journal?date_from=YYYY-MM-DD&date_to=YYYY-MM-DD``: the change journal (both dates
  inclusive), keyset on ``seq``.
* ``POST /v3/graphql``: the schema of :mod:`sandbox.graphql_schema`, ``limit`` at most
  ``max_graphql_limit``, keyset ``after`` on the primary key, ``extensions.pageInfo``.
* ``/_sandbox/*`` admin endpoints (token needed, no rate limit, no faults): ``POST advance``,
  ``GET counts``, ``GET ground-truth``, ``GET|POST faults``, ``GET stats``; ``GET health`` is open.

Design: one read-write DuckDB connection owned by the server; each request uses its own
``con.cursor()``; writes (advance, the ``record_changes`` fault) are serialised by a lock. Pages are
keyset queries (``pk > after ORDER BY pk LIMIT n``), children are loaded with one query per child
table for the whole page, and filtered totals are cached per world generation, so a page costs the
same on page 1 and page 10 000.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hmac
import json
import re
import socket
import threading
import time
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import duckdb
import orjson
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLResolveInfo,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    execute,
    parse,
    validate,
)

from pipelines.goszakup_api import (
    API_DATETIME_FORMAT,
    ENTITIES,
    GRAPHQL_MAX_LIMIT,
    JOURNAL_FIELDS,
    REF_FIELDS,
    REF_TABLES,
    REST_DEFAULT_LIMIT,
    Child,
    Entity,
    Field,
    PageInfo,
)
from pipelines.settings import SANDBOX_TOKEN
from sandbox.faults import PRE_FAULTS, FaultPlan, FaultRule, RequestInfo
from sandbox.graphql_schema import (
    INT32_MAX,
    RowExecutionContext,
    build_schema,
    filter_fields,
    graphql_entities,
    never_awaitable,
)

REST_MAX_LIMIT = REST_DEFAULT_LIMIT

_ERRORS = {
    400: ("Bad Request", "BadRequestHttpException"),
    401: ("Unauthorized", "UnauthorizedHttpException"),
    404: ("Not Found", "NotFoundHttpException"),
    405: ("Method Not Allowed", "MethodNotAllowedHttpException"),
    429: ("Too Many Requests", "TooManyRequestsHttpException"),
    500: ("Internal Server Error", "ServerErrorHttpException"),
    501: ("Not Implemented", "ServerErrorHttpException"),
    503: ("Service Unavailable", "ServiceUnavailableHttpException"),
}


def error_body(status: int, message: str) -> dict[str, Any]:
    """The API's error shape (the real API is a Yii2 application)."""
    name, type_ = _ERRORS.get(status, ("Error", "HttpException"))
    return {"name": name, "message": message, "code": 0, "status": status, "type": f"yii\\web\\{type_}"}


class ApiError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


@dataclass
class PageCtx:
    """Where a page answer came from, so the post-processing faults can rewrite it."""

    kind: str  # "rest" | "graphql"
    entity: Entity | None
    after: int | None
    limit: int
    prefix: str = ""  # REST base path of next_page, e.g. "/v3/trd-buy"
    root: str = ""  # GraphQL root field
    extra_query: dict[str, str] = field(default_factory=dict)  # journal date range


@dataclass
class Reply:
    status: int
    payload: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    content_type: str = "application/json; charset=utf-8"
    declared_length: int | None = None
    close: bool = False
    page: PageCtx | None = None


#: orjson writes the same compact UTF-8 JSON as ``json.dumps(ensure_ascii=False, separators=(",", ":"),
#: default=str)`` about ten times faster (the answer's encoding was a tenth of a page's cost);
#: dates, dataclasses and non-str keys are passed to ``str`` as before.
_ORJSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def _dumps(payload: Any) -> bytes:
    try:
        return orjson.dumps(payload, default=str, option=_ORJSON_OPTIONS)
    except TypeError:  # e.g. an int beyond 64 bits: the standard library handles every case
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8")


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# --- date filters -----------------------------------------------------------------------------

_FILTER_FORMATS = ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S")


def normalise_bound(value: Any, *, upper: bool, what: str) -> str:
    """A filter bound as the column's ``YYYY-MM-DD HH:MM:SS``, keeping the range inclusive.

    Columns have whole seconds, so ``>= 10:00:00.5`` is ``>= 10:00:01`` and ``<= 10:00:00.5`` is
    ``<= 10:00:00``; a bare date as upper bound means the end of that day.
    """
    if not isinstance(value, str):
        raise GraphQLError(f"{what}: expected a date string, got {value!r}")
    text = value.strip()
    for fmt in _FILTER_FORMATS:
        try:
            t = dt.datetime.strptime(text, fmt)
            break
        except ValueError:
            continue
    else:
        try:
            t = dt.datetime.strptime(text, "%Y-%m-%d")
        except ValueError:
            raise GraphQLError(
                f"{what}: {value!r} is not 'YYYY-MM-DD HH:MM:SS' or 'YYYY-MM-DD HH:MM:SS.ffffff'"
            ) from None
        if upper:
            t = t.replace(hour=23, minute=59, second=59)
    if t.microsecond:
        t = t.replace(microsecond=0) + (dt.timedelta(0) if upper else dt.timedelta(seconds=1))
    return t.strftime(API_DATETIME_FORMAT)


# --- GraphQL selection helpers ------------------------------------------------------------------


def _selected(
    sets: list[SelectionSetNode | None], fragments: dict[str, FragmentDefinitionNode]
) -> dict[str, list[SelectionSetNode | None]]:
    """Field name -> its sub-selections, through fragments (what the query asks of a type)."""
    out: dict[str, list[SelectionSetNode | None]] = {}
    stack = [s for s in sets if s is not None]
    while stack:
        sset = stack.pop()
        for sel in sset.selections:
            if isinstance(sel, FieldNode):
                out.setdefault(sel.name.value, []).append(sel.selection_set)
            elif isinstance(sel, InlineFragmentNode):
                stack.append(sel.selection_set)
            elif isinstance(sel, FragmentSpreadNode) and sel.name.value in fragments:
                stack.append(fragments[sel.name.value].selection_set)
    return out


@dataclass
class _GqlContext:
    cur: duckdb.DuckDBPyConnection
    page_infos: list[tuple[str, PageInfo, int | None]] = field(default_factory=list)


# --- data access --------------------------------------------------------------------------------


class WorldData:
    """Read access to the world file: which tables/columns exist, keyset pages, cached totals."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        rows = con.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'main' ORDER BY table_name, ordinal_position"
        ).fetchall()
        self.columns: dict[str, list[str]] = {}
        for table, column in rows:
            self.columns.setdefault(table, []).append(column)
        self.generation = 0
        self._counts: dict[tuple, int] = {}
        self._lock = threading.Lock()

    def has(self, table: str, column: str | None = None) -> bool:
        cols = self.columns.get(table)
        return cols is not None and (column is None or column in cols)

    def bump(self) -> None:
        """The world changed: cached totals are stale."""
        with self._lock:
            self.generation += 1
            self._counts.clear()

    def count(self, cur: duckdb.DuckDBPyConnection, table: str, where: str, params: list) -> int:
        key = (table, where, tuple(params))
        with self._lock:
            gen = self.generation
            if key in self._counts:
                return self._counts[key]
        sql = f"SELECT count(*) FROM {_q(table)}" + (f" WHERE {where}" if where else "")
        n = int(cur.execute(sql, params).fetchone()[0])
        with self._lock:
            if gen == self.generation:
                if len(self._counts) > 4096:
                    self._counts.clear()
                self._counts[key] = n
        return n

    def select_list(
        self, table: str, fields: list[Field], *, camel: bool, keep_missing: bool = True
    ) -> list[str]:
        out = []
        for f in fields:
            alias = _q(f.camel if camel else f.name)
            if self.has(table, f.name):
                out.append(f"{_q(f.name)} AS {alias}")
            elif keep_missing:
                out.append(f"NULL AS {alias}")
        return out

    def key_range(self, cur: duckdb.DuckDBPyConnection, table: str, pk: str) -> tuple[int, int, int] | None:
        """(min, max, count) of a table's key, cached per world generation; None when empty."""
        key = ("__range__", table, pk)
        with self._lock:
            gen = self.generation
            if key in self._counts:
                return self._counts[key]
        lo, hi, n = cur.execute(f"SELECT min({_q(pk)}), max({_q(pk)}), count(*) FROM {_q(table)}").fetchone()
        value = None if n == 0 or lo is None else (int(lo), int(hi), int(n))
        with self._lock:
            if gen == self.generation:
                self._counts[key] = value
        return value

    def page(
        self,
        cur: duckdb.DuckDBPyConnection,
        table: str,
        pk: str,
        select: list[str],
        *,
        where: str = "",
        params: list | None = None,
        after: int | None = None,
        limit: int,
        window: bool = True,
    ) -> list[dict[str, Any]]:
        """Keyset page: rows with ``pk > after`` (and ``where``), ordered by ``pk``; ``__pk`` added.

        Why the window: ``pk > after ORDER BY pk LIMIT n`` alone makes DuckDB read every key above
        ``after`` (a top-n over the rest of the table). Bounding the key to ``(after, after + w]``
        lets it skip all other row groups by their min/max, so a page costs the same anywhere in a
        table of millions; ``w`` starts at twice the expected span of ``n`` keys and grows 8x while
        the window holds fewer than ``n`` matching rows (sparse filters), ending unbounded.
        """
        base_conds = [where] if where else []
        base_args = list(params or [])
        rng = self.key_range(cur, table, pk)
        if rng is None:
            return []
        lo, hi, n = rng
        start = lo - 1 if after is None else after
        width = int(limit * max(1.0, (hi - lo + 1) / n) * 2) + 16 if window else hi - lo + 1
        while True:
            conds, args = list(base_conds), list(base_args)
            conds.append(f"{_q(pk)} > ?")
            args.append(start)
            bounded = start + width < hi
            if bounded:
                conds.append(f"{_q(pk)} <= ?")
                args.append(start + width)
            sql = f"SELECT {', '.join([f'{_q(pk)} AS __pk', *select])} FROM {_q(table)}"
            sql += " WHERE " + " AND ".join(f"({c})" for c in conds)
            sql += f" ORDER BY {_q(pk)} LIMIT ?"
            args.append(limit)
            res = cur.execute(sql, args)
            rows = res.fetchall()
            if len(rows) >= limit or not bounded:
                names = [d[0] for d in res.description]
                return [dict(zip(names, row, strict=True)) for row in rows]
            width *= 8

    def wide_int_fields(self, cur: duckdb.DuckDBPyConnection) -> set[tuple[str, str]]:
        """Int fields whose values do not fit GraphQL's 32-bit Int in this world (served as Float)."""
        out: set[tuple[str, str]] = set()
        specs: list[tuple[str, list[Field]]] = []
        for ent in graphql_entities():
            specs.append((ent.name, list(ent.fields)))
            stack = list(ent.children)
            while stack:
                child = stack.pop()
                specs.append((child.table, list(child.fields)))
                stack.extend(child.children)
        for table, fields in specs:
            exprs, names = [], []
            for f in fields:
                if not self.has(table, f.name):
                    continue
                if f.type == "int":
                    exprs.append(f"max(abs({_q(f.name)}))")
                elif f.type == "int[]":
                    exprs.append(f"max(greatest(abs(list_max({_q(f.name)})), abs(list_min({_q(f.name)}))))")
                else:
                    continue
                names.append(f.name)
            if not exprs:
                continue
            row = cur.execute(f"SELECT {', '.join(exprs)} FROM {_q(table)}").fetchone()
            out.update((table, n) for n, v in zip(names, row, strict=True) if v is not None and v > INT32_MAX)
        return out


class TokenBucket:
    """Requests-per-second limiter; ``take`` returns 0 when allowed, else seconds until a token."""

    def __init__(self, rate: float) -> None:
        self.rate = float(rate)
        self.capacity = max(1.0, self.rate)
        self.tokens = self.capacity
        self.stamp = time.monotonic()
        self._lock = threading.Lock()

    def take(self) -> float:
        if self.rate <= 0:
            return 0.0
        with self._lock:
            now = time.monotonic()
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            if self.tokens >= 1.0:
                self.tokens -= 1.0
                return 0.0
            return (1.0 - self.tokens) / self.rate


class LoadMeter:
    """How busy the API was: time with at least one API request in flight, and how many at once.

    Why: a benchmark must tell "the pipeline keeps the API busy" from "the pipeline waits on
    itself". ``GET /_sandbox/stats`` reports ``uptime_s``, ``api_busy_s`` (time with >= 1 API
    request in flight), ``api_inflight_area_s`` (the integral of requests in flight over time: its
    difference over a run divided by the run's length is the mean concurrency),
    ``api_inflight_max``, and ``api_window_s``: from the first API request's start to the last
    one's end since ``POST /_sandbox/stats`` opened the window (the span a client spent talking to
    the API, without its own start-up and post-processing). Admin requests are not counted.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.started = self._last = time.monotonic()
        self.active = 0
        self.max = 0
        self.busy = 0.0
        self.area = 0.0
        self.window_first: float | None = None
        self.window_last: float | None = None

    def open_window(self) -> None:
        with self._lock:
            self.window_first = self.window_last = None

    def _advance(self, now: float) -> None:
        if self.active:
            self.busy += now - self._last
            self.area += (now - self._last) * self.active
        self._last = now

    def enter(self) -> None:
        with self._lock:
            now = time.monotonic()
            self._advance(now)
            self.active += 1
            self.max = max(self.max, self.active)
            if self.window_first is None:
                self.window_first = now

    def leave(self) -> None:
        with self._lock:
            now = time.monotonic()
            self._advance(now)
            self.active -= 1
            self.window_last = now

    def snapshot(self) -> dict[str, float]:
        with self._lock:
            now = time.monotonic()
            self._advance(now)
            return {
                "uptime_s": round(now - self.started, 3),
                "api_busy_s": round(self.busy, 3),
                "api_inflight_area_s": round(self.area, 3),
                "api_inflight_max": self.max,
                "api_window_s": round((self.window_last or now) - self.window_first, 3)
                if self.window_first is not None
                else 0.0,
            }


# --- HTTP plumbing ------------------------------------------------------------------------------


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    app: SandboxServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "goszakup-sandbox/1"
    timeout = 120  # idle keep-alive connections are dropped after this many seconds
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        self.server.app._track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.app._track(self.connection, add=False)

    def do_GET(self) -> None:
        self.server.app._handle(self)

    do_POST = do_GET

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests and the CLI print what matters
        pass


_REST_RE = re.compile(r"/v([23])/(.+)")


class SandboxServer:
    """The sandbox API over a world file, served from a background thread.

    ``start()`` opens the world read-write (the server owns the only connection), binds
    ``host:port`` (port 0 picks a free one) and returns; ``stop()`` closes everything.
    """

    def __init__(
        self,
        world_path: Path | str,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str = SANDBOX_TOKEN,
        rate_limit: float = 0.0,
        max_graphql_limit: int = GRAPHQL_MAX_LIMIT,
        faults: FaultPlan | list | dict | None = None,
    ) -> None:
        if rate_limit < 0:
            raise ValueError(f"rate_limit must be >= 0 requests/s, got {rate_limit}")
        if max_graphql_limit < 1:
            raise ValueError(f"max_graphql_limit must be >= 1, got {max_graphql_limit}")
        if not token:
            raise ValueError("token must not be empty")
        self.world_path = Path(world_path)
        self.host = host
        self.port = port
        self.token = token
        self.rate_limit = rate_limit
        self.max_graphql_limit = max_graphql_limit
        self.faults = FaultPlan.parse(faults)
        self._bucket = TokenBucket(rate_limit)
        self._meter = LoadMeter()
        self._stats: Counter[str] = Counter()
        self._faults_by_kind: Counter[str] = Counter()
        self._fault_log: deque[dict[str, Any]] = deque(maxlen=200)
        self._stats_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._stopping = threading.Event()
        self._conns: set[socket.socket] = set()
        self._active = 0
        self._idle = threading.Condition()
        self._doc_cache: dict[str, tuple[DocumentNode, list[GraphQLError]]] = {}
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.con: duckdb.DuckDBPyConnection | None = None
        self._rest_entities = {e.rest_path.split("/")[-1]: e for e in ENTITIES.values() if e.rest_path}
        self._root_entities = {e.graphql_root: e for e in graphql_entities()}

    # --- lifecycle ----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("the sandbox server is not started")
        return f"http://{self.host}:{self._httpd.server_address[1]}"

    def start(self) -> SandboxServer:
        if self._httpd is not None:
            return self
        if not self.world_path.is_file():
            raise FileNotFoundError(
                f"world file {self.world_path} does not exist (build it: python -m sandbox build)"
            )
        self.con = duckdb.connect(str(self.world_path))
        try:
            self.data = WorldData(self.con)
            missing = [e.name for e in ENTITIES.values() if not self.data.has(e.name)]
            if len(missing) == len(ENTITIES):
                raise ValueError(f"{self.world_path} holds none of the entity tables: not a sandbox world")
            cur = self.con.cursor()
            try:
                wide = self.data.wide_int_fields(cur)
            finally:
                cur.close()
            self.schema = build_schema(self._resolve_root, wide_int_fields=wide)
            self._stopping.clear()
            self._httpd = _HTTPServer((self.host, self.port), _Handler)
        except BaseException:
            self.con.close()
            self.con = None
            raise
        self._httpd.app = self
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="sandbox-http", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._stopping.set()
        httpd.shutdown()
        httpd.server_close()
        with self._idle:
            for conn in list(self._conns):
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
            self._idle.wait_for(lambda: self._active == 0, timeout=10)
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self.con is not None:
            self.con.close()
            self.con = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _track(self, conn: socket.socket, *, add: bool) -> None:
        with self._idle:
            if add:
                self._conns.add(conn)
            else:
                self._conns.discard(conn)

    # --- Python-side admin --------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        with self._stats_lock:
            out: dict[str, Any] = dict(self._stats)
            out["faults_by_kind"] = dict(self._faults_by_kind)
            out["fault_log"] = list(self._fault_log)
        out.setdefault("requests", 0)
        out.setdefault("http_429", 0)
        out.setdefault("rate_limited", 0)
        out.setdefault("faults_injected", 0)
        out.update(self._meter.snapshot())
        return out

    def set_faults(self, plan: FaultPlan | list | dict | None) -> None:
        self.faults = FaultPlan.parse(plan)

    def advance(self, epochs: int = 1) -> dict[str, Any]:
        """Run ``world.advance_world`` on the server's connection (serialised with other writes)."""
        if epochs < 1:
            raise ValueError(f"epochs must be >= 1, got {epochs}")
        try:
            from sandbox.world import advance_world
        except ImportError as exc:
            raise ApiError(501, f"world.advance_world is not available: {exc}") from None
        assert self.con is not None
        with self._write_lock:
            cur = self.con.cursor()
            try:
                summary = advance_world(cur, epochs=epochs)
            finally:
                cur.close()
                self.data.bump()
        return summary

    def counts(self) -> dict[str, int]:
        assert self.con is not None
        tables = [t for e in ENTITIES.values() for t in e.tables()] + list(REF_TABLES) + ["journal"]
        cur = self.con.cursor()
        try:
            return {
                t: int(cur.execute(f"SELECT count(*) FROM {_q(t)}").fetchone()[0])
                for t in tables
                if self.data.has(t)
            }
        finally:
            cur.close()

    def ground_truth(self) -> list[dict[str, Any]]:
        assert self.con is not None
        cur = self.con.cursor()
        try:
            try:
                from sandbox.world import ground_truth
            except ImportError:
                ground_truth = None
            if ground_truth is not None:
                return ground_truth(cur)
            if not self.data.has("ground_truth"):
                raise ApiError(404, "this world has no ground_truth table")
            res = cur.execute("SELECT * FROM ground_truth")
            names = [d[0] for d in res.description]
            return [dict(zip(names, row, strict=True)) for row in res.fetchall()]
        finally:
            cur.close()

    # --- request handling ---------------------------------------------------------------------

    def _count(self, key: str, n: int = 1) -> None:
        with self._stats_lock:
            self._stats[key] += n

    def _authorised(self, h: _Handler) -> bool:
        got = h.headers.get("Authorization", "")
        return hmac.compare_digest(got.encode("utf-8", "replace"), f"Bearer {self.token}".encode())

    def _handle(self, h: _Handler) -> None:
        with self._idle:
            self._active += 1
        h._sandbox_responded = False  # one handler serves every request of a keep-alive connection
        metered = not h.path.startswith("/_sandbox/")
        if metered:
            self._meter.enter()
        try:
            self._handle_inner(h)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            h.close_connection = True
        except Exception as exc:  # a bug (ours or the world's) still gets an answer in the API's shape
            self._count("internal_errors")
            if getattr(h, "_sandbox_responded", False):
                h.close_connection = True
            else:
                reply = self._error(500, f"sandbox internal error: {type(exc).__name__}: {exc}")
                reply.close = True
                with contextlib.suppress(OSError):
                    self._send(h, reply)
        finally:
            if metered:
                self._meter.leave()
            with self._idle:
                self._active -= 1
                self._idle.notify_all()

    def _handle_inner(self, h: _Handler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length > 0 else b""
        split = urlsplit(h.path)
        path = split.path.rstrip("/") or "/"
        query = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        method = h.command

        if path == "/_sandbox/health":
            self._send(h, Reply(200, {"status": "ok"}))
            return
        if not self._authorised(h):
            self._count("http_401")
            self._send(h, self._error(401, "Your request was made with invalid credentials."))
            return
        if path.startswith("/_sandbox/"):
            self._count("admin_requests")
            self._send(h, self._admin(method, path, query, body))
            return

        self._count("requests")
        wait = self._bucket.take()
        if wait > 0:
            self._count("rate_limited")
            retry = max(1, int(-(-wait // 1)))
            self._send(h, self._error(429, "Rate limit exceeded.", {"Retry-After": str(retry)}))
            return

        doc: DocumentNode | None = None
        entities: frozenset[str] = frozenset()
        if path == "/v3/graphql" and method == "POST":
            doc, entities = self._graphql_entities(body)
        else:
            m = _REST_RE.fullmatch(path)
            if m and m.group(2).split("/")[0] in self._rest_entities:
                entities = frozenset({self._rest_entities[m.group(2).split("/")[0]].name})
        req = RequestInfo(method, path, entities)
        plan = self.faults  # one plan for the whole request, even if POST /_sandbox/faults replaces it
        rule = plan.select(req)

        if rule is not None and rule.kind in PRE_FAULTS:
            self._injected(plan, rule, path)
            if rule.kind == "timeout":
                self._stopping.wait(rule.seconds)
                h.close_connection = True  # hang up without an answer
                return
            status = int(rule.kind)
            headers = {"Retry-After": str(rule.retry_after)} if status == 429 else {}
            self._send(h, self._error(status, f"Sandbox fault: {status}.", headers))
            return

        if rule is not None and rule.kind == "record_changes":
            change = self._record_change(rule, entities, query, body, doc)
            if change is None:
                plan.cannot_apply(rule)
                rule = None
            else:
                self._injected(plan, rule, path, change)

        try:
            reply = self._api(method, path, query, body, doc)
        except ApiError as exc:
            reply = self._error(exc.status, exc.message, exc.headers)

        if rule is not None and rule.kind not in ("record_changes",):
            if self._post_fault(rule, reply, plan):
                self._injected(plan, rule, path)
            else:
                plan.cannot_apply(rule)
                rule = None
        if reply.body is None:
            reply.body = _dumps(reply.payload)
        if rule is None and reply.status == 200:
            plan.remember(req, reply.body)
        self._send(h, reply)

    def _injected(self, plan: FaultPlan, rule: FaultRule, path: str, detail: dict | None = None) -> None:
        plan.count_injected(rule)
        with self._stats_lock:
            self._stats["faults_injected"] += 1
            self._faults_by_kind[rule.kind] += 1
            self._fault_log.append({"kind": rule.kind, "path": path, **(detail or {})})

    def _error(self, status: int, message: str, headers: dict[str, str] | None = None) -> Reply:
        return Reply(status, error_body(status, message), headers=dict(headers or {}))

    def _send(self, h: _Handler, reply: Reply) -> None:
        body = reply.body if reply.body is not None else _dumps(reply.payload)
        self._count(f"http_{reply.status}")
        h._sandbox_responded = True
        h.send_response(reply.status)
        h.send_header("Content-Type", reply.content_type)
        h.send_header(
            "Content-Length", str(reply.declared_length if reply.declared_length is not None else len(body))
        )
        for key, value in reply.headers.items():
            h.send_header(key, value)
        if reply.close:
            h.send_header("Connection", "close")
            h.close_connection = True
        h.end_headers()
        h.wfile.write(body)
        h.wfile.flush()

    # --- faults that rewrite an answer --------------------------------------------------------

    def _post_fault(self, rule: FaultRule, reply: Reply, plan: FaultPlan) -> bool:
        kind = rule.kind
        if kind == "repeat_page":
            previous = plan.previous(rule)
            if previous is None:
                return False
            reply.status, reply.body = 200, previous
            return True
        if kind == "truncated":
            body = _dumps(reply.payload) if reply.body is None else reply.body
            cut = body[: max(1, len(body) // 2)]
            reply.body = cut
            reply.declared_length = len(body) if rule.declare_full_length else len(cut)
            reply.close = True
            return True
        if kind == "invalid_json":
            reply.status = 200
            reply.body = (
                b"<html><body><h1>502 Bad Gateway</h1>upstream sent an invalid response</body></html>"
            )
            return True
        page = reply.page
        if page is None or reply.status != 200:
            return False
        items = self._page_items(reply)
        if kind == "empty_page":
            items.clear()
            if page.kind == "rest":
                reply.payload["next_page"] = self._next_link(page, page.after)
            else:
                info = reply.payload.setdefault("extensions", {}).setdefault("pageInfo", {})
                info["hasNextPage"] = True
                info["lastId"] = page.after
            return True
        if kind == "type_change":
            if not items or page.entity is None:
                return False
            ent = page.entity
            name = rule.field or (
                "total_sum"
                if "total_sum" in ent.field_names
                else next((f.name for f in ent.fields if f.type == "float"), ent.field_names[-1])
            )
            key = name if page.kind == "rest" else next((f.camel for f in ent.fields if f.name == name), name)
            items[0][key] = rule.value
            return True
        return False

    @staticmethod
    def _page_items(reply: Reply) -> list:
        page = reply.page
        assert page is not None
        if page.kind == "rest":
            return reply.payload["items"]
        data = reply.payload.get("data") or {}
        items = data.get(page.root)
        if items is None:
            items = data[page.root] = []
        return items

    def _record_change(
        self,
        rule: FaultRule,
        entities: frozenset[str],
        query: dict[str, str],
        body: bytes,
        doc: DocumentNode | None,
    ) -> dict[str, Any] | None:
        """Bump one already-served record's cursor field (and journal it) before this page is read."""
        names = [rule.entity] if rule.entity else sorted(entities)
        ent = next(
            (ENTITIES[n] for n in names if ENTITIES[n].cursor and self.data.has(ENTITIES[n].name)), None
        )
        if ent is None or self.con is None:
            return None
        after = _int_or_none(query.get("search_after"))
        if after is None and doc is not None:
            after = _graphql_after(doc, body)
        table, pk, col = _q(ent.name), _q(ent.primary_key), _q(ent.cursor)
        with self._write_lock:
            cur = self.con.cursor()
            try:
                row = None
                if after is not None:
                    row = cur.execute(
                        f"SELECT {pk} FROM {table} WHERE {pk} <= ? ORDER BY {pk} DESC LIMIT 1", [after]
                    ).fetchone()
                if row is None:
                    row = cur.execute(f"SELECT min({pk}) FROM {table}").fetchone()
                if row is None or row[0] is None:
                    return None
                record_id = row[0]
                top = cur.execute(f"SELECT max({col}) FROM {table}").fetchone()[0]
                try:
                    new = dt.datetime.strptime(str(top), API_DATETIME_FORMAT) + dt.timedelta(seconds=1)
                except ValueError:
                    new = dt.datetime.now().replace(microsecond=0)
                value = new.strftime(API_DATETIME_FORMAT)
                cur.execute(f"UPDATE {table} SET {col} = ? WHERE {pk} = ?", [value, record_id])
                if all(self.data.has("journal", c) for c in ["seq", *(f.name for f in JOURNAL_FIELDS)]):
                    cur.execute(
                        "INSERT INTO journal (seq, action, object_id, date_action, service_name, service_title, url) "
                        "SELECT coalesce(max(seq), 0) + 1, 'U', ?, ?, ?, ?, ? FROM journal",
                        [
                            record_id,
                            value,
                            ent.journal_names[0] if ent.journal_names else ent.name,
                            ent.description,
                            f"{ent.rest_path}/{record_id}" if ent.rest_path else "",
                        ],
                    )
            finally:
                cur.close()
        self.data.bump()
        return {"entity": ent.name, "id": record_id, "field": ent.cursor, "value": value}

    # --- admin ----------------------------------------------------------------------------------

    def _admin(self, method: str, path: str, query: dict[str, str], body: bytes) -> Reply:
        action = path.removeprefix("/_sandbox/")
        try:
            if action == "advance":
                if method != "POST":
                    return self._error(405, "use POST /_sandbox/advance?epochs=N")
                epochs = _int_or_none(query.get("epochs", "1"))
                if epochs is None or epochs < 1:
                    return self._error(400, f"epochs must be an integer >= 1, got {query.get('epochs')!r}")
                return Reply(200, self.advance(epochs))
            if action == "counts":
                return Reply(200, self.counts())
            if action == "ground-truth":
                return Reply(200, self.ground_truth())
            if action == "stats":
                if method == "POST":  # opens a new measuring window (api_window_s)
                    self._meter.open_window()
                return Reply(200, self.stats())
            if action == "faults":
                if method == "POST":
                    try:
                        self.set_faults(json.loads(body or b"[]"))
                    except (ValueError, TypeError) as exc:
                        return self._error(400, f"bad fault plan: {exc}")
                return Reply(200, self.faults.as_json())
        except ApiError as exc:
            return self._error(exc.status, exc.message)
        return self._error(404, f"unknown admin endpoint {path}")

    # --- API --------------------------------------------------------------------------------

    def _api(
        self, method: str, path: str, query: dict[str, str], body: bytes, doc: DocumentNode | None
    ) -> Reply:
        assert self.con is not None
        if path == "/v3/graphql":
            if method != "POST":
                raise ApiError(405, "GraphQL takes POST with a JSON body {query, variables}")
            cur = self.con.cursor()
            try:
                return self._graphql(cur, body, doc)
            finally:
                cur.close()
        m = _REST_RE.fullmatch(path)
        if not m:
            raise ApiError(404, f"Page not found: {path}")
        if method != "GET":
            raise ApiError(405, f"{path} takes GET")
        version, rest = m.groups()
        cur = self.con.cursor()
        try:
            if rest == "journal":
                if version != "2":
                    raise ApiError(404, "the journal is served under /v2/journal")
                return self._journal(cur, query)
            if rest == "refs":
                present = [r for r in REF_TABLES if self.data.has(r)]
                items = [{"name": r, "url": f"/v{version}/refs/{r}"} for r in present]
                return Reply(200, {"total": len(items), "limit": len(items), "next_page": "", "items": items})
            if rest.startswith("refs/"):
                name, _, ident = rest.removeprefix("refs/").partition("/")
                if name not in REF_TABLES or not self.data.has(name):
                    raise ApiError(404, f"unknown reference table {name!r}")
                fields = [f for f in REF_FIELDS if self.data.has(name, f.name)]
                return self._rest(cur, name, "id", fields, f"/v{version}/refs/{name}", query, ident, None)
            seg, _, ident = rest.partition("/")
            ent = self._rest_entities.get(seg)
            if ent is None:
                raise ApiError(404, f"Page not found: {path}")
            if not self.data.has(ent.name):
                raise ApiError(404, f"this world has no {ent.name} table")
            return self._rest(
                cur, ent.name, ent.primary_key, list(ent.fields), f"/v{version}/{seg}", query, ident, ent
            )
        finally:
            cur.close()

    def _limit(self, query: dict[str, str]) -> int:
        raw = query.get("limit")
        if raw is None or raw == "":
            return REST_DEFAULT_LIMIT
        value = _int_or_none(raw)
        if value is None or value < 1:
            raise ApiError(400, f"limit must be a positive integer, got {raw!r}")
        return min(value, REST_MAX_LIMIT)

    @staticmethod
    def _after(query: dict[str, str]) -> int | None:
        raw = query.get("search_after")
        if raw is None or raw == "":
            return None
        value = _int_or_none(raw)
        if value is None:
            raise ApiError(400, f"search_after must be an integer, got {raw!r}")
        return value

    @staticmethod
    def _next_link(page: PageCtx, after: int | None) -> str:
        params = dict(page.extra_query)
        params.update({"page": "next", "limit": str(page.limit)})
        if after is not None:
            params["search_after"] = str(after)
        return f"{page.prefix}?{urlencode(params)}"

    def _rest(
        self,
        cur: duckdb.DuckDBPyConnection,
        table: str,
        pk: str,
        fields: list[Field],
        prefix: str,
        query: dict[str, str],
        ident: str,
        ent: Entity | None,
    ) -> Reply:
        select = self.data.select_list(table, fields, camel=False, keep_missing=ent is not None)
        if ident:
            key = _int_or_none(ident)
            rows = (
                []
                if key is None
                else self.data.page(
                    cur, table, pk, select, where=f"{_q(pk)} = ?", params=[key], limit=1, window=False
                )
            )
            if not rows:
                raise ApiError(404, f"{table} {ident!r} not found")
            rows[0].pop("__pk")
            return Reply(200, rows[0])
        limit, after = self._limit(query), self._after(query)
        rows = self.data.page(cur, table, pk, select, after=after, limit=limit + 1)
        page = PageCtx("rest", ent, after, limit, prefix=prefix)
        more = len(rows) > limit
        rows = rows[:limit]
        next_page = self._next_link(page, rows[-1]["__pk"]) if more else ""
        for row in rows:
            del row["__pk"]
        total = self.data.count(cur, table, "", [])
        return Reply(200, {"total": total, "limit": limit, "next_page": next_page, "items": rows}, page=page)

    def _journal(self, cur: duckdb.DuckDBPyConnection, query: dict[str, str]) -> Reply:
        if not self.data.has("journal"):
            raise ApiError(404, "this world has no journal")
        bounds = []
        for key in ("date_from", "date_to"):
            raw = query.get(key)
            if not raw:
                raise ApiError(400, f"{key} is required (YYYY-MM-DD)")
            try:
                bounds.append(dt.date.fromisoformat(raw))
            except ValueError:
                raise ApiError(400, f"{key} must be a date YYYY-MM-DD, got {raw!r}") from None
        date_from, date_to = bounds
        if date_from > date_to:
            raise ApiError(400, f"date_from {date_from} is after date_to {date_to}")
        limit, after = self._limit(query), self._after(query)
        where = "date_action >= ? AND date_action < ?"
        params = [f"{date_from} 00:00:00", f"{date_to + dt.timedelta(days=1)} 00:00:00"]
        select = self.data.select_list("journal", list(JOURNAL_FIELDS), camel=False)
        rows = self.data.page(
            cur, "journal", "seq", select, where=where, params=params, after=after, limit=limit + 1
        )
        page = PageCtx(
            "rest", None, after, limit, prefix="/v2/journal",
            extra_query={"date_from": str(date_from), "date_to": str(date_to)},
        )  # fmt: skip
        more = len(rows) > limit
        rows = rows[:limit]
        next_page = self._next_link(page, rows[-1]["__pk"]) if more else ""
        for row in rows:
            del row["__pk"]
        total = self.data.count(cur, "journal", where, params)
        return Reply(200, {"total": total, "limit": limit, "next_page": next_page, "items": rows}, page=page)

    # --- GraphQL --------------------------------------------------------------------------------

    def _parsed(self, query: str) -> tuple[DocumentNode | None, list[GraphQLError]]:
        cached = self._doc_cache.get(query)
        if cached is not None:
            return cached
        try:
            doc = parse(query)
        except GraphQLError as exc:
            return None, [exc]
        errors = validate(self.schema, doc)
        if len(self._doc_cache) > 256:
            self._doc_cache.clear()
        self._doc_cache[query] = (doc, errors)
        return doc, errors

    def _graphql_entities(self, body: bytes) -> tuple[DocumentNode | None, frozenset[str]]:
        try:
            query = json.loads(body).get("query")
        except (ValueError, AttributeError):
            return None, frozenset()
        if not isinstance(query, str):
            return None, frozenset()
        doc, _ = self._parsed(query)
        if doc is None:
            return None, frozenset()
        names = set()
        for definition in doc.definitions:
            if isinstance(definition, OperationDefinitionNode):
                for sel in definition.selection_set.selections:
                    if isinstance(sel, FieldNode) and sel.name.value in self._root_entities:
                        names.add(self._root_entities[sel.name.value].name)
        return doc, frozenset(names)

    def _graphql(self, cur: duckdb.DuckDBPyConnection, body: bytes, _doc: DocumentNode | None) -> Reply:
        try:
            payload = json.loads(body)
        except ValueError:
            raise ApiError(400, "the body must be JSON {query, variables}") from None
        if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
            raise ApiError(400, "the body must be JSON {query, variables} with query a string")
        variables = payload.get("variables") or {}
        if not isinstance(variables, dict):
            raise ApiError(400, "variables must be a JSON object")
        doc, errors = self._parsed(payload["query"])
        if doc is None or errors:
            return Reply(400, {"errors": [e.formatted for e in errors]})
        ctx = _GqlContext(cur)
        result = execute(
            self.schema,
            doc,
            variable_values=variables,
            context_value=ctx,
            operation_name=payload.get("operationName"),
            execution_context_class=RowExecutionContext,
            is_awaitable=never_awaitable,
        )
        out: dict[str, Any] = {"data": result.data}
        if result.errors:
            out["errors"] = [e.formatted for e in result.errors]
        page = None
        if ctx.page_infos:
            root, info, after = ctx.page_infos[0]
            out["extensions"] = {"pageInfo": info.as_json()}
            page = PageCtx("graphql", self._root_entities[root], after, info.limit_page, root=root)
        return Reply(200, out, page=page)

    def _resolve_root(
        self, ent: Entity, info: GraphQLResolveInfo, flt: dict | None, limit: int | None, after: int | None
    ) -> list[dict[str, Any]]:
        ctx: _GqlContext = info.context
        if limit is None:
            limit = self.max_graphql_limit
        if limit < 1 or limit > self.max_graphql_limit:
            raise GraphQLError(f"limit must be between 1 and {self.max_graphql_limit}, got {limit}")
        if not self.data.has(ent.name):
            raise GraphQLError(f"this world has no {ent.name} table")
        where, params = self._gql_filter(ent, flt)
        sel = _selected([n.selection_set for n in info.field_nodes], info.fragments)
        select = self.data.select_list(ent.name, [f for f in ent.fields if f.camel in sel], camel=True)
        rows = self.data.page(
            ctx.cur,
            ent.name,
            ent.primary_key,
            select,
            where=where,
            params=params,
            after=after,
            limit=limit + 1,
            window=not (flt or {}).get("id"),  # an id lookup is selective already
        )
        more = len(rows) > limit
        rows = rows[:limit]
        total = self.data.count(ctx.cur, ent.name, where, params)
        self._attach(ctx.cur, rows, ent.children, sel, info.fragments)
        ctx.page_infos.append(
            (ent.graphql_root, PageInfo(limit, total, more, rows[-1]["__pk"] if rows else None), after)
        )
        return rows

    def _gql_filter(self, ent: Entity, flt: dict | None) -> tuple[str, list]:
        conds: list[str] = []
        params: list = []
        by_filter = filter_fields(ent)
        for key, value in (flt or {}).items():
            if value is None:
                continue
            if key == "id":
                if not value:
                    conds.append("FALSE")
                    continue
                ids = [v for v in value if v is not None]
                conds.append(f"{_q(ent.primary_key)} IN ({', '.join('?' * len(ids))})" if ids else "FALSE")
                params.extend(ids)
                continue
            field_ = by_filter[key]
            what = f"filter {key} of {ent.graphql_root}"
            if not 1 <= len(value) <= 2:
                raise GraphQLError(f"{what}: expected [from] or [from, to], got {len(value)} values")
            lo = value[0]
            hi = value[1] if len(value) == 2 else None
            if lo is not None:
                conds.append(f"{_q(field_.name)} >= ?")
                params.append(normalise_bound(lo, upper=False, what=what))
            if hi is not None:
                conds.append(f"{_q(field_.name)} <= ?")
                params.append(normalise_bound(hi, upper=True, what=what))
        return " AND ".join(conds), params

    def _attach(
        self,
        cur: duckdb.DuckDBPyConnection,
        parents: list[dict[str, Any]],
        children: tuple[Child, ...],
        sel: dict[str, list[SelectionSetNode | None]],
        fragments: dict[str, FragmentDefinitionNode],
    ) -> None:
        """Load each requested child table for the whole page in one query and nest the rows."""
        for child in children:
            if child.graphql_name not in sel:
                continue
            if not parents or not self.data.has(child.table):
                for p in parents:
                    p[child.graphql_name] = []
                continue
            csel = _selected(sel[child.graphql_name], fragments)
            ids = [p["__pk"] for p in parents]
            select = self.data.select_list(
                child.table, [f for f in child.fields if f.camel in csel], camel=True
            )
            key = _q(child.parent_key)
            sql = (
                f"SELECT {_q(child.primary_key)} AS __pk, {key} AS __parent"
                + "".join(", " + s for s in select)
                # BETWEEN lets DuckDB skip row groups by min/max; one list parameter instead of an
                # IN list of 200 placeholders (binding those cost more than the query)
                + f" FROM {_q(child.table)} WHERE {key} BETWEEN ? AND ? AND list_contains(?, {key})"
                + f" ORDER BY {key}, {_q(child.primary_key)}"
            )
            res = cur.execute(sql, [min(ids), max(ids), ids])
            names = [d[0] for d in res.description]
            rows = [dict(zip(names, row, strict=True)) for row in res.fetchall()]
            self._attach(cur, rows, child.children, csel, fragments)
            groups: dict[Any, list] = {}
            for row in rows:
                groups.setdefault(row["__parent"], []).append(row)
            for p in parents:
                p[child.graphql_name] = groups.get(p["__pk"], [])


def _graphql_after(doc: DocumentNode, body: bytes) -> int | None:
    """The ``after`` argument of the first root field that has one (literal or variable)."""
    try:
        variables = json.loads(body).get("variables") or {}
    except (ValueError, AttributeError):
        variables = {}
    for definition in doc.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        for sel in definition.selection_set.selections:
            for arg in getattr(sel, "arguments", None) or ():
                if arg.name.value != "after":
                    continue
                if isinstance(arg.value, VariableNode):
                    return _int_or_none(variables.get(arg.value.name.value))
                if isinstance(arg.value, IntValueNode):
                    return int(arg.value.value)
    return None


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


@contextlib.contextmanager
def run_sandbox(
    world_path: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    token: str = SANDBOX_TOKEN,
    rate_limit: float = 0.0,
    max_graphql_limit: int = GRAPHQL_MAX_LIMIT,
    faults: FaultPlan | list | dict | None = None,
) -> Iterator[SandboxServer]:
    """Serve ``world_path`` from a background thread for the duration of the ``with`` block."""
    server = SandboxServer(
        world_path,
        host=host,
        port=port,
        token=token,
        rate_limit=rate_limit,
        max_graphql_limit=max_graphql_limit,
        faults=faults,
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


__all__ = [
    "ApiError",
    "LoadMeter",
    "SandboxServer",
    "TokenBucket",
    "WorldData",
    "error_body",
    "normalise_bound",
    "run_sandbox",
]
