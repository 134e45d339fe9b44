"""Catalogues of the world: ENSTRU items with prices and units, and the rows of the reference tables."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipelines.goszakup_api import (
    BUY_STATUS,
    TRADE_METHODS,
)
from sandbox import names
from sandbox.world.constants import CONTRACT_STATUS, LOT_STATUS, REJECT_REASONS

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
