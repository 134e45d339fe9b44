"""dlt source for the goszakup OWS API (and the sandbox that speaks the same contract).

One resource per entity of ``pipelines/goszakup_api.py``, merged on its primary key:

* GraphQL entities (announcements, lots, contracts, plans, applications, acts) are read
  incrementally: the dlt cursor on ``lastUpdateDate`` (or the entity's cursor field) becomes the
  ``[from]`` range filter, so only changed records travel. Nested lists (contract units, treasury
  payments, plan KATO, application lots and offers) are lifted into tables of their own.
* REST entities (participants, the RNU register) are paged with ``next_page``; REST cannot filter
  by period, so participants are filtered client-side by their cursor.
* Code tables (``refs/ref_*``) are replaced on every run.
* The change journal (``/v2/journal``) is read window by window; every ``D`` (delete) action
  becomes a hard delete of that object in its table.

Values of another type are coerced when nothing is lost, and counted; records whose values cannot
take the contract's types go to ``_quarantine`` (see ``records.py`` and ``coercion.py``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import dlt
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.client import IgnoreResponseException
from requests import Response

from pipelines.goszakup_api import (
    ENTITIES,
    GRAPHQL_MAX_LIMIT,
    JOURNAL_FIELDS,
    REF_FIELDS,
    REF_TABLES,
    Child,
    Entity,
    camel,
)
from pipelines.sources.http import (
    GraphQLPaginator,
    LoadStats,
    RestNextPagePaginator,
    make_client,
    response_hooks,
)
from pipelines.sources.records import (
    DELETED_FLAG,
    PageTally,
    column_hints,
    entity_columns,
    explode_page,
    register_tables,
)

#: New fields are recorded as new columns; a value that does not fit its column's type is never
#: coerced into a variant column (it is quarantined before it reaches dlt, and frozen here).
SCHEMA_CONTRACT = {"tables": "evolve", "columns": "evolve", "data_type": "freeze"}
#: The cursors' ``primary_key``: an empty tuple switches off dlt's boundary deduplication. Why:
#: dlt hashes every row whose cursor equals the highest value seen so far, again on every page
#: (pages come in id order, not cursor order), which is quadratic when many records share one
#: ``lastUpdateDate`` (a bulk update; 17 k payments of a national year share the last one): it
#: was half of the national load's extract time. Boundary rows a run sees twice are merged on the
#: table's primary key like any other repeat, so nothing is duplicated.
NO_BOUNDARY_DEDUP: tuple[str, ...] = ()


def _selection(fields: Sequence, children: Sequence[Child], indent: str = "    ") -> str:
    lines = [f.camel for f in fields]
    for child in children:
        inner = _selection(child.fields, child.children, indent + "  ")
        lines.append(f"{child.graphql_name} {{\n{inner}\n{indent}}}")
    return "\n".join(indent + line for line in lines)


def graphql_query(entity: Entity) -> str:
    """The GraphQL document that pages through ``entity`` with every contract field selected."""
    assert entity.graphql_root and entity.graphql_filter_input
    return (
        f"query($filter: {entity.graphql_filter_input}, $limit: Int, $after: Int) {{\n"
        f"  {entity.graphql_root}(filter: $filter, limit: $limit, after: $after) {{\n"
        f"{_selection(entity.fields, entity.children)}\n  }}\n}}"
    )


def to_filter_value(cursor_value: str) -> str:
    """Cursor value (``YYYY-MM-DD HH:MM:SS``) -> GraphQL filter form with microseconds."""
    return cursor_value if "." in cursor_value else f"{cursor_value}.000000"


def _cursor(entity: Entity, initial: str) -> Any:
    """The entity's incremental cursor (its ``lastUpdateDate`` field), without boundary dedup."""
    return dlt.sources.incremental(
        entity.cursor,
        initial_value=initial,
        on_cursor_value_missing="include",
        primary_key=NO_BOUNDARY_DEDUP,
    )


def _entity_resource(pages: Any, entity: Entity, file_format: str | None) -> Any:
    """The dlt resource of an entity's pages, GraphQL or REST, with every table it writes declared.

    No columns or key on the resource itself: every table a page is routed to is declared with its
    own hints (records.register_tables), so a child or quarantine table never inherits the
    entity's columns.
    """
    resource = dlt.resource(
        pages,
        name=entity.name,
        write_disposition="merge",
        schema_contract=SCHEMA_CONTRACT,
        file_format=file_format,
        parallelized=True,
    )
    return register_tables(resource, entity, file_format)


