"""The benchmark's baselines: the work of each pipeline stage done with raw DuckDB SQL in one process.

Why: a stage's time means little on its own; next to the same work done the plainest way (read
the same JSON, build the same tables, write the same Parquet) it says how much the tools cost.
That baseline is the practical limit of one machine. Each function here is timed by
``tools.bench`` in a process of its own (so its peak memory is measured too).

* :func:`dump_api` fetches every page the connector reads, with plain HTTP (one stream per
  entity, all entities at once), into one NDJSON file per entity (a page per line). Its wall time
  is the "API floor": what ingestion would take if the client cost nothing.
* :func:`ingest` reads those pages with ``read_json`` into the raw tables (entities, lifted child
  tables, code tables, journal); :func:`merge_delta` merges a daily delta into them.
* :func:`dbt_models` runs the compiled SQL of every dbt model (and the data tests) of the last
  ``dbt build``'s manifest, in dependency order.
* :func:`checks` evaluates every Great Expectations check of the suites as one SQL aggregate.
* :func:`publish` writes the published tables to Parquet (zstd) and gzipped CSV with ``COPY``.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import duckdb

from pipelines.goszakup_api import (
    ENTITIES,
    GRAPHQL_MAX_LIMIT,
    JOURNAL_FIELDS,
    REF_FIELDS,
    REF_TABLES,
    Child,
    Entity,
    Field,
)

#: DuckDB types of the contract's field types, as the connector lands them (lists as JSON text).
DUCK_TYPES = {
    "int": "BIGINT",
    "float": "DOUBLE",
    "str": "VARCHAR",
    "datetime": "VARCHAR",
    "bool": "BOOLEAN",
    "int[]": "JSON",
    "str[]": "JSON",
}
REST_PAGE_SIZE = 500


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# --- the API dump (and floor) ---------------------------------------------------------------------


class _Fetcher:
    """Plain HTTP with keep-alive per thread; waits out 429 and retries 5xx (rate-limited sandboxes)."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.requests = 0
        self.bytes = 0
        self._lock = threading.Lock()

    def call(self, path: str, body: dict | None = None) -> bytes:
        data = json.dumps(body).encode() if body is not None else None
        for attempt in range(30):
            req = urllib.request.Request(
                self.base_url + path, data=data, headers=self.headers, method="POST" if data else "GET"
            )
            try:
                with urllib.request.urlopen(req, timeout=300) as resp:
                    payload = resp.read()
            except urllib.error.HTTPError as exc:
                if exc.code == 429 or exc.code >= 500:
                    time.sleep(
                        float(exc.headers.get("Retry-After") or 1) if exc.code == 429 else 0.5 * attempt
                    )
                    continue
                if exc.code == 404:
                    return b""
                raise
            with self._lock:
                self.requests += 1
                self.bytes += len(payload)
            return payload
        raise RuntimeError(f"{path}: gave up after 30 attempts")


def _graphql_pages(f: _Fetcher, entity: Entity, start: str) -> Iterator[bytes]:
    from pipelines.sources.goszakup import graphql_query, to_filter_value

    query = graphql_query(entity)
    after = None
    while True:
        variables = {"filter": {entity.cursor_filter: [to_filter_value(start)]}, "limit": GRAPHQL_MAX_LIMIT}
        variables["after"] = after
        page = f.call("/v3/graphql", {"query": query, "variables": variables})
        yield page
        info = (json.loads(page).get("extensions") or {}).get("pageInfo") or {}
        if not info.get("hasNextPage"):
            return
        after = info["lastId"]


def _rest_pages(f: _Fetcher, path: str) -> Iterator[bytes]:
    sep = "&" if "?" in path else "?"
    page = f.call(f"{path}{sep}limit={REST_PAGE_SIZE}")
    while page:
        yield page
        nxt = json.loads(page).get("next_page")
        if not nxt:
            return
        page = f.call(nxt)


