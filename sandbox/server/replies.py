"""Error and reply shapes of the sandbox API, and the parsing of date bounds."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from typing import Any

import orjson
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    SelectionSetNode,
)

from pipelines.goszakup_api import (
    API_DATETIME_FORMAT,
    REST_DEFAULT_LIMIT,
    Entity,
)

REST_MAX_LIMIT = REST_DEFAULT_LIMIT

_ERRORS = {
    400: ("Bad Request", "BadRequestHttpException"),
    401: ("Unauthorized", "UnauthorizedHttpException"),
    404: ("Not Found", "NotFoundHttpException"),
    405: ("Method Not Allowed", "MethodNotAllowedHttpException"),
    429: ("Too Many Requests", "TooManyRequestsHttpException"),
    500: ("Internal Server Error", "ServerErrorHttpException"),
    501: ("Not Implemented", "ServerErrorHttpException"),
    503: ("Service Unavailable", "ServiceUnavailableHttpException"),
}


def error_body(status: int, message: str) -> dict[str, Any]:
    """The API's error shape (the real API is a Yii2 application)."""
    name, type_ = _ERRORS.get(status, ("Error", "HttpException"))
    return {"name": name, "message": message, "code": 0, "status": status, "type": f"yii\\web\\{type_}"}


class ApiError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


@dataclass
class PageCtx:
    """Where a page answer came from, so the post-processing faults can rewrite it."""

    kind: str  # "rest" | "graphql"
    entity: Entity | None
    after: int | None
    limit: int
    prefix: str = ""  # REST base path of next_page, e.g. "/v3/trd-buy"
    root: str = ""  # GraphQL root field
    extra_query: dict[str, str] = field(default_factory=dict)  # journal date range


@dataclass
class Reply:
    status: int
    payload: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    content_type: str = "application/json; charset=utf-8"
    declared_length: int | None = None
    close: bool = False
    page: PageCtx | None = None


#: orjson writes the same compact UTF-8 JSON as ``json.dumps(ensure_ascii=False, separators=(",", ":"),
#: default=str)`` about ten times faster (the answer's encoding was a tenth of a page's cost);
#: dates, dataclasses and non-str keys are passed to ``str`` as before.
_ORJSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def _dumps(payload: Any) -> bytes:
    try:
        return orjson.dumps(payload, default=str, option=_ORJSON_OPTIONS)
    except TypeError:  # e.g. an int beyond 64 bits: the standard library handles every case
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8")


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# --- date filters -----------------------------------------------------------------------------

_FILTER_FORMATS = ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S")


def normalise_bound(value: Any, *, upper: bool, what: str) -> str:
    """A filter bound as the column's ``YYYY-MM-DD HH:MM:SS``, keeping the range inclusive.

    Columns have whole seconds, so ``>= 10:00:00.5`` is ``>= 10:00:01`` and ``<= 10:00:00.5`` is
    ``<= 10:00:00``; a bare date as upper bound means the end of that day.
    """
    if not isinstance(value, str):
        raise GraphQLError(f"{what}: expected a date string, got {value!r}")
    text = value.strip()
    for fmt in _FILTER_FORMATS:
        try:
            t = dt.datetime.strptime(text, fmt)
            break
        except ValueError:
            continue
    else:
        try:
            t = dt.datetime.strptime(text, "%Y-%m-%d")
        except ValueError:
            raise GraphQLError(
                f"{what}: {value!r} is not 'YYYY-MM-DD HH:MM:SS' or 'YYYY-MM-DD HH:MM:SS.ffffff'"
            ) from None
        if upper:
            t = t.replace(hour=23, minute=59, second=59)
    if t.microsecond:
        t = t.replace(microsecond=0) + (dt.timedelta(0) if upper else dt.timedelta(seconds=1))
    return t.strftime(API_DATETIME_FORMAT)


# --- GraphQL selection helpers ------------------------------------------------------------------


def _selected(
    sets: list[SelectionSetNode | None], fragments: dict[str, FragmentDefinitionNode]
) -> dict[str, list[SelectionSetNode | None]]:
    """Field name -> its sub-selections, through fragments (what the query asks of a type)."""
    out: dict[str, list[SelectionSetNode | None]] = {}
    stack = [s for s in sets if s is not None]
    while stack:
        sset = stack.pop()
        for sel in sset.selections:
            if isinstance(sel, FieldNode):
                out.setdefault(sel.name.value, []).append(sel.selection_set)
            elif isinstance(sel, InlineFragmentNode):
                stack.append(sel.selection_set)
            elif isinstance(sel, FragmentSpreadNode) and sel.name.value in fragments:
                stack.append(fragments[sel.name.value].selection_set)
    return out


_REST_RE = re.compile(r"/v([23])/(.+)")
