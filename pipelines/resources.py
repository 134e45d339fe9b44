"""Dagster resources: where the data comes from (sandbox or real API) and the dbt CLI.

Why a resource around :mod:`pipelines.settings`: every asset (ingestion, dbt, quality checks,
publishing) must agree on one warehouse, one publish folder and one API. The resource holds only
optional overrides (run config, tests); everything else, the token included, comes from the
``GOSZAKUP_*`` environment through :class:`~pipelines.settings.Settings`. The token is never a
resource field, so it never lands in run config stored by the Dagster instance.

Swapping the sandbox for the real API is configuration only: set ``GOSZAKUP_TOKEN`` (or
``GOSZAKUP_API_BASE_URL``), or give ``api_base_url`` to the resource.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from dagster import ConfigurableResource
from dagster_dbt import DbtCliResource, DbtProject

from pipelines.dbt_project import dbt_executable, dbt_project
from pipelines.ingest import api_endpoint, describe_source
from pipelines.settings import Settings, get_settings


class GoszakupResource(ConfigurableResource):
    """The goszakup API (a local sandbox unless a real API is configured) and the data folders.

    Fields left ``None`` fall back to the environment (``GOSZAKUP_*``) and the defaults of
    :class:`~pipelines.settings.Settings`.
    """

    data_dir: str | None = None
    duckdb_path: str | None = None
    publish_dir: str | None = None
    api_base_url: str | None = None
    sandbox_scale: float | None = None
    sandbox_seed: int | None = None

    def get_settings(self) -> Settings:
        """The effective settings: environment plus this resource's overrides."""
        overrides: dict[str, Any] = {
            name: value
            for name, value in {
                "data_dir": self.data_dir,
                "duckdb_path": self.duckdb_path,
                "publish_dir": self.publish_dir,
                "api_base_url": self.api_base_url,
                "sandbox_scale": self.sandbox_scale,
                "sandbox_seed": self.sandbox_seed,
            }.items()
            if value is not None
        }
        return Settings(**overrides) if overrides else get_settings()

    @contextlib.contextmanager
    def endpoint(self) -> Iterator[tuple[str, str]]:
        """(base_url, token) of the API; starts and stops the sandbox when no API is configured."""
        with api_endpoint(self.get_settings()) as (base_url, token):
            yield base_url, token

    def describe_source(self) -> str:
        """A token-free description of the source, for run metadata."""
        return describe_source(self.get_settings())


def make_dbt_resource(project: DbtProject = dbt_project) -> DbtCliResource:
    """The dbt CLI resource over the project, with the virtualenv's dbt."""
    return DbtCliResource(project_dir=project, dbt_executable=dbt_executable())
