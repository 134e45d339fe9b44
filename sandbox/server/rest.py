"""The REST routes (``/v2``, ``/v3``), the journal and the admin endpoints of the sandbox server."""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import urlencode

import duckdb
from graphql import (
    DocumentNode,
)

from pipelines.goszakup_api import (
    JOURNAL_FIELDS,
    REF_FIELDS,
    REF_TABLES,
    REST_DEFAULT_LIMIT,
    Entity,
    Field,
)
from sandbox.server.graphql import _int_or_none
from sandbox.server.replies import _REST_RE, REST_MAX_LIMIT, ApiError, PageCtx, Reply, _q


class RestMixin:
    """The REST and admin routes of :class:`SandboxServer`: pages, single objects, journal."""

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
