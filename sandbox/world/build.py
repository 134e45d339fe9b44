"""Building the world file: parties, chunks in order, reference tables, ground truth; and its cache path."""

from __future__ import annotations

import datetime as dt
import itertools
import os
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from sandbox import patterns as pt
from sandbox.world.catalogue import ref_rows
from sandbox.world.chunk import Chunk
from sandbox.world.constants import (
    BASE_ANNOUNCEMENTS_PER_SCALE,
    CHUNK_BUYERS,
    DATE_FROM,
    DATE_TO,
    GENERATOR_VERSION,
    ID_BASES,
)
from sandbox.world.ground_truth import _write_ground_truth_table
from sandbox.world.layout import EXTRA_DDL, TABLES, Buf, fmt
from sandbox.world.parties import Party, Plan, SubjectWriter, World, _rand_dt
from sandbox.world.planting import dedicated_rnu, make_dedicated_suppliers, plant

# ================================================================================================
# Building the file
# ================================================================================================


def _insert(con: duckdb.DuckDBPyConnection, name: str, table: pa.Table) -> None:
    if table.num_rows == 0:
        return
    con.register("_chunk_rows", table)
    try:
        con.execute(f"INSERT INTO {name} SELECT * FROM _chunk_rows")
    finally:
        con.unregister("_chunk_rows")


