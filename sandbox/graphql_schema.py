"""The sandbox's GraphQL schema, generated from ``pipelines.goszakup_api``.

Why generated: the connector builds its GraphQL selections from the same module, so a field added
to the contract appears on both sides of the wire at once and the two cannot drift apart.

Shape (as the real ``/v3/graphql`` is known to have it):

* one object type per entity, named after its GraphQL root (``TrdBuy``, ``Lots``, ``Contract``,
  ``Plans``, ``TrdApp``, ``Acts``, ``Subjects``, ``Rnu``), camelCase fields;
* nested children as UpperCamel list fields (``Contract.ContractUnits``, ``Contract.TreasuryPay``,
  ``Plans.PlansKato``, ``TrdApp.AppLots``, ``AppLots.Offers``);
* root fields ``TrdBuy(filter: TrdBuyFiltersInput, limit: Int, after: Int): [TrdBuy]`` etc.; the
  filter input takes the entity's cursor filter and extra date filters as ``[String]`` ranges
  ``[from, to]`` / ``[from]`` plus an ``id: [Int]`` lookup.

Resolution of the root fields is not done here: :func:`build_schema` takes one resolver callback
(the server's), so this module holds no data access and no HTTP.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from graphql import (
    ExecutionContext,
    GraphQLArgument,
    GraphQLBoolean,
    GraphQLField,
    GraphQLFloat,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInt,
    GraphQLList,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLSchema,
    GraphQLString,
    Undefined,
    is_leaf_type,
)
from graphql.pyutils import Path

from pipelines.goszakup_api import ENTITIES, Child, Entity, Field

#: ``resolve(entity, info, filter, limit, after) -> list[dict]`` (dicts keyed by camelCase names,
#: children already attached under their GraphQL names).
RootResolver = Callable[[Entity, GraphQLResolveInfo, "dict | None", "int | None", "int | None"], list]

INT32_MAX = 2**31 - 1


def filter_input_name(entity: Entity) -> str:
    """``TrdBuyFiltersInput``; entities without a documented input get ``<Root>FiltersInput``."""
    return entity.graphql_filter_input or f"{entity.graphql_root}FiltersInput"


def filter_fields(entity: Entity) -> dict[str, Field]:
    """The date filters of an entity (camelCase filter name -> the contract field it ranges over)."""
    by_camel = {f.camel: f for f in entity.fields}
    names = ([entity.cursor_filter] if entity.cursor_filter else []) + list(entity.extra_filters)
    out: dict[str, Field] = {}
    for name in names:
        if name not in by_camel:
            raise ValueError(f"entity {entity.name}: filter {name!r} names no field of the entity")
        out[name] = by_camel[name]
    return out


def graphql_entities() -> list[Entity]:
    """Entities that have a GraphQL root field, in contract order."""
    return [e for e in ENTITIES.values() if e.graphql_root]


def _scalar(field: Field, wide: bool) -> GraphQLOutputType:
    # An int that does not fit GraphQL's 32-bit Int is published as Float (exact up to 2^53).
    int_type = GraphQLFloat if wide else GraphQLInt
    return {
        "int": int_type,
        "float": GraphQLFloat,
        "str": GraphQLString,
        "datetime": GraphQLString,
        "bool": GraphQLBoolean,
        "int[]": GraphQLList(int_type),
        "str[]": GraphQLList(GraphQLString),
    }[field.type]


def _object_type(
    name: str,
    table: str,
    fields: Iterable[Field],
    children: Iterable[Child],
    wide: frozenset[tuple[str, str]],
) -> GraphQLObjectType:
    def thunk() -> dict[str, GraphQLField]:
        out = {f.camel: GraphQLField(_scalar(f, (table, f.name) in wide)) for f in fields}
        for child in children:
            out[child.graphql_name] = GraphQLField(
                GraphQLList(_object_type(child.graphql_name, child.table, child.fields, child.children, wide))
            )
        return out

    return GraphQLObjectType(name, thunk)


def build_schema(
    resolve_root: RootResolver, *, wide_int_fields: Iterable[tuple[str, str]] = ()
) -> GraphQLSchema:
    """Build the schema; ``wide_int_fields`` are ``(table, field)`` ints that exceed 32 bits."""
    wide = frozenset(wide_int_fields)
    query_fields: dict[str, GraphQLField] = {}
    for ent in graphql_entities():
        input_fields = {"id": GraphQLInputField(GraphQLList(GraphQLInt), description="Lookup by id.")}
        for fname, field in filter_fields(ent).items():
            input_fields[fname] = GraphQLInputField(
                GraphQLList(GraphQLString),
                description=f"Inclusive range [from, to] or [from] on {field.name} ('YYYY-MM-DD HH:MM:SS[.ffffff]').",
            )
        filter_type = GraphQLInputObjectType(filter_input_name(ent), input_fields)
        obj = _object_type(ent.graphql_root, ent.name, ent.fields, ent.children, wide)

        def resolver(_root: Any, info: GraphQLResolveInfo, _ent: Entity = ent, **args: Any) -> list:
            return resolve_root(_ent, info, args.get("filter"), args.get("limit"), args.get("after"))

        query_fields[ent.graphql_root] = GraphQLField(
            GraphQLList(obj),
            args={
                "filter": GraphQLArgument(filter_type),
                "limit": GraphQLArgument(GraphQLInt, description="Page size (at most 200)."),
                "after": GraphQLArgument(GraphQLInt, description="Keyset cursor: rows with id > after."),
            },
            resolve=resolver,
            description=ent.description,
        )
    return GraphQLSchema(query=GraphQLObjectType("Query", query_fields))


#: Scalars whose serializer returns a value of exactly this Python type unchanged (``type(v) is``):
#: the row fast path skips the call for those values. Int and Float are not here: their
#: serializers also check the 32-bit range and finiteness.
_IDENTITY_TYPES: dict[str, type] = {"String": str, "Boolean": bool}
_SLOW, _LEAF, _LEAF_LIST, _OBJECT_LIST = range(4)


class RowExecutionContext(ExecutionContext):
    """Completes row dicts directly, skipping graphql-core's per-field resolver machinery.

    Why: a 200-row page of an entity with 40 fields and nested children is 10 000+ field
    completions; graphql-core's generic path (resolve info, default resolver, awaitable checks,
    one ``complete_value`` per field) dominates the page time. For a field with no resolver the
    result is fully determined by the value:

    * a leaf (or list-of-leaf) type: ``type.serialize(value)`` (and the value itself when it
      already has the scalar's Python type: a ``str`` for String, an in-range ``int`` for Int ...);
    * a list of objects (the nested children, ``Contract.ContractUnits``): each dict completed by
      this same method with the sub-selection.

    The per-selection plan (which case each response field is) is computed once per object type
    and selection, not per row. Anything else (``__typename``, a value that fails to serialize, a
    non-dict child) goes through the normal path, which reports errors with their path.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plans: dict[tuple[str, int], list[tuple]] = {}

    def _plan(self, parent_type: GraphQLObjectType, fields: dict[str, list]) -> list[tuple]:
        key = (parent_type.name, id(fields))
        plan = self._plans.get(key)
        if plan is not None:
            return plan
        plan = []
        defs = parent_type.fields
        for response_name, field_nodes in fields.items():
            name = field_nodes[0].name.value
            field_def = defs.get(name)
            type_ = field_def.type if field_def is not None else None
            if field_def is None or field_def.resolve is not None:
                plan.append((_SLOW, response_name, name, field_nodes, None, None))
            elif is_leaf_type(type_):
                plan.append((_LEAF, response_name, name, field_nodes, type_.serialize, _exact(type_)))
            elif isinstance(type_, GraphQLList) and is_leaf_type(type_.of_type):
                of = type_.of_type
                plan.append((_LEAF_LIST, response_name, name, field_nodes, of.serialize, _exact(of)))
            elif isinstance(type_, GraphQLList) and isinstance(type_.of_type, GraphQLObjectType):
                sub = self.collect_subfields(type_.of_type, field_nodes)
                plan.append((_OBJECT_LIST, response_name, name, field_nodes, type_.of_type, sub))
            else:
                plan.append((_SLOW, response_name, name, field_nodes, None, None))
        self._plans[key] = plan
        return plan

    def execute_fields(
        self, parent_type: GraphQLObjectType, source_value: Any, path: Path | None, fields: dict[str, list]
    ) -> Any:
        if not isinstance(source_value, dict):
            return super().execute_fields(parent_type, source_value, path, fields)
        results: dict[str, Any] = {}
        get = source_value.get
        for kind, response_name, name, field_nodes, a, b in self._plan(parent_type, fields):
            if kind != _SLOW:
                value = get(name)
                if value is None:
                    results[response_name] = None
                    continue
                try:
                    if kind == _LEAF:
                        if b is not None and type(value) is b:
                            results[response_name] = value
                            continue
                        out = a(value)
                        if out is not None and out is not Undefined:
                            results[response_name] = out
                            continue
                    elif kind == _LEAF_LIST:
                        if isinstance(value, list):
                            results[response_name] = [
                                None if v is None else (v if b is not None and type(v) is b else a(v))
                                for v in value
                            ]
                            continue
                    elif isinstance(value, list) and all(isinstance(v, dict) for v in value):
                        list_path = Path(path, response_name, parent_type.name)
                        results[response_name] = [
                            self.execute_fields(a, v, Path(list_path, i, None), b)
                            for i, v in enumerate(value)
                        ]
                        continue
                except Exception:  # noqa: BLE001 - the normal path below reports the error properly
                    pass
            result = self.execute_field(
                parent_type, source_value, field_nodes, Path(path, response_name, parent_type.name)
            )
            if result is not Undefined:
                results[response_name] = result
        return results


def _exact(type_: Any) -> type | None:
    """The Python type a built-in scalar passes through unchanged (None: always serialize)."""
    if type_ is GraphQLString or type_ is GraphQLBoolean:
        return _IDENTITY_TYPES[type_.name]
    return None


def never_awaitable(_value: Any) -> bool:
    """All resolvers are synchronous: spare graphql-core its awaitable checks."""
    return False


__all__ = [
    "RowExecutionContext",
    "never_awaitable",
    "INT32_MAX",
    "build_schema",
    "filter_fields",
    "filter_input_name",
    "graphql_entities",
]
