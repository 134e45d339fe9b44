"""Planting the risk patterns into a chunk and recording their ground truth.

Each function plants one pattern through the same :meth:`Chunk.procure` the background uses; the
thresholds and reference rules live in :mod:`sandbox.patterns`, which imports nothing of the world.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable

import numpy as np

from sandbox.patterns import (
    AMENDMENT_COUNT,
    AMENDMENT_RAISE,
    FAR_BELOW_SHARE,
    RING_LOTS,
    RING_MAX_SIZE,
    RING_MIN_SIZE,
    SHORT_PERIOD_DAYS,
    SPLIT_THRESHOLD_KZT,
)
from sandbox.world.catalogue import ITEMS
from sandbox.world.chunk import Chunk
from sandbox.world.constants import REJECT_REASONS
from sandbox.world.parties import Party, Plan, SubjectWriter
from sandbox.world.records import Bid, LotSpec, Proc

# ================================================================================================
# Dedicated suppliers (only ever win planted cases)
# ================================================================================================

_DATE_FROM = dt.datetime(2023, 1, 9)
_LAST_PUBLISH = dt.datetime(2024, 11, 1)


def ring_counts(plan: Plan) -> list[int]:
    """Rings per chunk: enough rings of RING_LOTS[0] lots to reach the chunk's share of cases."""
    return [math.ceil(plan.share(plan.cases, c) / RING_LOTS[0]) for c in range(plan.n_chunks)]


def make_dedicated_suppliers(
    plan: Plan, writer: SubjectWriter, rng: np.random.Generator
) -> dict[str, list[Party]]:
    """Suppliers reserved for one pattern: new companies, debarred firms, ring members."""
    new = []
    for _ in range(plan.cases):
        reg = _DATE_FROM + dt.timedelta(days=float(rng.uniform(20, (_LAST_PUBLISH - _DATE_FROM).days - 30)))
        new.append(writer.supplier(regdate=reg.replace(hour=10, minute=0, second=0), type_supplier=1))
    debarred = [writer.supplier(type_supplier=1) for _ in range(plan.cases)]
    ring = [writer.supplier(type_supplier=1) for _ in range(RING_MAX_SIZE * sum(ring_counts(plan)))]
    # when each debarment starts (stored on the party list order; see dedicated_rnu)
    starts = [_DATE_FROM + dt.timedelta(days=float(rng.uniform(0, 560))) for _ in debarred]
    for p, s in zip(debarred, starts, strict=True):
        p.rnu_start = s.replace(hour=0, minute=0, second=0)
    return {"new_company": new, "debarred_winner": debarred, "bid_rotation": ring}


def dedicated_rnu(dedicated: dict[str, list[Party]]) -> list[tuple[Party, dt.datetime, dt.datetime, str]]:
    """RNU entries of the debarred suppliers: two years from their start."""
    return [
        (p, p.rnu_start, p.rnu_start + dt.timedelta(days=730), "Неисполнение обязательств по договору")
        for p in dedicated["debarred_winner"]
    ]


def _slice(chunk: Chunk, pattern: str, per_chunk: list[int] | None = None) -> list[Party]:
    plan = chunk.world.plan
    pool = chunk.world.dedicated[pattern]
    if per_chunk is None:
        lo = chunk.index * plan.cases // plan.n_chunks
        return pool[lo : lo + plan.share(plan.cases, chunk.index)]
    lo = sum(per_chunk[: chunk.index]) * RING_MAX_SIZE
    return pool[lo : lo + per_chunk[chunk.index] * RING_MAX_SIZE]


# ================================================================================================
# Planting
# ================================================================================================


def _publish(chunk: Chunk, lo: dt.datetime = _DATE_FROM, hi: dt.datetime = _LAST_PUBLISH) -> dt.datetime:
    t = lo + dt.timedelta(seconds=float(chunk.rng.uniform(0, max(1.0, (hi - lo).total_seconds()))))
    return dt.datetime(t.year, t.month, t.day, 9) + dt.timedelta(seconds=int(chunk.rng.integers(9 * 3600)))