def _make_parties(plan: Plan, con: duckdb.DuckDBPyConnection) -> World:
    """Buyers, background and dedicated suppliers, dormant suppliers, and the RNU register."""
    rng = np.random.default_rng([plan.seed, 0, 0])
    sbuf = Buf(TABLES["subject"])
    pids = itertools.count(ID_BASES["subject"])
    writer = SubjectWriter(rng, sbuf, pids)
    buyers = [writer.buyer(i) for i in range(plan.n_buyers)]
    suppliers = [writer.supplier() for _ in range(plan.n_suppliers)]
    by_region: dict[str, list[int]] = {}
    for i, s in enumerate(suppliers):
        by_region.setdefault(s.region, []).append(i)
    dedicated = make_dedicated_suppliers(plan, writer, rng)
    dormant = [
        writer.supplier(regdate=_rand_dt(rng, dt.datetime(2015, 1, 1), dt.datetime(2022, 6, 1)))
        for _ in range(plan.n_dormant)
    ]
    # RNU: background entries expired before the world's first award; some dormant ones active
    rbuf = Buf(TABLES["rnu"])
    rnu_rows: list[tuple[Party, dt.datetime, dt.datetime, str]] = []
    expired = [
        suppliers[int(i)]
        for i in rng.choice(len(suppliers), size=max(5, len(suppliers) // 40), replace=False)
    ]
    for p in expired:
        start = _rand_dt(rng, dt.datetime(2018, 1, 1), dt.datetime(2020, 6, 1))
        rnu_rows.append((p, start, start + dt.timedelta(days=730), "Уклонение от заключения договора"))
    for p in dormant[: len(dormant) // 2]:
        start = _rand_dt(rng, dt.datetime(2023, 1, 1), dt.datetime(2024, 6, 1))
        rnu_rows.append((p, start, start + dt.timedelta(days=730), "Неисполнение обязательств по договору"))
    rnu_rows.extend(dedicated_rnu(dedicated))
    rnu_rows.sort(key=lambda r: (r[1], r[0].pid))
    for i, (p, start, end, reason) in enumerate(rnu_rows):
        rbuf.add(
            id=ID_BASES["rnu"] + i,
            pid=p.pid,
            supplier_name_ru=p.name_ru,
            supplier_biin=p.biin,
            supplier_innunp=None,
            start_date=fmt(start),
            end_date=fmt(end),
            kato_list=[p.kato],
            reason=reason,
        )
    _insert(con, "subject", sbuf.arrow())
    _insert(con, "rnu", rbuf.arrow())
    return World(plan, buyers, suppliers, by_region, dedicated)


def _write_refs(con: duckdb.DuckDBPyConnection) -> None:
    for name, rows in ref_rows().items():
        buf = Buf(TABLES[name])
        for row in sorted(rows, key=lambda r: r["id"]):
            buf.add(**row)
        _insert(con, name, buf.arrow())


def _announcement_counts(plan: Plan) -> list[int]:
    """Base announcements per buyer: log-normal buyer sizes summing to the target."""
    rng = np.random.default_rng([plan.seed, 0, 1])
    sizes = rng.lognormal(0.0, 0.8, plan.n_buyers)
    total = BASE_ANNOUNCEMENTS_PER_SCALE * plan.scale
    counts = np.maximum(3, np.round(sizes / sizes.sum() * total)).astype(int)
    return [int(c) for c in counts]


def build_world(path: Path, *, seed: int = 42, scale: float = 1.0, progress: bool = False) -> Path:
    """Generate the world for ``(seed, scale)`` into a DuckDB file at ``path`` (atomically).

    Same seed and scale give identical tables. Scale 1 is a test world (~2,000 announcements);
    scale 450 is about a national year.
    """
    if scale <= 0:
        raise ValueError(f"scale must be > 0, got {scale}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    for p in (tmp, tmp.with_name(tmp.name + ".wal")):
        p.unlink(missing_ok=True)
    plan = Plan.for_scale(seed, scale)
    con = duckdb.connect(str(tmp))
    try:
        for spec in TABLES.values():
            con.execute(spec.ddl())
        for ddl in EXTRA_DDL:
            con.execute(ddl)
        _write_refs(con)
        world = _make_parties(plan, con)
        counts = _announcement_counts(plan)
        gt: list[dict] = []
        chunks = range(plan.n_chunks)
        bar = None
        if progress:
            from rich.progress import Progress

            bar = Progress()
            bar.start()
            task = bar.add_task(f"world s{seed} x{scale:g}", total=plan.n_chunks)
        try:
            for c in chunks:
                lo, hi = c * CHUNK_BUYERS, min((c + 1) * CHUNK_BUYERS, plan.n_buyers)
                chunk = Chunk(world, c, world.buyers[lo:hi])
                # planted cases first (they reserve pairs and bidder sets), then the background
                plant(chunk)
                for b, buyer in enumerate(chunk.buyers):
                    chunk.background(buyer, counts[lo + b])
                for name, table in chunk.tables().items():
                    _insert(con, name, table)
                gt.extend(chunk.gt)
                if bar is not None:
                    bar.advance(task)
        finally:
            if bar is not None:
                bar.stop()
        _write_ground_truth_table(con, gt)
        meta = {
            "seed": str(seed),
            "scale": f"{scale:g}",
            "epoch": "0",
            "generator_version": GENERATOR_VERSION,
            "date_from": fmt(DATE_FROM),
            "date_to": fmt(DATE_TO),
            "split_threshold_kzt": f"{pt.SPLIT_THRESHOLD_KZT:.0f}",
        }
        con.executemany("INSERT INTO world_meta VALUES (?, ?)", sorted(meta.items()))
        con.execute("CHECKPOINT")
    finally:
        con.close()
    os.replace(tmp, path)
    return path


def world_path(data_dir: Path, *, seed: int = 42, scale: float = 1.0) -> Path:
    """Where :func:`ensure_world` caches the world for ``(seed, scale)``."""
    return Path(data_dir) / "sandbox" / f"world-s{seed}-x{scale:g}.duckdb"


def ensure_world(data_dir: Path, *, seed: int = 42, scale: float = 1.0) -> Path:
    """The cached world file for ``(seed, scale)`` under ``data_dir``, built if missing."""
    path = world_path(data_dir, seed=seed, scale=scale)
    if not path.exists():
        build_world(path, seed=seed, scale=scale)
    return path


# ================================================================================================
# Ground truth
# ================================================================================================