def dump_api(
    base_url: str,
    token: str,
    out_dir: Path,
    *,
    cursors: dict[str, str] | None = None,
    journal_from: dt.date,
    today: dt.date | None = None,
) -> dict[str, Any]:
    """Every page the connector reads -> ``out_dir/<table>.ndjson``; returns requests and bytes.

    ``cursors`` (entity -> last cursor value) makes it a daily delta: GraphQL entities from that
    value on, as the connector's incremental cursor does; REST entities and code tables in full.
    """
    from pipelines.sources.goszakup import journal_windows

    out_dir.mkdir(parents=True, exist_ok=True)
    f = _Fetcher(base_url, token)
    start_default = "2000-01-01 00:00:00"

    def write(name: str, pages: Iterator[bytes]) -> None:
        with open(out_dir / f"{name}.ndjson", "wb") as fh:
            for page in pages:
                fh.write(page.replace(b"\n", b" ") + b"\n")

    def entity_job(entity: Entity) -> None:
        if entity.default_api == "graphql":
            start = (cursors or {}).get(entity.name) or start_default
            write(entity.name, _graphql_pages(f, entity, start))
        else:
            write(entity.name, _rest_pages(f, entity.rest_path or ""))

    def refs_job() -> None:
        for name in REF_TABLES:
            write(name, _rest_pages(f, f"/v3/refs/{name}"))

    def journal_job() -> None:
        def pages() -> Iterator[bytes]:
            for lo, hi in journal_windows(journal_from, today or dt.date.today(), 31):
                yield from _rest_pages(f, f"/v2/journal?date_from={lo}&date_to={hi}")

        write("journal", pages())

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=len(ENTITIES) + 2) as pool:
        futures = [pool.submit(entity_job, e) for e in ENTITIES.values()]
        futures += [pool.submit(refs_job), pool.submit(journal_job)]
        for fut in futures:
            fut.result()
    return {"seconds": time.monotonic() - started, "requests": f.requests, "bytes": f.bytes}


# --- ingestion ------------------------------------------------------------------------------------


def _struct(fields: tuple[Field, ...], children: tuple[Child, ...], camel: bool) -> str:
    parts = [f"{_q(f.camel if camel else f.name)} {DUCK_TYPES[f.type]}" for f in fields]
    parts += [f"{_q(c.graphql_name)} {_struct(c.fields, c.children, camel)}[]" for c in children]
    return f"STRUCT({', '.join(parts)})"


def _select(fields: tuple[Field, ...], var: str, camel: bool) -> str:
    return ", ".join(f"{var}.{_q(f.camel if camel else f.name)} AS {_q(f.name)}" for f in fields)


DLT_COLUMNS = "'baseline' AS _dlt_load_id, CAST(gen_random_uuid() AS VARCHAR) AS _dlt_id"


def _load_pages(con: duckdb.DuckDBPyConnection, path: Path, table: str, schema: str) -> None:
    """Each entity's tables from its page file into ``schema`` (records of a page unnested)."""
    entity = ENTITIES.get(table)
    if entity is not None:
        camel = entity.default_api == "graphql"
        struct = _struct(entity.fields, entity.children, camel)
        if camel:
            columns = f"{{'data': 'STRUCT({_q(entity.graphql_root or '')} {struct}[])'}}"
            unnest = f"unnest(data.{_q(entity.graphql_root or '')})"
        else:
            columns = f"{{'items': '{struct}[]'}}"
            unnest = "unnest(items)"
        fields, children, pk = entity.fields, entity.children, entity.primary_key
    else:
        fields = JOURNAL_FIELDS if table == "journal" else REF_FIELDS
        columns = f"{{'items': '{_struct(fields, (), False)}[]'}}"
        unnest, children, pk, camel = "unnest(items)", (), None, False
    source = f"read_json({_lit(str(path))}, format='newline_delimited', columns={columns})"
    con.execute(f"CREATE OR REPLACE TABLE _pages.{_q(table)} AS SELECT {unnest} AS r FROM {source}")
    con.execute(
        f"CREATE OR REPLACE TABLE {schema}.{_q(table)} AS SELECT {_select(fields, 'r', camel)}, {DLT_COLUMNS} "
        f"FROM _pages.{_q(table)}"
    )
    stack = [(table, pk, c) for c in children]
    while stack:
        parent, parent_pk, child = stack.pop(0)
        con.execute(
            f"CREATE OR REPLACE TABLE _pages.{_q(child.table)} AS SELECT r.{_q(parent_pk or 'id')} AS __parent, "
            f"unnest(r.{_q(child.graphql_name)}) AS r FROM _pages.{_q(parent)}"
        )
        con.execute(
            f"CREATE OR REPLACE TABLE {schema}.{_q(child.table)} AS SELECT {_select(child.fields, 'r', camel)}, "
            f"__parent AS {_q(child.parent_key)}, {DLT_COLUMNS} FROM _pages.{_q(child.table)}"
        )
        stack.extend((child.table, child.primary_key, c) for c in child.children)


