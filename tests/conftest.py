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

from tests.helpers import settings_for

SEED = 42
SCALE = 1.0


@pytest.fixture(scope="session")
def world_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The scale-1 sandbox world (built once per test session)."""
    from sandbox import ensure_world

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
    from sandbox.server import run_sandbox

    with run_sandbox(world_copy) as server:
        yield server


@pytest.fixture(scope="session")
def warehouse(world_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DuckDB warehouse with the scale-1 world ingested over HTTP (raw layer only).

    Read-only for tests: copy it (``warehouse_copy``) before writing.
    """
    from pipelines.ingest import run_ingestion
    from sandbox.server import run_sandbox

    data_dir = tmp_path_factory.mktemp("warehouse")
    world = data_dir / "world.duckdb"
    shutil.copyfile(world_path, world)
    with run_sandbox(world) as server:
        run_ingestion(settings_for(data_dir), base_url=server.url, token=server.token)
    return data_dir / "goszakup.duckdb"


@pytest.fixture(scope="session")
def built_warehouse(warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object, Path]:
    """The ingested warehouse after one full ``dbt build`` (OCDS, quarantine, risk): (db, result, work).

    Built once per session and shared; read-only for tests: copy the file before writing.
    """
    from tests.helpers import run_dbt

    work = tmp_path_factory.mktemp("built")
    db = work / "goszakup.duckdb"
    shutil.copyfile(warehouse, db)
    result = run_dbt(db, work, "build")
    assert result.returncode == 0, result.stdout[-6000:]
    return db, result, work


@pytest.fixture
def warehouse_copy(warehouse: Path, tmp_path: Path) -> Path:
    target = tmp_path / "goszakup.duckdb"
    shutil.copyfile(warehouse, target)
    return target


class FaultReport:
    """Records a fault a test survived, with the rows compared after it, on the test's report.

    The records travel as ``user_properties`` (which pytest-xdist sends from its workers), and the
    controller prints them at the end of the run: the figure of faults survived and rows compared.
    """

    def __init__(self, node: pytest.Item) -> None:
        self.node = node

    def add(self, fault: str, outcome: str, rows_compared: int) -> None:
        self.node.user_properties.append(("fault_survived", (fault, outcome, rows_compared)))


@pytest.fixture
def fault_report(request: pytest.FixtureRequest) -> FaultReport:
    return FaultReport(request.node)


_FAULTS: list[tuple[str, str, int]] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" and report.passed:
        _FAULTS.extend(tuple(value) for name, value in report.user_properties if name == "fault_survived")


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # noqa: ARG001
    """The figure issue 9 asks for: faults survived and rows compared in this run."""
    if not _FAULTS:
        return
    tr = terminalreporter
    tr.section("faults survived")
    rows = sorted(_FAULTS)
    width = max(len(f) for f, _, _ in rows)
    for fault, outcome, n in rows:
        tr.write_line(f"{fault:<{width}}  {outcome:<34} {n:>8,} rows compared")
    total = sum(n for _, _, n in rows)
    tr.write_line(f"{len(rows)} faults survived, {total:,} rows compared, 0 lost, 0 duplicated")
