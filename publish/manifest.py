"""``manifest.json``: how a version was made (provenance), and the checksum of every other file.

Why: an auditor citing a version must be able to say which source window, API, code and library
versions produced it, and whether the dbt and Great Expectations checks passed. The API token is
never written: keys that look like secrets are dropped, and the token's value is masked anywhere.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import subprocess
from pathlib import Path
from typing import Any

from publish.options import PublishOptions

#: the repository the code version is read from (git), whatever the working directory
REPO_ROOT = Path(__file__).resolve().parent.parent

DEPENDENCIES = (
    "dagster", "dlt", "dbt-core", "dbt-duckdb", "duckdb", "great-expectations",
    "pyarrow", "frictionless", "matplotlib",
)  # fmt: skip
_SECRET_WORDS = ("token", "secret", "password", "authorization", "api_key", "apikey", "credential")


def dependency_versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for name in DEPENDENCIES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


def code_version() -> dict[str, Any]:
    """Git commit of the code (if this is a checkout) and the package version."""
    info: dict[str, Any] = {"package": "goszakup-open-data", "package_version": None, "git_commit": None}
    with contextlib.suppress(importlib.metadata.PackageNotFoundError):
        info["package_version"] = importlib.metadata.version("goszakup-open-data")
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10
        )
        if commit.returncode == 0:
            info["git_commit"] = commit.stdout.strip()
            dirty = subprocess.run(
                ["git", "status", "--porcelain", "--untracked-files=no"],
                cwd=REPO_ROOT,
                capture_output=True,
                text=True,
                timeout=30,
            )
            info["git_dirty"] = bool(dirty.stdout.strip()) if dirty.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        pass
    return info


def scrub(obj: Any, secret: str | None) -> Any:
    """Drop secret-looking keys and mask the token's value wherever it appears."""
    if isinstance(obj, dict):
        return {
            k: scrub(v, secret) for k, v in obj.items() if not any(w in str(k).lower() for w in _SECRET_WORDS)
        }
    if isinstance(obj, list | tuple):
        return [scrub(v, secret) for v in obj]
    if isinstance(obj, str) and secret and secret in obj:
        return obj.replace(secret, "**********")
    if isinstance(obj, Path):
        return str(obj)
    return obj


def source_info(source: dict | None, options: PublishOptions) -> dict[str, Any]:
    """The source block: what the caller passed, plus the API base URL and ocid prefix of the options."""
    info: dict[str, Any] = dict(source or {})
    info.setdefault("api_base_url", options.api_base_url)
    info.setdefault("ocid_prefix", options.ocid_prefix)
    info.setdefault("ocid_prefix_registered", False)
    return scrub(info, options.secret)


def build_manifest(
    *,
    version: str,
    semver: str,
    created: str,
    content_hash: str,
    schema_hash: str,
    checks_passed: bool,
    checks_summary: dict,
    dbt_summary: dict | None,
    source: dict | None,
    options: PublishOptions,
    tables: list[dict[str, Any]],
    previous: str | None,
    bump: str,
    files: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    secret = options.secret
    return {
        "version": version,
        "semver": semver,
        "created": created,
        "content_hash": f"sha256:{content_hash}",
        "previous_version": previous,
        "semver_bump": bump,
        "checks_passed": checks_passed,
        "source": source_info(source, options),
        "code": code_version(),
        "dependencies": dependency_versions(),
        "dbt": scrub(dbt_summary, secret),
        "checks": scrub(checks_summary, secret),
        "schema_hash": f"sha256:{schema_hash}",
        "tables": tables_block(tables),
        "files": files,
    }


def tables_block(tables: list[dict[str, Any]]) -> dict[str, Any]:
    """Per table: rows, key, columns with DuckDB and Frictionless types, files (Parquet first)."""
    return {
        f"{t['schema']}.{t['table']}": {
            "rows": t["rows"],
            "primary_key": t["primary_key"],
            "columns": [{"name": c.name, "duckdb_type": c.duckdb_type, "type": c.type} for c in t["columns"]],
            "files": [t["files"]["parquet"]["path"], t["files"]["csv"]["path"]],
        }
        for t in tables
    }
