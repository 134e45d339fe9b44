"""Participants (buyers and suppliers), the size plan and the global state shared by the chunks."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from sandbox import names
from sandbox import patterns as pt
from sandbox.world.catalogue import _region_districts
from sandbox.world.constants import (
    BG_SUPPLIER_REG_MAX,
    BUYERS_PER_SCALE,
    CHUNK_BUYERS,
    ID_BASES,
    MIN_BUYERS,
    MIN_SUPPLIERS,
    SUPPLIERS_PER_SCALE,
)
from sandbox.world.ids import IdNumbers
from sandbox.world.layout import Buf, fmt

# ================================================================================================
# Participants
# ================================================================================================


@dataclass
class Party:
    pid: int
    biin: str
    name_ru: str
    kato: str
    region: str
    address: str
    vat_payer: int
    regdate: dt.datetime
    type_supplier: int = 1
    rnu_start: dt.datetime | None = None  # debarred dedicated suppliers only


@dataclass
class Plan:
    """How many objects of each kind the world holds, and where planted cases go."""

    seed: int
    scale: float
    n_buyers: int
    n_suppliers: int
    n_dormant: int
    n_chunks: int
    cases: int  # planted cases per pattern, world total

    @classmethod
    def for_scale(cls, seed: int, scale: float) -> Plan:
        n_buyers = max(MIN_BUYERS, round(BUYERS_PER_SCALE * scale))
        return cls(
            seed=seed,
            scale=scale,
            n_buyers=n_buyers,
            n_suppliers=max(MIN_SUPPLIERS, round(SUPPLIERS_PER_SCALE * scale)),
            n_dormant=max(8, round(8 * scale)),
            n_chunks=math.ceil(n_buyers / CHUNK_BUYERS),
            cases=max(pt.MIN_CASES, round(pt.CASES_PER_SCALE * scale)),
        )

    def share(self, total: int, chunk: int) -> int:
        """Chunk ``chunk``'s part of ``total`` (the parts add up to ``total`` exactly)."""
        return (chunk + 1) * total // self.n_chunks - chunk * total // self.n_chunks


@dataclass
class World:
    """Global, read-mostly state shared by the chunks: parties, id counters, dedicated pools."""

    plan: Plan
    buyers: list[Party]
    suppliers: list[Party]  # background suppliers (bid and win in the background)
    by_region: dict[str, list[int]]  # region -> indexes into suppliers
    dedicated: dict[str, list[Party]]  # pattern -> suppliers reserved for it
    next_id: dict[str, int] = field(default_factory=lambda: dict(ID_BASES))

    def new_id(self, table: str) -> int:
        value = self.next_id[table]
        self.next_id[table] = value + 1
        return value


def _rand_dt(rng: np.random.Generator, start: dt.datetime, end: dt.datetime) -> dt.datetime:
    """A time in [start, end), rounded to whole seconds."""
    span = max(1, int((end - start).total_seconds()))
    return start + dt.timedelta(seconds=int(rng.integers(span)))


def _work_time(rng: np.random.Generator, day: dt.datetime) -> dt.datetime:
    """A time between 09:00 and 18:00 on ``day``'s date."""
    return dt.datetime(day.year, day.month, day.day, 9) + dt.timedelta(seconds=int(rng.integers(9 * 3600)))


def _pick_region(rng: np.random.Generator) -> str:
    keys = list(names.REGIONS)
    w = np.array([names.REGIONS[k][2] for k in keys])
    return keys[int(rng.choice(len(keys), p=w / w.sum()))]


class SubjectWriter:
    """Creates participants (subject rows) with valid BIN/IIN and plausible attributes."""

    def __init__(self, world_rng: np.random.Generator, buf: Buf, next_pid: Iterator[int]):
        self.rng = world_rng
        self.ids = IdNumbers(world_rng)
        self.buf = buf
        self.next_pid = next_pid

    def buyer(self, n: int) -> Party:
        rng = self.rng
        region = _pick_region(rng)
        kato = _region_districts(region)[int(rng.integers(6))]
        kopf, name_ru, name_kz = names.buyer_names(rng, region, int(rng.integers(1, 120)))
        regdate = _rand_dt(rng, dt.datetime(1996, 1, 1), dt.datetime(2015, 1, 1))
        party = Party(
            next(self.next_pid),
            self.ids.bin(regdate),
            name_ru,
            kato,
            region,
            names.address(rng, region),
            0,
            regdate,
        )
        self._row(party, name_kz, customer=1, supplier=0, kopf=kopf)
        return party

    def supplier(
        self,
        *,
        regdate: dt.datetime | None = None,
        type_supplier: int | None = None,
        vat_payer: int | None = None,
        region: str | None = None,
    ) -> Party:
        rng = self.rng
        if type_supplier is None:
            type_supplier = int(rng.choice([1, 2, 3], p=[0.7, 0.1, 0.2]))
        region = region or _pick_region(rng)
        kato = _region_districts(region)[int(rng.integers(6))]
        if regdate is None:
            regdate = _rand_dt(rng, dt.datetime(2001, 1, 1), BG_SUPPLIER_REG_MAX)
        if vat_payer is None:
            vat_payer = int(rng.random() < {1: 0.6, 2: 0.0, 3: 0.2}[type_supplier])
        name_ru, name_kz = names.supplier_names(rng, type_supplier)
        if type_supplier == 1:
            biin = self.ids.bin(regdate)
        else:
            birth = _rand_dt(rng, dt.datetime(1960, 1, 1), dt.datetime(2000, 1, 1)).date()
            biin = self.ids.iin(birth, female=name_ru.split()[-1].endswith("на"))
        party = Party(
            next(self.next_pid),
            biin,
            name_ru,
            kato,
            region,
            names.address(rng, region),
            vat_payer,
            regdate,
            type_supplier,
        )
        self._row(party, name_kz, customer=0, supplier=1, kopf={1: "ТОО", 2: None, 3: "ИП"}[type_supplier])
        return party

    def _row(self, p: Party, name_kz: str, *, customer: int, supplier: int, kopf: str | None) -> None:
        rng = self.rng
        legal = p.type_supplier == 1
        crdate = p.regdate + dt.timedelta(days=int(rng.integers(1, 60)))
        last = max(crdate, _rand_dt(rng, dt.datetime(2021, 1, 1), dt.datetime(2022, 12, 31)))
        if p.regdate > dt.datetime(2022, 12, 1):
            last = crdate + dt.timedelta(hours=1)
        self.buf.add(
            pid=p.pid,
            bin=p.biin if legal else None,
            iin=None if legal else p.biin,
            inn=None,
            unp=None,
            regdate=fmt(p.regdate),
            crdate=fmt(crdate),
            name_ru=p.name_ru,
            name_kz=name_kz,
            email=f"info{p.pid}@mail.kz" if legal else None,
            phone=f"+7 7{int(rng.integers(10**8, 10**9))}",
            website=None,
            last_update_date=fmt(last),
            country_code="KZ",
            qvazi=int(p.name_ru.startswith("КГП")),
            customer=customer,
            organizer=customer,
            supplier=supplier,
            mark_national_company=0,
            ref_kopf_code=kopf,
            mark_resident=1,
            krp_code=int(rng.choice([105, 120, 215, 305])),
            oked_list=str(int(rng.choice([41201, 46900, 47190, 62010, 85310, 84111]))),
            kse_code=1 if customer else 2,
            mark_small_employer=int(not customer and rng.random() < 0.6),
            type_supplier=None if customer else p.type_supplier,
            is_single_org=0,
            kato=p.kato,
            vat_payer=p.vat_payer,
        )


# ================================================================================================
