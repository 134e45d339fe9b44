"""The HTTP side of the connector: session with retries, auth, paginators, and counters.

Why not plain ``requests``: dlt's ``Client`` already retries 429/5xx/timeouts with exponential
backoff and honours ``Retry-After``; we only add what the goszakup API needs on top:

* a retry when a 200 answer carries a body that is not JSON (truncated or corrupted pages),
* a REST paginator that treats ``next_page: ""`` as the end (dlt's ``JSONLinkPaginator`` would
  read the empty string as "there is a next page"),
* a GraphQL paginator that follows ``extensions.pageInfo.lastId`` in the request body,
* counters of pages, records and retries per entity, for the run summary and Dagster metadata,
* each body parsed once, with orjson (:func:`parsed_body`): the retry condition, the counters,
  dlt's data selector and the paginators all read the same parse (it was five per page).

The token is passed to ``BearerTokenAuth`` and nowhere else: not in URLs, not in logs.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from dlt.sources.helpers.requests import Client
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.auth import BearerTokenAuth
from dlt.sources.helpers.rest_client.paginators import BasePaginator, JSONLinkPaginator
from requests import Request, Response
from requests_ratelimiter import LimiterAdapter


class SourceError(RuntimeError):
    """An API answer the connector cannot use; the message names entity, page and reason."""


@dataclass
class LoadStats:
    """Thread-safe counters of one ingestion run (entities are extracted in parallel threads).

    ``coercions`` and ``refusals`` are keyed ``(table, field, kind)``: what lossless coercion
    converted, and what was refused and why (with the first refused record id in ``examples``).
    """

    pages: Counter = field(default_factory=Counter)
    records: Counter = field(default_factory=Counter)
    quarantined: Counter = field(default_factory=Counter)  # table -> records refused
    retries: Counter = field(default_factory=Counter)  # by reason, e.g. "429", "503", "invalid-json"
    coercions: Counter = field(default_factory=Counter)
    refusals: Counter = field(default_factory=Counter)
    examples: dict[tuple[str, str, str], str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, counter: str, key: str, n: int = 1) -> None:
        with self._lock:
            getattr(self, counter)[key] += n

    def merge_page(self, tally: Any) -> None:
        """Add one page's :class:`~pipelines.sources.records.PageTally` (one lock per page)."""
        if not (tally.coerced or tally.refused):
            return
        with self._lock:
            self.coercions.update(tally.coerced)
            self.refusals.update(tally.refused)
            self.quarantined.update(tally.refused_records)
            for key, example in tally.examples.items():
                self.examples.setdefault(key, example)

    @property
    def total_retries(self) -> int:
        return sum(self.retries.values())

    def coercions_by_table(self) -> dict[str, dict[str, dict[str, int]]]:
        """``{table: {field: {kind: n}}}``, sorted: the run summary's and the manifest's form."""
        return _nest(self.coercions)

    def refusals_by_table(self) -> list[dict[str, Any]]:
        """One entry per (table, field, reason) refused: count and an example record id."""
        with self._lock:
            return [
                {"table": t, "field": f, "reason": r, "count": n, "example_id": self.examples.get((t, f, r))}
                for (t, f, r), n in sorted(self.refusals.items())
            ]

    def as_dict(self) -> dict[str, Any]:
        with self._lock:
            return {
                "pages": dict(sorted(self.pages.items())),
                "records": dict(sorted(self.records.items())),
                "quarantined": dict(sorted(self.quarantined.items())),
                "retries": dict(sorted(self.retries.items())),
                "coercions": _nest(self.coercions),
            }


def _nest(counter: Counter) -> dict[str, dict[str, dict[str, int]]]:
    out: dict[str, dict[str, dict[str, int]]] = {}
    for (table, name, kind), n in sorted(counter.items()):
        out.setdefault(table, {}).setdefault(name, {})[kind] = n
    return out


_PARSED = "_goszakup_parsed"


def parsed_body(response: Response) -> Any:
    """The response's JSON body, parsed once and kept on the response; raises ValueError if invalid.

    orjson first (several times faster than ``json`` on pages of nested records); what it refuses
    but ``json`` reads (integers past 64 bits, NaN) falls back to ``json``, so nothing readable is
    lost. The outcome, body or error, is cached on the response object.
    """
    cached = response.__dict__.get(_PARSED)
    if cached is None:
        try:
            cached = (orjson.loads(response.content), None)
        except orjson.JSONDecodeError:
            try:
                cached = (json.loads(response.content), None)
            except ValueError as exc:
                cached = (None, exc)
        response.__dict__[_PARSED] = cached
    body, error = cached
    if error is not None:
        raise error
    return body


def _parse_once(response: Response, *args: Any, **kwargs: Any) -> None:
    """First response hook: ``response.json()`` answers from the one cached parse from now on."""
    response.json = lambda **_: parsed_body(response)  # type: ignore[method-assign]


def _body_is_not_json(response: Response | None, exception: BaseException | None) -> bool:
    """Retry a successful status whose body does not parse (a truncated or garbled page)."""
    if response is None or response.status_code != 200:
        return False
    if "json" not in response.headers.get("Content-Type", "json"):
        return False
    try:
        parsed_body(response)
    except ValueError:
        return True
    return False


