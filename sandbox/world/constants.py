"""Sizes, time frame, shares and code tables of the sandbox world (one place for the generator's knobs)."""

from __future__ import annotations

import datetime as dt

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
