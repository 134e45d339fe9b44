"""Build one immutable version of the dataset from the warehouse: :func:`publish_version`.

Why this shape: every file is written by DuckDB's ``COPY`` (streaming, never a whole table in Python)
into a private ``.staging-*`` folder, checksummed, described (datapackage, manifest, changes,
summary), synced to disk, and only then renamed into place; the index (``versions.json``) is replaced
last. A crash at any step leaves the previous version and the ``latest`` pointer untouched.

Determinism: rows are ordered by the proven primary key (else by every column), the session time zone
is UTC, Parquet row groups have a fixed size, and the CSV is gzipped here with ``mtime=0`` and no file
name, so the same warehouse gives byte-identical data files and the same version name.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import importlib
import json
import logging
import os
import re
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from pipelines.sql import quote_identifier as quote
from publish import changelog, reuse, versions
from publish.datapackage import (
    Column,
    build_datapackage,
    csv_expression,
    default_key_candidates,
    frictionless_type,
    is_nested,
    load_dbt_docs,
    table_doc,
)
from publish.manifest import build_manifest, tables_block
from publish.options import PublishOptions

log = logging.getLogger(__name__)

PARQUET_ROW_GROUP_SIZE = 122_880
GZIP_LEVEL = 6
OCDS_JSON_DIR = "ocds-json"


@dataclass
class PublishResult:
    version: str
    path: Path | None
    published: bool
    latest_moved: bool
    reason: str
    files: int
    rows: dict[str, int] = field(default_factory=dict)


@dataclass
class TableInfo:
    schema: str
    table: str
    columns: list[Column]
    primary_key: list[str] | None
    description: str

    @property
    def fq(self) -> str:
        return f"{quote(self.schema)}.{quote(self.table)}"

    @property
    def name(self) -> str:
        return f"{self.schema}.{self.table}"


# --- discovery --------------------------------------------------------------------------------


def discover_tables(
    con: duckdb.DuckDBPyConnection, schemas: Sequence[str], docs: dict | None = None
) -> list[TableInfo]:
    """Tables and views of ``schemas`` (in that order, then by name), with types, docs and key."""
    docs = docs or {}
    out: list[TableInfo] = []
    for schema in schemas:
        names = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_catalog = current_database() AND table_schema = ? ORDER BY table_name",
                [schema],
            ).fetchall()
        ]
        for table in names:
            doc = table_doc(docs, schema, table)
            fq = f"{quote(schema)}.{quote(table)}"
            cols = []
            for cname, ctype in con.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_catalog = current_database() AND table_schema = ? AND table_name = ? "
                "ORDER BY ordinal_position",
                [schema, table],
            ).fetchall():
                kind = None
                if ctype.upper() == "JSON":
                    kinds = con.execute(
                        f"SELECT list(DISTINCT json_type({quote(cname)})) FROM {fq} WHERE {quote(cname)} IS NOT NULL"
                    ).fetchone()[0]
                    kind = kinds[0] if kinds and len(kinds) == 1 else None
                cols.append(Column(cname, ctype, frictionless_type(ctype, kind), doc.columns.get(cname, "")))
            key = prove_key(
                con, fq, [c.name for c in cols], doc.key_candidates + default_key_candidates(table, [])
            )
            out.append(TableInfo(schema, table, cols, key, doc.description))
    return out


def prove_key(
    con: duckdb.DuckDBPyConnection, fq: str, columns: list[str], candidates: list[list[str]]
) -> list[str] | None:
    """First candidate whose columns exist and whose values are unique and never null in the data."""
    seen: set[tuple[str, ...]] = set()
    for cand in candidates:
        if not cand or tuple(cand) in seen or not all(c in columns for c in cand):
            continue
        seen.add(tuple(cand))
        keys = ", ".join(quote(c) for c in cand)
        nulls = " OR ".join(f"{quote(c)} IS NULL" for c in cand)
        bad = con.execute(
            f"SELECT (SELECT count(*) FROM {fq} WHERE {nulls}) + "
            f"(SELECT count(*) FROM (SELECT 1 FROM {fq} GROUP BY {keys} HAVING count(*) > 1))"
        ).fetchone()[0]
        if bad == 0:
            return list(cand)
        log.info("%s: %s is not a primary key (%d null or duplicate rows)", fq, cand, bad)
    return None


# --- writing ----------------------------------------------------------------------------------


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)


def _order_by(t: TableInfo) -> str:
    cols = {c.name: c for c in t.columns}
    names = t.primary_key or [c.name for c in t.columns]
    parts = []
    for n in names:
        c = cols[n]
        ref = f"t.{quote(n)}"
        if is_nested(c.duckdb_type) or c.duckdb_type.upper() == "JSON":
            ref = f"CAST(to_json({ref}) AS VARCHAR)"
        parts.append(ref)
    return ", ".join(parts) if parts else "1"


def gzip_file(src: Path, dst: Path) -> None:
    """Deterministic gzip: no file name and mtime 0 in the header, fixed level."""
    with (
        open(src, "rb") as f,
        open(dst, "wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=GZIP_LEVEL) as gz,
    ):
        shutil.copyfileobj(f, gz, 1 << 20)


def _sql_path(p: Path) -> str:
    return str(p).replace("'", "''")


def write_table(con: duckdb.DuckDBPyConnection, t: TableInfo, out_dir: Path) -> dict[str, Any]:
    """COPY one table to ``<schema>/<table>.parquet`` and ``.csv.gz``; return rows and file facts."""
    rel_dir = _safe(t.schema)
    (out_dir / rel_dir).mkdir(parents=True, exist_ok=True)
    base = f"{rel_dir}/{_safe(t.table)}"
    order = _order_by(t)
    pq = out_dir / f"{base}.parquet"
    rows = con.execute(
        f"COPY (SELECT * FROM {t.fq} t ORDER BY {order}) TO '{_sql_path(pq)}' "
        f"(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE {PARQUET_ROW_GROUP_SIZE})"
    ).fetchone()[0]
    # the CSV is read back from the sorted Parquet file (DuckDB keeps a single file's row order):
    # one sort of the table instead of two
    plain = out_dir / f"{base}.csv"
    select = ", ".join(csv_expression(c) for c in t.columns)
    con.execute(
        f"COPY (SELECT {select} FROM read_parquet('{_sql_path(pq)}') t) TO '{_sql_path(plain)}' "
        "(FORMAT csv, HEADER true, DELIMITER ',', QUOTE '\"')"
    )
    gz = out_dir / f"{base}.csv.gz"
    gzip_file(plain, gz)
    plain.unlink()
    files = {}
    for kind, path in (("parquet", pq), ("csv", gz)):
        files[kind] = {
            "path": path.relative_to(out_dir).as_posix(),
            "bytes": path.stat().st_size,
            "sha256": versions.sha256_file(path),
        }
    return {"rows": int(rows), "files": files}


def write_ocds_json(
    con: duckdb.DuckDBPyConnection, out_dir: Path, options: PublishOptions, published_date: str
) -> list[dict[str, Any]]:
    """OCDS release packages via ``publish.ocds_json`` (written by the dbt helper), if it exists."""
    try:
        mod = importlib.import_module("publish.ocds_json")
    except ModuleNotFoundError as e:
        if e.name != "publish.ocds_json":
            raise
        log.warning("publish.ocds_json does not exist yet: this version has no OCDS JSON release packages")
        return []
    target = out_dir / OCDS_JSON_DIR
    target.mkdir(parents=True, exist_ok=True)
    paths = mod.write_release_packages(
        con,
        target,
        publisher_name=options.publisher_name,
        published_date=published_date,
        uri_base=options.uri_base,
        ocid_prefix=options.ocid_prefix,
    )
    out = []
    for p in sorted(Path(p) for p in paths):
        rel = p.resolve().relative_to(out_dir.resolve()).as_posix()
        stem = p.name.removesuffix(".gz").removesuffix(".jsonl")
        out.append(
            {
                "name": f"ocds-json-{stem}".lower().replace("_", "-"),
                "path": rel,
                "format": "jsonl",
                "compression": "gz" if p.name.endswith(".gz") else None,
                "mediatype": "application/x-ndjson",
                "bytes": p.stat().st_size,
                "sha256": versions.sha256_file(p),
                "description": "OCDS 1.1 release packages, one JSON object per line",
            }
        )
    if not out:
        shutil.rmtree(target, ignore_errors=True)
    return out


# --- the build --------------------------------------------------------------------------------


def _schema_hash(tables: list[TableInfo]) -> str:
    canon = [
        {
            "table": t.name,
            "description": t.description,
            "key": t.primary_key,
            "columns": [[c.name, c.duckdb_type, c.type, c.description] for c in t.columns],
        }
        for t in tables
    ]
    return hashlib.sha256(json.dumps(canon, sort_keys=True).encode()).hexdigest()


def _published_date(con: duckdb.DuckDBPyConnection, source: dict | None, now: dt.datetime) -> str:
    """OCDS ``publishedDate``, taken from the data so that a rebuild gives the same bytes.

    The end of the extraction window when the caller gives it (``source["extraction_end"]``), else the
    time of the last successful dlt load in the warehouse (``raw._dlt_loads``), else the build date.
    """
    if source and source.get("extraction_end"):
        return str(source["extraction_end"])
    try:
        last = con.execute("SELECT max(inserted_at) FROM raw._dlt_loads WHERE status = 0").fetchone()[0]
    except duckdb.Error:
        last = None
    if isinstance(last, dt.datetime):
        last = last if last.tzinfo else last.replace(tzinfo=dt.UTC)
        return last.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{now.date().isoformat()}T00:00:00Z"


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _all_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def publish_version(
    warehouse: Path,
    publish_root: Path,
    *,
    checks_passed: bool,
    checks_summary: dict,
    dbt_summary: dict | None = None,
    source: dict | None = None,
    dbt_manifest: Path | None = None,
    schemas: Sequence[str] = ("ocds", "risk", "quarantine"),
    options: PublishOptions,
    clock: Callable[[], dt.datetime] | None = None,
) -> PublishResult:
    """Publish the tables of ``schemas`` in ``warehouse`` as a new version under ``publish_root``.

    ``checks_passed`` is the verdict of every error-level check (dbt tests, GX suites, asset checks):
    a failing build is written under ``failed/`` for debugging and never becomes ``latest``.
    ``clock`` returns the build time (UTC); injectable so tests and reproducible builds can pin it.
    Publishing the same data twice is a no-op (the same version name, or unchanged since ``latest``).
    """
    now = (clock or _utc_now)().astimezone(dt.UTC).replace(microsecond=0)
    created = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    root = Path(publish_root)
    with versions.publish_lock(root):
        for p in versions.clean_staging(root):
            log.warning("removed %s left by an interrupted build", p)
        staging = versions.new_staging(root)
        try:
            return _build(
                Path(warehouse),
                root,
                staging,
                now,
                created,
                checks_passed=checks_passed,
                checks_summary=checks_summary,
                dbt_summary=dbt_summary,
                source=source,
                dbt_manifest=dbt_manifest,
                schemas=schemas,
                options=options,
            )
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)


def _build(
    warehouse: Path,
    root: Path,
    staging: Path,
    now: dt.datetime,
    created: str,
    *,
    checks_passed: bool,
    checks_summary: dict,
    dbt_summary: dict | None,
    source: dict | None,
    dbt_manifest: Path | None,
    schemas: Sequence[str],
    options: PublishOptions,
) -> PublishResult:
    from publish.summary import write_summary
    from publish.verify import verify_version

    if not warehouse.is_file():
        raise FileNotFoundError(f"warehouse {warehouse} does not exist")
    docs = load_dbt_docs(dbt_manifest)
    con = duckdb.connect(str(warehouse), read_only=True, config=options.duckdb_config)
    try:
        con.execute("SET TimeZone = 'UTC'")
        tables = discover_tables(con, schemas, docs)
        if not tables:
            raise RuntimeError(f"no tables in schemas {list(schemas)} of {warehouse}: nothing to publish")
        written = []
        used: set[str] = set()  # tables unchanged since an earlier version: files reused
        for t in tables:
            info = reuse.write_or_reuse(
                con,
                t.fq,
                [(c.name, c.duckdb_type) for c in t.columns],
                staging,
                root,
                lambda t=t: write_table(con, t, staging),
                used,
            )
            log.info("wrote %s (%d rows)", t.name, info["rows"])
            written.append(
                {
                    "schema": t.schema,
                    "table": t.table,
                    "description": t.description,
                    "columns": t.columns,
                    "primary_key": t.primary_key,
                    **info,
                }
            )
        extra = write_ocds_json(con, staging, options, _published_date(con, source, now))
    finally:
        con.close()
    reuse.prune(root, used)

    data_files = [(f["path"], f["sha256"]) for t in written for f in t["files"].values()]
    data_files += [(f["path"], f["sha256"]) for f in extra]
    digest = versions.content_hash(data_files)
    schema_hash = _schema_hash(tables)
    name = versions.version_name(now.date(), digest)
    rel = versions.relative_version_path(name, checks_passed)
    final = root / rel
    rows = {f"{t['schema']}.{t['table']}": t["rows"] for t in written}
    index = versions.load_index(root)

    if final.exists():
        problems = verify_version(final)
        if problems:
            raise RuntimeError(
                f"{final} exists but does not verify; refusing to overwrite an immutable version:\n"
                + "\n".join(problems)
            )
        moved = False
        if versions.find_entry(index, name, checks_passed=checks_passed) is None:
            # a crash after the rename and before the index update: index the complete folder now
            moved = versions.add_entry(index, _entry_from_folder(final, rel))
            versions.save_index(root, index)
            versions.atomic_write_text(
                root / versions.CHANGELOG_NAME, changelog.render_changelog(root, index)
            )
        return PublishResult(
            name,
            final,
            False,
            moved,
            f"version {name} already exists with identical files",
            len(_all_files(final)),
            rows,
        )

    prev_entry = versions.latest_entry(index)
    prev_dir = root / prev_entry["path"] if prev_entry else None
    prev_manifest = None
    if prev_dir is not None and (prev_dir / "manifest.json").is_file():
        prev_manifest = json.loads((prev_dir / "manifest.json").read_text(encoding="utf-8"))
    if (
        checks_passed
        and prev_manifest is not None
        and prev_manifest.get("content_hash") == f"sha256:{digest}"
        and prev_manifest.get("schema_hash") == f"sha256:{schema_hash}"
    ):
        return PublishResult(
            prev_entry["version"],
            prev_dir,
            False,
            False,
            f"data and schema unchanged since latest version {prev_entry['version']}",
            len(_all_files(prev_dir)),
            rows,
        )

    new_tables = tables_block(written)
    changes = changelog.compute_changes(prev_dir, prev_manifest, staging, new_tables)
    data_changed = prev_manifest is None or prev_manifest.get("content_hash") != f"sha256:{digest}"
    level = changelog.bump_level(changes, data_changed) if prev_manifest is not None else "initial"
    if options.dataset_version:
        versions.parse_semver(options.dataset_version)
        semver = options.dataset_version
    else:
        semver = versions.bump(prev_entry["semver"] if prev_entry else None, level)
    if not checks_passed:
        semver = f"{semver}-failed"
    changes.update({"version": name, "semver": semver, "semver_bump": level})
    versions.write_json(staging / "changes.json", changes)

    datapackage = build_datapackage(
        tables=written,
        extra_files=extra,
        version=name,
        semver=semver,
        created=created,
        ocid_prefix=options.ocid_prefix,
        checks_passed=checks_passed,
    )
    versions.write_json(staging / "datapackage.json", datapackage)
    write_summary(
        staging,
        meta={
            "version": name,
            "semver": semver,
            "created": created,
            "checks_passed": checks_passed,
            "checks_summary": checks_summary,
            "rows": rows,
            "changes": changes,
        },
    )

    known = {p: s for p, s in data_files}
    files = {}
    for p in _all_files(staging):
        relp = p.relative_to(staging).as_posix()
        files[relp] = {"bytes": p.stat().st_size, "sha256": known.get(relp) or versions.sha256_file(p)}
    manifest = build_manifest(
        version=name,
        semver=semver,
        created=created,
        content_hash=digest,
        schema_hash=schema_hash,
        checks_passed=checks_passed,
        checks_summary=checks_summary,
        dbt_summary=dbt_summary,
        source=source,
        options=options,
        tables=written,
        previous=prev_entry["version"] if prev_entry else None,
        bump=level,
        files=files,
    )
    versions.write_json(staging / "manifest.json", manifest)
    files["manifest.json"] = {"sha256": versions.sha256_file(staging / "manifest.json")}
    sums = "".join(f"{files[p]['sha256']}  {p}\n" for p in sorted(files))
    (staging / "SHA256SUMS").write_text(sums, encoding="utf-8")

    versions.fsync_tree(staging)
    final.parent.mkdir(parents=True, exist_ok=True)
    os.rename(staging, final)
    versions.fsync_dir(final.parent)

    entry = _entry_from_folder(final, rel)
    moved = versions.add_entry(index, entry)
    versions.save_index(root, index)
    versions.atomic_write_text(root / versions.CHANGELOG_NAME, changelog.render_changelog(root, index))
    if checks_passed:
        reason = f"published {name} ({semver}, {level}); latest -> {name}"
    else:
        reason = f"published failed build {name} under {versions.FAILED_DIR}/ (error-level checks failed); latest unchanged"
    log.info(reason)
    return PublishResult(name, final, True, moved, reason, entry["files"], rows)


def _entry_from_folder(folder: Path, rel: str) -> dict[str, Any]:
    """The ``versions.json`` entry of a complete version folder (from its manifest)."""
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    return {
        "version": manifest["version"],
        "semver": manifest["semver"],
        "created": manifest["created"],
        "checks_passed": manifest["checks_passed"],
        "path": rel,
        "files": len(_all_files(folder)),
        "rows": {k: v["rows"] for k, v in manifest["tables"].items()},
        "content_hash": manifest["content_hash"],
        "sha256sums": "sha256:" + versions.sha256_file(folder / "SHA256SUMS"),
    }