def make_client(
    base_url: str,
    token: str,
    *,
    ca_bundle: Path | None = None,
    timeout_s: float = 60.0,
    max_retries: int = 8,
    backoff_factor: float = 1.0,
    max_retry_delay_s: float = 120.0,
    rate_limit: float = 0.0,
) -> RESTClient:
    """A dlt ``RESTClient`` for the goszakup API with retries (429, 5xx, unreadable pages) and auth.

    ``rate_limit`` (requests/s, 0 none): every attempt, retries included, first takes a token from
    one bucket per host shared by all extraction threads (``requests-ratelimiter``); a 429 still
    arriving fills the bucket, so the client falls back in step with the server.
    """
    http = Client(
        request_timeout=timeout_s,
        request_max_attempts=max_retries + 1,
        request_backoff_factor=backoff_factor,
        request_max_retry_delay=max_retry_delay_s,
        respect_retry_after_header=True,
        retry_condition=_body_is_not_json,
        raise_for_status=False,  # the paginators raise once the retries are spent
    )
    session = http.session
    # TLS verification stays on; a CA bundle may be given for private roots.
    session.verify = str(ca_bundle) if ca_bundle else True
    if rate_limit > 0:
        limited = LimiterAdapter(per_second=rate_limit, per_host=True, pool_maxsize=50)
        session.mount("http://", limited)
        session.mount("https://", limited)

    return RESTClient(base_url=base_url, auth=BearerTokenAuth(token=token), session=session)


def fail_on_status(name: str, response: Response, page: int | None = None) -> None:
    """Raise a clear error for an HTTP error status that is left after the retries.

    Called from the paginators, which see a response only after the client's retries are spent:
    a request hook would see every attempt and raise before a 429 or 5xx could be retried.
    """
    if response.status_code >= 400:
        where = f"{name}: page {page}" if page else name
        raise SourceError(
            f"{where}: HTTP {response.status_code} from {response.request.method} "
            f"{response.url.split('?')[0]} after retries: {response.text[:300]}"
        )


def response_hooks(name: str, stats: LoadStats, *first: Any) -> dict[str, list[Any]]:
    """Request hooks of every call: count retried answers, fail at once on a hopeless status.

    They run on every attempt (inside the retrying ``send``). Request hooks replace the
    session's in ``requests``, so they are given per request, not set on the session.
    """

    def count_retries(response: Response, *args: Any, **kwargs: Any) -> None:
        if response.status_code == 429 or response.status_code >= 500:
            stats.add("retries", str(response.status_code))
        elif _body_is_not_json(response, None):
            stats.add("retries", "invalid-json")

    def fail_unless_retryable(response: Response, *args: Any, **kwargs: Any) -> None:
        if 400 <= response.status_code < 500 and response.status_code not in (429, 404):
            fail_on_status(name, response)

    return {"response": [_parse_once, *first, count_retries, fail_unless_retryable]}


class RestNextPagePaginator(JSONLinkPaginator):
    """REST v3 paging: follow the relative ``next_page``; an empty string ends the walk."""

    def __init__(self, name: str = "rest") -> None:
        super().__init__(next_url_path="next_page")
        self.name = name
        self.page = 0

    def update_state(self, response: Response, data: list[Any] | None = None) -> None:
        self.page += 1
        fail_on_status(self.name, response, self.page)
        super().update_state(response, data)
        if not self._next_reference:
            self._next_reference = None


class GraphQLPaginator(BasePaginator):
    """GraphQL paging: pass ``extensions.pageInfo.lastId`` as ``after`` until ``hasNextPage`` is false.

    The page that says ``hasNextPage: false`` is still yielded (one public client loses it).
    A page that does not advance (the same or no ``lastId``: a page served twice, an empty page
    mid-stream) is asked for again, up to ``max_stalls`` times in a row; records it repeats are
    merged on their key. Past that it is an error naming the entity and the page, not a silent stop.
    """

    def __init__(self, entity: str, max_stalls: int = 3) -> None:
        super().__init__()
        self.entity = entity
        self.after: int | None = None
        self.page = 0
        self.max_stalls = max_stalls
        self.stalls = 0

    def update_state(self, response: Response, data: list[Any] | None = None) -> None:
        self.page += 1
        fail_on_status(self.entity, response, self.page)
        graphql_errors(self.entity, self.page, response)
        body = response.json()
        info = (body.get("extensions") or {}).get("pageInfo") or {}
        has_next = bool(info.get("hasNextPage"))
        last_id = info.get("lastId")
        self._has_next_page = has_next
        if not has_next:
            return
        advanced = last_id is not None and (self.after is None or int(last_id) > self.after)
        if advanced:
            self.after = int(last_id)
            self.stalls = 0
            return
        self.stalls += 1
        if self.stalls > self.max_stalls:
            reason = (
                "carries no lastId"
                if last_id is None
                else f"did not advance (lastId {last_id} after {self.after})"
            )
            raise SourceError(
                f"{self.entity}: page {self.page} says hasNextPage but {reason}, "
                f"{self.stalls} times in a row; cannot continue"
            )

    def update_request(self, request: Request) -> None:
        request.json = {**request.json, "variables": {**request.json["variables"], "after": self.after}}


def graphql_errors(entity: str, page: int, response: Response) -> None:
    """Raise a clear error for a GraphQL answer with ``errors`` (HTTP 200 with failures inside)."""
    body = response.json()
    if body.get("errors"):
        messages = "; ".join(str(e.get("message", e)) for e in body["errors"])
        raise SourceError(f"{entity}: GraphQL page {page} failed: {messages}")