def _gt(
    chunk: Chunk,
    pattern: str,
    grain: str,
    object_type: str,
    object_id: int,
    buyer: Party,
    supplier: Party | None,
    proc: Proc | list[Proc],
    **details,
) -> None:
    procs = proc if isinstance(proc, list) else [proc]
    details["trd_buy_ids"] = sorted({p.trd_buy_id for p in procs})
    chunk.gt.append(
        {
            "pattern": pattern,
            "grain": grain,
            "object_type": object_type,
            "object_id": int(object_id),
            "buyer_pid": buyer.pid,
            "supplier_pid": supplier.pid if supplier else None,
            "details": details,
        }
    )


def _open_method(chunk: Chunk) -> int:
    return int(chunk.choice([3, 2, 7], [0.6, 0.25, 0.15]))


def _force_winner(chunk: Chunk, bids: list, party: Party) -> None:
    """Make ``party``'s bid the lowest (just below the others) and admitted."""
    others = [b.price for b in bids if b.supplier.pid != party.pid]
    for b in bids:
        if b.supplier.pid == party.pid:
            b.price = round(min(others) * chunk.uniform(0.96, 0.995), 2)
            b.status, b.reject_reason = 1, None


def _competitive(
    chunk: Chunk, buyer: Party, publish: dt.datetime, *, k: int | None = None, fixed: tuple[Party, ...] = ()
) -> tuple[int, LotSpec]:
    method = _open_method(chunk)
    spec = chunk.lot_spec(buyer, method, publish.year)
    k = k or int(chunk.rng.integers(3, 6))
    spec.bids = chunk.bg_bids(buyer, spec, k, fixed=list(fixed))
    return method, spec


def plant_split(chunk: Chunk, buyer: Party) -> None:

    sup = chunk.world.suppliers
    while True:
        p = sup[int(chunk.rng.integers(len(sup)))]
        if (buyer.pid, p.pid) not in chunk.small_direct:
            break
    chunk.small_direct[(buyer.pid, p.pid)] = math.inf  # reserve the pair: no background small awards
    n = int(chunk.choice([3, 4]))
    d0 = _publish(chunk, _DATE_FROM, _LAST_PUBLISH - dt.timedelta(days=200))
    offsets = sorted(float(x) for x in chunk.rng.uniform(0, 180, n))
    procs, values = [], []
    for off in offsets:
        target = SPLIT_THRESHOLD_KZT * chunk.uniform(0.4, 0.8)
        cheap = [it for it in ITEMS if it.price <= target / 40]
        item = cheap[int(chunk.rng.integers(len(cheap)))]
        spec = chunk.lot_spec(buyer, 23, (d0 + dt.timedelta(days=off)).year, item=item, amount=target / 0.95)
        spec.winner, spec.award = p, round(spec.amount * 0.95, 2)
        proc = chunk.procure(buyer, 23, d0 + dt.timedelta(days=off), [spec])
        procs.append(proc)
        values.append(spec.award)
    cids = [pr.contracts[0] for pr in procs]
    _gt(
        chunk,
        "split_purchase",
        "buyer_supplier",
        "contract",
        cids[0],
        buyer,
        p,
        procs,
        contract_ids=cids,
        sums=values,
        total=round(sum(values), 2),
        threshold=SPLIT_THRESHOLD_KZT,
        first_sign=str(procs[0].sign_dates[0]),
        last_sign=str(procs[-1].sign_dates[0]),
    )


def plant_single_bid(chunk: Chunk, buyer: Party) -> None:
    publish = _publish(chunk)
    method = _open_method(chunk)
    spec = chunk.lot_spec(buyer, method, publish.year)
    spec.bids = chunk.bg_bids(buyer, spec, 2)[:1]
    spec.bids[0].status, spec.bids[0].reject_reason = 1, None
    proc = chunk.procure(buyer, method, publish, [spec])
    _gt(
        chunk,
        "single_bid",
        "lot",
        "lot",
        proc.lots[0],
        buyer,
        proc.winners[0],
        proc,
        contract_id=proc.contracts[0],
        method=method,
    )