def _dump_tables(dump_dir: Path) -> list[tuple[str, Path]]:
    return [
        (p.stem, p)
        for p in sorted(dump_dir.glob("*.ndjson"))
        if p.stat().st_size > 0 and (p.stem in ENTITIES or p.stem in REF_TABLES or p.stem == "journal")
    ]


def ingest(dump_dir: Path, db: Path) -> dict[str, int]:
    """The raw layer from the dumped pages (what ``pipelines.ingest`` builds, without dlt)."""
    con = duckdb.connect(str(db))
    try:
        con.execute("CREATE SCHEMA IF NOT EXISTS raw; CREATE SCHEMA IF NOT EXISTS _pages")
        for table, path in _dump_tables(dump_dir):
            _load_pages(con, path, table, "raw")
        con.execute("DROP SCHEMA _pages CASCADE")
        return _counts(con, "raw")
    finally:
        con.close()


def merge_delta(dump_dir: Path, db: Path) -> dict[str, int]:
    """Merge a daily delta (changed records, code tables, journal) into the raw tables.

    Per table: delete the rows whose key comes again (and the children of those parents), insert
    the new rows; then apply the journal's deletions. The same work as dlt's merge load.
    """
    con = duckdb.connect(str(db))
    changed: dict[str, int] = {}
    try:
        con.execute("CREATE SCHEMA IF NOT EXISTS _pages; CREATE SCHEMA IF NOT EXISTS _delta")
        for table, path in _dump_tables(dump_dir):
            _load_pages(con, path, table, "_delta")
            entity = ENTITIES.get(table)
            if entity is None:  # code tables are replaced, the journal is appended
                if table == "journal":
                    con.execute("INSERT INTO raw.journal BY NAME SELECT * FROM _delta.journal")
                else:
                    con.execute(
                        f"CREATE OR REPLACE TABLE raw.{_q(table)} AS SELECT * FROM _delta.{_q(table)}"
                    )
                continue
            pk = _q(entity.primary_key)
            stack = [(entity.name, entity.primary_key, c) for c in entity.children]
            while stack:  # children of re-sent parents are replaced by the re-sent ones
                parent, parent_pk, child = stack.pop(0)
                con.execute(
                    f"DELETE FROM raw.{_q(child.table)} WHERE {_q(child.parent_key)} IN "
                    f"(SELECT {_q(parent_pk)} FROM _delta.{_q(parent)})"
                )
                con.execute(
                    f"INSERT INTO raw.{_q(child.table)} BY NAME SELECT * FROM _delta.{_q(child.table)}"
                )
                stack.extend((child.table, child.primary_key, c) for c in child.children)
            con.execute(f"DELETE FROM raw.{_q(table)} WHERE {pk} IN (SELECT {pk} FROM _delta.{_q(table)})")
            con.execute(f"INSERT INTO raw.{_q(table)} BY NAME SELECT * FROM _delta.{_q(table)}")
            changed[table] = con.execute(f"SELECT count(*) FROM _delta.{_q(table)}").fetchone()[0]
        if (dump_dir / "journal.ndjson").is_file():
            for entity in ENTITIES.values():
                names = ", ".join(_lit(n) for n in entity.journal_names) or "''"
                deleted = (
                    f"SELECT object_id FROM _delta.journal WHERE action = 'D' AND service_name IN ({names})"
                )
                con.execute(
                    f"DELETE FROM raw.{_q(entity.name)} WHERE {_q(entity.primary_key)} IN ({deleted})"
                )
                stack = [(entity.name, entity.primary_key, c) for c in entity.children]
                while stack:
                    parent, parent_pk, child = stack.pop(0)
                    con.execute(
                        f"DELETE FROM raw.{_q(child.table)} WHERE {_q(child.parent_key)} NOT IN "
                        f"(SELECT {_q(parent_pk)} FROM raw.{_q(parent)})"
                    )
                    stack.extend((child.table, child.primary_key, c) for c in child.children)
        con.execute("DROP SCHEMA _pages CASCADE; DROP SCHEMA _delta CASCADE")
        return changed
    finally:
        con.close()


