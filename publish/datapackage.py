"""The Frictionless Data Package (``datapackage.json``) of a version, and the type rules it relies on.

Why: auditors and tools (``frictionless validate``, CKAN, ...) read one standard descriptor to learn
every file's bytes, sha256, licence and table schema.

Resources, per published table ``<schema>.<table>``:

* ``<schema>-<table>``: the gzipped CSV, a *tabular* resource with the Table Schema (fields with
  name, type, description; primaryKey when one is proven unique and not null).
* ``<schema>-<table>-parquet``: the Parquet file, declared as a *file* resource (``type: file``,
  checked by bytes and hash only) with ``tableSchemaFrom`` naming the CSV resource whose schema it
  shares. Why: frictionless 5 reads Parquet through pandas and then rejects list cells and cannot
  count bytes, so a tabular Parquet resource never validates.
* OCDS release packages (``ocds-json/releases_<year>.jsonl.gz``), also *file* resources.

Primary key rule (first that holds, and only if the data prove it unique and not null):
dbt ``primary_key`` constraint -> dbt ``unique`` (or ``unique_combination_of_columns``) test ->
``id`` -> ``ocid`` + ``id`` -> ``ocid`` -> ``<singular table>_id``. Otherwise no key.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines.sql import quote_identifier as quote

LICENSE = {
    "name": "CC-BY-4.0",
    "path": "https://creativecommons.org/licenses/by/4.0/",
    "title": "Creative Commons Attribution 4.0",
}
PACKAGE_NAME = "goszakup-kz-procurement"
PACKAGE_TITLE = "Kazakhstan public procurement (goszakup.gov.kz): OCDS tables, risk indicators, quarantine"
PARQUET_MEDIATYPE = "application/vnd.apache.parquet"

_INT_TYPES = {
    "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
    "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT",
}  # fmt: skip
_NUMBER_TYPES = {"FLOAT", "DOUBLE", "REAL"}


@dataclass
class Column:
    name: str
    duckdb_type: str
    type: str  # frictionless type
    description: str = ""


@dataclass
class TableDoc:
    """What the dbt manifest says about a model."""

    description: str = ""
    columns: dict[str, str] = field(default_factory=dict)
    key_candidates: list[list[str]] = field(default_factory=list)


def is_nested(duckdb_type: str) -> bool:
    t = duckdb_type.upper()
    return t.endswith("]") or t.startswith(("STRUCT", "MAP", "UNION"))


def frictionless_type(duckdb_type: str, json_kind: str | None = None) -> str:
    """DuckDB type -> Frictionless Table Schema type.

    ``json_kind`` is the distinct ``json_type`` of a JSON column's values (ARRAY, OBJECT, or None when
    mixed or empty): a JSON column is ``array`` or ``object`` when all its values agree, else ``any``.
    """
    t = duckdb_type.upper()
    if t.endswith("]"):
        return "array"
    if t.startswith(("STRUCT", "MAP", "UNION")):
        return "object"
    if t == "JSON":
        return {"ARRAY": "array", "OBJECT": "object"}.get(json_kind or "", "any")
    if t == "BOOLEAN":
        return "boolean"
    if t in _INT_TYPES:
        return "integer"
    if t in _NUMBER_TYPES or t.startswith("DECIMAL"):
        return "number"
    if t == "DATE":
        return "date"
    if t.startswith("TIMESTAMP"):
        return "datetime"
    if t.startswith("TIME"):
        return "time"
    return "string"


def csv_expression(col: Column) -> str:
    """SQL expression writing ``col`` to CSV so Frictionless can parse it back (nested -> JSON text)."""
    q = quote(col.name)
    t = col.duckdb_type.upper()
    if is_nested(t):
        return f"to_json({q}) AS {q}"
    if t == "BLOB":
        return f"base64({q}) AS {q}"
    if t == "INTERVAL":
        return f"CAST({q} AS VARCHAR) AS {q}"
    return q


def resource_name(schema: str, table: str, suffix: str = "") -> str:
    """Frictionless resource names are lowercase ``[a-z0-9._-]``."""
    base = re.sub(r"[^a-z0-9._-]+", "-", f"{schema}-{table}".lower())
    return base + suffix


def arrow_types_for(frictionless: str) -> set[str]:
    """Arrow type families that may carry a field of the given Frictionless type in Parquet."""
    return {
        "integer": {"int"},
        "number": {"float", "decimal"},
        "boolean": {"bool"},
        "date": {"date"},
        "datetime": {"timestamp"},
        "time": {"time"},
        "array": {"list", "json"},
        "object": {"struct", "map", "json", "union"},
        "any": {"json", "string"},
        "string": {"string", "binary", "duration", "other"},
    }[frictionless]


def arrow_family(arrow_type: Any) -> str:
    """Family name of a pyarrow type, as used by :func:`arrow_types_for`."""
    import pyarrow as pa

    t = arrow_type
    if isinstance(t, pa.BaseExtensionType):
        return "json" if t.extension_name == "arrow.json" else arrow_family(t.storage_type)
    if pa.types.is_integer(t):
        return "int"
    if pa.types.is_floating(t):
        return "float"
    if pa.types.is_decimal(t):
        return "decimal"
    if pa.types.is_boolean(t):
        return "bool"
    if pa.types.is_date(t):
        return "date"
    if pa.types.is_timestamp(t):
        return "timestamp"
    if pa.types.is_time(t):
        return "time"
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return "list"
    if pa.types.is_struct(t):
        return "struct"
    if pa.types.is_map(t):
        return "map"
    if pa.types.is_union(t):
        return "union"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "string"
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        return "binary"
    if pa.types.is_duration(t) or pa.types.is_interval(t):
        return "duration"
    return "other"


# --- dbt manifest -----------------------------------------------------------------------------


def load_dbt_docs(manifest_path: Path | None) -> dict[tuple[str, str], TableDoc]:
    """Model and column descriptions and key candidates from dbt's ``target/manifest.json``.

    Keyed by ``(schema, name)`` and ``("", name)`` (the fallback when dbt's schema naming differs
    from the warehouse's, e.g. ``main_ocds``).
    """
    if manifest_path is None or not Path(manifest_path).is_file():
        return {}
    manifest = json.loads(Path(manifest_path).read_text(encoding="utf-8"))
    nodes = manifest.get("nodes", {})
    docs: dict[str, TableDoc] = {}
    out: dict[tuple[str, str], TableDoc] = {}
    for uid, node in nodes.items():
        if node.get("resource_type") not in ("model", "seed", "snapshot"):
            continue
        doc = TableDoc(description=node.get("description") or "")
        for cname, col in (node.get("columns") or {}).items():
            doc.columns[cname] = col.get("description") or ""
            if any(c.get("type") == "primary_key" for c in col.get("constraints") or []):
                doc.key_candidates.append([cname])
        for con in node.get("constraints") or []:
            if con.get("type") == "primary_key" and con.get("columns"):
                doc.key_candidates.insert(0, list(con["columns"]))
        docs[uid] = doc
        name = node.get("alias") or node.get("name")
        out[(str(node.get("schema", "")).lower(), name.lower())] = doc
        out.setdefault(("", name.lower()), doc)
    for node in nodes.values():
        if node.get("resource_type") != "test":
            continue
        meta = node.get("test_metadata") or {}
        target = node.get("attached_node") or next(
            iter((node.get("depends_on") or {}).get("nodes", [])), None
        )
        if target not in docs:
            continue
        kwargs = meta.get("kwargs") or {}
        if meta.get("name") == "unique" and kwargs.get("column_name"):
            docs[target].key_candidates.append([kwargs["column_name"]])
        elif meta.get("name") == "unique_combination_of_columns" and kwargs.get("combination_of_columns"):
            docs[target].key_candidates.append(list(kwargs["combination_of_columns"]))
    return out


def table_doc(docs: dict[tuple[str, str], TableDoc], schema: str, table: str) -> TableDoc:
    return docs.get((schema.lower(), table.lower())) or docs.get(("", table.lower())) or TableDoc()


def default_key_candidates(table: str, columns: list[str]) -> list[list[str]]:
    singular = table[:-1] if table.endswith("s") else table
    return [["id"], ["ocid", "id"], ["ocid"], [f"{singular}_id"], [f"{table}_id"]]


# --- the descriptor ---------------------------------------------------------------------------


def table_schema(columns: list[Column], primary_key: list[str] | None) -> dict[str, Any]:
    fields = []
    for c in columns:
        f: dict[str, Any] = {"name": c.name, "type": c.type}
        if c.description:
            f["description"] = c.description
        fields.append(f)
    schema: dict[str, Any] = {"fields": fields}
    if primary_key:
        schema["primaryKey"] = list(primary_key)
    return schema


def build_datapackage(
    *,
    tables: list[dict[str, Any]],
    extra_files: list[dict[str, Any]],
    version: str,
    semver: str,
    created: str,
    ocid_prefix: str,
    checks_passed: bool,
) -> dict[str, Any]:
    """Assemble the descriptor.

    ``tables``: dicts with schema, table, description, columns (list[Column]), primary_key, rows,
    and files {"csv": {path, bytes, sha256}, "parquet": {...}}. ``extra_files``: dicts with name,
    path, format, mediatype, bytes, sha256, description (file resources, e.g. OCDS JSON lines).
    """
    resources: list[dict[str, Any]] = []
    for t in tables:
        name = resource_name(t["schema"], t["table"])
        desc = t["description"] or f"{t['schema']}.{t['table']}"
        csv, pq = t["files"]["csv"], t["files"]["parquet"]
        resources.append(
            {
                "name": name,
                "type": "table",
                "title": f"{t['schema']}.{t['table']}",
                "description": f"{desc} ({t['rows']} rows; gzipped CSV)",
                "path": csv["path"],
                "scheme": "file",
                "format": "csv",
                "compression": "gz",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "bytes": csv["bytes"],
                "hash": f"sha256:{csv['sha256']}",
                "dialect": {"delimiter": ",", "quoteChar": '"', "header": True},
                "schema": table_schema(t["columns"], t["primary_key"]),
            }
        )
        resources.append(
            {
                "name": resource_name(t["schema"], t["table"], "-parquet"),
                "type": "file",
                "title": f"{t['schema']}.{t['table']} (Parquet)",
                "description": f"{desc} ({t['rows']} rows; Parquet, zstd). Same rows and columns as "
                f"resource {name}, with native types.",
                "path": pq["path"],
                "scheme": "file",
                "format": "parquet",
                "mediatype": PARQUET_MEDIATYPE,
                "bytes": pq["bytes"],
                "hash": f"sha256:{pq['sha256']}",
                "tableSchemaFrom": name,
            }
        )
    for f in extra_files:
        res = {
            "name": f["name"],
            "type": "file",
            "path": f["path"],
            "scheme": "file",
            "format": f["format"],
            "mediatype": f["mediatype"],
            "bytes": f["bytes"],
            "hash": f"sha256:{f['sha256']}",
            "description": f.get("description", ""),
        }
        if f.get("compression"):
            res["compression"] = f["compression"]
        resources.append(res)
    return {
        "profile": "data-package",
        "name": PACKAGE_NAME,
        "id": f"{PACKAGE_NAME}/{version}",
        "title": PACKAGE_TITLE,
        "description": (
            "Open data built from the goszakup.gov.kz API: OCDS-aligned tables, corruption-risk "
            "indicators, and the records refused by validation (quarantine). "
            f"OCDS ocid prefix: {ocid_prefix!r} — a placeholder, not registered with the Open "
            "Contracting Partnership."
            + ("" if checks_passed else " WARNING: this build FAILED error-level checks; do not cite it.")
        ),
        "version": semver,
        "created": created,
        "licenses": [LICENSE],
        "sources": [{"title": "goszakup.gov.kz public API (OWS v3)", "path": "https://ows.goszakup.gov.kz"}],
        "keywords": ["public procurement", "Kazakhstan", "OCDS", "open contracting", "red flags"],
        "resources": resources,
    }
