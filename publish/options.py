"""What a publish build needs to know beyond the warehouse: :class:`PublishOptions`.

Why a small dataclass instead of the pipeline's settings: ``publish/`` is usable on its own (by the
Dagster asset, the ``python -m publish`` CLI, an auditor's script), so it takes its values as
arguments and never reaches for process-wide settings. The caller that holds the run's settings
builds the options (``Settings.publish_options()`` in the pipeline).
"""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_PUBLISHER = "goszakup open data (unofficial re-publication of goszakup.gov.kz)"
DEFAULT_URI_BASE = "https://example.invalid/goszakup-open-data"


@dataclass(frozen=True)
class PublishOptions:
    """Values a version is built with.

    ``api_base_url`` is the token-free description of the source written to the manifest;
    ``secret`` is the API token, given only so it can be masked wherever it might appear (it is
    never written); ``dataset_version`` overrides the next SemVer; ``duckdb_config`` configures the
    read-only warehouse connection (e.g. its memory limit).
    """

    ocid_prefix: str
    api_base_url: str
    secret: str | None = field(default=None, repr=False)
    dataset_version: str | None = None
    duckdb_config: dict[str, str] = field(default_factory=dict)
    publisher_name: str = DEFAULT_PUBLISHER
    uri_base: str = DEFAULT_URI_BASE
