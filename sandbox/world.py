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
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from pipelines.goszakup_api import (
    BUY_STATUS,
    ENTITIES,
    JOURNAL_FIELDS,
    REF_FIELDS,
    REF_TABLES,
    TRADE_METHODS,
    Child,
    Entity,
    Field,
)
from sandbox import names
from sandbox import patterns as pt

GENERATOR_VERSION = "1.0"

# --- time frame ---------------------------------------------------------------------------------
DATE_FROM = dt.datetime(2023, 1, 9)
DATE_TO = dt.datetime(2024, 12, 31, 23, 0, 0)
#: Last publish date of a background announcement (leaves time for award and contract in 2024).
LAST_PUBLISH = dt.datetime(2024, 10, 15)
#: Background suppliers are registered no later than this (>= 2 years before any award).
BG_SUPPLIER_REG_MAX = dt.datetime(2020, 12, 31)
#: Epoch n of advance_world starts at EPOCH_BASE + (n - 1) days.
EPOCH_BASE = dt.datetime(2025, 1, 1, 10, 0, 0)

# --- sizes at scale 1 (everything scales linearly, with floors for tiny worlds) ---------------------
BUYERS_PER_SCALE = 46
SUPPLIERS_PER_SCALE = 230
MIN_BUYERS = 40
MIN_SUPPLIERS = 400
BASE_ANNOUNCEMENTS_PER_SCALE = 1600
CHUNK_BUYERS = 25

# --- shape of the background --------------------------------------------------------------------
P_DIRECT = 0.35  # share of base announcements that are direct single source (method 23)
P_FAILED = 0.20  # share of competitive announcements that fail (then method 6)
P_CANCELLED = 0.04
P_AMENDED = 0.08
COMPETITIVE_METHODS = (3, 2, 7, 188)
COMPETITIVE_WEIGHTS = (0.55, 0.25, 0.15, 0.05)
BID_COUNTS = (2, 3, 4, 5, 6, 7, 8)
BID_COUNT_WEIGHTS = (0.28, 0.27, 0.18, 0.11, 0.08, 0.05, 0.03)
VAT = 1.12

ID_BASES = {
    "subject": 100_001,
    "rnu": 5_001,
    "plans": 40_000_001,
    "plans_kato": 45_000_001,
    "trd_buy": 11_000_001,
    "lots": 60_000_001,
    "trd_app": 30_000_001,
    "app_lots": 33_000_001,
    "offers": 36_000_001,
    "contract": 15_000_001,
    "contract_units": 70_000_001,
    "treasury_pay": 80_000_001,
    "acts": 20_000_001,
}

_DUCK = {
    "int": "BIGINT",
    "float": "DOUBLE",
    "str": "VARCHAR",
    "datetime": "VARCHAR",
    "bool": "BOOLEAN",
    "int[]": "BIGINT[]",
    "str[]": "VARCHAR[]",
}
_ARROW = {
    "int": pa.int64(),
    "float": pa.float64(),
    "str": pa.string(),
    "datetime": pa.string(),
    "bool": pa.bool_(),
    "int[]": pa.list_(pa.int64()),
    "str[]": pa.list_(pa.string()),
}


# ================================================================================================
# Table layout (from the API contract)
# ================================================================================================


@dataclass(frozen=True)
class TableSpec:
    name: str
    primary_key: str
    fields: tuple[Field, ...]

    @property
    def columns(self) -> list[str]:
        return [f.name for f in self.fields]

    def ddl(self) -> str:
        cols = ", ".join(f'"{f.name}" {_DUCK[f.type]}' for f in self.fields)
        return f"CREATE TABLE {self.name} ({cols})"

    def arrow_schema(self) -> pa.Schema:
        return pa.schema([(f.name, _ARROW[f.type]) for f in self.fields])


def _child_specs(child: Child) -> Iterator[TableSpec]:
    fields = child.fields
    if child.parent_key not in {f.name for f in fields}:
        fields = (Field(child.parent_key, "int"), *fields)
    yield TableSpec(child.table, child.primary_key, fields)
    for grandchild in child.children:
        yield from _child_specs(grandchild)


def _entity_specs(entity: Entity) -> Iterator[TableSpec]:
    yield TableSpec(entity.name, entity.primary_key, entity.fields)
    for child in entity.children:
        yield from _child_specs(child)


def table_specs() -> dict[str, TableSpec]:
    """Every data table of the world (entities, children, refs, journal), keyed by name."""
    out: dict[str, TableSpec] = {}
    for entity in ENTITIES.values():
        for spec in _entity_specs(entity):
            out[spec.name] = spec
    for ref in REF_TABLES:
        out[ref] = TableSpec(ref, "id", REF_FIELDS)
    out["journal"] = TableSpec("journal", "seq", (Field("seq", "int"), *JOURNAL_FIELDS))
    return out


TABLES = table_specs()
#: Child table -> (parent table, column holding the parent's key).
CHILD_OF = {
    "contract_units": ("contract", "contract_id"),
    "treasury_pay": ("contract", "contract_id"),
    "plans_kato": ("plans", "pln_point_id"),
    "app_lots": ("trd_app", "app_id"),
    "offers": ("app_lots", "app_lot_id"),
}

EXTRA_DDL = (
    "CREATE TABLE ground_truth (pattern VARCHAR, grain VARCHAR, object_type VARCHAR, object_id BIGINT, "
    "buyer_pid BIGINT, supplier_pid BIGINT, details JSON)",
    "CREATE TABLE world_meta (key VARCHAR, value VARCHAR)",
)


class Buf:
    """Column lists of one table for one chunk; unknown keyword arguments are an error."""

    def __init__(self, spec: TableSpec):
        self.spec = spec
        self.cols: dict[str, list] = {c: [] for c in spec.columns}
        self.n = 0

    def add(self, **values: Any) -> None:
        if len(values) > len(self.cols) or not values.keys() <= self.cols.keys():
            raise KeyError(f"{self.spec.name}: unknown fields {sorted(values.keys() - self.cols.keys())}")
        for col, lst in self.cols.items():
            lst.append(values.get(col))
        self.n += 1

    def arrow(self) -> pa.Table:
        return pa.Table.from_pydict(self.cols, schema=self.spec.arrow_schema())


def fmt(t: dt.datetime | None) -> str | None:
    """Wire format of a datetime: ``YYYY-MM-DD HH:MM:SS`` (Kazakhstan local time, no offset)."""
    return None if t is None else t.strftime("%Y-%m-%d %H:%M:%S")


# ================================================================================================
# Identification numbers
# ================================================================================================


def kz_check_digit(first11: str) -> int | None:
    """Check digit of a Kazakh BIN/IIN, or None when the 11 digits admit none (then skip them)."""
    d = [int(c) for c in first11]
    s = sum(x * w for x, w in zip(d, range(1, 12), strict=True)) % 11
    if s == 10:
        s = sum(x * w for x, w in zip(d, (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2), strict=True)) % 11
        if s == 10:
            return None
    return s


def valid_biin(number: str) -> bool:
    """True when ``number`` is 12 digits with a valid check digit."""
    if len(number) != 12 or not number.isdigit():
        return False
    return kz_check_digit(number[:11]) == int(number[11])


