"""Read access to the world file: tables and columns present, keyset pages, cached totals."""

from __future__ import annotations

import threading
from typing import Any

import duckdb

from pipelines.goszakup_api import (
    Field,
)
from sandbox.graphql_schema import (
    INT32_MAX,
    graphql_entities,
)
from sandbox.server.replies import _q


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
