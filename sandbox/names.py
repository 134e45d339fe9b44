"""Russian and Kazakh name material for the synthetic world (people, firms, public bodies, places).

Why a module of its own: the generator should read like procurement logic, not like word lists.
Everything here is plain data plus small pickers that take the caller's seeded RNG, so names are
as deterministic as the rest of the world.
"""

from __future__ import annotations

import numpy as np

#: KATO region prefix -> (Russian name, Kazakh name, relative weight by number of buyers).
REGIONS: dict[str, tuple[str, str, float]] = {
    "11": ("Акмолинская область", "Ақмола облысы", 5.0),
    "15": ("Актюбинская область", "Ақтөбе облысы", 5.0),
    "19": ("Алматинская область", "Алматы облысы", 6.0),
    "23": ("Атырауская область", "Атырау облысы", 4.0),
    "27": ("Западно-Казахстанская область", "Батыс Қазақстан облысы", 4.0),
    "31": ("Жамбылская область", "Жамбыл облысы", 5.0),
    "35": ("Карагандинская область", "Қарағанды облысы", 6.0),
    "39": ("Костанайская область", "Қостанай облысы", 5.0),
    "43": ("Кызылординская область", "Қызылорда облысы", 4.0),
    "47": ("Мангистауская область", "Маңғыстау облысы", 3.0),
    "55": ("Павлодарская область", "Павлодар облысы", 4.0),
    "59": ("Северо-Казахстанская область", "Солтүстік Қазақстан облысы", 4.0),
    "61": ("Туркестанская область", "Түркістан облысы", 7.0),
    "63": ("Восточно-Казахстанская область", "Шығыс Қазақстан облысы", 5.0),
    "71": ("город Астана", "Астана қаласы", 7.0),
    "75": ("город Алматы", "Алматы қаласы", 9.0),
    "79": ("город Шымкент", "Шымкент қаласы", 5.0),
}

#: A few district / town names used in buyer names and addresses (any region).
DISTRICTS_RU = [
    "Алмалинского",
    "Бостандыкского",
    "Есильского",
    "Сарыаркинского",
    "Абайского",
    "Енбекшинского",
    "Каратальского",
    "Жамбылского",
    "Шуйского",
    "Целиноградского",
    "Бурабайского",
    "Аршалынского",
    "Мугалжарского",
    "Хромтауского",
    "Карасайского",
    "Талгарского",
    "Илийского",
    "Байзакского",
    "Сайрамского",
    "Толебийского",
    "Казыгуртского",
    "Шиелийского",
    "Аральского",
    "Бухар-Жырауского",
]
DISTRICTS_KZ = [
    "Алмалы",
    "Бостандық",
    "Есіл",
    "Сарыарқа",
    "Абай",
    "Еңбекші",
    "Қаратал",
    "Жамбыл",
    "Шу",
    "Целиноград",
    "Бурабай",
    "Аршалы",
    "Мұғалжар",
    "Хромтау",
    "Қарасай",
    "Талғар",
    "Іле",
    "Байзақ",
    "Сайрам",
    "Төле би",
    "Қазығұрт",
    "Шиелі",
    "Арал",
    "Бұқар жырау",
]
STREETS = [
    "ул. Абая",
    "пр. Республики",
    "ул. Кунаева",
    "ул. Толе би",
    "пр. Назарбаева",
    "ул. Сатпаева",
    "ул. Жамбыла",
    "ул. Байтурсынова",
    "ул. Ауэзова",
    "пр. Абылай хана",
    "ул. Пушкина",
    "ул. Казыбек би",
    "ул. Гагарина",
    "ул. Момышулы",
    "мкр. Самал",
    "ул. Кенесары",
]

SURNAMES = [
    "Абдрахманов",
    "Ахметов",
    "Байжанов",
    "Жумабаев",
    "Иванов",
    "Кенжебаев",
    "Муканов",
    "Нурланов",
    "Омаров",
    "Петров",
    "Сагинтаев",
    "Сулейменов",
    "Тлеубаев",
    "Утепов",
    "Хасенов",
    "Шарипов",
    "Есенов",
    "Калиев",
    "Бекмуханбетов",
    "Садыков",
    "Ким",
    "Цой",
    "Смагулов",
    "Ермеков",
    "Попов",
    "Исмаилов",
    "Турсынбеков",
    "Алиев",
    "Джаксыбеков",
    "Оспанов",
]
FIRST_NAMES = [
    "Асхат",
    "Ерлан",
    "Бауыржан",
    "Данияр",
    "Айгуль",
    "Гульнара",
    "Дина",
    "Сергей",
    "Ольга",
    "Нурлан",
    "Айдос",
    "Мадина",
    "Жанар",
    "Арман",
    "Алия",
    "Руслан",
    "Ерик",
    "Сауле",
    "Тимур",
    "Анара",
    "Виктор",
    "Елена",
    "Канат",
    "Бахыт",
]
PATRONYMICS = [
    "Серикович",
    "Маратович",
    "Кайратович",
    "Болатович",
    "Ерланович",
    "Николаевич",
    "Асылбекович",
    "Сапарович",
    "Муратович",
    "Жумабекович",
]