def _counts(con: duckdb.DuckDBPyConnection, schema: str) -> dict[str, int]:
    tables = [
        r[0]
        for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = ? AND database_name = current_database()",
            [schema],
        ).fetchall()
    ]
    return {t: con.execute(f"SELECT count(*) FROM {schema}.{_q(t)}").fetchone()[0] for t in sorted(tables)}


# --- dbt ------------------------------------------------------------------------------------------


def _topological(nodes: dict[str, dict]) -> list[str]:
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(uid: str) -> None:
        if state.get(uid) == 2:
            return
        if state.get(uid) == 1:
            raise ValueError(f"dependency cycle at {uid}")
        state[uid] = 1
        for dep in nodes[uid].get("depends_on", {}).get("nodes", []):
            if dep in nodes:
                visit(dep)
        state[uid] = 2
        order.append(uid)

    for uid in sorted(nodes):
        visit(uid)
    return order


def dbt_prepare(manifest_path: Path, db: Path, built: Path) -> None:
    """Seeds (tiny code tables) copied from the dbt-built warehouse into the baseline: not timed."""
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    con = duckdb.connect(str(db))
    try:
        con.execute(f"ATTACH {_lit(str(built))} AS dbt_built (READ_ONLY)")
        for node in manifest["nodes"].values():
            if node["resource_type"] != "seed":
                continue
            rel = node.get("alias") or node["name"]
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {_q(node['schema'])}")
            con.execute(
                f"CREATE OR REPLACE TABLE {_q(node['schema'])}.{_q(rel)} AS "
                f"SELECT * FROM dbt_built.{_q(node['schema'])}.{_q(rel)}"
            )
    finally:
        con.close()


def dbt_models(manifest_path: Path, db: Path) -> dict[str, int]:
    """Every model's compiled SQL as ``CREATE TABLE/VIEW ... AS`` and every data test as a count.

    dbt's unit tests (fixtures, not data) are not run. Contracted models are created with
    ``CREATE TABLE AS`` (dbt creates the table with its constraints, then inserts).
    """
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    nodes = {
        uid: n
        for uid, n in manifest["nodes"].items()
        if n["resource_type"] in ("model", "test") and n.get("compiled_code")
    }
    con = duckdb.connect(str(db))
    done = {"models": 0, "tests": 0, "failing_tests": 0}
    try:
        for uid in _topological(nodes):
            node = nodes[uid]
            sql = node["compiled_code"]
            if node["resource_type"] == "test":
                failures = con.execute(f"SELECT count(*) FROM ({sql}\n) AS t").fetchone()[0]
                done["tests"] += 1
                done["failing_tests"] += bool(failures)
                continue
            materialized = node["config"].get("materialized", "table")
            if materialized == "ephemeral":
                continue
            rel = f"{_q(node['schema'])}.{_q(node.get('alias') or node['name'])}"
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {_q(node['schema'])}")
            kind = "VIEW" if materialized == "view" else "TABLE"
            con.execute(f"CREATE OR REPLACE {kind} {rel} AS {sql}\n")
            done["models"] += 1
        return done
    finally:
        con.close()


