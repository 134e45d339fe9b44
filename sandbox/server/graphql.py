"""The GraphQL endpoint of the sandbox server: parsing, root fields, filters and children."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import duckdb
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLResolveInfo,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    execute,
    parse,
    validate,
)

from pipelines.goszakup_api import (
    Child,
    Entity,
    PageInfo,
)
from sandbox.graphql_schema import (
    RowExecutionContext,
    filter_fields,
    never_awaitable,
)
from sandbox.server.replies import ApiError, PageCtx, Reply, _q, _selected, normalise_bound


@dataclass
class _GqlContext:
    cur: duckdb.DuckDBPyConnection
    page_infos: list[tuple[str, PageInfo, int | None]] = field(default_factory=list)


class GraphqlMixin:
    """``POST /v3/graphql`` of :class:`SandboxServer`: parsing, root fields, filters, children."""

    # --- GraphQL --------------------------------------------------------------------------------

    def _parsed(self, query: str) -> tuple[DocumentNode | None, list[GraphQLError]]:
        cached = self._doc_cache.get(query)
        if cached is not None:
            return cached
        try:
            doc = parse(query)
        except GraphQLError as exc:
            return None, [exc]
        errors = validate(self.schema, doc)
        if len(self._doc_cache) > 256:
            self._doc_cache.clear()
        self._doc_cache[query] = (doc, errors)
        return doc, errors

    def _graphql_entities(self, body: bytes) -> tuple[DocumentNode | None, frozenset[str]]:
        try:
            query = json.loads(body).get("query")
        except (ValueError, AttributeError):
            return None, frozenset()
        if not isinstance(query, str):
            return None, frozenset()
        doc, _ = self._parsed(query)
        if doc is None:
            return None, frozenset()
        names = set()
        for definition in doc.definitions:
            if isinstance(definition, OperationDefinitionNode):
                for sel in definition.selection_set.selections:
                    if isinstance(sel, FieldNode) and sel.name.value in self._root_entities:
                        names.add(self._root_entities[sel.name.value].name)
        return doc, frozenset(names)

    def _graphql(self, cur: duckdb.DuckDBPyConnection, body: bytes, _doc: DocumentNode | None) -> Reply:
        try:
            payload = json.loads(body)
        except ValueError:
            raise ApiError(400, "the body must be JSON {query, variables}") from None
        if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
            raise ApiError(400, "the body must be JSON {query, variables} with query a string")
        variables = payload.get("variables") or {}
        if not isinstance(variables, dict):
            raise ApiError(400, "variables must be a JSON object")
        doc, errors = self._parsed(payload["query"])
        if doc is None or errors:
            return Reply(400, {"errors": [e.formatted for e in errors]})
        ctx = _GqlContext(cur)
        result = execute(
            self.schema,
            doc,
            variable_values=variables,
            context_value=ctx,
            operation_name=payload.get("operationName"),
            execution_context_class=RowExecutionContext,
            is_awaitable=never_awaitable,
        )
        out: dict[str, Any] = {"data": result.data}
        if result.errors:
            out["errors"] = [e.formatted for e in result.errors]
        page = None
        if ctx.page_infos:
            root, info, after = ctx.page_infos[0]
            out["extensions"] = {"pageInfo": info.as_json()}
            page = PageCtx("graphql", self._root_entities[root], after, info.limit_page, root=root)
        return Reply(200, out, page=page)

    def _resolve_root(
        self, ent: Entity, info: GraphQLResolveInfo, flt: dict | None, limit: int | None, after: int | None
    ) -> list[dict[str, Any]]:
        ctx: _GqlContext = info.context
        if limit is None:
            limit = self.max_graphql_limit
        if limit < 1 or limit > self.max_graphql_limit:
            raise GraphQLError(f"limit must be between 1 and {self.max_graphql_limit}, got {limit}")
        if not self.data.has(ent.name):
            raise GraphQLError(f"this world has no {ent.name} table")
        where, params = self._gql_filter(ent, flt)
        sel = _selected([n.selection_set for n in info.field_nodes], info.fragments)
        select = self.data.select_list(ent.name, [f for f in ent.fields if f.camel in sel], camel=True)
        rows = self.data.page(
            ctx.cur,
            ent.name,
            ent.primary_key,
            select,
            where=where,
            params=params,
            after=after,
            limit=limit + 1,
            window=not (flt or {}).get("id"),  # an id lookup is selective already
        )
        more = len(rows) > limit
        rows = rows[:limit]
        total = self.data.count(ctx.cur, ent.name, where, params)
        self._attach(ctx.cur, rows, ent.children, sel, info.fragments)
        ctx.page_infos.append(
            (ent.graphql_root, PageInfo(limit, total, more, rows[-1]["__pk"] if rows else None), after)
        )
        return rows

    def _gql_filter(self, ent: Entity, flt: dict | None) -> tuple[str, list]:
        conds: list[str] = []
        params: list = []
        by_filter = filter_fields(ent)
        for key, value in (flt or {}).items():
            if value is None:
                continue
            if key == "id":
                if not value:
                    conds.append("FALSE")
                    continue
                ids = [v for v in value if v is not None]
                conds.append(f"{_q(ent.primary_key)} IN ({', '.join('?' * len(ids))})" if ids else "FALSE")
                params.extend(ids)
                continue
            field_ = by_filter[key]
            what = f"filter {key} of {ent.graphql_root}"
            if not 1 <= len(value) <= 2:
                raise GraphQLError(f"{what}: expected [from] or [from, to], got {len(value)} values")
            lo = value[0]
            hi = value[1] if len(value) == 2 else None
            if lo is not None:
                conds.append(f"{_q(field_.name)} >= ?")
                params.append(normalise_bound(lo, upper=False, what=what))
            if hi is not None:
                conds.append(f"{_q(field_.name)} <= ?")
                params.append(normalise_bound(hi, upper=True, what=what))
        return " AND ".join(conds), params

    def _attach(
        self,
        cur: duckdb.DuckDBPyConnection,
        parents: list[dict[str, Any]],
        children: tuple[Child, ...],
        sel: dict[str, list[SelectionSetNode | None]],
        fragments: dict[str, FragmentDefinitionNode],
    ) -> None:
        """Load each requested child table for the whole page in one query and nest the rows."""
        for child in children:
            if child.graphql_name not in sel:
                continue
            if not parents or not self.data.has(child.table):
                for p in parents:
                    p[child.graphql_name] = []
                continue
            csel = _selected(sel[child.graphql_name], fragments)
            ids = [p["__pk"] for p in parents]
            select = self.data.select_list(
                child.table, [f for f in child.fields if f.camel in csel], camel=True
            )
            key = _q(child.parent_key)
            sql = (
                f"SELECT {_q(child.primary_key)} AS __pk, {key} AS __parent"
                + "".join(", " + s for s in select)
                # BETWEEN lets DuckDB skip row groups by min/max; one list parameter instead of an
                # IN list of 200 placeholders (binding those cost more than the query)
                + f" FROM {_q(child.table)} WHERE {key} BETWEEN ? AND ? AND list_contains(?, {key})"
                + f" ORDER BY {key}, {_q(child.primary_key)}"
            )
            res = cur.execute(sql, [min(ids), max(ids), ids])
            names = [d[0] for d in res.description]
            rows = [dict(zip(names, row, strict=True)) for row in res.fetchall()]
            self._attach(cur, rows, child.children, csel, fragments)
            groups: dict[Any, list] = {}
            for row in rows:
                groups.setdefault(row["__parent"], []).append(row)
            for p in parents:
                p[child.graphql_name] = groups.get(p["__pk"], [])


def _graphql_after(doc: DocumentNode, body: bytes) -> int | None:
    """The ``after`` argument of the first root field that has one (literal or variable)."""
    try:
        variables = json.loads(body).get("variables") or {}
    except (ValueError, AttributeError):
        variables = {}
    for definition in doc.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        for sel in definition.selection_set.selections:
            for arg in getattr(sel, "arguments", None) or ():
                if arg.name.value != "after":
                    continue
                if isinstance(arg.value, VariableNode):
                    return _int_or_none(variables.get(arg.value.name.value))
                if isinstance(arg.value, IntValueNode):
                    return int(arg.value.value)
    return None


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None
