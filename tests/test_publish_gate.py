"""A failing error-level check blocks publishing, through Dagster: the gate a data engineer relies on.

On a copy of the dbt-built warehouse, the GX suite of ``ocds/contracts`` runs as the Dagster asset
check it is, first on clean data (passes), then after a contract's value was made negative
(fails with the named expectation). The publish asset then runs in the same instance: the build
is written under ``failed/`` for inspection, and ``latest`` does not move.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest
from dagster import AssetCheckKey, AssetKey, DagsterInstance

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

CHECK = AssetCheckKey(AssetKey(["ocds", "contracts"]), "gx_ocds_contracts")


def _run_check(job, instance):
    subset = job.get_subset(asset_check_selection={CHECK}, asset_selection=set())
    result = subset.execute_in_process(instance=instance, raise_on_error=False)
    evaluations = [
        e.event_specific_data for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"
    ]
    assert [(ev.asset_check_key, ev.passed) for ev in evaluations][:1], "the check did not run"
    return evaluations[0]


def test_failing_check_blocks_publishing(built_warehouse, tmp_path: Path, monkeypatch) -> None:
    from pipelines.assets.publishing import PUBLISH_KEY, summarize_checks
    from pipelines.definitions import build_definitions
    from pipelines.resources import GoszakupResource
    from pipelines.settings import get_settings
    from tests.helpers import TEST_PREFIX

    # the process-wide settings were read before (as by any earlier test in this worker): the
    # check must follow the resource's settings, which read the environment set here
    get_settings()
    monkeypatch.setenv("GOSZAKUP_OCID_PREFIX", TEST_PREFIX)  # the prefix the shared warehouse was built with

    data_dir = tmp_path / "data"
    data_dir.mkdir()
    db = data_dir / "goszakup.duckdb"
    shutil.copyfile(built_warehouse[0], db)
    defs = build_definitions(GoszakupResource(data_dir=str(data_dir)))
    job = defs.resolve_implicit_global_asset_job_def()

    with DagsterInstance.ephemeral() as instance:
        clean = _run_check(job, instance)
        assert clean.passed, clean.metadata
        assert summarize_checks(instance, [CHECK])[0] is True

        with duckdb.connect(str(db)) as con:
            victim = con.execute("select ocid, id from ocds.contracts order by ocid, id limit 1").fetchone()
            con.execute("update ocds.contracts set value_amount = -5 where ocid = ? and id = ?", list(victim))
        broken = _run_check(job, instance)
        assert not broken.passed and broken.severity.value == "ERROR"
        failed = broken.metadata["failed_errors"].value
        assert "ocds.contracts.value_amount_non_negative" in failed, failed
        ok, summary = summarize_checks(instance, [CHECK])
        assert ok is False and summary["failed_errors"] == [CHECK.to_user_string()]

        publish = job.get_subset(asset_selection={PUBLISH_KEY})
        result = publish.execute_in_process(instance=instance, raise_on_error=False)
        mats = [m for m in result.asset_materializations_for_node("publish__dataset_version")]
        assert mats, "the publish asset did not run"
        meta = {k: getattr(v, "value", v) for k, v in mats[0].metadata.items()}
    assert meta["checks_passed"] is False and meta["latest_moved"] is False
    assert CHECK.to_user_string() in meta["checks"]["failed_errors"]
    index = json.loads((data_dir / "publish" / "versions.json").read_text())
    assert index["latest"] is None
    assert Path(meta["path"]).is_dir() and "failed" in Path(meta["path"]).parts
