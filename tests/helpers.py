"""Helpers the connector tests share: sandbox admin calls and warehouse comparisons."""

from __future__ import annotations

from pathlib import Path

import duckdb
import requests

from pipelines.goszakup_api import ENTITIES, REF_TABLES, all_raw_tables


def admin(server, method: str, path: str, **kwargs):
    response = requests.request(
        method, server.url + path, headers={"Authorization": f"Bearer {server.token}"}, timeout=60, **kwargs
    )
    response.raise_for_status()
    return response.json()


def raw_counts(db: Path) -> dict[str, int]:
    with duckdb.connect(str(db), read_only=True) as con:
        tables = [
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema = 'raw'"
            ).fetchall()
        ]
        return {t: con.execute(f'select count(*) from raw."{t}"').fetchone()[0] for t in tables}


def duplicate_keys(db: Path) -> dict[str, int]:
    """Rows sharing a primary key, per entity and child table (must all be zero)."""
    keys = {e.name: e.primary_key for e in ENTITIES.values()}
    for e in ENTITIES.values():
        stack = list(e.children)
        while stack:
            c = stack.pop()
            keys[c.table] = c.primary_key
            stack.extend(c.children)
    out = {}
    with duckdb.connect(str(db), read_only=True) as con:
        existing = {
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema = 'raw'"
            ).fetchall()
        }
        for table, pk in keys.items():
            if table not in existing:
                continue
            out[table] = con.execute(
                f'select count(*) - count(distinct "{pk}") from raw."{table}"'
            ).fetchone()[0]
    return out


def assert_matches_sandbox(server, db: Path, tables: list[str] | None = None) -> dict[str, int]:
    """Every raw table (or ``tables``) holds exactly the rows the sandbox serves; returns the counts."""
    served = admin(server, "GET", "/_sandbox/counts")
    held = raw_counts(db)
    for table in tables or [*all_raw_tables(), *REF_TABLES]:
        assert held.get(table, 0) == served[table], (
            f"{table}: warehouse {held.get(table)} vs sandbox {served[table]}"
        )
    return {t: held.get(t, 0) for t in tables or [*all_raw_tables(), *REF_TABLES]}
