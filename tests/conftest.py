"""Shared fixtures: a scale-1 sandbox world, a live sandbox server, and an ingested warehouse.

Everything is real: the world is a DuckDB file, the server speaks HTTP on 127.0.0.1, the warehouse
is loaded by the dlt connector over that HTTP. Session-scoped fixtures are built once; tests that
change data work on copies.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.settings import Settings

SEED = 42
SCALE = 1.0


@pytest.fixture(scope="session")
def world_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The scale-1 sandbox world (built once per test session)."""
    from pipelines.sandbox import ensure_world

    return ensure_world(tmp_path_factory.mktemp("worlds"), seed=SEED, scale=SCALE)


@pytest.fixture
def world_copy(world_path: Path, tmp_path: Path) -> Path:
    """A private copy of the world, for tests that advance or break it."""
    target = tmp_path / "world.duckdb"
    shutil.copyfile(world_path, target)
    return target


@pytest.fixture
def sandbox(world_copy: Path) -> Iterator:
    """A sandbox server on 127.0.0.1 over a private world copy; stopped after the test."""
    from pipelines.sandbox.server import run_sandbox

    with run_sandbox(world_copy) as server:
        yield server


def settings_for(data_dir: Path, **overrides) -> Settings:
    """Settings isolated in ``data_dir`` (no environment leaks into tests)."""
    return Settings(_env_file=None, data_dir=data_dir, **overrides)


@pytest.fixture(scope="session")
def warehouse(world_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DuckDB warehouse with the scale-1 world ingested over HTTP (raw layer only).

    Read-only for tests: copy it (``warehouse_copy``) before writing.
    """
    from pipelines.ingest import run_ingestion
    from pipelines.sandbox.server import run_sandbox

    data_dir = tmp_path_factory.mktemp("warehouse")
    world = data_dir / "world.duckdb"
    shutil.copyfile(world_path, world)
    with run_sandbox(world) as server:
        run_ingestion(settings_for(data_dir), base_url=server.url, token=server.token)
    return data_dir / "goszakup.duckdb"


@pytest.fixture
def warehouse_copy(warehouse: Path, tmp_path: Path) -> Path:
    target = tmp_path / "goszakup.duckdb"
    shutil.copyfile(warehouse, target)
    return target


class FaultReport:
    """Faults survived in this test run, with the rows compared after each (printed at the end)."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, str, int]] = []

    def add(self, fault: str, outcome: str, rows_compared: int) -> None:
        self.rows.append((fault, outcome, rows_compared))


_FAULT_REPORT = FaultReport()


@pytest.fixture
def fault_report() -> FaultReport:
    return _FAULT_REPORT


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # noqa: ARG001
    """The figure issue 9 asks for: faults survived and rows compared in this run."""
    if not _FAULT_REPORT.rows:
        return
    tr = terminalreporter
    tr.section("faults survived")
    width = max(len(f) for f, _, _ in _FAULT_REPORT.rows)
    for fault, outcome, rows in _FAULT_REPORT.rows:
        tr.write_line(f"{fault:<{width}}  {outcome:<34} {rows:>8,} rows compared")
    total = sum(r for _, _, r in _FAULT_REPORT.rows)
    tr.write_line(f"{len(_FAULT_REPORT.rows)} faults survived, {total:,} rows compared, 0 lost, 0 duplicated")
