"""Faults that rewrite an answer (repeated pages, changed records), wired into the server."""

from __future__ import annotations

import datetime as dt
from typing import Any

from graphql import (
    DocumentNode,
)

from pipelines.goszakup_api import (
    API_DATETIME_FORMAT,
    ENTITIES,
    JOURNAL_FIELDS,
)
from sandbox.faults import FaultPlan, FaultRule
from sandbox.server.graphql import _graphql_after, _int_or_none
from sandbox.server.replies import Reply, _dumps, _q


class FaultsMixin:
    """Faults of :class:`SandboxServer` that rewrite an answer after it was computed."""

    # --- faults that rewrite an answer --------------------------------------------------------

    def _post_fault(self, rule: FaultRule, reply: Reply, plan: FaultPlan) -> bool:
        kind = rule.kind
        if kind == "repeat_page":
            previous = plan.previous(rule)
            if previous is None:
                return False
            reply.status, reply.body = 200, previous
            return True
        if kind == "truncated":
            body = _dumps(reply.payload) if reply.body is None else reply.body
            cut = body[: max(1, len(body) // 2)]
            reply.body = cut
            reply.declared_length = len(body) if rule.declare_full_length else len(cut)
            reply.close = True
            return True
        if kind == "invalid_json":
            reply.status = 200
            reply.body = (
                b"<html><body><h1>502 Bad Gateway</h1>upstream sent an invalid response</body></html>"
            )
            return True
        page = reply.page
        if page is None or reply.status != 200:
            return False
        items = self._page_items(reply)
        if kind == "empty_page":
            items.clear()
            if page.kind == "rest":
                reply.payload["next_page"] = self._next_link(page, page.after)
            else:
                info = reply.payload.setdefault("extensions", {}).setdefault("pageInfo", {})
                info["hasNextPage"] = True
                info["lastId"] = page.after
            return True
        if kind == "type_change":
            if not items or page.entity is None:
                return False
            ent = page.entity
            name = rule.field or (
                "total_sum"
                if "total_sum" in ent.field_names
                else next((f.name for f in ent.fields if f.type == "float"), ent.field_names[-1])
            )
            key = name if page.kind == "rest" else next((f.camel for f in ent.fields if f.name == name), name)
            items[0][key] = rule.value
            return True
        return False

    @staticmethod
    def _page_items(reply: Reply) -> list:
        page = reply.page
        assert page is not None
        if page.kind == "rest":
            return reply.payload["items"]
        data = reply.payload.get("data") or {}
        items = data.get(page.root)
        if items is None:
            items = data[page.root] = []
        return items

    def _record_change(
        self,
        rule: FaultRule,
        entities: frozenset[str],
        query: dict[str, str],
        body: bytes,
        doc: DocumentNode | None,
    ) -> dict[str, Any] | None:
        """Bump one already-served record's cursor field (and journal it) before this page is read."""
        names = [rule.entity] if rule.entity else sorted(entities)
        ent = next(
            (ENTITIES[n] for n in names if ENTITIES[n].cursor and self.data.has(ENTITIES[n].name)), None
        )
        if ent is None or self.con is None:
            return None
        after = _int_or_none(query.get("search_after"))
        if after is None and doc is not None:
            after = _graphql_after(doc, body)
        table, pk, col = _q(ent.name), _q(ent.primary_key), _q(ent.cursor)
        with self._write_lock:
            cur = self.con.cursor()
            try:
                row = None
                if after is not None:
                    row = cur.execute(
                        f"SELECT {pk} FROM {table} WHERE {pk} <= ? ORDER BY {pk} DESC LIMIT 1", [after]
                    ).fetchone()
                if row is None:
                    row = cur.execute(f"SELECT min({pk}) FROM {table}").fetchone()
                if row is None or row[0] is None:
                    return None
                record_id = row[0]
                top = cur.execute(f"SELECT max({col}) FROM {table}").fetchone()[0]
                try:
                    new = dt.datetime.strptime(str(top), API_DATETIME_FORMAT) + dt.timedelta(seconds=1)
                except ValueError:
                    new = dt.datetime.now().replace(microsecond=0)
                value = new.strftime(API_DATETIME_FORMAT)
                cur.execute(f"UPDATE {table} SET {col} = ? WHERE {pk} = ?", [value, record_id])
                if all(self.data.has("journal", c) for c in ["seq", *(f.name for f in JOURNAL_FIELDS)]):
                    cur.execute(
                        "INSERT INTO journal (seq, action, object_id, date_action, service_name, service_title, url) "
                        "SELECT coalesce(max(seq), 0) + 1, 'U', ?, ?, ?, ?, ? FROM journal",
                        [
                            record_id,
                            value,
                            ent.journal_names[0] if ent.journal_names else ent.name,
                            ent.description,
                            f"{ent.rest_path}/{record_id}" if ent.rest_path else "",
                        ],
                    )
            finally:
                cur.close()
        self.data.bump()
        return {"entity": ent.name, "id": record_id, "field": ent.cursor, "value": value}
