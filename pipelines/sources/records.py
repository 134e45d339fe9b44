"""Turn API records into raw-table rows: check types against the contract, lift nested children.

Why by hand: the type contract of the goszakup API lives in ``pipelines/goszakup_api.py`` and the
rule is "convert what converts without loss, count it, and lose nothing". dlt's ``data_type:
freeze`` contract would abort the whole load on one bad value and its ``discard_row`` mode would
drop the record silently; here a value of another type is coerced when no information is lost
(``coercion.py``, counted per table, field and kind), and a record with a lossy value goes to the
``_quarantine`` table with the entity, the record id, the field and the reason, while the rest of
the load goes on.
"""

from __future__ import annotations

import functools
import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import dlt

from pipelines.goszakup_api import Child, Entity, Field
from pipelines.sources.coercion import LIST_TYPES, MISSING, Lossy, coerce

QUARANTINE_TABLE = "_quarantine"
#: the raw layer's date form: a space, no offset (a ``T`` or an offset is coerced to it)
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2}(\.\d{1,6})?)?$")

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


def type_problem(field: Field, value: Any, zone: str = "Asia/Almaty") -> str | None:
    """Why ``value`` cannot take ``field``'s contract type without loss, or None when it can."""
    try:
        coerce(field, value, zone)
    except Lossy as exc:
        return exc.reason
    return None


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


QUARANTINE_KEY = ["table_name", "record_id", "field"]
QUARANTINE_COLUMNS: dict[str, dict[str, Any]] = {
    c: {
        "name": c,
        "data_type": "text",
        "nullable": c in ("entity", "record"),
        **({"primary_key": True} if c in QUARANTINE_KEY else {}),
    }
    for c in ("entity", "table_name", "record_id", "field", "reason", "record")
}
QUARANTINE_HINTS = dlt.mark.make_hints(
    table_name=QUARANTINE_TABLE,
    write_disposition="merge",
    primary_key=QUARANTINE_KEY,
    columns=QUARANTINE_COLUMNS,
)


def child_columns(child: Child) -> dict[str, dict[str, Any]]:
    """Column hints of a child table: its contract fields, the parent's key, its own key."""
    columns = column_hints(child.fields, {child.parent_key: "bigint"})
    pk = child.primary_key
    columns[pk] = {**columns[pk], "nullable": False, "primary_key": True}
    return columns


#: A value of exactly this Python type always fits the contract type (``type(v) is int`` is False
#: for a bool). A value that fails the test goes through :func:`coercion.coerce`, which converts it
#: without loss or says why it cannot.
_FITS = {
    "int": lambda v: type(v) is int,
    "float": lambda v: type(v) is float or type(v) is int,
    "str": lambda v: type(v) is str,
    "datetime": lambda v: type(v) is str and _DATETIME.match(v) is not None,
    "bool": lambda v: type(v) is bool,
    "int[]": lambda v: type(v) is list and all(type(x) is int for x in v),
    "str[]": lambda v: type(v) is list and all(type(x) is str for x in v),
}


@dataclass(frozen=True, eq=False)
class TablePlan:
    """What a record of one table needs, computed once per table instead of once per record."""

    table: str
    primary_key: str
    parent_key: str | None
    by_camel: dict[str, str]  # GraphQL camelCase -> contract snake_case
    child_names: frozenset[str]
    #: (field name, fast fit test, field, is a list: null or missing becomes [])
    checks: tuple[tuple[str, Any, Field, bool], ...]
    children: tuple[tuple[str, TablePlan], ...]  # (GraphQL name of the nested list, its plan)

    @classmethod
    def of(
        cls,
        table: str,
        primary_key: str,
        fields: tuple[Field, ...],
        children: tuple[Child, ...],
        parent_key: str | None = None,
    ) -> TablePlan:
        return cls(
            table=table,
            primary_key=primary_key,
            parent_key=parent_key,
            by_camel={f.camel: f.name for f in fields},
            child_names=frozenset(c.graphql_name for c in children),
            checks=tuple((f.name, _FITS[f.type], f, f.type in LIST_TYPES) for f in fields),
            children=tuple(
                (c.graphql_name, cls.of(c.table, c.primary_key, c.fields, c.children, c.parent_key))
                for c in children
            ),
        )


@functools.cache
def table_plan(entity: Entity) -> TablePlan:
    return TablePlan.of(entity.name, entity.primary_key, entity.fields, entity.children)


def _rename(record: dict[str, Any], plan: TablePlan) -> dict[str, Any]:
    """GraphQL camelCase -> contract snake_case; unknown keys are kept (schema evolution records them)."""
    by_camel, child_names = plan.by_camel, plan.child_names
    return {(key if key in child_names else by_camel.get(key, key)): value for key, value in record.items()}


