"""Turn API records into raw-table rows: check types against the contract, lift nested children.

Why by hand: the type contract of the goszakup API lives in ``pipelines/goszakup_api.py`` and the
rule is "a type change is not silently coerced, and nothing is lost". dlt's ``data_type: freeze``
contract would abort the whole load on one bad value and its ``discard_row`` mode would drop the
record silently; here a record with a value of the wrong type goes to the ``_quarantine`` table with
the entity, the record id, the field and the reason, and the rest of the load goes on.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from typing import Any

import dlt

from pipelines.goszakup_api import Child, Entity, Field

QUARANTINE_TABLE = "_quarantine"
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?$")

#: dlt column types for the contract's field types. Datetimes stay text: the API gives naive local
#: times, and only staging (with the zone made explicit) turns them into timestamps.
DLT_TYPES = {
    "int": "bigint",
    "float": "double",
    "str": "text",
    "datetime": "text",
    "bool": "bool",
    "int[]": "json",
    "str[]": "json",
}


def column_hints(fields: tuple[Field, ...], extra: dict[str, str] | None = None) -> dict[str, dict[str, Any]]:
    """dlt column schema for contract fields (fixes types so nothing is inferred from data)."""
    cols = {f.name: {"name": f.name, "data_type": DLT_TYPES[f.type], "nullable": True} for f in fields}
    for name, type_ in (extra or {}).items():
        cols[name] = {"name": name, "data_type": type_, "nullable": True}
    return cols


DELETED_FLAG = "_deleted"
#: The same column hint on the entity tables and on the deletion transformers (a frozen data
#: type contract refuses two different definitions of one column).
DELETED_COLUMN = {"name": DELETED_FLAG, "data_type": "bool", "nullable": True, "hard_delete": True}


def entity_columns(entity: Entity) -> dict[str, dict[str, Any]]:
    """Column hints of an entity's table, shared by its rows and its deletion transformer."""
    cols = column_hints(entity.fields)
    cols[entity.primary_key] = {**cols[entity.primary_key], "nullable": False, "primary_key": True}
    cols[DELETED_FLAG] = DELETED_COLUMN
    return cols


@functools.cache
def _entity_hints(entity: Entity) -> Any:
    return dlt.mark.make_hints(
        table_name=entity.name,
        write_disposition="merge",
        primary_key=entity.primary_key,
        columns=entity_columns(entity),
    )


def type_problem(field: Field, value: Any) -> str | None:
    """Why ``value`` does not fit ``field``'s contract type, or None when it fits."""
    if value is None:
        return None
    t = field.type
    ok: bool
    if t == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif t == "float":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    elif t == "str":
        ok = isinstance(value, str)
    elif t == "datetime":
        ok = isinstance(value, str) and bool(_DATETIME.match(value))
    elif t == "bool":
        ok = isinstance(value, bool) or value in (0, 1)
    elif t in ("int[]", "str[]"):
        item_type = int if t == "int[]" else str
        ok = isinstance(value, list) and all(
            isinstance(v, item_type) and not isinstance(v, bool) for v in value
        )
    else:  # pragma: no cover - the contract only uses the types above
        raise ValueError(f"unknown contract type {t!r} of field {field.name}")
    if ok:
        return None
    shown = json.dumps(value, ensure_ascii=False)[:80]
    return f"expected {t}, got {type(value).__name__} {shown}"


def _normalise_list(field: Field, value: Any) -> Any:
    """Unconfirmed form: some clients report list fields as comma-separated strings. Tolerate it."""
    if field.type in ("int[]", "str[]") and isinstance(value, str):
        parts = [p.strip() for p in value.split(",") if p.strip()]
        if field.type == "int[]" and all(p.lstrip("-").isdigit() for p in parts):
            return [int(p) for p in parts]
        if field.type == "str[]":
            return parts
    return value


@functools.cache
def _names(fields: tuple[Field, ...], children: tuple[Child, ...]) -> tuple[dict[str, str], frozenset[str]]:
    """camelCase -> snake_case of the contract's fields, and the nested lists' names (once per table)."""
    return {f.camel: f.name for f in fields}, frozenset(c.graphql_name for c in children)


def _rename(record: dict[str, Any], fields: tuple[Field, ...], children: tuple[Child, ...]) -> dict[str, Any]:
    """GraphQL camelCase -> contract snake_case; unknown keys are kept (schema evolution records them)."""
    by_camel, child_names = _names(fields, children)
    out: dict[str, Any] = {}
    for key, value in record.items():
        if key in child_names:
            out[key] = value
        else:
            out[by_camel.get(key, key)] = value
    return out