def _graphql_resource(
    entity: Entity,
    client: RESTClient,
    stats: LoadStats,
    page_size: int,
    initial: str,
    file_format: str | None = None,
    zone: str = "Asia/Almaty",
) -> Any:
    limit = min(page_size, GRAPHQL_MAX_LIMIT)
    query = graphql_query(entity)
    incremental = _cursor(entity, initial)

    def pages(cursor: dlt.sources.incremental[str] = incremental) -> Iterator[list[dict]]:
        start = cursor.start_value or initial
        variables = {
            "filter": {entity.cursor_filter: [to_filter_value(start)]},
            "limit": limit,
            "after": None,
        }
        paginator = GraphQLPaginator(entity.name, limit=limit, id_field=camel(entity.primary_key))
        for page in client.paginate(
            "/v3/graphql",
            method="POST",
            json={"query": query, "variables": variables},
            paginator=paginator,
            data_selector=f"data.{entity.graphql_root}",
            hooks=response_hooks(entity.name, stats),
        ):
            stats.add("pages", entity.name)
            stats.add("records", entity.name, len(page))
            tally = PageTally(zone)
            yield from explode_page(entity, list(page), camel_case=True, tally=tally)
            stats.merge_page(tally)

    return _entity_resource(pages, entity, file_format)


def _rest_resource(
    entity: Entity,
    client: RESTClient,
    stats: LoadStats,
    page_size: int,
    initial: str,
    file_format: str | None = None,
    zone: str = "Asia/Almaty",
) -> Any:
    assert entity.rest_path

    def fetch() -> Iterator[list[dict]]:
        for page in client.paginate(
            entity.rest_path,
            params={"limit": page_size},
            paginator=RestNextPagePaginator(entity.name),
            data_selector="items",
            hooks=response_hooks(entity.name, stats),
        ):
            stats.add("pages", entity.name)
            stats.add("records", entity.name, len(page))
            tally = PageTally(zone)
            yield from explode_page(entity, list(page), camel_case=False, tally=tally)
            stats.merge_page(tally)

    if entity.cursor:
        incremental = _cursor(entity, initial)

        def pages(cursor: dlt.sources.incremental[str] = incremental) -> Iterator[list[dict]]:
            yield from fetch()

    else:

        def pages() -> Iterator[list[dict]]:  # type: ignore[misc]
            yield from fetch()

    return _entity_resource(pages, entity, file_format)


def _refs_resource(client: RESTClient, stats: LoadStats, ref_tables: Sequence[str], page_size: int) -> Any:
    def ignore_404(response: Response, *args: Any, **kwargs: Any) -> None:
        if response.status_code == 404:  # a code table this API version does not have
            raise IgnoreResponseException

    @dlt.resource(
        name="refs",
        write_disposition="replace",
        primary_key="id",
        columns=column_hints(REF_FIELDS),
        schema_contract=SCHEMA_CONTRACT,
        parallelized=True,
    )
    def refs() -> Iterator[list[dict]]:
        for name in ref_tables:
            for page in client.paginate(
                f"/v3/refs/{name}",
                params={"limit": page_size},
                paginator=RestNextPagePaginator(name),
                data_selector="items",
                hooks=response_hooks(name, stats, ignore_404),
            ):
                stats.add("pages", "refs")
                stats.add("records", name, len(page))
                yield dlt.mark.with_table_name(list(page), name)

    return refs


def journal_windows(start: dt.date, end: dt.date, days: int) -> Iterator[tuple[dt.date, dt.date]]:
    """Inclusive [from, to] date windows covering start..end, each at most ``days`` long."""
    if end < start:
        return
    cursor = start
    while cursor <= end:
        stop = min(cursor + dt.timedelta(days=days - 1), end)
        yield cursor, stop
        cursor = stop + dt.timedelta(days=1)