@dataclass
class PageTally:
    """What one page's records needed: coercions and refusals, merged into the run's counters once.

    ``coerced`` and ``refused`` are keyed ``(table, field, kind)``; ``examples`` holds the first
    record id refused for each key (the console line of the quarantine gate names one).
    """

    zone: str = "Asia/Almaty"
    coerced: Counter = field(default_factory=Counter)
    refused: Counter = field(default_factory=Counter)
    examples: dict[tuple[str, str, str], str] = field(default_factory=dict)
    refused_records: Counter = field(default_factory=Counter)  # table -> records refused


def _check(
    entity: str, plan: TablePlan, row: dict[str, Any], quarantine: list[dict], tally: PageTally
) -> bool:
    """True when ``row`` fits the contract (after lossless coercion); else its problems go to ``quarantine``."""
    problems = []
    for name, fits, field_, is_list in plan.checks:
        if name in row:  # ``in`` and ``[]`` rather than ``.get``: this loop runs per field and record
            value = row[name]
            if value is None:
                if not is_list:
                    continue
            elif fits(value):
                continue
        elif is_list:
            value = MISSING
        else:
            continue
        try:
            new, kind = coerce(field_, value, tally.zone)
        except Lossy as exc:
            problems.append((name, exc.code, exc.reason))
            continue
        row[name] = new
        if kind:
            tally.coerced[(plan.table, name, kind)] += 1
    record_id = row.get(plan.primary_key)
    if record_id is None:
        problems.append((plan.primary_key, "primary key is missing", "primary key is missing"))
    if problems:
        tally.refused_records[plan.table] += 1
        for name, code, reason in problems:
            key = (plan.table, name, code)
            tally.refused[key] += 1
            tally.examples.setdefault(key, str(record_id))
            quarantine.append(quarantine_row(entity, plan.table, record_id, name, reason, row))
    return not problems


def register_tables(resource: Any, entity: Entity, file_format: str | None = None) -> Any:
    """Declare on ``resource``, once, every table its pages are routed to, with that table's hints.

    Why not ``dlt.mark.with_hints`` on every page: dlt then merges the hints into the resource,
    drops its contract cache and validates the table schema again, for every page and table.
    Declared here as table variants, a page only names its table (``with_table_name``). The
    file format is given per variant: ``pipeline.run(loader_file_format=...)`` reaches only the
    resource's base hints.
    """
    tables = [(entity.name, entity.primary_key, entity_columns(entity))]
    stack = list(entity.children)
    while stack:
        child = stack.pop(0)
        tables.append((child.table, child.primary_key, child_columns(child)))
        stack.extend(child.children)
    tables.append((QUARANTINE_TABLE, QUARANTINE_KEY, QUARANTINE_COLUMNS))
    for table, key, columns in tables:
        resource.apply_hints(
            table_name=table,
            write_disposition="merge",
            primary_key=key,
            columns=columns,
            file_format=file_format,
            create_table_variant=True,
        )
    return resource


def explode_page(
    entity: Entity, records: list[dict[str, Any]], *, camel_case: bool, tally: PageTally | None = None
) -> Iterator[Any]:
    """One page of API records -> the entity's rows, each child table's rows and quarantine rows.

    Rows are yielded as one list per table and page (not one item per row): dlt routes and
    normalises a list in one step. Each list names its table; the tables' hints were declared
    once on the resource (:func:`register_tables`). Coercions and refusals are added to ``tally``.
    """
    plan = table_plan(entity)
    tally = tally if tally is not None else PageTally()
    rows: list[dict[str, Any]] = []
    children: dict[str, list[dict[str, Any]]] = {}
    quarantine: list[dict] = []
    for record in records:
        row = _rename(record, plan) if camel_case else dict(record)
        nested = [row.pop(name, None) for name, _ in plan.children]
        if not _check(entity.name, plan, row, quarantine, tally):
            continue  # children of a refused parent are kept inside the quarantined record
        rows.append(row)
        for (_, child_plan), items in zip(plan.children, nested, strict=True):
            if items:
                _collect_child(
                    entity.name,
                    child_plan,
                    items,
                    row[plan.primary_key],
                    camel_case,
                    children,
                    quarantine,
                    tally,
                )
    if rows:
        yield dlt.mark.with_table_name(rows, entity.name)
    for table, child_rows in children.items():
        yield dlt.mark.with_table_name(child_rows, table)
    if quarantine:
        yield dlt.mark.with_table_name(quarantine, QUARANTINE_TABLE)


def _collect_child(
    entity: str,
    plan: TablePlan,
    items: Any,
    parent_id: Any,
    camel_case: bool,
    out: dict[str, list[dict[str, Any]]],
    quarantine: list[dict],
    tally: PageTally,
) -> None:
    for item in items:
        row = _rename(item, plan) if camel_case else dict(item)
        nested = [row.pop(name, None) for name, _ in plan.children]
        row[plan.parent_key] = parent_id
        if not _check(entity, plan, row, quarantine, tally):
            continue
        out.setdefault(plan.table, []).append(row)
        for (_, child_plan), sub in zip(plan.children, nested, strict=True):
            if sub:
                _collect_child(
                    entity, child_plan, sub, row[plan.primary_key], camel_case, out, quarantine, tally
                )