#: Words for supplier firm names (Russian spelling is used in both languages, as in practice).
FIRM_WORDS = [
    "Строй",
    "Сервис",
    "Тех",
    "Снаб",
    "Энерго",
    "Мед",
    "Агро",
    "Транс",
    "Инвест",
    "Пром",
    "Альянс",
    "Казах",
    "Астана",
    "Алатау",
    "Нур",
    "Сункар",
    "Береке",
    "Жулдыз",
    "Алтын",
    "Тау",
    "Дала",
    "Капитал",
    "Групп",
    "Плюс",
    "Систем",
    "Трейд",
    "Комплект",
    "Монтаж",
    "Инжиниринг",
    "Проект",
]
FIRM_SUFFIXES = ["", " KZ", " Азия", " Центр", " Орда", "-2010", " Плюс", " Сервис", " Трейд", ""]

#: Public body templates (Russian, Kazakh): {d} district genitive / nominative, {n} a number.
BUYER_KINDS: list[tuple[str, str, str]] = [
    ("ГУ", "ГУ «Аппарат акима {d} района»", "«{dk} ауданы әкімінің аппараты» ММ"),
    ("ГУ", "ГУ «Отдел образования {d} района»", "«{dk} ауданының білім бөлімі» ММ"),
    ("КГУ", "КГУ «Общеобразовательная школа №{n}»", "«№{n} жалпы білім беретін мектеп» КММ"),
    ("КГП", "КГП на ПХВ «Городская поликлиника №{n}»", "«№{n} қалалық емхана» ШЖҚ КМК"),
    ("ГККП", "ГККП «Ясли-сад №{n}»", "«№{n} бөбекжай-бақшасы» МКҚК"),
    ("ГУ", "ГУ «Отдел жилищно-коммунального хозяйства {d} района»", "«{dk} ауданының ТКШ бөлімі» ММ"),
    ("КГП", "КГП на ПХВ «Районная больница {d} района»", "«{dk} аудандық ауруханасы» ШЖҚ КМК"),
    ("ГУ", "ГУ «Управление здравоохранения {r}»", "«{rk} денсаулық сақтау басқармасы» ММ"),
]


def _pick(rng: np.random.Generator, items: list):
    return items[int(rng.integers(len(items)))]


def person(rng: np.random.Generator) -> tuple[str, str, str]:
    """(surname, first name, patronymic), with a feminine surname for typical female first names."""
    first = _pick(rng, FIRST_NAMES)
    surname = _pick(rng, SURNAMES)
    patronymic = _pick(rng, PATRONYMICS)
    if first in {"Айгуль", "Гульнара", "Дина", "Ольга", "Мадина", "Жанар", "Алия", "Сауле", "Анара", "Елена"}:
        surname = surname if surname in {"Ким", "Цой"} else surname + "а"
        patronymic = patronymic.replace("ович", "овна").replace("евич", "евна")
    return surname, first, patronymic


def firm_core(rng: np.random.Generator) -> str:
    """A firm's distinctive name, e.g. ``СтройСервис Азия``."""
    return _pick(rng, FIRM_WORDS) + _pick(rng, FIRM_WORDS).lower() + _pick(rng, FIRM_SUFFIXES)


def supplier_names(rng: np.random.Generator, type_supplier: int) -> tuple[str, str]:
    """(name_ru, name_kz) of a supplier: 1 legal entity (ТОО / ЖШС), 2 individual, 3 sole proprietor (ИП / ЖК)."""
    if type_supplier == 1:
        core = firm_core(rng)
        return f"ТОО «{core}»", f"«{core}» ЖШС"
    surname, first, patronymic = person(rng)
    full = f"{surname} {first} {patronymic}"
    if type_supplier == 3:
        return f"ИП {full}", f"ЖК {full}"
    return full, full


def buyer_names(rng: np.random.Generator, region: str, n: int) -> tuple[str, str, str]:
    """(kopf short form, name_ru, name_kz) of a public buyer in ``region``; ``n`` numbers schools etc."""
    kopf, ru, kz = _pick(rng, BUYER_KINDS)
    i = int(rng.integers(len(DISTRICTS_RU)))
    r_ru, r_kz, _ = REGIONS[region]
    r_gen = r_ru.replace("ская область", "ской области").replace("город ", "города ")
    fmt = {"d": DISTRICTS_RU[i], "dk": DISTRICTS_KZ[i], "n": n, "r": r_gen, "rk": r_kz}
    return kopf, ru.format(**fmt), kz.format(**fmt)


def address(rng: np.random.Generator, region: str) -> str:
    """A postal-looking address in ``region``."""
    return f"{REGIONS[region][0]}, {_pick(rng, STREETS)}, д. {int(rng.integers(1, 250))}"