# --- checks ---------------------------------------------------------------------------------------


def _check_sql(expectation: Any) -> tuple[str | None, list]:
    """(SQL aggregate counting failures of ``expectation`` over batch ``b``, parameters)."""
    kind = type(expectation).__name__
    col = _q(expectation.column) if getattr(expectation, "column", None) else None
    lo, hi = getattr(expectation, "min_value", None), getattr(expectation, "max_value", None)
    if kind == "ExpectColumnValuesToNotBeNull":
        return f"count(*) FILTER (WHERE {col} IS NULL)", []
    if kind == "ExpectColumnValuesToBeInSet":
        values = list(expectation.value_set)
        if all(isinstance(v, str) for v in values):
            return (
                f"count(*) FILTER (WHERE {col} IS NOT NULL AND NOT list_contains(?, CAST({col} AS VARCHAR)))",
                [values],
            )
        return f"count(*) FILTER (WHERE {col} IS NOT NULL AND NOT list_contains(?, CAST({col} AS DOUBLE)))", [
            [float(v) for v in values]
        ]
    if kind == "ExpectColumnValuesToBeBetween":
        conds = []
        if lo is not None:
            conds.append(f"{col} {'<=' if getattr(expectation, 'strict_min', False) else '<'} ?")
        if hi is not None:
            conds.append(f"{col} {'>=' if getattr(expectation, 'strict_max', False) else '>'} ?")
        params = [v for v in (lo, hi) if v is not None]
        return f"count(*) FILTER (WHERE {' OR '.join(conds) or 'FALSE'})", params
    if kind == "ExpectColumnValuesToMatchRegex":
        return f"count(*) FILTER (WHERE {col} IS NOT NULL AND NOT regexp_matches({col}, ?))", [
            expectation.regex
        ]
    if kind == "ExpectColumnMeanToBeBetween":
        return f"avg({col})", []
    if kind in ("ExpectTableRowCountToEqual", "ExpectTableRowCountToBeBetween"):
        return "count(*)", []
    return None, []


def checks(db: Path) -> dict[str, int]:
    """Every check of the raw, OCDS and risk suites, evaluated with SQL over the same batches.

    Each batch (the suite's SELECT) is read once into a temporary table, as the runner reads it
    once into pandas; its checks are one aggregate query, uniqueness one GROUP BY per column.
    """
    from expectations.suites import build_suite, table_names

    con = duckdb.connect(str(db), read_only=True)
    done = {"checks": 0, "batches": 0, "untranslated": 0}
    try:
        for layer in ("raw", "ocds", "risk"):
            for table in table_names(layer, con):
                suite = build_suite(con, layer, table, None)
                for batch in suite.batches:
                    if not batch.checks or batch.source is None:
                        continue
                    con.execute(f"CREATE OR REPLACE TEMP TABLE b AS {batch.sql()}")
                    done["batches"] += 1
                    aggregates, params = [], []
                    for check in batch.checks:
                        exp = check.expectation
                        if type(exp).__name__ == "ExpectColumnValuesToBeUnique":
                            col = _q(exp.column)
                            con.execute(
                                f"SELECT sum(n) FILTER (WHERE n > 1) FROM (SELECT count(*) AS n FROM b "
                                f"WHERE {col} IS NOT NULL GROUP BY {col})"
                            ).fetchone()
                            done["checks"] += 1
                            continue
                        sql, p = _check_sql(exp)
                        if sql is None:
                            done["untranslated"] += 1
                            sql = "count(*)"
                        aggregates.append(sql)
                        params.extend(p)
                        done["checks"] += 1
                    if aggregates:
                        con.execute(f"SELECT {', '.join(aggregates)} FROM b", params).fetchone()
        return done
    finally:
        con.close()


