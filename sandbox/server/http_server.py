"""The HTTP plumbing and the :class:`SandboxServer` itself (start, stop, auth, dispatch, stats)."""

from __future__ import annotations

import contextlib
import hmac
import socket
import threading
from collections import Counter, deque
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import duckdb
from graphql import (
    DocumentNode,
    GraphQLError,
)

from pipelines.goszakup_api import (
    ENTITIES,
    GRAPHQL_MAX_LIMIT,
    REF_TABLES,
)
from pipelines.settings import SANDBOX_TOKEN
from sandbox.faults import PRE_FAULTS, FaultPlan, FaultRule, RequestInfo
from sandbox.graphql_schema import (
    build_schema,
    graphql_entities,
)
from sandbox.server.faults_wiring import FaultsMixin
from sandbox.server.graphql import GraphqlMixin
from sandbox.server.load import LoadMeter, TokenBucket
from sandbox.server.replies import _REST_RE, ApiError, Reply, _dumps, _q, error_body
from sandbox.server.rest import RestMixin
from sandbox.server.world_data import WorldData

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


class SandboxServer(FaultsMixin, RestMixin, GraphqlMixin):
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
