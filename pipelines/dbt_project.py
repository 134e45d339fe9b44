"""The dbt project of the pipeline, as dagster's ``assets_dbt_python`` example declares it.

Why a module of its own: the Dagster code location, the dbt assets and the CLI all need the same
project (``dbt_project/``, profiles inside it) and the same up-to-date manifest. Under
``dagster dev`` the manifest is made on every load (``prepare_if_dev``); elsewhere it is made
only when missing or older than the project's files (``target/`` is not committed, so a clean
clone parses once).

dbt receives the run's values as ``--vars`` (:func:`dbt_vars`): the warehouse path and memory
limit (read by ``profiles.yml``), the ocid prefix and the source time zone. Nothing is passed
through a mutated ``os.environ``; the ``env_var`` defaults in the project only serve dbt run by
hand.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from dagster_dbt import DbtProject
from dagster_dbt.dbt_project import using_dagster_dev

from pipelines.settings import REPO_ROOT

if TYPE_CHECKING:  # pragma: no cover
    from pipelines.settings import Settings

DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def dbt_executable() -> str:
    """The virtualenv's ``dbt`` (``make dev`` runs ``.venv/bin/dagster`` without the venv on PATH)."""
    candidates = [Path(sys.prefix) / "bin" / "dbt", REPO_ROOT / ".venv" / "bin" / "dbt"]
    found = next((c for c in candidates if c.exists()), None)
    return str(found) if found else shutil.which("dbt") or "dbt"


def _newest_source_mtime(project: DbtProject) -> float:
    root = Path(project.project_dir)
    files = [root / "dbt_project.yml", root / "profiles.yml"]
    for folder in ("models", "macros", "seeds", "tests", "snapshots", "analyses"):
        files.extend(p for p in (root / folder).rglob("*") if p.is_file())
    return max((p.stat().st_mtime for p in files if p.exists()), default=0.0)


def ensure_manifest(project: DbtProject = dbt_project) -> Path:
    """``target/manifest.json`` up to date with the project (``dbt parse`` when needed).

    dagster-dbt's preparer looks ``dbt`` up on ``PATH``; the virtualenv's folder is put first for
    the duration of the parse only (and restored), since ``make dev`` may run without it.
    """
    saved = os.environ.get("PATH")
    os.environ["PATH"] = os.pathsep.join([str(Path(dbt_executable()).parent), saved or ""])
    try:
        if using_dagster_dev():
            project.prepare_if_dev()
        elif (
            not project.manifest_path.exists()
            or project.manifest_path.stat().st_mtime < _newest_source_mtime(project)
        ):
            assert project.preparer is not None
            project.preparer.prepare(project)
    finally:
        if saved is None:
            os.environ.pop("PATH", None)
        else:
            os.environ["PATH"] = saved
    return project.manifest_path


def dbt_vars(settings: Settings) -> dict[str, str]:
    """The values dbt takes from a run's settings (project vars and the profile's ``var`` calls)."""
    return {
        "duckdb_path": str(settings.warehouse_path.resolve()),
        "duckdb_memory_limit": settings.duckdb_memory_limit,
        "ocid_prefix": settings.ocid_prefix,
        "source_timezone": settings.source_timezone,
    }


def dbt_vars_args(settings: Settings) -> list[str]:
    """``["--vars", "<json>"]`` for a dbt command of this run."""
    return ["--vars", json.dumps(dbt_vars(settings), sort_keys=True)]
