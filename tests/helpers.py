"""Helpers the tests share: isolated settings, dbt runs, sandbox admin calls, warehouse comparisons.

Test modules and ``conftest.py`` import helpers from here only, never from each other.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import requests

from pipelines.goszakup_api import ENTITIES, REF_TABLES, all_raw_tables
from pipelines.settings import Settings

REPO = Path(__file__).resolve().parent.parent
DBT_PROJECT = REPO / "dbt_project"
DBT = Path(sys.executable).with_name("dbt")
#: the ocid prefix the tests' dbt builds use (not the default, so a fallback to it shows)
TEST_PREFIX = "ocds-test00-goszakup"


def settings_for(data_dir: Path, **overrides) -> Settings:
    """Settings isolated in ``data_dir`` (no environment leaks into tests)."""
    return Settings(_env_file=None, data_dir=data_dir, **overrides)


def run_dbt(db: Path, work: Path, *args: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "GOSZAKUP_DUCKDB_PATH": str(db),
        "GOSZAKUP_OCID_PREFIX": TEST_PREFIX,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    cmd = [
        str(DBT),
        *args,
        "--project-dir",
        str(DBT_PROJECT),
        "--profiles-dir",
        str(DBT_PROJECT),
        "--target-path",
        str(work / "target"),
        "--log-path",
        str(work / "logs"),
    ]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)


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
