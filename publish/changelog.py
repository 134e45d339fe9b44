"""What changed since the previous version: ``changes.json`` per version, ``CHANGELOG.md`` at the root.

Why: users who re-download want to know whether their analysis is affected, and SemVer says how
much: MAJOR when a table or field was removed, renamed or retyped (DuckDB type), MINOR for new
tables, fields or changed rows, PATCH when only the metadata (descriptions, keys) changed.

Row changes are counted in DuckDB straight from the two versions' Parquet files (streaming, never in
Python memory): with a primary key, a FULL OUTER JOIN on the key and a row hash over the columns the
two versions share gives added / changed / removed; without a key, multiset differences of row hashes
give added / removed (``changed`` is then 0 by definition).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb

from pipelines.sql import quote_identifier as quote

LEVELS = ("patch", "minor", "major")


def schema_changes(prev_tables: dict[str, Any], new_tables: dict[str, Any]) -> dict[str, list[str]]:
    """Compare the manifests' ``tables`` blocks: breaking (major) and additive (minor) changes."""
    breaking: list[str] = []
    additive: list[str] = []
    metadata: list[str] = []
    for name, prev in prev_tables.items():
        if name not in new_tables:
            breaking.append(f"table {name} removed")
            continue
        new_cols = {c["name"]: c for c in new_tables[name]["columns"]}
        for col in prev["columns"]:
            new = new_cols.get(col["name"])
            if new is None:
                breaking.append(f"{name}.{col['name']} removed")
            elif new["duckdb_type"] != col["duckdb_type"]:
                breaking.append(f"{name}.{col['name']} retyped {col['duckdb_type']} -> {new['duckdb_type']}")
        prev_names = {c["name"] for c in prev["columns"]}
        for col in new_tables[name]["columns"]:
            if col["name"] not in prev_names:
                additive.append(f"{name}.{col['name']} added ({col['duckdb_type']})")
        if prev.get("primary_key") != new_tables[name].get("primary_key"):
            metadata.append(
                f"{name} primary key {prev.get('primary_key')} -> {new_tables[name].get('primary_key')}"
            )
    for name in new_tables:
        if name not in prev_tables:
            additive.append(f"table {name} added")
    return {"breaking": breaking, "additive": additive, "metadata": metadata}


def _row_hash(alias: str, columns: list[str]) -> str:
    inner = ", ".join(f"{quote(c)} := {alias}.{quote(c)}" for c in columns)
    return f"md5(to_json(struct_pack({inner})))"


def row_changes(
    prev_parquet: Path, new_parquet: Path, columns: list[str], key: list[str] | None
) -> dict[str, int]:
    """Rows added, changed and removed from ``prev_parquet`` to ``new_parquet``.

    ``columns`` are the columns both files share (the row hash covers only those, so an added column
    alone does not mark every row changed).
    """
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone='UTC'")
        new_src = f"read_parquet('{_sql_str(new_parquet)}')"
        old_src = f"read_parquet('{_sql_str(prev_parquet)}')"
        if key:
            keys = ", ".join(quote(k) for k in key)
            on = " AND ".join(f"n.{quote(k)} IS NOT DISTINCT FROM o.{quote(k)}" for k in key)
            sql = f"""
                WITH n AS (SELECT {keys}, {_row_hash("t", columns)} AS h, 1 AS present FROM {new_src} t),
                     o AS (SELECT {keys}, {_row_hash("t", columns)} AS h, 1 AS present FROM {old_src} t)
                SELECT count(*) FILTER (WHERE o.present IS NULL),
                       count(*) FILTER (WHERE o.present IS NOT NULL AND n.present IS NOT NULL AND n.h <> o.h),
                       count(*) FILTER (WHERE n.present IS NULL)
                FROM n FULL OUTER JOIN o ON {on}
            """
            added, changed, removed = con.execute(sql).fetchone()
        else:
            sql = f"""
                WITH n AS (SELECT {_row_hash("t", columns)} AS h FROM {new_src} t),
                     o AS (SELECT {_row_hash("t", columns)} AS h FROM {old_src} t)
                SELECT (SELECT count(*) FROM (SELECT h FROM n EXCEPT ALL SELECT h FROM o)),
                       (SELECT count(*) FROM (SELECT h FROM o EXCEPT ALL SELECT h FROM n))
            """
            added, removed = con.execute(sql).fetchone()
            changed = 0
        return {"added": int(added), "changed": int(changed), "removed": int(removed)}
    finally:
        con.close()