def quarantine_row(entity: str, table: str, record_id: Any, field: str, reason: str, record: dict) -> dict:
    """A ``_quarantine`` row: the entity, the table, the record id, the field and the reason."""
    return {
        "entity": entity,
        "table_name": table,
        "record_id": str(record_id),
        "field": field,
        "reason": reason,
        "record": json.dumps(record, ensure_ascii=False, sort_keys=True, default=str),
    }


QUARANTINE_HINTS = dlt.mark.make_hints(
    table_name=QUARANTINE_TABLE,
    write_disposition="merge",
    primary_key=["table_name", "record_id", "field"],
    columns={
        c: {
            "name": c,
            "data_type": "text",
            "nullable": c in ("entity", "record"),
            **({"primary_key": True} if c in ("table_name", "record_id", "field") else {}),
        }
        for c in ("entity", "table_name", "record_id", "field", "reason", "record")
    },
)


@functools.cache
def _child_hints(child: Child) -> Any:
    columns = column_hints(child.fields, {child.parent_key: "bigint"})
    pk = child.primary_key
    columns[pk] = {**columns[pk], "nullable": False, "primary_key": True}
    return dlt.mark.make_hints(
        table_name=child.table, write_disposition="merge", primary_key=pk, columns=columns
    )


def _check(
    entity: str, table: str, pk: str, fields: tuple[Field, ...], row: dict[str, Any], quarantine: list[dict]
) -> bool:
    """True when ``row`` fits the contract; otherwise its problems are added to ``quarantine``."""
    problems = []
    for f in fields:
        if f.name in row:
            row[f.name] = _normalise_list(f, row[f.name])
            reason = type_problem(f, row[f.name])
            if reason:
                problems.append((f.name, reason))
    record_id = row.get(pk)
    if record_id is None:
        problems.append((pk, "primary key is missing"))
    quarantine.extend(quarantine_row(entity, table, record_id, f, r, row) for f, r in problems)
    return not problems


def explode_page(entity: Entity, records: list[dict[str, Any]], *, camel_case: bool) -> Iterator[Any]:
    """One page of API records -> the entity's rows, each child table's rows and quarantine rows.

    Rows are yielded as one list per table and page (not one item per row): dlt routes and
    normalises a list in one step, which is what makes a national year load in hours, not days.
    """
    rows: list[dict[str, Any]] = []
    children: dict[Child, list[dict[str, Any]]] = {}
    quarantine: list[dict] = []
    for record in records:
        row = _rename(record, entity.fields, entity.children) if camel_case else dict(record)
        nested = {c.graphql_name: row.pop(c.graphql_name, None) for c in entity.children}
        if not _check(entity.name, entity.name, entity.primary_key, entity.fields, row, quarantine):
            continue  # children of a refused parent are kept inside the quarantined record
        rows.append(row)
        for child in entity.children:
            _collect_child(
                entity.name,
                child,
                nested.get(child.graphql_name),
                row[entity.primary_key],
                camel_case,
                children,
                quarantine,
            )
    if rows:
        yield dlt.mark.with_hints(rows, _entity_hints(entity), create_table_variant=True)
    for child, child_rows in children.items():
        yield dlt.mark.with_hints(child_rows, _child_hints(child), create_table_variant=True)
    if quarantine:
        yield dlt.mark.with_hints(quarantine, QUARANTINE_HINTS, create_table_variant=True)


def _collect_child(
    entity: str,
    child: Child,
    items: Any,
    parent_id: Any,
    camel_case: bool,
    out: dict[Child, list[dict[str, Any]]],
    quarantine: list[dict],
) -> None:
    for item in items or ():
        row = _rename(item, child.fields, child.children) if camel_case else dict(item)
        nested = {c.graphql_name: row.pop(c.graphql_name, None) for c in child.children}
        row[child.parent_key] = parent_id
        if not _check(entity, child.table, child.primary_key, child.fields, row, quarantine):
            continue
        out.setdefault(child, []).append(row)
        for grandchild in child.children:
            _collect_child(
                entity,
                grandchild,
                nested.get(grandchild.graphql_name),
                row[child.primary_key],
                camel_case,
                out,
                quarantine,
            )
