"""The one Definitions loads, and holds every asset, check, job, schedule and sensor expected."""

from __future__ import annotations

import pytest
from dagster import AssetCheckKey, AssetKey

from pipelines.goszakup_api import ENTITIES


@pytest.fixture(scope="module")
def defs():
    from pipelines.definitions import defs

    return defs


@pytest.fixture(scope="module")
def graph(defs):
    return defs.resolve_asset_graph()


def test_definitions_validate(defs) -> None:
    from dagster import Definitions

    Definitions.validate_loadable(defs)


def test_one_raw_asset_per_entity(graph) -> None:
    keys = graph.get_all_asset_keys()
    for name in [*ENTITIES, "refs", "journal", "_quarantine"]:
        assert AssetKey(["raw", name]) in keys, name
    # journal-deletion transformers and child tables are part of their entity's asset
    assert not [k for k in keys if k.path[0] == "raw" and k.path[-1].endswith("_deletions")]
    assert AssetKey(["raw", "contract_units"]) not in keys


def test_dbt_models_connect_raw_to_publish(graph) -> None:
    stg = AssetKey(["staging", "stg_goszakup__contract_units"])
    assert AssetKey(["raw", "contract"]) in graph.get(stg).parent_keys
    ocds = [k for k in graph.get_all_asset_keys() if k.path[0] == "ocds"]
    assert ocds, "no OCDS models in the graph"
    publish = graph.get(AssetKey(["publish", "dataset_version"]))
    assert set(ocds) <= set(publish.parent_keys)
    # the main entities reach the publish asset through dbt
    for name in ("trd_buy", "lots", "contract"):
        assert AssetKey(["publish", "dataset_version"]) in _downstream(graph, AssetKey(["raw", name])), name


def _downstream(graph, key: AssetKey) -> set[AssetKey]:
    seen: set[AssetKey] = set()
    todo = [key]
    while todo:
        for child in graph.get(todo.pop()).child_keys:
            if child not in seen:
                seen.add(child)
                todo.append(child)
    return seen


def test_dbt_tests_and_gx_suites_are_blocking_checks(graph) -> None:
    checks = graph.asset_check_keys
    gx = {c for c in checks if c.name.startswith("gx_")}
    assert AssetCheckKey(AssetKey(["raw", "contract"]), "gx_raw_contract_units") in gx
    assert AssetCheckKey(AssetKey(["raw", "trd_buy"]), "gx_raw_trd_buy") in gx
    assert AssetCheckKey(AssetKey(["ocds", "releases"]), "gx_ocds_releases") in gx
    dbt_checks = [c for c in checks if not c.name.startswith("gx_") and c.asset_key.path[0] != "publish"]
    assert len(dbt_checks) > 50
    assert all(graph.get_check_spec(c).blocking for c in gx)
    assert AssetCheckKey(AssetKey(["publish", "dataset_version"]), "snapshot_verifies") in checks


def test_jobs_schedule_sensor(defs) -> None:
    daily = defs.resolve_job_def("daily_update")
    full = defs.resolve_job_def("full_rebuild")
    assert daily and full and defs.resolve_job_def("publish")
    schedule = defs.resolve_schedule_def("daily_update_schedule")
    assert schedule.cron_schedule == "0 3 * * *" and schedule.job_name == "daily_update"
    sensor = defs.resolve_sensor_def("publish_when_checks_pass")
    assert AssetKey(["publish", "dataset_version"]) in sensor.asset_selection.resolve(
        defs.resolve_asset_graph()
    )


def test_publish_waits_for_blocking_checks(graph) -> None:
    condition = graph.get(AssetKey(["publish", "dataset_version"])).automation_condition
    assert condition is not None
    assert "all_deps_blocking_checks_passed" in str(condition.get_label() or "") or "blocking" in repr(
        condition
    )


def test_source_error_classification() -> None:
    import requests

    from pipelines.assets.ingestion import is_source_error
    from pipelines.sources.http import SourceError

    def wrapped(cause: BaseException) -> RuntimeError:
        """As dlt hands it over: a step failure whose cause is the connector's error."""
        outer = RuntimeError("pipeline step extract failed")
        outer.__cause__ = cause
        return outer

    busy = SourceError("contract: HTTP 503 from POST http://x/v3/graphql", status=503, retryable=True)
    limited = SourceError("rnu: HTTP 429 from GET http://x/v3/rnu", status=429, retryable=True)
    assert is_source_error(wrapped(busy))
    assert is_source_error(wrapped(limited))
    assert is_source_error(wrapped(requests.ConnectionError("refused")))
    refused = SourceError("rnu: HTTP 401 from GET http://x/v3/rnu", status=401, retryable=False)
    assert not is_source_error(wrapped(refused))
    # the status is data: a message that merely mentions a 503 does not make a 401 retryable
    assert not is_source_error(SourceError("rnu: HTTP 503 in text only", status=401, retryable=False))
    assert not is_source_error(KeyError("a bug"))
