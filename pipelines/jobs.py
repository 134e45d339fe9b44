"""Jobs, the daily schedule and the publish automation.

* ``daily_update``: incremental load of every entity (only what changed since the last cursor),
  ``dbt build``, the GX suites, then publishing: what ``python -m pipelines run`` executes, and
  what the daily schedule starts at 03:00 Almaty time (the API's day is over).
* ``full_rebuild``: the same graph with the raw tables and their cursors dropped and reloaded
  from ``GOSZAKUP_INITIAL_DATE``, and ``dbt build --full-refresh``.
* ``publish``: the publish asset alone (and its verification check).
* ``publish_when_checks_pass``: an automation-condition sensor for the publish asset: when
  upstream models were rebuilt outside the jobs (e.g. from the UI), it publishes once every
  upstream blocking check (dbt error tests, GX suites) has passed, and never before.
"""

from dagster import (
    AssetSelection,
    AutomationConditionSensorDefinition,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    ScheduleDefinition,
    define_asset_job,
)

from pipelines.assets import ingestion, transformation
from pipelines.assets.publishing import PUBLISH_KEY

DAILY_CRON = "0 3 * * *"
TIMEZONE = "Asia/Almaty"

daily_update_job = define_asset_job(
    "daily_update",
    selection=AssetSelection.all(),
    description="Incremental load of every entity, dbt build with tests, GX suites, publish.",
    tags={"goszakup/mode": "incremental"},
)

full_rebuild_job = define_asset_job(
    "full_rebuild",
    selection=AssetSelection.all(),
    description="Drop and reload every raw table from the initial date, dbt build --full-refresh, checks, publish.",
    tags={"goszakup/mode": "full"},
    config={
        "ops": {
            ingestion.OP_NAME: {"config": {"full_refresh": True}},
            transformation.OP_NAME: {"config": {"full_refresh": True}},
        }
    },
)

publish_job = define_asset_job(
    "publish",
    selection=AssetSelection.assets(PUBLISH_KEY),
    description="Publish a version from the current warehouse (gated by the latest check results).",
)

daily_schedule = ScheduleDefinition(
    name="daily_update_schedule",
    job=daily_update_job,
    cron_schedule=DAILY_CRON,
    execution_timezone=TIMEZONE,
    default_status=DefaultScheduleStatus.RUNNING,
    description="Every day at 03:00 Almaty time: incremental load and rebuild.",
)

publish_sensor = AutomationConditionSensorDefinition(
    "publish_when_checks_pass",
    target=AssetSelection.assets(PUBLISH_KEY),
    default_status=DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=60,
    description="Publishes after upstream updates, only once every upstream blocking check passed.",
)

JOBS = [daily_update_job, full_rebuild_job, publish_job]
SCHEDULES = [daily_schedule]
SENSORS = [publish_sensor]
