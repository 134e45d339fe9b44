"""Check a published version against its own declarations: :func:`verify_version`.

Why: an auditor who downloaded a version must be able to prove that every file is the one that was
published. Checked, each difference reported on one line that names the file:

* every file listed in ``manifest.json`` and ``datapackage.json``: present, same bytes, same sha256;
* no missing and no unexpected files (``SHA256SUMS`` agrees with the manifest as well);
* ``SHA256SUMS`` itself against the ``versions.json`` index when the version sits in a publish root;
* each Parquet file's schema (names, order, types) and row count against the datapackage / manifest;
* each gzipped CSV's header against the datapackage field names.
"""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path
from typing import Any

from publish import versions
from publish.datapackage import arrow_family, arrow_types_for


def verify_version(version_dir: Path) -> list[str]:
    """Differences between ``version_dir`` and its checksums and schemas; an empty list means OK."""
    d = Path(version_dir)
    if not d.is_dir():
        return [f"{d}: not a directory"]
    problems: list[str] = []
    dp = _load_json(d / "datapackage.json", problems)
    manifest = _load_json(d / "manifest.json", problems)
    if dp is None or manifest is None:
        return problems

    expected: dict[str, dict[str, Any]] = {}
    for rel, f in manifest.get("files", {}).items():
        expected[rel] = {"sha256": f["sha256"], "bytes": f.get("bytes")}
    for res in dp.get("resources", []):
        rel = res["path"]
        digest = str(res.get("hash", "")).removeprefix("sha256:")
        if rel in expected and expected[rel]["sha256"] != digest:
            problems.append(f"{rel}: datapackage.json and manifest.json disagree on its sha256")
        expected.setdefault(rel, {"sha256": digest, "bytes": res.get("bytes")})
        if expected[rel].get("bytes") is None:
            expected[rel]["bytes"] = res.get("bytes")

    actual = {p.relative_to(d).as_posix() for p in d.rglob("*") if p.is_file()}
    allowed = set(expected) | {"manifest.json", "SHA256SUMS"}
    for rel in sorted(allowed - actual):
        problems.append(f"{rel}: missing")
    for rel in sorted(actual - allowed):
        problems.append(f"{rel}: unexpected file (not listed in manifest.json)")

    for rel in sorted(expected):
        if rel not in actual or rel == "manifest.json":
            continue
        path = d / rel
        size = path.stat().st_size
        want = expected[rel]
        if want.get("bytes") is not None and size != want["bytes"]:
            problems.append(f"{rel}: size is {size} bytes, expected {want['bytes']}")
        digest = versions.sha256_file(path)
        if digest != want["sha256"]:
            problems.append(f"{rel}: sha256 is {digest}, expected {want['sha256']}")

    problems += _check_sums(d, manifest, actual)
    problems += _check_index(d)
    problems += _check_tables(d, dp, manifest, actual)
    return problems


def _load_json(path: Path, problems: list[str]) -> Any:
    if not path.is_file():
        problems.append(f"{path.name}: missing")
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        problems.append(f"{path.name}: not valid JSON ({e})")
        return None


def _check_sums(d: Path, manifest: dict, actual: set[str]) -> list[str]:
    if "SHA256SUMS" not in actual:
        return []
    out = []
    listed: dict[str, str] = {}
    for n, line in enumerate((d / "SHA256SUMS").read_text(encoding="utf-8").splitlines(), 1):
        digest, sep, rel = line.partition("  ")
        if not sep:
            out.append(f"SHA256SUMS: line {n} is malformed")
            continue
        listed[rel] = digest
    files = manifest.get("files", {})
    for rel, digest in sorted(listed.items()):
        if rel == "manifest.json":
            if rel in actual and versions.sha256_file(d / rel) != digest:
                out.append("manifest.json: sha256 differs from SHA256SUMS")
        elif rel not in files:
            out.append(f"SHA256SUMS: lists {rel}, which manifest.json does not")
        elif files[rel]["sha256"] != digest:
            out.append(f"SHA256SUMS: sha256 of {rel} differs from manifest.json")
    for rel in sorted(set(files) - set(listed)):
        out.append(f"SHA256SUMS: does not list {rel}")
    return out


def _check_index(d: Path) -> list[str]:
    """When ``d`` sits in a publish root, its SHA256SUMS must match the index entry."""
    for root in (d.parent, d.parent.parent):
        index_path = root / versions.INDEX_NAME
        if not index_path.is_file():
            continue
        rel = d.resolve().relative_to(root.resolve()).as_posix()
        index = json.loads(index_path.read_text(encoding="utf-8"))
        for entry in index.get("versions", []):
            if entry.get("path") == rel and entry.get("sha256sums") and (d / "SHA256SUMS").is_file():
                digest = "sha256:" + versions.sha256_file(d / "SHA256SUMS")
                if digest != entry["sha256sums"]:
                    return [
                        f"SHA256SUMS: sha256 differs from the {versions.INDEX_NAME} entry of {entry['version']}"
                    ]
        return []
    return []


def _check_tables(d: Path, dp: dict, manifest: dict, actual: set[str]) -> list[str]:
    import pyarrow.parquet as pq

    out: list[str] = []
    by_name = {r["name"]: r for r in dp.get("resources", [])}
    rows_by_file = {}
    for t in manifest.get("tables", {}).values():
        for f in t.get("files", []):
            rows_by_file[f] = t.get("rows")
    for res in dp.get("resources", []):
        if res.get("format") == "csv" and "schema" in res and res["path"] in actual:
            want = [f["name"] for f in res["schema"]["fields"]]
            try:
                with gzip.open(d / res["path"], "rt", encoding="utf-8", newline="") as f:
                    header = next(csv.reader(f), [])
            except (OSError, EOFError, UnicodeDecodeError, StopIteration) as e:
                out.append(f"{res['path']}: cannot read the CSV header ({e})")
                continue
            if header != want:
                out.append(f"{res['path']}: CSV header {header} differs from datapackage fields {want}")
        if res.get("format") != "parquet" or res["path"] not in actual:
            continue
        rel = res["path"]
        schema_res = by_name.get(res.get("tableSchemaFrom", ""))
        if schema_res is None:
            out.append(f"{rel}: datapackage.json has no table schema for it (tableSchemaFrom)")
            continue
        try:
            pf = pq.ParquetFile(d / rel)
            arrow_schema = pf.schema_arrow
            num_rows = pf.metadata.num_rows
        except Exception as e:  # pyarrow raises several types for corrupt files
            out.append(f"{rel}: cannot read the Parquet schema ({e})")
            continue
        fields = schema_res["schema"]["fields"]
        names = [f["name"] for f in fields]
        if arrow_schema.names != names:
            out.append(f"{rel}: columns {arrow_schema.names} differ from datapackage fields {names}")
        for f in fields:
            if f["name"] not in arrow_schema.names:
                continue
            family = arrow_family(arrow_schema.field(f["name"]).type)
            if family not in arrow_types_for(f["type"]):
                out.append(
                    f"{rel}: column {f['name']} has Parquet type {arrow_schema.field(f['name']).type}, "
                    f"datapackage says {f['type']}"
                )
        if rows_by_file.get(rel) is not None and num_rows != rows_by_file[rel]:
            out.append(f"{rel}: {num_rows} rows, manifest.json says {rows_by_file[rel]}")
    return out