class IdNumbers:
    """Unique BINs (legal entities) and IINs (people) with valid check digits."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self.used: set[str] = set()

    def _finish(self, head: str, serial_digits: int) -> str:
        while True:
            body = head + "".join(str(int(x)) for x in self.rng.integers(0, 10, serial_digits))
            check = kz_check_digit(body)
            if check is None:
                continue
            number = body + str(check)
            if number not in self.used:
                self.used.add(number)
                return number

    def bin(self, regdate: dt.datetime) -> str:
        # YYMM of registration, 4 = resident legal entity, 0 = head office, 5 serial digits
        return self._finish(f"{regdate:%y%m}40", 5)

    def iin(self, birth: dt.date, female: bool) -> str:
        century = (3 if birth.year < 2000 else 5) + (1 if female else 0)
        return self._finish(f"{birth:%y%m%d}{century}", 4)


# ================================================================================================
# Catalogues
# ================================================================================================

#: ENSTRU groups: (KPVED class, subject type 1 goods / 2 works / 3 services, unit code, base unit
#: price KZT, Russian item names).
ENSTRU_GROUPS: list[tuple[str, int, str, float, tuple[str, ...]]] = [
    ("101311", 1, "166", 2_800, ("Мясо говядины", "Колбаса вареная", "Фарш мясной")),
    ("105111", 1, "112", 420, ("Молоко питьевое", "Кефир", "Сметана")),
    ("107111", 1, "166", 380, ("Хлеб пшеничный", "Батон нарезной", "Лепешка")),
    ("171912", 1, "796", 2_300, ("Бумага офисная А4", "Бумага для принтера А3", "Тетрадь общая")),
    ("192021", 1, "112", 260, ("Бензин АИ-92", "Дизельное топливо", "Бензин АИ-95")),
    ("201413", 1, "166", 900, ("Хлорная известь", "Средство дезинфицирующее", "Мыло хозяйственное")),
    ("212010", 1, "796", 1_500, ("Парацетамол таблетки", "Шприц одноразовый", "Бинт стерильный")),
    ("222921", 1, "796", 650, ("Папка пластиковая", "Пакет полиэтиленовый", "Контейнер пластиковый")),
    ("235112", 1, "166", 45, ("Цемент портландский", "Смесь сухая строительная", "Известь")),
    ("251110", 1, "166", 700, ("Конструкции металлические", "Профиль стальной", "Уголок стальной")),
    ("262011", 1, "796", 380_000, ("Ноутбук", "Компьютер персональный", "Моноблок")),
    ("263023", 1, "796", 45_000, ("Телефон IP", "Маршрутизатор", "Коммутатор сетевой")),
    ("274012", 1, "796", 3_200, ("Светильник светодиодный", "Лампа светодиодная", "Прожектор")),
    ("282511", 1, "796", 260_000, ("Кондиционер", "Вентилятор промышленный", "Тепловая завеса")),
    ("291023", 1, "796", 14_000_000, ("Автомобиль легковой", "Автобус школьный", "Автомобиль скорой помощи")),
    ("310912", 1, "796", 55_000, ("Стол ученический", "Шкаф для документов", "Стул офисный")),
    ("329912", 1, "796", 250, ("Ручка шариковая", "Карандаш", "Маркер")),
    (
        "351112",
        3,
        "876",
        28,
        ("Услуги по электроснабжению", "Услуги по передаче электроэнергии", "Электроэнергия"),
    ),
    ("360011", 3, "876", 95, ("Услуги водоснабжения", "Услуги водоотведения", "Техническая вода")),
    (
        "412040",
        2,
        "839",
        90_000_000,
        ("Строительство школы", "Строительство детского сада", "Строительство жилого дома"),
    ),
    (
        "421110",
        2,
        "018",
        52_000,
        ("Ремонт автомобильной дороги", "Средний ремонт улиц", "Строительство тротуара"),
    ),
    (
        "432110",
        2,
        "839",
        4_500_000,
        ("Электромонтажные работы", "Монтаж пожарной сигнализации", "Монтаж видеонаблюдения"),
    ),
    ("433910", 2, "055", 9_000, ("Текущий ремонт здания", "Капитальный ремонт кровли", "Ремонт фасада")),
    ("492312", 3, "876", 180_000, ("Перевозка пассажиров", "Услуги подвоза учащихся", "Аренда автобуса")),
    ("561011", 3, "876", 1_200, ("Услуги по организации питания", "Питание учащихся", "Кейтеринг")),
    (
        "620111",
        3,
        "876",
        3_500_000,
        ("Разработка информационной системы", "Сопровождение ПО", "Техподдержка сайта"),
    ),
    (
        "711210",
        3,
        "876",
        6_000_000,
        ("Разработка проектно-сметной документации", "Технический надзор", "Авторский надзор"),
    ),
    ("801011", 3, "876", 420_000, ("Услуги охраны", "Пультовая охрана", "Видеонаблюдение охрана")),
    ("812110", 3, "876", 350_000, ("Услуги по уборке помещений", "Вывоз мусора", "Уборка территории")),
    ("855912", 3, "876", 150_000, ("Курсы повышения квалификации", "Обучение персонала", "Семинар")),
    ("862110", 3, "876", 8_000, ("Медицинский осмотр", "Лабораторные исследования", "Флюорография")),
    (
        "331211",
        3,
        "876",
        250_000,
        ("Ремонт оборудования", "Техническое обслуживание котельной", "Ремонт лифтов"),
    ),
    (
        "683211",
        3,
        "876",
        1_800_000,
        ("Аренда помещения", "Услуги по управлению имуществом", "Оценка имущества"),
    ),
    ("190000", 1, "166", 160, ("Уголь каменный", "Брикеты топливные", "Дрова")),
]
ENSTRU_VARIANTS = ("000.000001", "000.000002", "100.000000", "200.000003", "500.000010", "900.000001")
UNIT_NAMES = {
    "166": "Килограмм",
    "112": "Литр",
    "796": "Штука",
    "876": "Условная единица",
    "839": "Комплект",
    "018": "Погонный метр",
    "055": "Квадратный метр",
}


@dataclass(frozen=True)
class Item:
    code: str
    name_ru: str
    name_kz: str
    subject_type: int
    unit: str
    price: float


def enstru_catalogue() -> list[Item]:
    """About 200 ENSTRU codes across ~34 classes (first two digits vary)."""
    out = []
    for kpved, stype, unit, price, titles in ENSTRU_GROUPS:
        for i, variant in enumerate(ENSTRU_VARIANTS):
            title = titles[i % len(titles)]
            suffix = "" if i < len(titles) else f", тип {i - len(titles) + 1}"
            out.append(
                Item(
                    f"{kpved}.{variant}",
                    title + suffix,
                    title + suffix + " (қаз.)",
                    stype,
                    unit,
                    round(price * (0.7 + 0.1 * i), 2),
                )
            )
    return out


ITEMS = enstru_catalogue()


def _region_districts(prefix: str) -> list[str]:
    return [f"{prefix}{11 + 2 * k:02d}10000" for k in range(6)]


def ref_rows() -> dict[str, list[dict]]:
    """Rows of every REF_TABLES table (codes as the API shows them; names plausible)."""

    def rows(pairs: list[tuple[Any, str]], **extra: Any) -> list[dict]:
        return [
            {
                "id": i + 1,
                "code": str(code),
                "name_ru": name,
                "name_kz": name,
                "parent_code": None,
                "level": None,
                "is_active": 1,
                **extra,
            }
            for i, (code, name) in enumerate(pairs)
        ]

    kato = []
    for prefix, (ru, kz, _) in names.REGIONS.items():
        kato.append(
            {"code": f"{prefix}0000000", "name_ru": ru, "name_kz": kz, "parent_code": None, "level": 1}
        )
        for j, code in enumerate(_region_districts(prefix)):
            district = names.DISTRICTS_RU[(int(prefix) + j) % len(names.DISTRICTS_RU)]
            kato.append(
                {
                    "code": code,
                    "name_ru": f"{district[:-3]}ий район",
                    "name_kz": f"{district[:-3]}ий ауданы",
                    "parent_code": f"{prefix}0000000",
                    "level": 2,
                }
            )
    kato_rows = [{"id": i + 1, "is_active": 1, **r} for i, r in enumerate(kato)]
    enstru_rows = [
        {
            "id": i + 1,
            "code": it.code,
            "name_ru": it.name_ru,
            "name_kz": it.name_kz,
            "parent_code": it.code[:6],
            "level": 3,
            "is_active": 1,
        }
        for i, it in enumerate(ITEMS)
    ]
    return {
        "ref_trade_methods": [
            {
                "id": code,
                "code": str(code),
                "name_ru": name,
                "name_kz": name,
                "parent_code": None,
                "level": None,
                "is_active": 1,
            }
            for code, (name, _) in sorted(TRADE_METHODS.items())
        ],
        "ref_buy_status": [
            {
                "id": code,
                "code": str(code),
                "name_ru": name,
                "name_kz": name,
                "parent_code": None,
                "level": None,
                "is_active": 1,
            }
            for code, name in sorted(BUY_STATUS.items())
        ],
        "ref_lots_status": rows([(k, v) for k, v in sorted(LOT_STATUS.items())]),
        "ref_contract_status": rows([(k, v) for k, v in sorted(CONTRACT_STATUS.items())]),
        "ref_kato": kato_rows,
        "ref_enstru": enstru_rows,
        "ref_units": rows(sorted(UNIT_NAMES.items())),
        "ref_subject_type": rows([(1, "Товар"), (2, "Работа"), (3, "Услуга")]),
        "ref_currency": rows(
            [
                ("KZT", "Казахстанский тенге"),
                ("USD", "Доллар США"),
                ("EUR", "Евро"),
                ("RUB", "Российский рубль"),
            ]
        ),
        "ref_contract_type": rows([(1, "Основной договор"), (2, "Дополнительное соглашение")]),
        "ref_finsource": rows(
            [
                (1, "Республиканский бюджет"),
                (2, "Местный бюджет"),
                (3, "Собственные средства"),
                (4, "Средства фонда ОСМС"),
            ]
        ),
        "ref_countries": rows(
            [
                ("KZ", "Казахстан"),
                ("RU", "Россия"),
                ("CN", "Китай"),
                ("KG", "Кыргызстан"),
                ("UZ", "Узбекистан"),
            ]
        ),
        "ref_buy_lot_reject_reason": rows(list(enumerate(REJECT_REASONS, start=1))),
        "ref_app_status": rows([(1, "Подана"), (2, "Отозвана"), (3, "Рассмотрена")]),
        "ref_type_trade": rows([(1, "Первичная закупка"), (2, "Повторная закупка")]),
        "ref_pln_point_status": rows([(1, "Проект"), (2, "Утвержден"), (3, "Изменен"), (4, "Исключен")]),
        "ref_months": rows(
            [
                (m, n)
                for m, n in enumerate(
                    [
                        "Январь",
                        "Февраль",
                        "Март",
                        "Апрель",
                        "Май",
                        "Июнь",
                        "Июль",
                        "Август",
                        "Сентябрь",
                        "Октябрь",
                        "Ноябрь",
                        "Декабрь",
                    ],
                    start=1,
                )
            ]
        ),
    }


LOT_STATUS = {
    1: "Опубликован",
    2: "Прием заявок",
    3: "Рассмотрение заявок",
    4: "Закупка состоялась",
    5: "Закупка не состоялась",
    6: "Закупка отменена",
}
CONTRACT_STATUS = {1: "Проект", 2: "Действует", 3: "Исполнен", 4: "Расторгнут"}
REJECT_REASONS = [
    "Не соответствует квалификационным требованиям",
    "Отсутствует обеспечение заявки",
    "Техническая спецификация не соответствует",
    "Не представлены документы",
    "Поставщик состоит в реестре недобросовестных участников",
]
LOT_PREFIX = {2: "К", 3: "ЗЦП", 6: "ОИ", 7: "А", 23: "ОИ", 188: "К"}


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
# One chunk of buyers: announcements, lots, bids, contracts ...
# ================================================================================================


@dataclass
class Bid:
    supplier: Party
    price: float
    status: int = 1  # 1 admitted, 2 rejected
    reject_reason: str | None = None
    late_hours: float | None = None  # date_apply = tender end_date + this (late bids)


@dataclass
class LotSpec:
    item: Item
    quantity: float
    amount: float  # expected value (planned amount)
    plan_ids: list[int]
    planned_method: int
    bids: list[Bid] | None = None
    winner: Party | None = None  # direct awards
    award: float | None = None  # contract value without VAT


@dataclass
class Proc:
    """What :meth:`Chunk.procure` made (patterns read it to record ground truth)."""

    trd_buy_id: int
    number_anno: str
    method: int
    start: dt.datetime
    end: dt.datetime
    lots: list[int]
    specs: list[LotSpec]
    contracts: list[int] = field(default_factory=list)  # one per awarded lot, in lot order
    winners: list[Party] = field(default_factory=list)
    apps: dict[int, int] = field(default_factory=dict)  # supplier pid -> trd_app id
    sign_dates: list[dt.datetime] = field(default_factory=list)
    sums: list[float] = field(default_factory=list)


class Chunk:
    """Generates everything of one block of buyers with its own RNG."""

    def __init__(self, world: World, index: int, buyers: list[Party]):
        self.world = world
        self.index = index
        self.buyers = buyers
        self.rng = np.random.default_rng([world.plan.seed, 1, index])
        self.bufs = {name: Buf(spec) for name, spec in TABLES.items() if name in _CHUNK_TABLES}
        self.gt: list[dict] = []
        #: (buyer pid, supplier pid) -> sum of small direct awards (kept < split threshold)
        self.small_direct: dict[tuple[int, int], float] = {}
        #: buyer pid -> supplier triples that already bid together in one announcement
        self.triples: dict[int, set[tuple[int, int, int]]] = {}

    # --- helpers -------------------------------------------------------------------------------
    def uniform(self, a: float, b: float) -> float:
        return float(self.rng.uniform(a, b))

    def choice(self, seq: list | tuple, p: list | tuple | None = None):
        if p is None:
            return seq[int(self.rng.integers(len(seq)))]
        w = np.asarray(p, dtype=float)
        return seq[int(self.rng.choice(len(seq), p=w / w.sum()))]

    def item(self) -> Item:
        return ITEMS[int(self.rng.integers(len(ITEMS)))]

    def lot_spec(
        self,
        buyer: Party,
        planned_method: int,
        year: int,
        *,
        item: Item | None = None,
        amount: float | None = None,
    ) -> LotSpec:
        """A lot to buy: an ENSTRU item, a quantity, an expected value and its plan point(s)."""
        item = item or self.item()
        if amount is None:
            amount = float(np.exp(self.rng.normal(np.log(900_000), 1.6)))
            amount = min(max(amount, 20_000.0), 3e9)
        unit_price = round(item.price * self.uniform(0.85, 1.15), 2)
        quantity = max(1.0, round(amount / unit_price))
        amount = round(quantity * unit_price, 2)
        n_points = 2 if self.rng.random() < 0.1 else 1
        plan_ids = [
            self.plan_point(buyer, item, quantity / n_points, unit_price, planned_method, year)
            for _ in range(n_points)
        ]
        return LotSpec(item, quantity, amount, plan_ids, planned_method)

    def plan_point(self, buyer: Party, item: Item, count: float, price: float, method: int, year: int) -> int:
        pid = self.world.new_id("plans")
        created = _work_time(
            self.rng, dt.datetime(year - 1, 12, 1) + dt.timedelta(days=int(self.rng.integers(45)))
        )
        stamp = created + dt.timedelta(days=int(self.rng.integers(1, 30)))
        self.bufs["plans"].add(
            id=pid,
            subject_biin=buyer.biin,
            name_ru=item.name_ru,
            ref_trade_methods_id=method,
            ref_units_code=item.unit,
            count=count,
            price=price,
            amount=round(count * price, 2),
            ref_months_id=int(self.rng.integers(1, 13)),
            ref_pln_point_status_id=2,
            pln_point_year=year,
            ref_subject_type_id=item.subject_type,
            ref_enstru_code=item.code,
            ref_finsource_id=int(self.choice([1, 2, 2, 3])),
            is_qvazi=int(buyer.name_ru.startswith("КГП")),
            date_create=fmt(created),
            timestamp=fmt(stamp),
            is_active=1,
            is_deleted=0,
        )
        self.bufs["plans_kato"].add(
            pln_point_id=pid,
            id=self.world.new_id("plans_kato"),
            ref_kato_code=buyer.kato,
            ref_countries_code="KZ",
            full_delivery_place_name_ru=buyer.address,
            count=count,
        )
        return pid

    def pick_bidders(self, buyer: Party, k: int, *, fixed: list[Party] = ()) -> list[Party]:
        """``k`` distinct background bidders (plus ``fixed``) whose triples are new for this buyer."""
        seen = self.triples.setdefault(buyer.pid, set())
        sup = self.world.suppliers
        local = self.world.by_region[buyer.region]
        for attempt in range(40):
            kk = k if attempt < 30 else max(2 - len(fixed), 0)
            chosen = list(fixed)
            pids = {p.pid for p in chosen}
            while len(chosen) < kk + len(fixed):
                idx = (
                    self.choice(local)
                    if (local and self.rng.random() < 0.5)
                    else int(self.rng.integers(len(sup)))
                )
                p = sup[idx]
                if p.pid not in pids:
                    chosen.append(p)
                    pids.add(p.pid)
            if not any(t in seen for t in itertools.combinations(sorted(pids), 3)):
                return chosen
        raise RuntimeError(f"no fresh bidder set for buyer {buyer.pid}")  # pragma: no cover

    def pick_direct_supplier(self, buyer: Party, value: float) -> tuple[Party, float]:
        """A background supplier for a direct award; keeps each pair's small awards under the threshold."""
        sup = self.world.suppliers
        local = self.world.by_region[buyer.region]
        for _ in range(30):
            idx = (
                self.choice(local)
                if (local and self.rng.random() < 0.7)
                else int(self.rng.integers(len(sup)))
            )
            p = sup[idx]
            if value >= pt.SPLIT_THRESHOLD_KZT:
                return p, value
            key = (buyer.pid, p.pid)
            if self.small_direct.get(key, 0.0) + value < pt.SPLIT_THRESHOLD_KZT * pt.BG_SPLIT_HEADROOM:
                self.small_direct[key] = self.small_direct.get(key, 0.0) + value
                return p, value
        return p, round(pt.SPLIT_THRESHOLD_KZT * self.uniform(1.05, 2.0), 2)

    def bg_prices(self, amount: float, n: int, lo: float = 0.78, hi: float = 0.99) -> list[float]:
        """``n`` distinct bid prices between ``lo`` and ``hi`` times the expected amount."""
        out: set[float] = set()
        while len(out) < n:
            out.add(round(amount * self.uniform(lo, hi), 2))
        return sorted(out)

    def bg_bids(self, buyer: Party, spec: LotSpec, k: int, *, fixed: list[Party] = ()) -> list[Bid]:
        """Background bids: distinct prices, the lowest admitted, >= 2 admitted."""
        parties = self.pick_bidders(buyer, k - len(fixed), fixed=list(fixed))
        order = [int(i) for i in self.rng.permutation(len(parties))]
        prices = self.bg_prices(spec.amount, len(parties))
        bids = [Bid(parties[i], prices[j]) for j, i in enumerate(order)]
        for b in bids[2:]:
            if self.rng.random() < 0.12:
                b.status, b.reject_reason = 2, self.choice(REJECT_REASONS)
        return bids

    def register_triples(self, buyer: Party, bid_sets: list[list[Bid]]) -> None:
        seen = self.triples.setdefault(buyer.pid, set())
        for bids in bid_sets:
            seen.update(itertools.combinations(sorted({b.supplier.pid for b in bids}), 3))

    # --- the core: one procurement procedure ----------------------------------------------------
    def procure(
        self,
        buyer: Party,
        method: int,
        publish: dt.datetime,
        specs: list[LotSpec],
        *,
        outcome: str = "awarded",
        period_days: float | None = None,
        parent_id: int | None = None,
        vat_override: bool = False,
        amendments: list[float] | None = None,
        register: bool = True,
    ) -> Proc:
        """Write one announcement with its lots, applications, contracts, acts and payments.

        ``specs[i].bids`` (competitive methods) or ``specs[i].winner`` (direct methods) must be
        set for an awarded outcome; ``amendments`` are the contract values after each amendment,
        as factors of the original value (applied to the first lot's contract).
        """
        rng, w = self.rng, self.world
        direct = method in (6, 23)
        tid = w.new_id("trd_buy")
        number = f"{tid}-1"
        if direct:
            start = publish
            end = publish + dt.timedelta(hours=int(rng.integers(2, 48)))
        else:
            start = publish + dt.timedelta(hours=int(rng.integers(1, 24)))
            days = period_days if period_days is not None else self.uniform(pt.BG_MIN_PERIOD_DAYS, 30)
            end = start + dt.timedelta(days=days)
            end = end.replace(hour=int(rng.integers(10, 18)), minute=0, second=0)
        itogi = end + dt.timedelta(days=self.uniform(1, 6))
        status = {"awarded": 350, "failed": 360, "cancelled": 410}[outcome]
        if outcome == "cancelled":
            itogi = publish + dt.timedelta(days=self.uniform(1, (end - publish).days + 1))
        proc = Proc(tid, number, method, start, end, [], specs)
        last_update = itogi + dt.timedelta(hours=int(rng.integers(1, 72)))
        year = publish.year
        first = specs[0].item
        lot_status = {"awarded": 4, "failed": 5, "cancelled": 6}[outcome]
        for k, spec in enumerate(specs, start=1):
            lid = w.new_id("lots")
            proc.lots.append(lid)
            self.bufs["lots"].add(
                id=lid,
                lot_number=f"{tid}-{LOT_PREFIX.get(method, 'Л')}{k}",
                ref_lot_status_id=lot_status,
                last_update_date=fmt(last_update),
                union_lots=0,
                count=spec.quantity,
                amount=spec.amount,
                name_ru=spec.item.name_ru,
                name_kz=spec.item.name_kz,
                description_ru=f"{spec.item.name_ru}, {spec.quantity:g} {UNIT_NAMES[spec.item.unit].lower()}",
                customer_id=buyer.pid,
                customer_bin=buyer.biin,
                trd_buy_number_anno=number,
                trd_buy_id=tid,
                dumping=0,
                ref_trade_methods_id=spec.planned_method,
                ref_buy_trade_methods_id=method,
                psd_sign=0,
                consulting_services=0,
                point_list=list(spec.plan_ids),
                enstru_list=[spec.item.code],
                pln_point_kato_list=[buyer.kato],
                singl_org_sign=0,
                is_deleted=0,
                index_date=fmt(last_update),
                system_id=3,
            )
        winner0 = specs[0].winner if direct else None
        self.bufs["trd_buy"].add(
            id=tid,
            number_anno=number,
            name_ru=first.name_ru if len(specs) == 1 else f"{first.name_ru} и др.",
            name_kz=first.name_kz,
            total_sum=round(sum(s.amount for s in specs), 2),
            count_lots=len(specs),
            ref_trade_methods_id=method,
            ref_subject_type_id=first.subject_type,
            customer_bin=buyer.biin,
            customer_pid=buyer.pid,
            customer_name_ru=buyer.name_ru,
            org_bin=buyer.biin,
            org_pid=buyer.pid,
            org_name_ru=buyer.name_ru,
            ref_buy_status_id=status,
            start_date=fmt(start),
            end_date=fmt(end),
            repeat_start_date=None,
            repeat_end_date=None,
            publish_date=fmt(publish),
            itogi_date_public=fmt(itogi),
            ref_type_trade_id=2 if method == 6 else 1,
            disable_person_id=None,
            discus_start_date=fmt(start) if method == 2 else None,
            discus_end_date=fmt(start + dt.timedelta(days=5)) if method == 2 else None,
            id_supplier=winner0.pid if winner0 else None,
            biin_supplier=winner0.biin if winner0 else None,
            parent_id=parent_id,
            singl_org_sign=0,
            is_light_industry=0,
            is_construction_work=int(first.subject_type == 2),
            ref_spec_purchase_type_id=None,
            last_update_date=fmt(last_update),
            fin_year=year,
            kato=buyer.kato,
            system_id=3,
            index_date=fmt(last_update),
        )
        # applications: one per supplier per announcement, app_lots per lot, offers per plan point
        if not direct and outcome != "cancelled":
            self._applications(proc, last_update)
            if register:
                self.register_triples(buyer, [s.bids or [] for s in specs])
        if outcome != "awarded":
            return proc
        for i, (lid, spec) in enumerate(zip(proc.lots, specs, strict=True)):
            if direct:
                winner = spec.winner
                value = (
                    spec.award if spec.award is not None else round(spec.amount * self.uniform(0.86, 1.0), 2)
                )
            else:
                admitted = [b for b in spec.bids if b.status == 1]
                best = min(admitted, key=lambda b: b.price)
                winner, value = best.supplier, best.price
            sign = itogi + dt.timedelta(days=self.uniform(2, 12))
            cid = self._contract(
                buyer,
                proc,
                lid,
                spec,
                winner,
                value,
                sign,
                method,
                vat_override=vat_override,
                amendments=amendments if i == 0 else None,
            )
            proc.contracts.append(cid)
            proc.winners.append(winner)
            proc.sign_dates.append(sign)
            proc.sums.append(value)
        return proc

    def _applications(self, proc: Proc, last_update: dt.datetime) -> None:
        rng, w = self.rng, self.world
        by_supplier: dict[int, list[tuple[int, LotSpec, Bid]]] = {}
        order: list[Party] = []
        for lid, spec in zip(proc.lots, proc.specs, strict=True):
            for bid in spec.bids or []:
                if bid.supplier.pid not in by_supplier:
                    by_supplier[bid.supplier.pid] = []
                    order.append(bid.supplier)
                by_supplier[bid.supplier.pid].append((lid, spec, bid))
        span = proc.end - proc.start - dt.timedelta(hours=1)
        dates = {}
        for p in order:
            late = [b.late_hours for _, _, b in by_supplier[p.pid] if b.late_hours is not None]
            if late:
                dates[p.pid] = (proc.end + dt.timedelta(hours=late[0])).replace(microsecond=0)
            else:
                dates[p.pid] = _rand_dt(rng, proc.start, proc.start + span)
        for p in sorted(order, key=lambda q: (dates[q.pid], q.pid)):
            aid = w.new_id("trd_app")
            proc.apps[p.pid] = aid
            self.bufs["trd_app"].add(
                id=aid,
                buy_id=proc.trd_buy_id,
                supplier_id=p.pid,
                supplier_bin_iin=p.biin,
                date_apply=fmt(dates[p.pid]),
                last_update_date=fmt(max(last_update, dates[p.pid])),
                ref_app_status_id=3,
            )
            for lid, spec, bid in by_supplier[p.pid]:
                alid = w.new_id("app_lots")
                self.bufs["app_lots"].add(
                    app_id=aid,
                    id=alid,
                    lot_id=lid,
                    status_id=bid.status,
                    reject_reason=bid.reject_reason,
                    price=bid.price,
                    discount_price=bid.price,
                    dumping=0,
                )
                n = len(spec.plan_ids)
                for pp in spec.plan_ids:
                    count = spec.quantity / n
                    self.bufs["offers"].add(
                        app_lot_id=alid,
                        id=w.new_id("offers"),
                        pln_point_id=pp,
                        price=round(bid.price / spec.quantity, 2),
                        count=count,
                        total_sum=round(bid.price / n, 2),
                    )

    def _contract(
        self,
        buyer: Party,
        proc: Proc,
        lot_id: int,
        spec: LotSpec,
        winner: Party,
        value: float,
        sign: dt.datetime,
        method: int,
        *,
        vat_override: bool,
        amendments: list[float] | None,
    ) -> int:
        rng, w = self.rng, self.world
        cid = w.new_id("contract")
        vat = VAT if (winner.vat_payer or vat_override) else 1.0
        value = round(value, 2)
        wnds = round(value * vat, 2)
        plan_exec = sign + dt.timedelta(days=self.uniform(20, 120))
        executed = plan_exec < DATE_TO and rng.random() < 0.85
        fakt_exec = plan_exec - dt.timedelta(days=self.uniform(0, 10)) if executed else None
        status = 3 if executed else 2
        crdate = sign - dt.timedelta(hours=int(rng.integers(2, 72)))
        last = min((fakt_exec or sign) + dt.timedelta(days=self.uniform(1, 20)), DATE_TO)
        last = max(last, sign)
        common = dict(
            trd_buy_id=proc.trd_buy_id,
            trd_buy_number_anno=proc.number_anno,
            deleted=0,
            supplier_id=winner.pid,
            supplier_biin=winner.biin,
            supplier_legal_address=winner.address,
            customer_id=buyer.pid,
            customer_bin=buyer.biin,
            customer_legal_address=buyer.address,
            ref_subject_type_id=spec.item.subject_type,
            ref_contract_agr_form_id=1,
            ref_finsource_id=int(self.choice([1, 2, 2, 3])),
            ref_currency_code="KZT",
            exchange_rate=1.0,
            ec_end_date=fmt(dt.datetime(sign.year, 12, 31, 23, 59, 59)),
            contract_end_date=fmt(dt.datetime(sign.year, 12, 31, 23, 59, 59)),
            ref_contract_cancel_id=None,
            description_ru=spec.item.name_ru,
            fakt_trade_methods_id=method,
            system_id=3,
        )
        self.bufs["contract"].add(
            id=cid,
            parent_id=None,
            root_id=None,
            ref_contract_status_id=status,
            crdate=fmt(crdate),
            last_update_date=fmt(last),
            contract_number=f"{int(rng.integers(1, 999))}-{sign:%Y}",
            contract_number_sys=f"{proc.trd_buy_id}-{len(proc.contracts) + 1}",
            fin_year=sign.year,
            contract_sum=value,
            contract_sum_wnds=wnds,
            sign_date=fmt(sign),
            plan_exec_date=fmt(plan_exec),
            fakt_exec_date=fmt(fakt_exec),
            fakt_sum=value if executed else 0.0,
            fakt_sum_wnds=wnds if executed else 0.0,
            ref_contract_type_id=1,
            index_date=fmt(last),
            **common,
        )
        n = len(spec.plan_ids)
        for pp in spec.plan_ids:
            q = spec.quantity / n
            self.bufs["contract_units"].add(
                contract_id=cid,
                id=w.new_id("contract_units"),
                lot_id=lot_id,
                pln_point_id=pp,
                item_price=round(value / spec.quantity, 2),
                item_price_wnds=round(wnds / spec.quantity, 2),
                quantity=q,
                total_sum=round(value / n, 2),
                total_sum_wnds=round(wnds / n, 2),
                fact_sum=round(wnds / n, 2) if executed else 0.0,
                exec_fakt_date=fmt(fakt_exec),
                exec_plan_date=fmt(plan_exec),
                executed=int(executed),
                parent_id=None,
                root_id=None,
                ref_contract_status_id=status,
                ref_amendm_agreem_justif_id=None,
                enstru_code=spec.item.code,
            )
        if executed:
            approve = min(fakt_exec + dt.timedelta(days=self.uniform(1, 5)), DATE_TO)
            self.bufs["acts"].add(
                id=w.new_id("acts"),
                akt_date=fmt(fakt_exec),
                number_act=f"АВР-{int(rng.integers(1, 9999))}",
                approve_date=fmt(approve),
                contract_id=cid,
                contract_root_id=cid,
                status_id=2,
                is_deleted=0,
                day_overdue=0,
                sum_fine=0.0,
                sum_transfer=wnds,
                supplier_id=winner.pid,
                customer_id=buyer.pid,
                date_action=fmt(approve),
            )
            parts = [1.0] if rng.random() < 0.7 else [0.3, 0.7]
            pay_date = approve
            for share in parts:
                pay_date = min(pay_date + dt.timedelta(days=self.uniform(1, 15)), DATE_TO)
                self.bufs["treasury_pay"].add(
                    id=w.new_id("treasury_pay"),
                    contract_id=cid,
                    pay_amount=round(wnds * share, 2),
                    pay_date=fmt(pay_date),
                    prepay_sum=0.0,
                    kato=buyer.kato,
                    fin_source="Местный бюджет"
                    if buyer.kato[:2] not in ("71", "75")
                    else "Республиканский бюджет",
                    last_update_date=fmt(pay_date),
                )
        for k, factor in enumerate(amendments or [], start=1):
            asign = sign + dt.timedelta(days=k * self.uniform(10, 25))
            if asign >= DATE_TO:  # late contracts: squeeze the amendments into the year
                asign = sign + (DATE_TO - sign) * k / (len(amendments) + 1)
            asum = round(value * factor, 2)
            aid = w.new_id("contract")
            self.bufs["contract"].add(
                id=aid,
                parent_id=cid,
                root_id=cid,
                ref_contract_status_id=status,
                crdate=fmt(asign - dt.timedelta(hours=3)),
                last_update_date=fmt(max(asign, last)),
                contract_number=f"ДС-{k}",
                contract_number_sys=f"{proc.trd_buy_id}-{len(proc.contracts) + 1}-{k}",
                fin_year=asign.year,
                contract_sum=asum,
                contract_sum_wnds=round(asum * vat, 2),
                sign_date=fmt(asign),
                plan_exec_date=fmt(plan_exec),
                fakt_exec_date=fmt(fakt_exec),
                fakt_sum=asum if executed else 0.0,
                fakt_sum_wnds=round(asum * vat, 2) if executed else 0.0,
                ref_contract_type_id=2,
                index_date=fmt(max(asign, last)),
                **common,
            )
        return cid

    # --- background -----------------------------------------------------------------------------
    def background(self, buyer: Party, n_announcements: int) -> None:
        """The ordinary procurement of one buyer over the two years."""
        rng = self.rng
        span = (LAST_PUBLISH - DATE_FROM).total_seconds()
        starts = sorted(
            DATE_FROM + dt.timedelta(seconds=float(s)) for s in rng.uniform(0, span, n_announcements)
        )
        for publish in starts:
            publish = _work_time(rng, publish)
            r = rng.random()
            if r < P_DIRECT:
                self.direct(buyer, publish)
            else:
                self.competitive(buyer, publish)
        # plan points never procured (yet)
        for _ in range(max(1, n_announcements // 10)):
            item = self.item()
            self.plan_point(
                buyer,
                item,
                float(rng.integers(1, 100)),
                round(item.price * self.uniform(0.9, 1.1), 2),
                int(self.choice([3, 23, 2])),
                int(self.choice([2023, 2024])),
            )

    def direct(self, buyer: Party, publish: dt.datetime, **kw: Any) -> Proc:
        spec = self.lot_spec(buyer, 23, publish.year)
        value = round(spec.amount * self.uniform(0.86, 1.0), 2)
        spec.winner, spec.award = self.pick_direct_supplier(buyer, value)
        return self.procure(buyer, 23, publish, [spec], **kw)

    def competitive(self, buyer: Party, publish: dt.datetime) -> None:
        rng = self.rng
        method = int(self.choice(COMPETITIVE_METHODS, COMPETITIVE_WEIGHTS))
        n_lots = 1 + int(rng.poisson(1.6))
        specs = [self.lot_spec(buyer, method, publish.year) for _ in range(n_lots)]
        r = rng.random()
        if r < P_CANCELLED:
            self.procure(buyer, method, publish, specs, outcome="cancelled")
            return
        if r < P_CANCELLED + P_FAILED:
            for spec in specs:  # 0 or 1 bid per lot: the tender fails
                if rng.random() < 0.5:
                    p = self.pick_bidders(buyer, 1)[0]
                    spec.bids = [Bid(p, self.bg_prices(spec.amount, 1)[0])]
            failed = self.procure(buyer, method, publish, specs, outcome="failed")
            # the same items again, single source (method 6), to one supplier
            repub = _work_time(rng, failed.end + dt.timedelta(days=self.uniform(3, 15)))
            value_total = sum(s.amount for s in specs) * 0.93
            lone = next((b.supplier for s in specs for b in (s.bids or [])), None)
            supplier, _ = self.pick_direct_supplier(buyer, pt.SPLIT_THRESHOLD_KZT * 2)
            if lone is not None and rng.random() < 0.5:
                supplier = lone
            new_specs = []
            for s in specs:
                value = round(s.amount * self.uniform(0.86, 1.0), 2)
                if value < pt.SPLIT_THRESHOLD_KZT:
                    key = (buyer.pid, supplier.pid)
                    if (
                        self.small_direct.get(key, 0.0) + value
                        >= pt.SPLIT_THRESHOLD_KZT * pt.BG_SPLIT_HEADROOM
                    ):
                        value = round(max(value_total, pt.SPLIT_THRESHOLD_KZT) * self.uniform(1.05, 1.5), 2)
                    else:
                        self.small_direct[key] = self.small_direct.get(key, 0.0) + value
                new_specs.append(
                    LotSpec(
                        s.item,
                        s.quantity,
                        s.amount,
                        s.plan_ids,
                        s.planned_method,
                        winner=supplier,
                        award=value,
                    )
                )
            self.procure(buyer, 6, repub, new_specs, parent_id=failed.trd_buy_id)
            return
        for spec in specs:
            spec.bids = self.bg_bids(buyer, spec, int(self.choice(BID_COUNTS, BID_COUNT_WEIGHTS)))
        amend = None
        if rng.random() < P_AMENDED:
            amend = [round(self.uniform(0.95, 1.1), 4) for _ in range(int(rng.integers(1, 3)))]
        self.procure(buyer, method, publish, specs, amendments=amend)

    def tables(self) -> dict[str, pa.Table]:
        return {name: buf.arrow() for name, buf in self.bufs.items()}


_CHUNK_TABLES = (
    "plans",
    "plans_kato",
    "trd_buy",
    "lots",
    "trd_app",
    "app_lots",
    "offers",
    "contract",
    "contract_units",
    "treasury_pay",
    "acts",
)


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
    dedicated = pt.make_dedicated_suppliers(plan, writer, rng)
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
    rnu_rows.extend(pt.dedicated_rnu(dedicated))
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
                pt.plant(chunk)
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


def _write_ground_truth_table(con: duckdb.DuckDBPyConnection, rows: list[dict]) -> None:
    rows = sorted(
        rows, key=lambda r: (r["pattern"], r["object_type"], r["object_id"], r["supplier_pid"] or 0)
    )
    table = pa.table(
        {
            "pattern": [r["pattern"] for r in rows],
            "grain": [r["grain"] for r in rows],
            "object_type": [r["object_type"] for r in rows],
            "object_id": pa.array([r["object_id"] for r in rows], pa.int64()),
            "buyer_pid": pa.array([r["buyer_pid"] for r in rows], pa.int64()),
            "supplier_pid": pa.array([r["supplier_pid"] for r in rows], pa.int64()),
            "details": [json.dumps(r["details"], ensure_ascii=False, sort_keys=True) for r in rows],
        }
    )
    con.register("_gt_rows", table)
    try:
        con.execute(
            "INSERT INTO ground_truth SELECT pattern, grain, object_type, object_id, buyer_pid, "
            "supplier_pid, details::JSON FROM _gt_rows"
        )
    finally:
        con.unregister("_gt_rows")


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


def ground_truth(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """The planted cases as dicts (``details`` parsed), sorted by pattern and object."""
    cur = con.execute(
        "SELECT pattern, grain, object_type, object_id, buyer_pid, supplier_pid, details::VARCHAR AS details "
        "FROM ground_truth ORDER BY pattern, object_type, object_id, supplier_pid"
    )
    cols = [d[0] for d in cur.description]
    out = []
    for row in cur.fetchall():
        rec = dict(zip(cols, row, strict=True))
        rec["details"] = json.loads(rec["details"]) if rec["details"] else {}
        out.append(rec)
    return out


def write_ground_truth(con: duckdb.DuckDBPyConnection, out: Path) -> Path:
    """Write the ground truth as deterministic JSON (sorted keys and rows) to ``out``."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(ground_truth(con), ensure_ascii=False, sort_keys=True, indent=1)
    out.write_text(text + "\n", encoding="utf-8")
    return out


# ================================================================================================
# Epochs of change
# ================================================================================================


#: Share of each entity table touched (updated) per epoch, and deleted per epoch (at least 1).
UPDATE_MODULUS = 200  # 1 / 200 = 0.5 %
DELETE_SHARE = 0.0005
INSERT_SHARE = 0.001

SERVICE_TITLES = {
    "trd_buy": "Объявления о закупках",
    "lots": "Лоты",
    "contract": "Договоры",
    "plans": "Пункты плана",
    "trd_app": "Заявки",
    "acts": "Акты",
    "subject": "Участники",
    "rnu": "Реестр недобросовестных участников",
}
#: table -> SET clause (besides the cursor) of an epoch update: a visible change of value.
UPDATE_SET = {
    "trd_buy": "name_ru = name_ru || ' (изм.)', index_date = _chg.ts",
    "lots": "description_ru = description_ru || ' (изм.)', index_date = _chg.ts",
    "contract": "fakt_sum = round(contract_sum, 2), fakt_sum_wnds = round(contract_sum_wnds, 2), "
    "ref_contract_status_id = 3, index_date = _chg.ts",
    "plans": "ref_pln_point_status_id = 3",
    "trd_app": "ref_app_status_id = CASE WHEN ref_app_status_id = 3 THEN 1 ELSE 3 END",
    "acts": "status_id = CASE WHEN status_id = 2 THEN 3 ELSE 2 END",
    "subject": "phone = '+7 700' || lpad(CAST(pid % 10000000 AS VARCHAR), 7, '0')",
    "rnu": "reason = reason || ' (изм.)'",
}


class _Epoch:
    """One epoch of changes on a live connection (temp tables prefixed ``_adv_``)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, epoch: int, seed: int):
        self.con = con
        self.epoch = epoch
        self.seed = seed
        self.base = EPOCH_BASE + dt.timedelta(days=epoch - 1)
        self.clock = 0  # seconds after base, one per change
        self.seq = con.execute("SELECT coalesce(max(seq), 0) FROM journal").fetchone()[0]
        self.stats: dict[str, dict[str, int]] = {}
        self.protected_buys = (
            "(SELECT DISTINCT unnest(from_json(details->'trd_buy_ids', '[\"BIGINT\"]')) FROM ground_truth)"
        )

    def count(self, table: str, what: str, n: int) -> None:
        st = self.stats.setdefault(table, {"updated": 0, "deleted": 0, "inserted": 0})
        st[what] += n

    def order(self, pk: str) -> str:
        return f"(({pk} * 2654435761 + {self.epoch} * 40503 + {self.seed} * 7919) % 1000003)"

    def n_rows(self, table: str) -> int:
        return self.con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]

    def _stamp(self, select_ids: str) -> int:
        """Fill ``_chg(id, ts)`` with the ids of ``select_ids`` and one new time each."""
        con = self.con
        con.execute("DROP TABLE IF EXISTS _chg")
        con.execute(
            f"CREATE TEMP TABLE _chg AS SELECT id, strftime(TIMESTAMP '{fmt(self.base)}' + "
            f"to_seconds(CAST({self.clock} + row_number() OVER (ORDER BY id) AS BIGINT)), '%Y-%m-%d %H:%M:%S') "
            f"AS ts FROM ({select_ids}) ids(id)"
        )
        n = con.execute("SELECT count(*) FROM _chg").fetchone()[0]
        self.clock += n
        return n

    def _journal(self, entity: str, action: str) -> None:
        e = ENTITIES[entity]
        service = e.rest_path.removeprefix("/v3/")
        self.con.execute(
            f"INSERT INTO journal SELECT {self.seq} + row_number() OVER (ORDER BY ts, id), '{action}', id, ts, "
            f"'{service}', '{SERVICE_TITLES[entity]}', '{e.rest_path}/' || id FROM _chg"
        )
        self.seq += self.con.execute("SELECT count(*) FROM _chg").fetchone()[0]

    # --- deletions --------------------------------------------------------------------------------
    def delete(self, entity: str, select_ids: str) -> None:
        """Delete the rows ``select_ids`` of ``entity`` with everything that hangs on them (journaled)."""
        con = self.con
        tmp = f"_del_{entity}"
        con.execute(f"DROP TABLE IF EXISTS {tmp}")
        con.execute(f"CREATE TEMP TABLE {tmp} AS SELECT DISTINCT id FROM ({select_ids}) d(id)")
        ids = f"(SELECT id FROM {tmp})"
        if entity == "trd_buy":
            self.delete("contract", f"SELECT id FROM contract WHERE trd_buy_id IN {ids}")
            self.delete("trd_app", f"SELECT id FROM trd_app WHERE buy_id IN {ids}")
            self.delete("lots", f"SELECT id FROM lots WHERE trd_buy_id IN {ids}")
        elif entity == "contract":
            # amendments go with their contract, acts with the contract
            con.execute(
                f"INSERT INTO {tmp} SELECT id FROM contract WHERE root_id IN {ids} AND id NOT IN {ids}"
            )
            self.delete("acts", f"SELECT id FROM acts WHERE contract_id IN {ids}")
            for child in ("contract_units", "treasury_pay"):
                n = con.execute(f"DELETE FROM {child} WHERE contract_id IN {ids}").fetchone()[0]
                self.count(child, "deleted", n)
        elif entity == "trd_app":
            n = con.execute(
                f"DELETE FROM offers WHERE app_lot_id IN (SELECT id FROM app_lots WHERE app_id IN {ids})"
            ).fetchone()[0]
            self.count("offers", "deleted", n)
            n = con.execute(f"DELETE FROM app_lots WHERE app_id IN {ids}").fetchone()[0]
            self.count("app_lots", "deleted", n)
        elif entity == "plans":
            n = con.execute(f"DELETE FROM plans_kato WHERE pln_point_id IN {ids}").fetchone()[0]
            self.count("plans_kato", "deleted", n)
        pk = ENTITIES[entity].primary_key
        self._stamp(f"SELECT id FROM {tmp}")
        self._journal(entity, "D")
        n = con.execute(f"DELETE FROM {entity} WHERE {pk} IN (SELECT id FROM _chg)").fetchone()[0]
        self.count(entity, "deleted", n)
        con.execute(f"DROP TABLE {tmp}")

    def deletions(self) -> None:
        pb = self.protected_buys

        def k(table: str) -> int:
            return max(1, round(self.n_rows(table) * DELETE_SHARE))

        self.delete(
            "trd_buy",
            f"SELECT id FROM trd_buy WHERE ref_buy_status_id = 410 AND id NOT IN {pb} "
            f"ORDER BY {self.order('id')} LIMIT {k('trd_buy')}",
        )
        self.delete(
            "contract",
            f"SELECT id FROM contract WHERE parent_id IS NULL AND trd_buy_id NOT IN {pb} "
            f"ORDER BY {self.order('id')} LIMIT {k('contract')}",
        )
        self.delete(
            "plans",
            "SELECT id FROM plans WHERE id NOT IN (SELECT DISTINCT unnest(point_list) FROM lots) "
            f"ORDER BY {self.order('id')} LIMIT {k('plans')}",
        )
        self.delete(
            "trd_app",
            f"SELECT a.id FROM trd_app a JOIN trd_buy b ON b.id = a.buy_id "
            f"WHERE b.ref_buy_status_id = 360 AND b.id NOT IN {pb} "
            f"ORDER BY {self.order('a.id')} LIMIT {k('trd_app')}",
        )
        self.delete(
            "acts",
            f"SELECT a.id FROM acts a JOIN contract c ON c.id = a.contract_id "
            f"WHERE c.trd_buy_id NOT IN {pb} ORDER BY {self.order('a.id')} LIMIT {k('acts')}",
        )
        self.delete(
            "subject",
            "SELECT pid FROM subject WHERE customer = 0 "
            "AND pid NOT IN (SELECT supplier_id FROM trd_app) "
            "AND pid NOT IN (SELECT supplier_id FROM contract) AND pid NOT IN (SELECT pid FROM rnu) "
            f"ORDER BY {self.order('pid')} LIMIT {k('subject')}",
        )
        self.delete(
            "rnu",
            f"SELECT id FROM rnu WHERE end_date < '2023-01-01' ORDER BY {self.order('id')} LIMIT {k('rnu')}",
        )
        # a lot on its own (of a cancelled announcement that keeps its other lots)
        self.delete(
            "lots",
            f"SELECT l.id FROM lots l JOIN trd_buy b ON b.id = l.trd_buy_id "
            f"WHERE b.ref_buy_status_id = 410 AND b.count_lots > 1 AND b.id NOT IN {pb} "
            f"ORDER BY {self.order('l.id')} LIMIT {k('lots')}",
        )

    # --- updates ----------------------------------------------------------------------------------
    def updates(self) -> None:
        con = self.con
        for name, e in ENTITIES.items():
            pk = e.primary_key
            # about 1 / UPDATE_MODULUS of the rows, and at least one
            n = self._stamp(
                f"SELECT {pk} FROM {name} WHERE {self.order(pk)} % {UPDATE_MODULUS} = 0 "
                f"OR {pk} = (SELECT {pk} FROM {name} ORDER BY {self.order(pk)} LIMIT 1)"
            )
            if not n:
                continue
            sets = [UPDATE_SET[name]]
            if e.cursor:
                sets.append(f"{e.cursor} = _chg.ts")
            elif name == "subject":
                sets.append("last_update_date = _chg.ts")
            con.execute(f"UPDATE {name} SET {', '.join(sets)} FROM _chg WHERE {name}.{pk} = _chg.id")
            self._journal(name, "U")
            self.count(name, "updated", n)

    # --- inserts ----------------------------------------------------------------------------------
    def inserts(self) -> None:
        """New direct awards (copies of large background ones, fresh ids, dated in this epoch)."""
        con = self.con
        k = max(2, round(self.n_rows("trd_buy") * INSERT_SHARE))
        t0 = f"TIMESTAMP '{fmt(self.base)}' + to_seconds(CAST({self.clock} + s.rn * 60 AS BIGINT))"
        self.clock += 60 * (k + 1)
        con.execute("DROP TABLE IF EXISTS _ins")
        con.execute(
            f"CREATE TEMP TABLE _ins AS SELECT old_id, (SELECT max(id) FROM trd_buy) + rn AS new_id, rn FROM ("
            f"SELECT id AS old_id, row_number() OVER (ORDER BY {self.order('id')}) AS rn FROM trd_buy "
            f"WHERE ref_trade_methods_id = 23 AND ref_buy_status_id = 350 AND id NOT IN {self.protected_buys} "
            f"AND id IN (SELECT trd_buy_id FROM contract WHERE parent_id IS NULL "
            f"AND contract_sum >= {pt.SPLIT_THRESHOLD_KZT}) ORDER BY {self.order('id')} LIMIT {k})"
        )
        ts = f"strftime({t0}, '%Y-%m-%d %H:%M:%S')"

        def later(hours: int) -> str:
            return f"strftime({t0} + INTERVAL {hours} HOUR, '%Y-%m-%d %H:%M:%S')"

        n = con.execute(
            f"INSERT INTO trd_buy SELECT t.* REPLACE (s.new_id AS id, s.new_id || '-1' AS number_anno, "
            f"{ts} AS publish_date, {ts} AS start_date, {later(1)} AS end_date, {later(2)} AS itogi_date_public, "
            f"{later(3)} AS last_update_date, {later(3)} AS index_date, 2025 AS fin_year, NULL AS parent_id) "
            "FROM trd_buy t JOIN _ins s ON t.id = s.old_id ORDER BY s.new_id"
        ).fetchone()[0]
        self.count("trd_buy", "inserted", n)
        con.execute("DROP TABLE IF EXISTS _ins_l")
        con.execute(
            "CREATE TEMP TABLE _ins_l AS SELECT l.id AS old_id, s.new_id AS buy_id, s.rn, "
            "(SELECT max(id) FROM lots) + row_number() OVER (ORDER BY s.new_id, l.id) AS new_id "
            "FROM lots l JOIN _ins s ON l.trd_buy_id = s.old_id"
        )
        n = con.execute(
            "INSERT INTO lots SELECT l.* REPLACE (m.new_id AS id, m.buy_id AS trd_buy_id, "
            "m.buy_id || '-1' AS trd_buy_number_anno, "
            "m.buy_id || '-' || regexp_extract(l.lot_number, '-(.*)$', 1) AS lot_number, "
            f"{later(3).replace('s.rn', 'm.rn')} AS last_update_date, {later(3).replace('s.rn', 'm.rn')} AS index_date) "
            "FROM lots l JOIN _ins_l m ON l.id = m.old_id ORDER BY m.new_id"
        ).fetchone()[0]
        self.count("lots", "inserted", n)
        con.execute("DROP TABLE IF EXISTS _ins_c")
        con.execute(
            "CREATE TEMP TABLE _ins_c AS SELECT c.id AS old_id, s.new_id AS buy_id, s.rn, "
            "(SELECT max(id) FROM contract) + row_number() OVER (ORDER BY s.new_id, c.id) AS new_id "
            "FROM contract c JOIN _ins s ON c.trd_buy_id = s.old_id WHERE c.parent_id IS NULL"
        )
        sign = later(4).replace("s.rn", "m.rn")
        n = con.execute(
            f"INSERT INTO contract SELECT c.* REPLACE (m.new_id AS id, m.buy_id AS trd_buy_id, "
            f"m.buy_id || '-1' AS trd_buy_number_anno, m.buy_id || '-1' AS contract_number_sys, "
            f"{sign} AS sign_date, {sign} AS crdate, {sign} AS last_update_date, {sign} AS index_date, "
            "2025 AS fin_year, 2 AS ref_contract_status_id, NULL AS fakt_exec_date, 0.0 AS fakt_sum, "
            "0.0 AS fakt_sum_wnds, '2025-12-31 23:59:59' AS ec_end_date, '2025-12-31 23:59:59' AS contract_end_date) "
            "FROM contract c JOIN _ins_c m ON c.id = m.old_id ORDER BY m.new_id"
        ).fetchone()[0]
        self.count("contract", "inserted", n)
        n = con.execute(
            "INSERT INTO contract_units SELECT u.* REPLACE (m.new_id AS contract_id, "
            "(SELECT max(id) FROM contract_units) + row_number() OVER (ORDER BY m.new_id, u.id) AS id, "
            "l.new_id AS lot_id, 0.0 AS fact_sum, NULL AS exec_fakt_date, 0 AS executed, 2 AS ref_contract_status_id) "
            "FROM contract_units u JOIN _ins_c m ON u.contract_id = m.old_id JOIN _ins_l l ON l.old_id = u.lot_id "
            "ORDER BY m.new_id, u.id"
        ).fetchone()[0]
        self.count("contract_units", "inserted", n)

    def run(self) -> dict[str, dict[str, int]]:
        self.deletions()
        self.updates()
        self.inserts()
        for t in ("_chg", "_ins", "_ins_l", "_ins_c"):
            self.con.execute(f"DROP TABLE IF EXISTS {t}")
        self.con.execute("UPDATE world_meta SET value = ? WHERE key = 'epoch'", [str(self.epoch)])
        self.con.execute(
            "UPDATE world_meta SET value = ? WHERE key = 'date_to'",
            [fmt(self.base + dt.timedelta(seconds=self.clock + 6 * 3600))],
        )
        return self.stats


def advance_world(con: duckdb.DuckDBPyConnection, epochs: int = 1) -> dict[str, dict[str, int]]:
    """Apply the next ``epochs`` epochs of change on ``con`` (one transaction per epoch).

    Epoch n (stored in ``world_meta``) updates about 0.5 % of the rows of every entity table (new
    cursor time on 2025-01-01 + (n - 1) days, after everything earlier, and a changed value),
    deletes a few objects with their children, inserts a few new announcements with contracts,
    and records every update and deletion in ``journal``. Returns the counts per table, summed
    over the epochs.
    """
    if epochs < 0:
        raise ValueError(f"epochs must be >= 0, got {epochs}")
    meta = dict(con.execute("SELECT key, value FROM world_meta").fetchall())
    total: dict[str, dict[str, int]] = {}
    for i in range(epochs):
        epoch = int(meta["epoch"]) + 1 + i
        con.execute("BEGIN TRANSACTION")
        try:
            stats = _Epoch(con, epoch, int(meta["seed"])).run()
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        for table, st in stats.items():
            agg = total.setdefault(table, {"updated": 0, "deleted": 0, "inserted": 0})
            for k, v in st.items():
                agg[k] += v
    return total


__all__ = [
    "TABLES",
    "advance_world",
    "build_world",
    "ensure_world",
    "ground_truth",
    "kz_check_digit",
    "valid_biin",
    "world_path",
    "write_ground_truth",
]
