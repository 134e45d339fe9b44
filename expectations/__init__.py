"""Quality gates: Great Expectations suites for the raw, OCDS and risk layers.

Public API (what the Dagster asset checks and the publish step call)::

    from expectations import validate_layer, validate_table, suite_names
    result = validate_layer("data/goszakup.duckdb", "raw", report_dir=run_dir / "quality")
    result.passed        # False when an error-severity check failed: do not publish
    result.summary()     # JSON-able; pass it as ``previous`` to the next build

Every check has a stable name (``raw.contract.contract_sum_non_negative``) and a severity; the
catalogue is docs/quality.md.
"""

from expectations.runner import LayerResult, asset_check_outcome, suite_names, validate_layer, validate_table
from expectations.spec import LAYERS, CheckResult

__all__ = [
    "LAYERS",
    "CheckResult",
    "LayerResult",
    "asset_check_outcome",
    "suite_names",
    "validate_layer",
    "validate_table",
]