def plant_identical(chunk: Chunk, buyer: Party) -> None:
    publish = _publish(chunk)
    method, spec = _competitive(chunk, buyer, publish, k=int(chunk.rng.integers(3, 6)))
    ordered = sorted(spec.bids, key=lambda b: b.price)
    a, b = ordered[1], ordered[2]
    b.price = a.price
    proc = chunk.procure(buyer, method, publish, [spec])
    _gt(
        chunk,
        "identical_offers",
        "lot",
        "lot",
        proc.lots[0],
        buyer,
        proc.winners[0],
        proc,
        tenderers=sorted([a.supplier.pid, b.supplier.pid]),
        price=a.price,
    )


def _dedicated_win(chunk: Chunk, buyer: Party, party: Party, publish: dt.datetime, direct: bool) -> Proc:
    if direct:
        spec = chunk.lot_spec(buyer, 23, publish.year)
        spec.winner, spec.award = party, round(spec.amount * chunk.uniform(0.9, 1.0), 2)
        return chunk.procure(buyer, 23, publish, [spec])
    method, spec = _competitive(chunk, buyer, publish, fixed=(party,))
    _force_winner(chunk, spec.bids, party)
    return chunk.procure(buyer, method, publish, [spec])


def plant_debarred(chunk: Chunk, buyer: Party, party: Party, i: int) -> None:
    start = party.rnu_start
    publish = _publish(
        chunk, start + dt.timedelta(days=3), min(start + dt.timedelta(days=150), _LAST_PUBLISH)
    )
    proc = _dedicated_win(chunk, buyer, party, publish, direct=i % 2 == 1)
    _gt(
        chunk,
        "debarred_winner",
        "contract",
        "contract",
        proc.contracts[0],
        buyer,
        party,
        proc,
        rnu_start=str(start),
        sign_date=str(proc.sign_dates[0]),
    )


def plant_new_company(chunk: Chunk, buyer: Party, party: Party, i: int) -> None:
    reg = party.regdate
    publish = _publish(chunk, reg + dt.timedelta(days=20), min(reg + dt.timedelta(days=200), _LAST_PUBLISH))
    proc = _dedicated_win(chunk, buyer, party, publish, direct=i % 2 == 1)
    _gt(
        chunk,
        "new_company",
        "contract",
        "contract",
        proc.contracts[0],
        buyer,
        party,
        proc,
        regdate=str(reg),
        sign_date=str(proc.sign_dates[0]),
        days_registered=(proc.sign_dates[0] - reg).days,
    )


def plant_late_win(chunk: Chunk, buyer: Party) -> None:
    publish = _publish(chunk)
    method, spec = _competitive(chunk, buyer, publish, k=int(chunk.rng.integers(2, 5)))
    best = min(spec.bids, key=lambda b: b.price)
    best.late_hours = chunk.uniform(2, 72)
    proc = chunk.procure(buyer, method, publish, [spec])
    _gt(
        chunk,
        "late_win",
        "lot",
        "lot",
        proc.lots[0],
        buyer,
        best.supplier,
        proc,
        app_id=proc.apps[best.supplier.pid],
        end_date=str(proc.end),
        hours_late=round(best.late_hours, 2),
    )


