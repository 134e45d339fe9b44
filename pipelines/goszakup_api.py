"""What we know of the goszakup OWS API contract, in one place.

Both sides of the wire read this module: the sandbox server (which emulates the API) and the dlt
connector (which calls the real one). Keeping the field lists here means the connector's GraphQL
selections, the sandbox's GraphQL schema and the raw table layout cannot drift apart.

Source of the facts: ``shared/reference/goszakup-api.md``. Items marked "unconfirmed" there
(TrdApp/Offers fields, journal service names, the VAT-payer flag) are modelled here as our best
guess; the connector tolerates extra and missing fields (dlt schema evolution) and unknown journal
service names (kept in the journal table, not applied).

Field names are snake_case as REST returns them; GraphQL uses the camelCase form
(:func:`camel`). Dates travel as strings ``YYYY-MM-DD HH:MM:SS`` without an offset, in
Kazakhstan local time; they stay strings in the raw layer and staging makes the zone explicit.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Value types a field can carry on the wire.
#: ``datetime`` is a string ``YYYY-MM-DD HH:MM:SS`` (local time, no offset).
FieldType = str  # "int" | "float" | "str" | "datetime" | "bool" | "int[]" | "str[]"

API_DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"
GRAPHQL_FILTER_FORMAT = "%Y-%m-%d %H:%M:%S.%f"
GRAPHQL_MAX_LIMIT = 200
REST_DEFAULT_LIMIT = 500


def camel(snake: str) -> str:
    """``ref_trade_methods_id`` -> ``refTradeMethodsId`` (the GraphQL spelling)."""
    head, *rest = snake.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


@dataclass(frozen=True)
class Field:
    name: str
    type: FieldType
    description: str = ""
    #: fixed width of a numeric code held as text (a BIN is 12 digits): an API that sends the code
    #: as a number has dropped its leading zeros, and the connector puts them back
    digits: int | None = None

    @property
    def camel(self) -> str:
        return camel(self.name)


#: Numeric codes held as text and their fixed width: BIN and IIN (12 digits), KATO (9), OKEI units
#: (3), OKED (5). Seen zero-padded in the register (a BIN of a 2006 company starts with 06).
CODE_DIGITS: dict[str, int] = {
    **dict.fromkeys(
        ("bin", "iin", "customer_bin", "org_bin", "biin_supplier", "supplier_biin", "subject_biin"), 12
    ),
    "supplier_bin_iin": 12,
    **dict.fromkeys(("kato", "ref_kato_code", "pln_point_kato_list", "kato_list"), 9),
    "ref_units_code": 3,
    "oked_list": 5,
}


def _fields(spec: str) -> tuple[Field, ...]:
    """Parse ``"id:int number_anno:str ..."`` into fields (keeps the tables below readable)."""
    out = []
    for token in spec.split():
        name, _, type_ = token.partition(":")
        out.append(Field(name, type_ or "str", digits=CODE_DIGITS.get(name)))
    return tuple(out)


@dataclass(frozen=True)
class Child:
    """An object list nested in a GraphQL entity (e.g. ``Contract.ContractUnits``).

    The connector lifts children into their own raw table with ``parent_key`` set to the parent's
    id, so every raw table has a plain primary key and no dlt-generated nesting.
    """

    graphql_name: str  # e.g. "ContractUnits"
    table: str  # raw table, e.g. "contract_units"
    primary_key: str
    parent_key: str  # column added to each child row with the parent's id
    fields: tuple[Field, ...]
    children: tuple[Child, ...] = ()


@dataclass(frozen=True)
class Entity:
    name: str  # raw table name and the name users pass on the command line
    description: str
    primary_key: str
    fields: tuple[Field, ...]
    rest_path: str | None = None  # e.g. "/v3/trd-buy"
    graphql_root: str | None = None  # e.g. "TrdBuy"
    graphql_filter_input: str | None = None  # e.g. "TrdBuyFiltersInput"
    #: field (snake_case) whose value only grows when a record changes: the incremental cursor
    cursor: str | None = None
    #: GraphQL filter (camelCase) that takes ``[from, to]`` on the cursor field
    cursor_filter: str | None = None
    #: other date filters the API offers (camelCase), kept for completeness of the sandbox
    extra_filters: tuple[str, ...] = ()
    children: tuple[Child, ...] = ()
    #: names this entity may carry in ``/v2/journal`` ``service_name`` (unconfirmed: tolerate all)
    journal_names: tuple[str, ...] = ()
    #: how the connector fetches it by default
    default_api: str = "graphql"

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    def tables(self) -> list[str]:
        """This entity's raw tables: its own and its (nested) children's."""
        out = [self.name]
        stack = list(self.children)
        while stack:
            child = stack.pop(0)
            out.append(child.table)
            stack.extend(child.children)
        return out


TRD_BUY = Entity(
    name="trd_buy",
    description="Procurement announcements (tender notices): one per procurement procedure.",
    primary_key="id",
    fields=_fields(
        "id:int number_anno:str name_ru:str name_kz:str total_sum:float count_lots:int "
        "ref_trade_methods_id:int ref_subject_type_id:int customer_bin:str customer_pid:int "
        "customer_name_ru:str org_bin:str org_pid:int org_name_ru:str ref_buy_status_id:int "
        "start_date:datetime end_date:datetime repeat_start_date:datetime repeat_end_date:datetime "
        "publish_date:datetime itogi_date_public:datetime ref_type_trade_id:int "
        "disable_person_id:int discus_start_date:datetime discus_end_date:datetime "
        "id_supplier:int biin_supplier:str parent_id:int singl_org_sign:int "
        "is_light_industry:int is_construction_work:int ref_spec_purchase_type_id:int "
        "last_update_date:datetime fin_year:int kato:str system_id:int index_date:datetime"
    ),
    rest_path="/v3/trd-buy",
    graphql_root="TrdBuy",
    graphql_filter_input="TrdBuyFiltersInput",
    cursor="last_update_date",
    cursor_filter="lastUpdateDate",
    extra_filters=("publishDate",),
    journal_names=("trd-buy", "trd_buy", "TrdBuy", "buy"),
)

LOTS = Entity(
    name="lots",
    description="Lots of an announcement: the unit that is bid on and awarded.",
    primary_key="id",
    fields=_fields(
        "id:int lot_number:str ref_lot_status_id:int last_update_date:datetime union_lots:int "
        "count:float amount:float name_ru:str name_kz:str description_ru:str customer_id:int "
        "customer_bin:str trd_buy_number_anno:str trd_buy_id:int dumping:int "
        "ref_trade_methods_id:int ref_buy_trade_methods_id:int psd_sign:int "
        "consulting_services:int point_list:int[] enstru_list:str[] pln_point_kato_list:str[] "
        "singl_org_sign:int is_deleted:int index_date:datetime system_id:int"
    ),
    rest_path="/v3/lots",
    graphql_root="Lots",
    graphql_filter_input="LotsFiltersInput",
    cursor="last_update_date",
    cursor_filter="lastUpdateDate",
    journal_names=("lots", "Lots", "lot"),
)

CONTRACT_UNIT_FIELDS = _fields(
    "id:int lot_id:int pln_point_id:int item_price:float item_price_wnds:float quantity:float "
    "total_sum:float total_sum_wnds:float fact_sum:float exec_fakt_date:datetime "
    "exec_plan_date:datetime executed:int parent_id:int root_id:int ref_contract_status_id:int "
    "ref_amendm_agreem_justif_id:int enstru_code:str"
)
TREASURY_PAY_FIELDS = _fields(
    "id:int contract_id:int pay_amount:float pay_date:datetime prepay_sum:float kato:str "
    "fin_source:str last_update_date:datetime"
)

CONTRACT = Entity(
    name="contract",
    description="Contracts and their amendments (parent_id / root_id chain an amendment to its contract).",
    primary_key="id",
    fields=_fields(
        "id:int parent_id:int root_id:int trd_buy_id:int trd_buy_number_anno:str "
        "ref_contract_status_id:int deleted:int crdate:datetime last_update_date:datetime "
        "supplier_id:int supplier_biin:str supplier_legal_address:str contract_number:str "
        "contract_number_sys:str customer_id:int customer_bin:str customer_legal_address:str "
        "ref_subject_type_id:int fin_year:int ref_contract_agr_form_id:int ref_finsource_id:int "
        "ref_currency_code:str exchange_rate:float contract_sum:float contract_sum_wnds:float "
        "sign_date:datetime ec_end_date:datetime plan_exec_date:datetime fakt_exec_date:datetime "
        "fakt_sum:float fakt_sum_wnds:float contract_end_date:datetime ref_contract_cancel_id:int "
        "ref_contract_type_id:int description_ru:str fakt_trade_methods_id:int system_id:int "
        "index_date:datetime"
    ),
    rest_path="/v3/contract",
    graphql_root="Contract",
    graphql_filter_input="ContractFiltersInput",
    cursor="last_update_date",
    cursor_filter="lastUpdateDate",
    extra_filters=("crdate",),
    children=(
        Child("ContractUnits", "contract_units", "id", "contract_id", CONTRACT_UNIT_FIELDS),
        Child("TreasuryPay", "treasury_pay", "id", "contract_id", TREASURY_PAY_FIELDS),
    ),
    journal_names=("contract", "Contract", "contracts"),
)

PLANS = Entity(
    name="plans",
    description="Annual procurement plan points of buyers.",
    primary_key="id",
    fields=_fields(
        "id:int subject_biin:str name_ru:str ref_trade_methods_id:int ref_units_code:str "
        "count:float price:float amount:float ref_months_id:int ref_pln_point_status_id:int "
        "pln_point_year:int ref_subject_type_id:int ref_enstru_code:str ref_finsource_id:int "
        "is_qvazi:int date_create:datetime timestamp:datetime is_active:int is_deleted:int"
    ),
    rest_path="/v3/plans",
    graphql_root="Plans",
    graphql_filter_input="PlansFiltersInput",
    cursor="timestamp",
    cursor_filter="timestamp",
    children=(
        Child(
            "PlansKato",
            "plans_kato",
            "id",
            "pln_point_id",
            _fields(
                "id:int ref_kato_code:str ref_countries_code:str full_delivery_place_name_ru:str count:float"
            ),
        ),
    ),
    journal_names=("plans", "Plans", "plan"),
)

OFFER_FIELDS = _fields("id:int pln_point_id:int price:float count:float total_sum:float")
APP_LOT_FIELDS = _fields(
    "id:int lot_id:int status_id:int reject_reason:str price:float discount_price:float dumping:int"
)

TRD_APP = Entity(
    name="trd_app",
    description="Applications (bids) of suppliers to an announcement, with per-lot offers (fields unconfirmed).",
    primary_key="id",
    fields=_fields(
        "id:int buy_id:int supplier_id:int supplier_bin_iin:str date_apply:datetime "
        "last_update_date:datetime ref_app_status_id:int"
    ),
    rest_path="/v3/trd-app",
    graphql_root="TrdApp",
    graphql_filter_input="TrdAppFiltersInput",
    cursor="last_update_date",
    cursor_filter="lastUpdateDate",
    extra_filters=("dateApply",),
    children=(
        Child(
            "AppLots",
            "app_lots",
            "id",
            "app_id",
            APP_LOT_FIELDS,
            children=(Child("Offers", "offers", "id", "app_lot_id", OFFER_FIELDS),),
        ),
    ),
    journal_names=("trd-app", "trd_app", "TrdApp", "applications"),
)

ACTS = Entity(
    name="acts",
    description="Acceptance acts of delivered goods, works and services under a contract.",
    primary_key="id",
    fields=_fields(
        "id:int akt_date:datetime number_act:str approve_date:datetime contract_id:int "
        "contract_root_id:int status_id:int is_deleted:int day_overdue:int sum_fine:float "
        "sum_transfer:float supplier_id:int customer_id:int date_action:datetime"
    ),
    rest_path="/v3/acts",
    graphql_root="Acts",
    graphql_filter_input="ActsFiltersInput",
    cursor="date_action",
    cursor_filter="dateAction",
    journal_names=("acts", "Acts", "act"),
)

SUBJECT = Entity(
    name="subject",
    description="Participants: buyers, organisers and suppliers (legal entities, individuals, sole proprietors).",
    primary_key="pid",
    fields=_fields(
        "pid:int bin:str iin:str inn:str unp:str regdate:datetime crdate:datetime name_ru:str "
        "name_kz:str email:str phone:str website:str last_update_date:datetime country_code:str "
        "qvazi:int customer:int organizer:int supplier:int mark_national_company:int "
        "ref_kopf_code:str mark_resident:int krp_code:int oked_list:str kse_code:int "
        "mark_small_employer:int type_supplier:int is_single_org:int kato:str vat_payer:int"
    ),
    rest_path="/v3/subject",
    graphql_root="Subjects",
    cursor="last_update_date",
    journal_names=("subject", "Subjects", "subjects"),
    default_api="rest",
)

RNU = Entity(
    name="rnu",
    description="Register of unreliable suppliers (RNU): debarments with start and end dates.",
    primary_key="id",
    fields=_fields(
        "id:int pid:int supplier_name_ru:str supplier_biin:str supplier_innunp:str "
        "start_date:datetime end_date:datetime kato_list:str[] reason:str"
    ),
    rest_path="/v3/rnu",
    graphql_root="Rnu",
    journal_names=("rnu", "Rnu"),
    default_api="rest",
)

#: Entities in load order (refs and journal are handled separately).
ENTITIES: dict[str, Entity] = {
    e.name: e for e in (SUBJECT, RNU, PLANS, TRD_BUY, LOTS, TRD_APP, CONTRACT, ACTS)
}

#: Code tables served under ``/v3/refs/<name>``. Every row has ``id``, ``code``, ``name_ru``,
#: ``name_kz``; ref_kato adds ``parent_code`` and ``level``.
REF_TABLES: tuple[str, ...] = (
    "ref_trade_methods",
    "ref_buy_status",
    "ref_lots_status",
    "ref_contract_status",
    "ref_kato",
    "ref_enstru",
    "ref_units",
    "ref_subject_type",
    "ref_currency",
    "ref_contract_type",
    "ref_finsource",
    "ref_countries",
    "ref_buy_lot_reject_reason",
    "ref_app_status",
    "ref_type_trade",
    "ref_pln_point_status",
    "ref_months",
)
REF_FIELDS = _fields("id:int code:str name_ru:str name_kz:str parent_code:str level:int is_active:int")

JOURNAL_FIELDS = _fields(
    "action:str object_id:int date_action:datetime service_name:str service_title:str url:str"
)

#: Trade methods seen in the wild and how OCDS classifies them (procurementMethod codelist).
TRADE_METHODS: dict[int, tuple[str, str]] = {
    2: ("Открытый конкурс", "open"),
    3: ("Запрос ценовых предложений", "open"),
    6: ("Из одного источника по несостоявшимся закупкам", "direct"),
    7: ("Аукцион", "open"),
    8: ("Через товарные биржи", "open"),
    22: ("Конкурс с использованием двухэтапных процедур", "selective"),
    23: ("Из одного источника путем прямого заключения договора", "direct"),
    32: ("Конкурс с предварительным квалификационным отбором", "selective"),
    50: ("Закупки жилища", "limited"),
    52: ("Государственный социальный заказ", "limited"),
    128: ("Конкурс по особому порядку", "limited"),
    130: ("Особый порядок", "limited"),
    132: ("Рамочное соглашение, первый этап", "selective"),
    188: ("Конкурс с применением рейтингово-балльной системы", "open"),
}
SINGLE_SOURCE_METHODS: frozenset[int] = frozenset({6, 23})

BUY_STATUS: dict[int, str] = {
    190: "Изменена документация",
    210: "Опубликовано",
    220: "Опубликовано (прием заявок)",
    240: "Опубликовано (прием ценовых предложений)",
    250: "Рассмотрение заявок",
    310: "Протокол предварительного допуска",
    350: "Завершено",
    360: "Не состоялась",
    410: "Закупка отменена",
}


def entity(name: str) -> Entity:
    """Look an entity up by name, with an error that lists the valid names."""
    try:
        return ENTITIES[name]
    except KeyError:
        valid = ", ".join(sorted(ENTITIES))
        raise ValueError(f"unknown entity {name!r}; valid entities: {valid}") from None


def all_raw_tables() -> list[str]:
    """Every raw table the connector writes, children included (refs and journal excluded)."""
    return [t for e in ENTITIES.values() for t in e.tables()]


@dataclass(frozen=True)
class PageInfo:
    """GraphQL ``extensions.pageInfo`` as the API returns it."""

    limit_page: int
    total_count: int
    has_next_page: bool
    last_id: int | None

    def as_json(self) -> dict:
        return {
            "limitPage": self.limit_page,
            "totalCount": self.total_count,
            "hasNextPage": self.has_next_page,
            "lastId": self.last_id,
        }


__all__ = [
    "ACTS",
    "CONTRACT",
    "ENTITIES",
    "Child",
    "Entity",
    "Field",
    "JOURNAL_FIELDS",
    "LOTS",
    "PLANS",
    "REF_FIELDS",
    "REF_TABLES",
    "RNU",
    "SUBJECT",
    "TRADE_METHODS",
    "TRD_APP",
    "TRD_BUY",
    "all_raw_tables",
    "camel",
    "entity",
]
