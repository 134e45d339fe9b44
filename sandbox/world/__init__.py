"""The sandbox's synthetic procurement world: a deterministic DuckDB file behind the sandbox API.

Why synthetic and why this shape: the pipeline (connector, dbt, risk marts) must be testable and
benchmarkable without a token for the real API, and the risk indicators need a world whose
answers are known. So the world is generated from ``(seed, scale)`` alone, holds one table per
entity of :mod:`pipelines.goszakup_api` with exactly the contract's fields, and carries planted
risk patterns (:mod:`sandbox.patterns`) with their ground truth.

How it scales: buyers are processed in blocks ("chunks"); each chunk has its own RNG derived from
``(seed, chunk)`` and is appended to DuckDB as Arrow tables, so memory stays bounded at the
national scale (``scale=450``). Ids come from global counters in chunk order, so every table is
written sorted by its primary key (the server pages by keyset on it).

:func:`advance_world` applies "epochs" of later changes (updates, deletions, inserts) and records
them in the ``journal`` table, so incremental loading and deletion handling can be tested.

Modules: ``constants`` (sizes, time frame, code tables), ``layout`` (tables from the contract),
``ids`` (BIN/IIN), ``catalogue`` (items, reference rows), ``parties`` (participants, plan, shared
state), ``records``/``procurement``/``chunk`` (one block of buyers), ``planting`` (risk patterns),
``build`` (the file and its cache), ``ground_truth`` and ``epochs`` (later changes).
"""

from sandbox.world.build import build_world, ensure_world, world_path
from sandbox.world.constants import EPOCH_BASE, GENERATOR_VERSION
from sandbox.world.epochs import advance_world
from sandbox.world.ground_truth import ground_truth, write_ground_truth
from sandbox.world.ids import kz_check_digit, valid_biin
from sandbox.world.layout import CHILD_OF, TABLES, TableSpec

__all__ = [
    "CHILD_OF",
    "EPOCH_BASE",
    "GENERATOR_VERSION",
    "TABLES",
    "TableSpec",
    "advance_world",
    "build_world",
    "ensure_world",
    "ground_truth",
    "kz_check_digit",
    "valid_biin",
    "world_path",
    "write_ground_truth",
]