def plant_inflated(chunk: Chunk, buyer: Party, i: int) -> None:
    publish = _publish(chunk, _DATE_FROM, dt.datetime(2024, 8, 1))
    method, spec = _competitive(chunk, buyer, publish)
    if i % 2 == 0:
        factors = [round(chunk.uniform(1 + AMENDMENT_RAISE + 0.02, 1.8), 4)]
    else:
        n = int(chunk.choice([AMENDMENT_COUNT, AMENDMENT_COUNT + 1]))
        factors = [round(1 + 0.02 * (k + 1), 4) for k in range(n)]
    proc = chunk.procure(buyer, method, publish, [spec], amendments=factors)
    _gt(
        chunk,
        "inflated_amendment",
        "contract",
        "contract",
        proc.contracts[0],
        buyer,
        proc.winners[0],
        proc,
        amendments=len(factors),
        original_sum=proc.sums[0],
        final_sum=round(proc.sums[0] * factors[-1], 2),
        ratio=factors[-1],
    )


def plant_ring(chunk: Chunk, buyer: Party, members: list[Party], ring_no: int) -> int:

    m = int(chunk.choice([RING_MIN_SIZE, RING_MAX_SIZE]))
    ring = members[:m]
    n_lots = int(chunk.rng.integers(RING_LOTS[0], RING_LOTS[1] + 1))
    dates = sorted(_publish(chunk) for _ in range(n_lots))
    ring_pids = sorted(p.pid for p in ring)
    for j, publish in enumerate(dates):
        method = int(chunk.choice([3, 7]))
        spec = chunk.lot_spec(buyer, method, publish.year)
        prices = chunk.bg_prices(spec.amount, m, 0.85, 0.99)
        winner = ring[j % m]
        losers = [p for p in ring if p.pid != winner.pid]
        order = [int(x) for x in chunk.rng.permutation(len(losers))]
        spec.bids = [Bid(winner, prices[0])] + [Bid(losers[o], prices[1 + k]) for k, o in enumerate(order)]
        proc = chunk.procure(buyer, method, publish, [spec])
        _gt(
            chunk,
            "bid_rotation",
            "lot",
            "lot",
            proc.lots[0],
            buyer,
            winner,
            proc,
            ring=ring_pids,
            ring_id=f"{chunk.index}-{ring_no}",
        )
    return n_lots


def plant_short_period(chunk: Chunk, buyer: Party) -> None:
    publish = _publish(chunk)
    method, spec = _competitive(chunk, buyer, publish)
    days = chunk.uniform(3, SHORT_PERIOD_DAYS - 2)
    proc = chunk.procure(buyer, method, publish, [spec], period_days=days)
    _gt(
        chunk,
        "short_period",
        "process",
        "trd_buy",
        proc.trd_buy_id,
        buyer,
        proc.winners[0],
        proc,
        days=round((proc.end - proc.start).total_seconds() / 86400, 2),
    )


def plant_lowest_disqualified(chunk: Chunk, buyer: Party) -> None:
    publish = _publish(chunk)
    method, spec = _competitive(chunk, buyer, publish, k=int(chunk.rng.integers(3, 6)))
    ordered = sorted(spec.bids, key=lambda b: b.price)
    ordered[0].status, ordered[0].reject_reason = 2, chunk.choice(_reject_reasons())
    ordered[1].status = ordered[2].status = 1
    ordered[1].reject_reason = ordered[2].reject_reason = None
    proc = chunk.procure(buyer, method, publish, [spec])
    _gt(
        chunk,
        "lowest_bid_disqualified",
        "lot",
        "lot",
        proc.lots[0],
        buyer,
        proc.winners[0],
        proc,
        lowest_pid=ordered[0].supplier.pid,
        lowest_price=ordered[0].price,
    )


def plant_all_but_winner(chunk: Chunk, buyer: Party) -> None:
    publish = _publish(chunk)
    method, spec = _competitive(chunk, buyer, publish, k=int(chunk.rng.integers(2, 5)))
    ordered = sorted(spec.bids, key=lambda b: b.price)
    ordered[0].status, ordered[0].reject_reason = 1, None
    for b in ordered[1:]:
        b.status, b.reject_reason = 2, chunk.choice(_reject_reasons())
    proc = chunk.procure(buyer, method, publish, [spec])
    _gt(
        chunk,
        "all_but_winner_disqualified",
        "lot",
        "lot",
        proc.lots[0],
        buyer,
        proc.winners[0],
        proc,
        disqualified=len(ordered) - 1,
    )


