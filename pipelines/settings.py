"""All settings of the pipeline, typed, in one place.

Every value can be set by an environment variable ``GOSZAKUP_<NAME>`` (or a ``.env`` file).
Why one place: the Dagster resources, the ingestion command, the sandbox, dbt and publishing all
read the same object, so a data engineer changes a path or a limit once.

The API token is a ``SecretStr``: it prints as ``**********`` and is only unwrapped where the
``Authorization`` header is built.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from pydantic_settings import SettingsError as EnvParseError

if TYPE_CHECKING:  # pragma: no cover
    from publish.options import PublishOptions

REPO_ROOT = Path(__file__).resolve().parent.parent
REAL_API_BASE_URL = "https://ows.goszakup.gov.kz"
#: The sandbox accepts this token and only this one (it is not a secret).
SANDBOX_TOKEN = "sandbox-token"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="GOSZAKUP_", env_file=".env", extra="ignore", validate_default=True
    )

    # --- source API -------------------------------------------------------------------------
    token: SecretStr | None = Field(
        default=None,
        description="Bearer token for the real API. When set (and api_base_url is not), the real API is used.",
    )
    api_base_url: str | None = Field(
        default=None,
        description="Base URL of the API. Empty: the real API when a token is set, else a local sandbox.",
    )
    ca_bundle: Path | None = Field(
        default=None, description="CA bundle to verify the API's TLS certificate. Verification is never off."
    )
    request_timeout_s: float = Field(default=60.0, gt=0)
    max_retries: int = Field(default=8, ge=0, le=50, description="Retries on 429/5xx/timeouts per request.")
    backoff_factor: float = Field(default=1.0, ge=0, description="Exponential backoff base in seconds.")
    max_retry_delay_s: float = Field(default=120.0, gt=0)
    api_rate_limit: float = Field(
        default=0.0,
        ge=0,
        description=(
            "Requests per second the client sends at most, over all its threads (0: no limit). The "
            "API's limit is undocumented (public clients assume 5/s): set it to the known limit and "
            "the load runs at that rate instead of provoking 429s that park a stream for Retry-After."
        ),
    )
    graphql_page_size: int = Field(
        default=200, ge=1, description="GraphQL limit per page (the API allows 200)."
    )
    rest_page_size: int = Field(default=500, ge=1, description="REST limit per page.")
    entities: list[str] | None = Field(default=None, description="Entities to load; empty means all.")
    initial_date: str = Field(
        default="2000-01-01 00:00:00",
        description="First lastUpdateDate of a full load (API local time, YYYY-MM-DD HH:MM:SS).",
    )
    journal_start_date: dt.date | None = Field(
        default=None,
        description=(
            "First day of the change journal read on a full load. Default: journal_lookback_days before "
            "the run for the real API (a full load holds no deleted object), the first day of change "
            "of the sandbox world."
        ),
    )
    journal_lookback_days: int = Field(default=7, ge=0, description="See journal_start_date.")
    journal_days_per_request: int = Field(default=31, ge=1, le=366)
    quarantine_max_share: float = Field(
        default=0.01,
        ge=0,
        le=1,
        description=(
            "Share of an entity's records (received this run) that may go to quarantine before the "
            "build fails its error-level quarantine_rate check and latest stays where it is."
        ),
    )
    source_timezone: str = Field(
        default="Asia/Almaty",
        description="Zone of the API's naive timestamps (UTC+6 before 2024-03-01, UTC+5 after). Unconfirmed.",
    )

    # --- destination ------------------------------------------------------------------------
    data_dir: Path = Field(default=REPO_ROOT / "data")
    duckdb_path: Path | None = Field(
        default=None, description="Warehouse file (default: <data_dir>/goszakup.duckdb)."
    )
    destination: str = Field(
        default="duckdb", description="dlt destination name (duckdb, filesystem, motherduck ...)."
    )
    dataset_name: str = Field(default="raw", description="Schema the raw tables land in.")
    loader_file_format: str = Field(
        default="parquet",
        description=(
            "File format dlt loads with. parquet keeps memory flat (dlt's default for DuckDB, SQL "
            "insert_values, grows with the table: 3.4 GiB at scale 1; see docs/benchmarks.md)."
        ),
    )
    duckdb_memory_limit: str = Field(
        default="4GB",
        pattern=r"^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$",
        description=(
            "DuckDB memory_limit of every connection that works the warehouse (dlt's load, dbt, the "
            "checks, publish). DuckDB's default is 80 % of RAM, which it fills with cache at scale; "
            "4GB keeps a national year under the 6 GiB goal (docs/benchmarks.md)."
        ),
    )
    pipeline_name: str = Field(default="goszakup")
    pipelines_dir: Path | None = Field(
        default=None, description="dlt's working folder (default: <data_dir>/dlt)."
    )

    # --- sandbox ----------------------------------------------------------------------------
    sandbox_seed: int = Field(default=42)
    sandbox_scale: float = Field(
        default=1.0, gt=0, description="1 is a small world for tests; 450 is a national year."
    )
    sandbox_host: str = Field(default="127.0.0.1")
    sandbox_port: int = Field(default=0, ge=0, le=65535, description="0 picks a free port.")
    sandbox_rate_limit: float = Field(
        default=0.0, ge=0, description="Requests per second before the sandbox answers 429 (0: no limit)."
    )

    # --- dataset ----------------------------------------------------------------------------
    ocid_prefix: str = Field(
        default="ocds-xxxxxx-goszakup",
        description="OCDS ocid prefix. Not registered with OCP yet: a placeholder, said so in the metadata.",
    )
    publish_dir: Path | None = Field(
        default=None, description="Where versions are published (default: <data_dir>/publish)."
    )
    dataset_version: str | None = Field(
        default=None, description="SemVer override for the next published version."
    )

    @field_validator("api_base_url")
    @classmethod
    def _strip_slash(cls, v: str | None) -> str | None:
        if v is None or v == "":
            return None
        if not v.startswith(("http://", "https://")):
            raise ValueError(f"GOSZAKUP_API_BASE_URL must start with http:// or https://, got {v!r}")
        return v.rstrip("/")

    @field_validator("source_timezone")
    @classmethod
    def _check_zone(cls, v: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"not a time zone name (e.g. Asia/Almaty): {v!r}") from None
        return v

    @field_validator("initial_date")
    @classmethod
    def _check_date(cls, v: str) -> str:
        for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
            try:
                parsed = dt.datetime.strptime(v, fmt)
            except ValueError:
                continue
            if parsed.date() > dt.date.today():
                raise ValueError(f"{v!r} is in the future: a load cannot start after today")
            return parsed.strftime("%Y-%m-%d %H:%M:%S")
        raise ValueError(f"must look like 2024-01-31 or 2024-01-31 00:00:00, got {v!r}")

    @field_validator("entities", mode="before")
    @classmethod
    def _split_entities(cls, v: object) -> object:
        if isinstance(v, str):
            return [p.strip() for p in v.split(",") if p.strip()] or None
        return v

    @model_validator(mode="after")
    def _check_entities(self) -> Settings:
        from pipelines.goszakup_api import entity

        for name in self.entities or []:
            entity(name)  # raises with the list of valid names
        if self.journal_start_date is not None and self.journal_start_date > dt.date.today():
            raise ValueError(f"GOSZAKUP_JOURNAL_START_DATE {self.journal_start_date} is in the future")
        if self.ca_bundle is not None and not self.ca_bundle.is_file():
            raise ValueError(f"GOSZAKUP_CA_BUNDLE points to {self.ca_bundle}, which is not a file")
        return self

    # --- derived ----------------------------------------------------------------------------
    @property
    def uses_sandbox(self) -> bool:
        """True when no real API is configured: the job starts a local sandbox."""
        return self.api_base_url is None and self.token is None

    @property
    def duckdb_config(self) -> dict[str, str]:
        """Configuration of a DuckDB connection to the warehouse (``duckdb.connect(config=...)``)."""
        return {"memory_limit": self.duckdb_memory_limit}

    @property
    def warehouse_path(self) -> Path:
        return self.duckdb_path or self.data_dir / "goszakup.duckdb"

    @property
    def dlt_pipelines_dir(self) -> Path:
        return self.pipelines_dir or self.data_dir / "dlt"

    @property
    def publish_root(self) -> Path:
        return self.publish_dir or self.data_dir / "publish"

    def publish_options(self) -> PublishOptions:
        """What ``publish/`` needs from these settings (it never reads settings itself)."""
        from publish.options import PublishOptions

        return PublishOptions(
            ocid_prefix=self.ocid_prefix,
            api_base_url="sandbox (synthetic data)" if self.uses_sandbox else self.resolved_base_url(),
            secret=self.token.get_secret_value() if self.token is not None else None,
            dataset_version=self.dataset_version,
            duckdb_config=self.duckdb_config,
        )

    def resolved_base_url(self) -> str:
        if self.api_base_url:
            return self.api_base_url
        if self.token is not None:
            return REAL_API_BASE_URL
        raise RuntimeError("no API configured: start the sandbox (sandbox.run_sandbox) first")


class InvalidSettings(ValueError):
    """Settings that do not validate, described one line per problem with the variable's name."""


def describe_errors(exc: ValidationError) -> str:
    """``GOSZAKUP_<NAME>: problem`` lines for a pydantic validation error (no traceback)."""
    lines = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"])
        name = f"GOSZAKUP_{where.upper()}" if where else "settings"
        message = str(err["msg"]).removeprefix("Value error, ")
        lines.append(f"{name}: {message} (got {err.get('input')!r})" if where else message)
    return "\n".join(lines)


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment plus ``overrides``; invalid values raise ``InvalidSettings``."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise InvalidSettings(describe_errors(exc)) from None
    except EnvParseError as exc:  # a GOSZAKUP_* value that is not even parseable
        raise InvalidSettings(str(exc)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (read once from the environment)."""
    return load_settings()