def _sql_str(path: Path) -> str:
    return str(path).replace("'", "''")


def compute_changes(
    prev_dir: Path | None,
    prev_manifest: dict[str, Any] | None,
    new_dir: Path,
    new_tables: dict[str, Any],
) -> dict[str, Any]:
    """The ``changes.json`` body: schema changes and per-table row counts vs the previous version."""
    if prev_manifest is None or prev_dir is None:
        return {
            "previous_version": None,
            "schema": {"breaking": [], "additive": [], "metadata": []},
            "tables": {n: {"added": t["rows"], "changed": 0, "removed": 0} for n, t in new_tables.items()},
        }
    prev_tables = prev_manifest["tables"]
    tables: dict[str, dict[str, int]] = {}
    for name, t in new_tables.items():
        prev = prev_tables.get(name)
        if prev is None:
            tables[name] = {"added": t["rows"], "changed": 0, "removed": 0}
            continue
        prev_cols = [c["name"] for c in prev["columns"]]
        shared = [c["name"] for c in t["columns"] if c["name"] in prev_cols]
        key = t.get("primary_key")
        if key and not all(k in prev_cols for k in key):
            key = None
        tables[name] = row_changes(prev_dir / prev["files"][0], new_dir / t["files"][0], shared, key)
    for name, prev in prev_tables.items():
        if name not in new_tables:
            tables[name] = {"added": 0, "changed": 0, "removed": prev["rows"]}
    return {
        "previous_version": prev_manifest["version"],
        "schema": schema_changes(prev_tables, new_tables),
        "tables": tables,
    }


def bump_level(changes: dict[str, Any], data_changed: bool) -> str:
    """SemVer level for ``changes`` (see the module docstring)."""
    if changes["schema"]["breaking"]:
        return "major"
    rows_changed = any(sum(v.values()) for v in changes["tables"].values())
    if changes["schema"]["additive"] or rows_changed or data_changed:
        return "minor"
    return "patch"


def render_changelog(root: Path, index: dict[str, Any]) -> str:
    """CHANGELOG.md for the passing versions of ``index``, newest first, from each ``changes.json``."""
    lines = [
        "# Changelog",
        "",
        "Published versions of the goszakup open dataset, newest first. Builds that failed an "
        "error-level check are kept under `failed/` and are not listed here.",
        "",
    ]
    passing = [e for e in index["versions"] if e["checks_passed"]]
    for entry in sorted(passing, key=lambda e: (e["created"], e["version"]), reverse=True):
        lines.append(f"## {entry['semver']} — `{entry['version']}` ({entry['created']})")
        lines.append("")
        path = root / entry["path"] / "changes.json"
        if not path.exists():
            lines += ["(changes.json missing)", ""]
            continue
        ch = json.loads(path.read_text(encoding="utf-8"))
        prev = ch.get("previous_version")
        lines.append(f"Compared with `{prev}`." if prev else "First version.")
        lines.append("")
        for kind in ("breaking", "additive", "metadata"):
            for item in ch["schema"].get(kind, []):
                lines.append(f"- schema ({kind}): {item}")
        lines.append("")
        lines.append("| table | added | changed | removed |")
        lines.append("|---|---:|---:|---:|")
        for name, c in sorted(ch["tables"].items()):
            lines.append(f"| {name} | {c['added']} | {c['changed']} | {c['removed']} |")
        lines.append("")
    return "\n".join(lines) + "\n"