def plant_vat(chunk: Chunk, buyer: Party) -> None:
    sup = chunk.world.suppliers
    while True:
        p = sup[int(chunk.rng.integers(len(sup)))]
        if not p.vat_payer:
            break
    publish = _publish(chunk)
    method, spec = _competitive(chunk, buyer, publish, fixed=(p,))
    _force_winner(chunk, spec.bids, p)
    proc = chunk.procure(buyer, method, publish, [spec], vat_override=True)
    _gt(chunk, "vat_non_payer", "contract", "contract", proc.contracts[0], buyer, p, proc)


def plant_mismatch(chunk: Chunk, buyer: Party) -> None:
    publish = _publish(chunk)
    planned = _open_method(chunk)
    spec = chunk.lot_spec(buyer, planned, publish.year)
    value = round(spec.amount * chunk.uniform(0.9, 1.0), 2)
    spec.winner, spec.award = chunk.pick_direct_supplier(buyer, value)
    proc = chunk.procure(buyer, 23, publish, [spec])
    _gt(
        chunk,
        "method_mismatch",
        "lot",
        "lot",
        proc.lots[0],
        buyer,
        proc.winners[0],
        proc,
        planned_method=planned,
        actual_method=23,
    )


def plant_far_below(chunk: Chunk, buyer: Party) -> None:
    publish = _publish(chunk)
    method, spec = _competitive(chunk, buyer, publish)
    best = min(spec.bids, key=lambda b: b.price)
    best.price = round(spec.amount * chunk.uniform(0.45, FAR_BELOW_SHARE - 0.05), 2)
    proc = chunk.procure(buyer, method, publish, [spec])
    _gt(
        chunk,
        "award_far_below",
        "contract",
        "contract",
        proc.contracts[0],
        buyer,
        proc.winners[0],
        proc,
        lot_id=proc.lots[0],
        amount=spec.amount,
        award=proc.sums[0],
        ratio=round(proc.sums[0] / spec.amount, 4),
    )


def _reject_reasons() -> list[str]:

    return REJECT_REASONS


def plant(chunk: Chunk) -> None:
    """Plant this chunk's share of every pattern (buyers chosen at random within the chunk)."""
    plan = chunk.world.plan
    n = plan.share(plan.cases, chunk.index)

    def buyer() -> Party:
        return chunk.buyers[int(chunk.rng.integers(len(chunk.buyers)))]

    simple: list[tuple[str, Callable]] = [
        ("split_purchase", plant_split),
        ("single_bid", plant_single_bid),
        ("identical_offers", plant_identical),
        ("late_win", plant_late_win),
        ("short_period", plant_short_period),
        ("lowest_bid_disqualified", plant_lowest_disqualified),
        ("all_but_winner_disqualified", plant_all_but_winner),
        ("vat_non_payer", plant_vat),
        ("method_mismatch", plant_mismatch),
        ("award_far_below", plant_far_below),
    ]
    for _, fn in simple:
        for _ in range(n):
            fn(chunk, buyer())
    for i in range(n):
        plant_inflated(chunk, buyer(), i)
    for i, party in enumerate(_slice(chunk, "debarred_winner")):
        plant_debarred(chunk, buyer(), party, i)
    for i, party in enumerate(_slice(chunk, "new_company")):
        plant_new_company(chunk, buyer(), party, i)
    rings = ring_counts(plan)
    members = _slice(chunk, "bid_rotation", rings)
    for r in range(rings[chunk.index]):
        plant_ring(chunk, buyer(), members[r * RING_MAX_SIZE : (r + 1) * RING_MAX_SIZE], r)


# ================================================================================================
# Reference rules: the exact query an indicator must reproduce to find each pattern
# ================================================================================================
