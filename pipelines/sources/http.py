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
import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import orjson
from dlt.sources.helpers.requests import Client
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.auth import BearerTokenAuth
from dlt.sources.helpers.rest_client.paginators import BasePaginator, JSONLinkPaginator
from requests import Request, Response
from requests_ratelimiter import LimiterAdapter


class SourceError(RuntimeError):
    """An API answer the connector cannot use; the message names entity, path and the API's reason.

    The status travels as data, so callers decide without parsing text: ``retryable`` is True for
    what may pass (429, 5xx, a page that did not advance) and False for what retrying cannot fix
    (401/403, 404 on a contract path, other 4xx, GraphQL validation errors, a 200 answer that is
    not JSON). ``path`` never carries the query string (nor, therefore, anything secret).
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retryable: bool = True,
        entity: str | None = None,
        path: str | None = None,
        content_type: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retryable = retryable
        self.entity = entity
        self.path = path
        self.content_type = content_type


def source_error(exc: BaseException) -> SourceError | None:
    """The connector's :class:`SourceError` behind ``exc`` (dlt wraps it in its step errors)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, SourceError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def is_retryable_status(status: int) -> bool:
    """429 and 5xx may pass with time (and 408, a timeout told as a status); other errors will not."""
    return status in (408, 429) or status >= 500


def api_message(response: Response, limit: int = 200) -> str:
    """The API's own words: ``message`` of its error body, GraphQL ``errors[].message``, else the text."""
    try:
        body = parsed_body(response)
    except ValueError:
        body = None
    if isinstance(body, dict):
        if body.get("errors"):
            return "; ".join(
                str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in body["errors"]
            )[:limit]
        if body.get("message"):
            return str(body["message"])[:limit]
    text = " ".join(response.text.split())
    content_type = response.headers.get("Content-Type", "")
    if "html" in content_type.lower():
        title = re.search(r"<title>(.*?)</title>", text, re.IGNORECASE)
        return f"an HTML page{': ' + title.group(1).strip() if title else ''} ({content_type})"[:limit]
    return text[:limit] or "(empty body)"


def _path(response: Response) -> str:
    return urlsplit(response.url).path


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
    status = response.status_code
    if status >= 400:
        where = f"{name}: page {page}" if page else name
        retryable = is_retryable_status(status)
        raise SourceError(
            f"{where}: HTTP {status} from {response.request.method} {_path(response)}"
            f"{' after retries' if retryable else ''}: {api_message(response)}",
            status=status,
            retryable=retryable,
            entity=name,
            path=_path(response),
            content_type=response.headers.get("Content-Type"),
        )


def fail_on_foreign_body(name: str, response: Response) -> None:
    """A 200 answer that is not JSON (a login or maintenance page): no retry will change it."""
    content_type = response.headers.get("Content-Type", "")
    if response.status_code == 200 and content_type and "json" not in content_type.lower():
        raise SourceError(
            f"{name}: HTTP 200 from {response.request.method} {_path(response)} is not JSON "
            f"({content_type}): {api_message(response)}",
            status=200,
            retryable=False,
            entity=name,
            path=_path(response),
            content_type=content_type,
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
        if response.status_code >= 400 and not is_retryable_status(response.status_code):
            fail_on_status(name, response)  # 401/403/404/400...: at once, not after the retries
        fail_on_foreign_body(name, response)

    return {"response": [_parse_once, *first, count_retries, fail_unless_retryable]}


class RestNextPagePaginator(JSONLinkPaginator):
    """REST v3 paging: follow ``next_page``; an empty string, null or no key ends the walk.

    ``next_page`` may be relative (``/v3/lots?page=next&search_after=...``, the documented form,
    also without its leading slash) or absolute. An absolute link is followed on the configured
    API's origin: only its path and query are taken, so the bearer token never goes to a host
    (or scheme) the link names. ``total`` is not needed.
    """

    def __init__(self, name: str = "rest") -> None:
        super().__init__(next_url_path="next_page")
        self.name = name
        self.page = 0

    def update_state(self, response: Response, data: list[Any] | None = None) -> None:
        self.page += 1
        fail_on_status(self.name, response, self.page)
        super().update_state(response, data)
        link = self._next_reference
        if not link or not isinstance(link, str):
            self._next_reference = None
            return
        parts = urlsplit(link)
        origin = urlsplit(response.request.url)
        if parts.scheme or parts.netloc:
            link = urlunsplit((origin.scheme, origin.netloc, parts.path, parts.query, ""))
        elif not link.startswith(("/", "?")):
            link = "/" + link
        self._next_reference = link


class GraphQLPaginator(BasePaginator):
    """GraphQL paging: pass ``extensions.pageInfo.lastId`` as ``after`` until ``hasNextPage`` is false.

    The page that says ``hasNextPage: false`` is still yielded (one public client loses it).
    Tolerated forms: ``lastId`` as an int or a numeric string (public clients declare it a
    string), or absent (then the last record's id); ``hasNextPage`` absent (then a page shorter
    than ``limitPage``, or than the limit asked for, is the last, and ``totalCount`` reached ends
    the walk when it is given).
    A page that does not advance (the same or no ``lastId``: a page served twice, an empty page
    mid-stream) is asked for again, up to ``max_stalls`` times in a row; records it repeats are
    merged on their key. Past that it is an error naming the entity and the page, not a silent stop.
    """

    def __init__(
        self, entity: str, max_stalls: int = 3, limit: int | None = None, id_field: str = "id"
    ) -> None:
        super().__init__()
        self.entity = entity
        self.after: int | None = None
        self.page = 0
        self.max_stalls = max_stalls
        self.stalls = 0
        self.limit = limit
        self.id_field = id_field
        self.seen = 0

    def _has_next(self, info: dict[str, Any], data: list[Any]) -> bool:
        if info.get("hasNextPage") is not None:
            return bool(info["hasNextPage"])
        self.seen += len(data)
        total = _as_int(info.get("totalCount"))
        if total is not None and self.seen >= total:
            return False
        limit = _as_int(info.get("limitPage")) or self.limit
        return bool(data) and (limit is None or len(data) >= limit)

    def update_state(self, response: Response, data: list[Any] | None = None) -> None:
        self.page += 1
        fail_on_status(self.entity, response, self.page)
        graphql_errors(self.entity, self.page, response)
        body = response.json()
        info = (body.get("extensions") or {}).get("pageInfo") or {}
        has_next = self._has_next(info, data or [])
        last_id = _as_int(info.get("lastId"))
        if last_id is None and data and isinstance(data[-1], dict):
            last_id = _as_int(data[-1].get(self.id_field))
        self._has_next_page = has_next
        if not has_next:
            return
        advanced = last_id is not None and (self.after is None or last_id > self.after)
        if advanced:
            self.after = last_id
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


def _as_int(value: Any) -> int | None:
    """``lastId`` and counts as the API sends them: an int or a numeric string (None otherwise)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def graphql_errors(entity: str, page: int, response: Response) -> None:
    """Raise a clear error for a GraphQL answer with ``errors`` (HTTP 200 with failures inside).

    A GraphQL error is the API refusing this query (an unknown field or argument, a wrong
    variable type, a limit out of range): the same query gets the same answer, so it is not
    retried. A transient fault comes as an HTTP status (429, 5xx) and is retried by the client.
    """
    body = response.json()
    if isinstance(body, dict) and body.get("errors"):
        raise SourceError(
            f"{entity}: GraphQL page {page} refused by {_path(response)}: {api_message(response)}",
            status=response.status_code,
            retryable=False,
            entity=entity,
            path=_path(response),
            content_type=response.headers.get("Content-Type"),
        )
