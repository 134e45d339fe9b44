"""``python -m tools.bench``: time and memory of every pipeline stage, next to a raw-DuckDB baseline.

Why a command and not a timed test: speed depends on the machine, so the figures are printed (and
written to ``docs/benchmarks.md`` with ``--out``) for a person to read, not asserted.

What it does, for each ``--scale`` (1 is a small world, 450 a national year):

1. ``world``: builds the sandbox world (``python -m sandbox build``), or copies ``--world``.
2. ``ingest``: serves the world with the sandbox in a process of its own (``--rate-limit`` requests/s,
   0 none) and runs the full load ``python -m pipelines.ingest`` against it; then fetches every
   page again with plain HTTP (the "API floor"), and loads the dumped JSON with ``read_json`` in
   one DuckDB process (the baseline).
3. ``dbt``: ``dbt build``; baseline: the compiled SQL of every model and data test run directly.
4. ``checks``: the Great Expectations suites of the raw, OCDS and risk layers (``validate_layer``
   with reports, as the pipeline runs them); baseline: every check as an SQL aggregate.
5. ``publish``: ``python -m publish build``; baseline: ``COPY`` of the same tables to Parquet and
   gzipped CSV.
6. ``daily``: advances the world one epoch (``POST /_sandbox/advance``: ~0.5 % of rows changed),
   then the incremental load, dbt, checks and publish again (the daily update); baseline of the
   load: the delta pages merged into the baseline's raw tables with SQL.

Every stage and every baseline runs in a child process, so its wall time, CPU time and peak
resident memory (``os.wait4``) are its own. Printed per stage: wall s, CPU s, peak MiB, rows,
rows/s, baseline s and the ratio to it; and how busy the API was during each load (requests/s
against the rate limit, share of the load with a request in flight, mean concurrency), from the
sandbox's ``/_sandbox/stats``.

Modules: ``cli`` (the command line), ``stages`` (one run at one scale), ``measure`` (a child process
timed), ``sandbox_process`` (the API in its own process), ``child`` (the checks and baseline
children), ``baselines`` (the raw-DuckDB baselines), ``results`` and ``report`` (figures, goals,
Markdown).
"""

from tools.bench.cli import main
from tools.bench.measure import NATIONAL_SCALE, STAGES
from tools.bench.report import HEADERS, goals, load_runs, national_estimate
from tools.bench.results import ScaleRun, StageResult

__all__ = [
    "HEADERS",
    "NATIONAL_SCALE",
    "STAGES",
    "ScaleRun",
    "StageResult",
    "goals",
    "load_runs",
    "main",
    "national_estimate",
]
