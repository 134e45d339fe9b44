"""API variants: the sandbox's answers rewritten in the shapes the real API may use.

Why: the sandbox was written from the same contract as the connector, so it can only ever agree
with it. A variant rewrites each answer (after the world has been read, before it is encoded)
into a realistic alternative seen in public clients of the API or allowed by its documentation,
so tests can prove the connector loads each one without loss (and that a lossy one is caught):

* ``ids-as-strings``: every integer field as a numeric string (``"id": "415500"``);
* ``numbers-for-codes``: every all-digit code as a JSON number (a BIN loses its leading zeros);
* ``bool-flags``: 0/1 flags (``isDeleted``, ``singlOrgSign`` ...) as JSON booleans;
* ``list-forms``: lists of codes as integers, a one-item list as its item, an empty list as null
  or left out;
* ``iso-dates``: dates with ``T`` and the local offset, some in UTC (``Z``) with milliseconds;
* ``paging``: GraphQL ``lastId`` as a string, no ``hasNextPage`` nor ``totalCount``; REST
  ``next_page`` as an absolute URL, ``null`` on the last page, no ``total``;
* ``real-api``: all of the above at once;
* ``lossy``: one lot in 20 carries its status as a zero-padded string, which no reader can take as
  an int without loss (the connector must quarantine it and fail its quarantine gate);
* ``html-200`` and ``graphql-without-plans`` (:data:`ERROR_VARIANTS`): answers no retry will change.

Records keep their content: a variant only changes how values are written, so a connector that
reads them without loss lands exactly the raw tables of the standard sandbox.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any
from zoneinfo import ZoneInfo

from pipelines.goszakup_api import Child, Entity, Field

SOURCE_ZONE = ZoneInfo("Asia/Almaty")

#: 0/1 flags among the contract's int fields (sent as booleans by ``bool-flags``).
FLAG_FIELDS = frozenset(
    {
        "singl_org_sign",
        "dumping",
        "psd_sign",
        "consulting_services",
        "deleted",
        "qvazi",
        "customer",
        "organizer",
        "supplier",
        "executed",
        "vat_payer",
        "is_deleted",
        "is_light_industry",
        "is_construction_work",
        "is_qvazi",
        "is_active",
        "is_single_org",
        "mark_national_company",
        "mark_resident",
        "mark_small_employer",
    }
)

ValueRewrite = Callable[[Field, Any, dict[str, Any]], Any]


def _ids_as_strings(field: Field, value: Any, record: dict) -> Any:
    if field.type == "int" and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _numbers_for_codes(field: Field, value: Any, record: dict) -> Any:
    if field.type == "str" and isinstance(value, str) and value.isdigit() and field.digits:
        return int(value)
    return value


def _bool_flags(field: Field, value: Any, record: dict) -> Any:
    if field.name in FLAG_FIELDS and value in (0, 1) and not isinstance(value, bool):
        return bool(value)
    return value


_LEFT_OUT = object()


def _list_forms(field: Field, value: Any, record: dict) -> Any:
    if field.type not in ("int[]", "str[]") or not isinstance(value, list):
        return value
    if not value:
        return _LEFT_OUT if _record_id(record) % 2 else None
    if field.type == "str[]" and all(
        isinstance(v, str) and v.isdigit() and not v.startswith("0") for v in value
    ):
        value = [int(v) for v in value]
    return value[0] if len(value) == 1 else value


def _iso_dates(field: Field, value: Any, record: dict) -> Any:
    if field.type != "datetime" or not isinstance(value, str) or len(value) != 19:
        return value
    local = dt.datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=SOURCE_ZONE)
    if _record_id(record) % 2:
        utc = local.astimezone(dt.UTC)
        return utc.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return local.isoformat()


def _lossy(field: Field, value: Any, record: dict) -> Any:
    if field.name == "ref_lot_status_id" and isinstance(value, int) and _record_id(record) % 20 == 0:
        return f"0{value}"
    return value


def _record_id(record: dict) -> int:
    for key in ("id", "pid"):
        value = record.get(key)
        try:
            return int(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            continue
    return 0


VALUE_VARIANTS: dict[str, tuple[ValueRewrite, ...]] = {
    "ids-as-strings": (_ids_as_strings,),
    "numbers-for-codes": (_numbers_for_codes,),
    "bool-flags": (_bool_flags,),
    "list-forms": (_list_forms,),
    "iso-dates": (_iso_dates,),
    "paging": (),
    "real-api": (_numbers_for_codes, _bool_flags, _ids_as_strings, _list_forms, _iso_dates),
    "lossy": (_lossy,),
}
PAGING_VARIANTS = frozenset({"paging", "real-api"})
VARIANTS: tuple[str, ...] = tuple(VALUE_VARIANTS)


def check_variant(name: str | None) -> str | None:
    """``name`` if it is a variant (None: the standard sandbox); a clear error otherwise."""
    if name is None or name in ("", "standard"):
        return None
    if name not in VALUE_VARIANTS and name not in ERROR_VARIANTS:
        raise ValueError(f"unknown variant {name!r}; variants: {', '.join((*VARIANTS, *ERROR_VARIANTS))}")
    return name


def _plans(fields: tuple[Field, ...], children: tuple[Child, ...], camel: bool) -> tuple[dict, dict]:
    by_key = {(f.camel if camel else f.name): f for f in fields}
    nested = {c.graphql_name: _plans(c.fields, c.children, camel) for c in children}
    return by_key, nested


def _rewrite(record: dict, plan: tuple[dict, dict], rewrites: tuple[ValueRewrite, ...]) -> None:
    by_key, nested = plan
    original = dict(record)
    for key, field in by_key.items():
        if key not in record:
            continue
        value = record[key]
        for rewrite in rewrites:
            value = rewrite(field, value, original)
        if value is _LEFT_OUT:
            del record[key]
        else:
            record[key] = value
    for name, child_plan in nested.items():
        for item in record.get(name) or ():
            if isinstance(item, dict):
                _rewrite(item, child_plan, rewrites)


def _records(payload: Any, entity: Entity, kind: str) -> Iterator[dict]:
    if kind == "graphql":
        items = ((payload.get("data") or {}).get(entity.graphql_root)) or []
    else:
        items = payload.get("items") or []
    yield from (r for r in items if isinstance(r, dict))


def apply_variant(name: str | None, payload: Any, *, kind: str, entity: Entity | None, base_url: str) -> Any:
    """Rewrite one answer's ``payload`` in place for variant ``name`` and return it.

    ``kind`` is ``"graphql"`` or ``"rest"`` (a page), ``entity`` the contract entity it serves
    (None for code tables and the journal, whose values are left alone), ``base_url`` the
    server's own URL (for absolute ``next_page`` links).
    """
    if not name or name not in VALUE_VARIANTS or not isinstance(payload, dict):
        return payload
    rewrites = VALUE_VARIANTS[name]
    if entity is not None and rewrites:
        plan = _plans(entity.fields, entity.children, camel=kind == "graphql")
        for record in _records(payload, entity, kind):
            _rewrite(record, plan, rewrites)
    if name in PAGING_VARIANTS:
        _rewrite_paging(payload, kind, base_url)
    return payload


def _rewrite_paging(payload: dict, kind: str, base_url: str) -> None:
    if kind == "graphql":
        info = (payload.get("extensions") or {}).get("pageInfo")
        if isinstance(info, dict):
            info.pop("hasNextPage", None)
            info.pop("totalCount", None)
            if info.get("lastId") is not None:
                info["lastId"] = str(info["lastId"])
        return
    if "next_page" in payload:
        payload.pop("total", None)
        link = payload["next_page"]
        payload["next_page"] = f"{base_url}{link}" if link else None


#: Variants that answer what no retry will change (the connector must stop at once, in one line).
#: ``html-200``: a maintenance page with status 200; ``graphql-without-plans``: the API's schema
#: has no ``Plans`` root and says so with HTTP 200 and ``errors`` (a GraphQL validation error).
ERROR_VARIANTS: tuple[str, ...] = ("html-200", "graphql-without-plans")
MAINTENANCE_PAGE = (
    "<!DOCTYPE html><html><head><title>Технические работы</title></head>"
    "<body><h1>Портал временно недоступен</h1></body></html>"
).encode()


def short_answer(name: str | None, path: str, body: bytes) -> tuple[int, Any, str] | None:
    """(status, payload or raw body, content type) an error variant answers instead, else None."""
    if name == "html-200":
        return 200, MAINTENANCE_PAGE, "text/html; charset=utf-8"
    if name == "graphql-without-plans" and path == "/v3/graphql" and b"Plans" in body:
        message = 'Cannot query field "Plans" on type "Query".'
        return (
            200,
            {"errors": [{"message": message, "locations": [{"line": 2, "column": 3}]}]},
            ("application/json; charset=utf-8"),
        )
    return None
