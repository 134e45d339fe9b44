"""The quarantine gate: an error-level asset check per API entity on what this run refused.

Why a gate and not just a count: coercion (``sources/coercion.py``) keeps every value that converts
without loss, so what still reaches ``raw._quarantine`` is lost information. A few such records are
the source's noise; many mean the API changed under the contract, and a dataset built from the rest
would silently miss an entity. The check fails (and, being blocking, stops dbt and publishing, so
``latest`` does not move) when

* the entity's quarantined share of the records the API returned this run passes
  ``GOSZAKUP_QUARANTINE_MAX_SHARE`` (default 0.01), or
* the API returned records for the entity and none landed in its table.

Its description is one line: entity, field, reason, count and an example record id.
"""

from collections.abc import Iterator, Sequence
from typing import Any

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckKey,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetKey,
    MetadataValue,
    multi_asset_check,
)

from pipelines.goszakup_api import ENTITIES
from pipelines.resources import GoszakupResource

CHECK_NAME = "quarantine_rate"


def _value(entry: Any) -> Any:
    return getattr(entry, "value", entry)


def gate_verdict(entity: str, metadata: dict[str, Any], max_share: float) -> tuple[bool, str, dict[str, Any]]:
    """(passed, one line, figures) from the entity's materialization metadata of this run."""
    received = int(metadata.get("records_received") or 0)
    refused = int(metadata.get("quarantined_in_run") or 0)
    landed = int((metadata.get("rows_loaded_by_table") or {}).get(entity, metadata.get("rows_loaded") or 0))
    refusals = sorted(metadata.get("refusals") or [], key=lambda r: (-r["count"], r["field"]))
    share = refused / received if received else 0.0
    figures = {"records_received": received, "quarantined": refused, "rows_landed": landed, "share": share}
    top = refusals[0] if refusals else None
    worst = (
        f"{top['field']}: {top['reason']}: {top['count']} records, e.g. id {top['example_id']}"
        if top
        else "no refusal recorded"
    )
    if received and landed == 0:
        return False, f"{entity}: the API returned {received} records and 0 rows landed; {worst}", figures
    if share > max_share:
        return (
            False,
            f"{entity}: {refused} of {received} records quarantined ({share:.1%} > {max_share:.1%}); {worst}",
            figures,
        )
    return True, f"{entity}: {refused} of {received} records quarantined ({share:.2%})", figures


def build_quarantine_gate(entity_keys: Sequence[AssetKey]) -> AssetChecksDefinition:
    """One blocking, error-level ``quarantine_rate`` check per entity asset in ``entity_keys``."""
    keys = [k for k in entity_keys if k.path[-1] in ENTITIES]
    specs = [
        AssetCheckSpec(
            name=CHECK_NAME,
            asset=key,
            blocking=True,
            description=(
                "Quarantined share of the records the API returned this run stays under "
                "GOSZAKUP_QUARANTINE_MAX_SHARE, and records returned land as rows."
            ),
        )
        for key in keys
    ]

    @multi_asset_check(specs=specs, name="quarantine_gate", can_subset=True)
    def quarantine_gate(
        context: AssetCheckExecutionContext, goszakup: GoszakupResource
    ) -> Iterator[AssetCheckResult]:
        max_share = goszakup.get_settings().quarantine_max_share
        run_id = context.op_execution_context.run_id
        for check_key in sorted(
            context.selected_asset_check_keys, key=lambda k: k.asset_key.to_user_string()
        ):
            yield _evaluate(context, check_key, run_id, max_share)

    return quarantine_gate


def _evaluate(
    context: AssetCheckExecutionContext, check_key: AssetCheckKey, run_id: str, max_share: float
) -> AssetCheckResult:
    entity = check_key.asset_key.path[-1]
    event = context.instance.get_latest_materialization_event(check_key.asset_key)
    if event is None or event.run_id != run_id or event.asset_materialization is None:
        return AssetCheckResult(
            asset_key=check_key.asset_key,
            check_name=check_key.name,
            passed=True,
            description=f"{entity}: not loaded in this run",
        )
    metadata = {k: _value(v) for k, v in event.asset_materialization.metadata.items()}
    passed, line, figures = gate_verdict(entity, metadata, max_share)
    if not passed:
        context.log.error(line)
    return AssetCheckResult(
        asset_key=check_key.asset_key,
        check_name=check_key.name,
        passed=passed,
        severity=AssetCheckSeverity.ERROR,
        description=line,
        metadata={
            "summary": MetadataValue.text(line),
            "max_share": MetadataValue.float(max_share),
            "share": MetadataValue.float(round(figures["share"], 6)),
            "records_received": MetadataValue.int(figures["records_received"]),
            "quarantined": MetadataValue.int(figures["quarantined"]),
            "rows_landed": MetadataValue.int(figures["rows_landed"]),
            "refusals": MetadataValue.json(metadata.get("refusals") or []),
        },
    )