# --- publish --------------------------------------------------------------------------------------


def publish(
    db: Path, out_dir: Path, schemas: tuple[str, ...] = ("ocds", "risk", "quarantine")
) -> dict[str, int]:
    """Each published table to ``<schema>/<table>.parquet`` (zstd, sorted by key) and ``.csv.gz``."""
    from publish.datapackage import csv_expression
    from publish.snapshot import PARQUET_ROW_GROUP_SIZE, _order_by, discover_tables

    con = duckdb.connect(str(db), read_only=True)
    rows: dict[str, int] = {}
    try:
        tables = discover_tables(con, list(schemas))
        started = time.monotonic()
        for t in tables:
            folder = out_dir / t.schema
            folder.mkdir(parents=True, exist_ok=True)
            pq = folder / f"{t.table}.parquet"
            rows[t.name] = con.execute(
                f"COPY (SELECT * FROM {t.fq} t ORDER BY {_order_by(t)}) TO {_lit(str(pq))} "
                f"(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE {PARQUET_ROW_GROUP_SIZE})"
            ).fetchone()[0]
            select = ", ".join(csv_expression(c) for c in t.columns)
            con.execute(
                f"COPY (SELECT {select} FROM read_parquet({_lit(str(pq))}) t) TO {_lit(str(folder / t.table) + '.csv.gz')} "
                "(FORMAT csv, HEADER true, COMPRESSION gzip)"
            )
        rows["__copy_seconds__"] = round(time.monotonic() - started, 3)  # type: ignore[assignment]
        return rows
    finally:
        con.close()


# --- a raw layer without the API ------------------------------------------------------------------


def raw_from_world(world: Path, db: Path) -> dict[str, int]:
    """The raw layer straight from a world file, laid out as the connector lands it.

    For measuring dbt, checks and publish at scales where a full HTTP load would take too long:
    list fields become JSON text, ``_dlt_load_id`` / ``_dlt_id`` are added, ``_dlt_loads`` records
    one load and ``_quarantine`` is empty. Not a measure of ingestion.
    """
    from pipelines.goszakup_api import all_raw_tables

    con = duckdb.connect(str(db))
    try:
        con.execute(f"ATTACH {_lit(str(world))} AS world (READ_ONLY)")
        con.execute("CREATE SCHEMA IF NOT EXISTS raw")
        present = {
            r[0]
            for r in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = 'world'"
            ).fetchall()
        }
        for table in [*all_raw_tables(), *REF_TABLES, "journal"]:
            if table not in present:
                continue
            cols = con.execute(
                "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = 'world' "
                "AND table_name = ? ORDER BY column_index",
                [table],
            ).fetchall()
            select = ", ".join(
                f"CAST(to_json({_q(c)}) AS JSON) AS {_q(c)}" if t.endswith("[]") else _q(c)
                for c, t in cols
                if not (table == "journal" and c == "seq")
            )
            con.execute(
                f"CREATE OR REPLACE TABLE raw.{_q(table)} AS SELECT {select}, {DLT_COLUMNS} FROM world.main.{_q(table)}"
            )
        con.execute(
            "CREATE OR REPLACE TABLE raw._quarantine (entity VARCHAR, table_name VARCHAR NOT NULL, "
            "record_id VARCHAR NOT NULL, field VARCHAR NOT NULL, reason VARCHAR, record VARCHAR, "
            "_dlt_load_id VARCHAR NOT NULL, _dlt_id VARCHAR NOT NULL)"
        )
        con.execute(
            "CREATE OR REPLACE TABLE raw._dlt_loads AS SELECT 'baseline' AS load_id, 'goszakup' AS schema_name, "
            "0 AS status, now() AS inserted_at, '' AS schema_version_hash"
        )
        return _counts(con, "raw")
    finally:
        con.close()
