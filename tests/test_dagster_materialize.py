"""Materialise every asset in process against the sandbox (scale 1, temp data dir): the run
succeeds, the raw assets report what they loaded, the checks run, and a version is published."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from dagster import AssetKey, DagsterInstance

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def _meta(materialization) -> dict:
    return {k: getattr(v, "value", v) for k, v in materialization.metadata.items()}


@pytest.fixture(scope="module")
def pipeline_run(world_path: Path, tmp_path_factory: pytest.TempPathFactory):
    from pipelines.definitions import build_definitions
    from pipelines.resources import GoszakupResource
    from pipelines.sandbox.world import world_path as world_file

    data_dir = tmp_path_factory.mktemp("dagster_run")
    target = world_file(data_dir, seed=42, scale=1.0)  # reuse the session's world: no rebuild
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(world_path, target)
    defs = build_definitions(GoszakupResource(data_dir=str(data_dir), sandbox_scale=1.0, sandbox_seed=42))
    with DagsterInstance.ephemeral() as instance:
        result = defs.resolve_job_def("daily_update").execute_in_process(
            instance=instance, raise_on_error=False
        )
        yield data_dir, result


def test_run_succeeds(pipeline_run) -> None:
    _, result = pipeline_run
    failures = [e.step_failure_data.error.message for e in result.all_events if e.is_step_failure]
    assert result.success, failures


def test_raw_assets_report_rows_and_pages(pipeline_run) -> None:
    _, result = pipeline_run
    mats = {m.asset_key: _meta(m) for m in result.asset_materializations_for_node("raw_goszakup")}
    trd_buy = mats[AssetKey(["raw", "trd_buy"])]
    assert trd_buy["rows_loaded"] > 0 and trd_buy["pages"] > 0
    assert trd_buy["dagster/row_count"] == trd_buy["rows_loaded"]  # first load: all rows are new
    contract = mats[AssetKey(["raw", "contract"])]
    assert contract["rows_in_warehouse"]["contract_units"] > 0


def test_checks_ran_and_version_published(pipeline_run) -> None:
    data_dir, result = pipeline_run
    evaluations = [
        e.event_specific_data for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"
    ]
    names = {ev.check_name for ev in evaluations}
    assert any(n.startswith("gx_raw_") for n in names) and any(n.startswith("gx_ocds_") for n in names)
    assert len(evaluations) > 50
    publish = _meta(result.asset_materializations_for_node("dataset_version")[0])
    assert publish["checks_passed"] is True, publish["checks"]
    assert publish["published"] is True and publish["latest_moved"] is True, publish["reason"]
    version_dir = Path(publish["path"])
    assert version_dir.is_dir() and data_dir in version_dir.parents
    assert publish["rows"] and all(n >= 0 for n in publish["rows"].values())
    from publish.verify import verify_version

    assert verify_version(version_dir) == []