def _journal_resource(
    client: RESTClient, stats: LoadStats, page_size: int, initial: str, days: int, today: dt.date
) -> Any:
    @dlt.resource(
        name="journal",
        write_disposition="merge",
        primary_key=("service_name", "object_id", "action", "date_action"),
        columns=column_hints(JOURNAL_FIELDS),
        schema_contract=SCHEMA_CONTRACT,
    )
    def journal(
        cursor: dlt.sources.incremental[str] = dlt.sources.incremental("date_action", initial_value=initial),
    ) -> Iterator[list[dict]]:
        start = dt.date.fromisoformat((cursor.start_value or initial)[:10])
        for date_from, date_to in journal_windows(start, today, days):
            for page in client.paginate(
                "/v2/journal",
                params={
                    "date_from": date_from.isoformat(),
                    "date_to": date_to.isoformat(),
                    "limit": page_size,
                },
                paginator=RestNextPagePaginator("journal"),
                data_selector="items",
                hooks=response_hooks("journal", stats),
            ):
                stats.add("pages", "journal")
                stats.add("records", "journal", len(page))
                yield list(page)

    return journal


def _deletions(journal: Any, entity: Entity) -> Any:
    """Hard deletes for the journal's ``D`` actions on ``entity`` (dlt's ``hard_delete`` hint)."""
    names = set(entity.journal_names)

    @dlt.transformer(
        data_from=journal,
        name=f"{entity.name}_deletions",
        table_name=entity.name,
        write_disposition="merge",
        primary_key=entity.primary_key,
        columns=entity_columns(entity),
    )
    def deletions(items: list[dict]) -> Iterable[dict]:
        return [
            {entity.primary_key: int(item["object_id"]), DELETED_FLAG: True}
            for item in items
            if item.get("action") == "D" and item.get("service_name") in names
        ]

    return deletions


@dlt.source(name="goszakup", max_table_nesting=0, schema_contract=SCHEMA_CONTRACT)
def goszakup_source(
    base_url: str,
    token: str,
    entities: Sequence[str] | None = None,
    *,
    stats: LoadStats | None = None,
    ca_bundle: Path | None = None,
    initial_date: str = "2000-01-01 00:00:00",
    graphql_page_size: int = GRAPHQL_MAX_LIMIT,
    rest_page_size: int = 500,
    ref_tables: Sequence[str] = REF_TABLES,
    journal_days_per_request: int = 31,
    journal_start: dt.date | None = None,
    today: dt.date | None = None,
    timeout_s: float = 60.0,
    max_retries: int = 8,
    backoff_factor: float = 1.0,
    max_retry_delay_s: float = 120.0,
    rate_limit: float = 0.0,
    file_format: str | None = None,
    include_refs: bool = True,
    include_journal: bool = True,
    source_timezone: str = "Asia/Almaty",
) -> list[Any]:
    """All resources of the goszakup API. ``token`` is used for the Authorization header only.

    ``journal_start`` is the first journal day read when the journal has no cursor yet (a full
    load): the API serves no deleted object, so older deletions have nothing left to delete.
    ``source_timezone`` is the zone the API's naive dates are in: a date sent with an offset is
    converted to it (``coercion.py``).
    """
    stats = stats if stats is not None else LoadStats()
    client = make_client(
        base_url,
        token,
        ca_bundle=ca_bundle,
        timeout_s=timeout_s,
        max_retries=max_retries,
        backoff_factor=backoff_factor,
        max_retry_delay_s=max_retry_delay_s,
        rate_limit=rate_limit,
    )
    selected = [ENTITIES[name] for name in (entities or ENTITIES)]
    resources: list[Any] = []
    for entity in selected:
        if entity.default_api == "graphql":
            resources.append(
                _graphql_resource(
                    entity, client, stats, graphql_page_size, initial_date, file_format, source_timezone
                )
            )
        else:
            resources.append(
                _rest_resource(
                    entity, client, stats, rest_page_size, initial_date, file_format, source_timezone
                )
            )
    if include_refs:
        resources.append(_refs_resource(client, stats, ref_tables, rest_page_size))
    if include_journal:
        journal = _journal_resource(
            client,
            stats,
            rest_page_size,
            f"{journal_start.isoformat()} 00:00:00" if journal_start else initial_date,
            journal_days_per_request,
            today or dt.date.today(),
        )
        resources.append(journal)
        resources.extend(_deletions(journal, entity) for entity in selected)
    return resources
