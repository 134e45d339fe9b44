"""Publish only what changed: reuse the data files of tables whose content did not change.

A daily update changes a small share of the processes; most tables of a version (the code-table
like marts, the quarantine, whole tables of untouched layers) are row for row what an earlier
version holds. Sorting, COPYing and gzipping them again costs most of the publish stage. Instead,
each table gets a content fingerprint, computed by DuckDB in one scan (no sort, no file): the
column names and types, the row count, and the sum and XOR of every row's hash. The files a full
write made for that fingerprint are kept, hard-linked, in ``<root>/.reuse/<fingerprint>/``; a table
with the same fingerprint links them into the new version instead of writing them again.

Why the bytes stay those of a full build: the files were written by the same ``write_table`` from
the same rows (it is deterministic: ordered rows, fixed row groups, gzip without mtime), and every
linked file is checked against the SHA-256 recorded when it was written; a mismatch (a damaged
cache) rewrites the table. Published files are never modified in place (versions are immutable),
so sharing inodes between versions is safe, and pruning a version only drops one link.

The cache is pruned after each build: an entry no published version links any more (its files
have a single link, the cache's own) and that this build did not use is removed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from publish import versions

log = logging.getLogger(__name__)

#: Folder of the publish root holding the reusable table files (hidden: never listed as a version).
CACHE_DIR = ".reuse"
ENTRY_FILE = "entry.json"


def table_fingerprint(con: duckdb.DuckDBPyConnection, fq_table: str, columns: list[tuple[str, str]]) -> str:
    """SHA-256 of the table's name (its files' paths), columns (name and type), row count, and the
    sum and XOR of its row hashes."""
    count, total, xor = con.execute(
        f"SELECT count(*), CAST(coalesce(sum(hash(t)), 0) AS VARCHAR), "
        f"CAST(coalesce(bit_xor(hash(t)), 0) AS VARCHAR) FROM {fq_table} AS t"
    ).fetchone()
    canon = json.dumps(
        {"table": fq_table, "columns": columns, "rows": count, "sum": total, "xor": xor}, sort_keys=True
    )
    return hashlib.sha256(canon.encode()).hexdigest()


def _link(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)
    except OSError:  # another file system, or links not supported: a copy
        shutil.copyfile(src, dst)


def _reuse(entry: Path, out_dir: Path) -> dict[str, Any] | None:
    """Link an entry's files into ``out_dir``; their facts, or None when absent or damaged."""
    meta = entry / ENTRY_FILE
    if not meta.is_file():
        return None
    info = json.loads(meta.read_text(encoding="utf-8"))
    linked: list[Path] = []
    for kind, facts in info["files"].items():
        src, dst = entry / kind, out_dir / facts["path"]
        if not src.is_file():
            break
        _link(src, dst)
        linked.append(dst)
        if versions.sha256_file(dst) != facts["sha256"]:
            log.warning(
                "reuse cache %s: %s does not match its sha256; writing the table again", entry.name, kind
            )
            break
    else:
        return info
    for p in linked:
        p.unlink(missing_ok=True)
    shutil.rmtree(entry, ignore_errors=True)
    return None


def _store(entry: Path, out_dir: Path, info: dict[str, Any]) -> None:
    tmp = entry.with_name(entry.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for kind, facts in info["files"].items():
        _link(out_dir / facts["path"], tmp / kind)
    (tmp / ENTRY_FILE).write_text(json.dumps(info, sort_keys=True), encoding="utf-8")
    shutil.rmtree(entry, ignore_errors=True)
    tmp.rename(entry)


def write_or_reuse(
    con: duckdb.DuckDBPyConnection,
    fq_table: str,
    columns: list[tuple[str, str]],
    out_dir: Path,
    root: Path,
    write: Callable[[], dict[str, Any]],
    used: set[str],
) -> dict[str, Any]:
    """The table's files in ``out_dir``: linked from the cache when an earlier build wrote the same
    content, else ``write()`` (and cached). ``used`` collects the fingerprints this build used."""
    fingerprint = table_fingerprint(con, fq_table, columns)
    used.add(fingerprint)
    entry = Path(root) / CACHE_DIR / fingerprint
    info = _reuse(entry, out_dir)
    if info is not None:
        log.info("reused %s (unchanged since an earlier version)", fq_table)
        return info
    info = write()
    _store(entry, out_dir, info)
    return info


def prune(root: Path, used: set[str]) -> int:
    """Remove cache entries no version links and this build did not use; returns how many."""
    cache = Path(root) / CACHE_DIR
    if not cache.is_dir():
        return 0
    removed = 0
    for entry in sorted(p for p in cache.iterdir() if p.is_dir()):
        if entry.name in used:
            continue
        files = [p for p in entry.iterdir() if p.is_file() and p.name != ENTRY_FILE]
        if entry.name.endswith(".tmp") or all(p.stat().st_nlink <= 1 for p in files):
            shutil.rmtree(entry, ignore_errors=True)
            removed += 1
    return removed
