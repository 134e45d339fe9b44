"""Table layout of the world, taken from the API contract (:mod:`pipelines.goszakup_api`), and the column buffers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from pipelines.goszakup_api import (
    ENTITIES,
    JOURNAL_FIELDS,
    REF_FIELDS,
    REF_TABLES,
    Child,
    Entity,
    Field,
)

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
