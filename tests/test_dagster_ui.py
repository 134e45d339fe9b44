"""The Dagster UI, in a real headless Chromium: the asset graph shows the pipeline's assets and the
runs page shows a completed run.

The webserver runs ``dagster-webserver -w workspace.yaml`` on 127.0.0.1 (a free port) over a temp
DAGSTER_HOME that already holds one completed run (the ingestion of ``raw/rnu`` from the sandbox);
it is stopped at the end. Debian's chromium is driven by playwright; ``.ci/run`` installs it.
"""

from __future__ import annotations

import os
import queue
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from dagster import AssetKey, DagsterInstance

from pipelines.settings import REPO_ROOT

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
UI_TIMEOUT_MS = 60_000

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.timeout(600),
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian's chromium is not installed (.ci/run installs it)"
    ),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def dagster_home(
    world_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, Path, str]]:
    """(DAGSTER_HOME, data dir, run id) with one completed run of the daily_update job (raw/rnu)."""
    from pipelines.definitions import build_definitions
    from pipelines.resources import GoszakupResource
    from sandbox.world import world_path as world_file

    root = tmp_path_factory.mktemp("dagster_ui")
    home, data_dir = root / "dagster_home", root / "data"
    home.mkdir()
    target = world_file(data_dir, seed=42, scale=1.0)
    target.parent.mkdir(parents=True)
    shutil.copyfile(world_path, target)
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    defs = build_definitions(GoszakupResource(data_dir=str(data_dir)))
    with DagsterInstance.from_config(str(home)) as instance:
        result = defs.resolve_job_def("daily_update").execute_in_process(
            instance=instance, asset_selection=[AssetKey(["raw", "rnu"])]
        )
    assert result.success
    yield home, data_dir, result.run_id


@pytest.fixture(scope="module")
def webserver(dagster_home) -> Iterator[str]:
    home, data_dir, _ = dagster_home
    port = _free_port()
    env = {**os.environ, "DAGSTER_HOME": str(home), "GOSZAKUP_DATA_DIR": str(data_dir)}
    command = [
        str(Path(sys.executable).with_name("dagster-webserver")),
        "-w", str(REPO_ROOT / "workspace.yaml"), "-h", "127.0.0.1", "-p", str(port),
    ]  # fmt: skip
    proc = subprocess.Popen(
        command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    seen: list[str] = []
    try:
        while True:  # wait for the "Serving dagster-webserver on ..." line (blocking reads, no sleeps)
            line = lines.get(timeout=120)
            if line is None:
                raise RuntimeError("dagster-webserver exited:\n" + "".join(seen[-40:]))
            seen.append(line)
            if "Serving dagster-webserver" in line:
                break
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def page(webserver):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.set_default_timeout(UI_TIMEOUT_MS)
            yield page
        finally:
            browser.close()


def _dismiss_welcome(page) -> None:
    """Dagster's first-visit community dialog covers the page; skip it when it shows."""
    skip = page.get_by_role("button", name="Skip")
    if skip.count():
        skip.first.click()


def test_asset_graph_shows_the_pipeline(page, webserver) -> None:
    from playwright.sync_api import expect

    page.goto(f"{webserver}/asset-groups")
    _dismiss_welcome(page)
    expect(page.get_by_text("Global asset lineage").first).to_be_visible(timeout=UI_TIMEOUT_MS)
    # the lineage graph draws one node per group, raw -> staging -> ... -> publish
    for group in ("raw", "staging", "intermediate", "ocds", "quarantine", "risk", "publish"):
        expect(page.get_by_text(group, exact=True).last).to_be_visible(timeout=UI_TIMEOUT_MS)
    # an asset of each end of the graph, with what a data engineer looks for
    page.goto(f"{webserver}/assets/raw/trd_buy")
    _dismiss_welcome(page)
    expect(page.get_by_text("raw.trd_buy").first).to_be_visible(timeout=UI_TIMEOUT_MS)
    expect(page.get_by_text("daily_update").first).to_be_visible(timeout=UI_TIMEOUT_MS)
    page.goto(f"{webserver}/assets/publish/dataset_version")
    expect(page.get_by_text("One immutable, versioned snapshot").first).to_be_visible(timeout=UI_TIMEOUT_MS)


def test_runs_page_shows_the_completed_run(page, webserver, dagster_home) -> None:
    from playwright.sync_api import expect

    run_id = dagster_home[2]
    page.goto(f"{webserver}/runs")
    _dismiss_welcome(page)
    expect(page.get_by_text(run_id[:8]).first).to_be_visible(timeout=UI_TIMEOUT_MS)
    expect(page.get_by_text("Success").first).to_be_visible(timeout=UI_TIMEOUT_MS)
    page.goto(f"{webserver}/runs/{run_id}")
    expect(page.get_by_text("daily_update").first).to_be_visible(timeout=UI_TIMEOUT_MS)
