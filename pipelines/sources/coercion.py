"""Lossless coercion of API values to the contract's types; everything lossy is refused.

Why: the contract (``pipelines/goszakup_api.py``) was written from public clients, and the real API
does not match it field for field: ids come as strings, flags as JSON booleans, ``enstruList`` as a
list of integers, dates with a ``T`` or an offset. Quarantining every such record loses the entity
(a run once landed 0 lots); coercing anything silently hides real changes. The rule here: a value
that converts **without loss** is converted and the conversion is counted (per table, field and
kind, for the run summary and the manifest); a value that would lose something (a zero-padded
string read as an int, 3.5 read as an int, a date finer than microseconds) is refused with
a reason, and the record goes to ``_quarantine``.

Both the loader (``records.py``) and ``python -m pipelines check-api`` use :func:`coerce`, so the
probe's verdicts are the loader's verdicts.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from pipelines.goszakup_api import Field

#: Marks a field absent from a record (distinct from an explicit ``null``).
MISSING: Any = object()

_CANONICAL_INT = re.compile(r"^-?(0|[1-9][0-9]*)$")
_PADDED_INT = re.compile(r"^-?0[0-9]+$")
_DECIMAL = re.compile(r"^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$")
_DATETIME = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:(?P<sep>[ T])(?P<time>\d{2}:\d{2}(?::\d{2})?)(?:\.(?P<frac>\d{1,9}))?"
    r"(?P<offset>Z|[+-]\d{2}(?::?\d{2})?)?)?$"
)
#: Epoch milliseconds from 1973 on (smaller integers are not read as dates: ambiguous with seconds).
_MIN_EPOCH_MS = 100_000_000_000

LIST_TYPES = frozenset({"int[]", "str[]"})


class Lossy(ValueError):
    """A value that cannot take the contract's type without loss. ``code`` groups alike reasons."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def _shown(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)[:80]


def _refuse(field: Field, value: Any, why: str = "") -> Lossy:
    code = f"expected {field.type}, got {type(value).__name__}"
    detail = f" ({why})" if why else ""
    return Lossy(code, f"{code} {_shown(value)}{detail}")


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def to_int(field: Field, value: Any) -> tuple[int, str | None]:
    """An int field's value: bool -> 0/1, canonical numeric string, whole float."""
    if isinstance(value, bool):
        return int(value), "bool->int"
    if isinstance(value, int):
        return value, None
    if isinstance(value, float):
        if value.is_integer():
            return int(value), "float->int"
        raise _refuse(field, value, "has a fraction")
    if isinstance(value, str):
        text = value.strip()
        if _CANONICAL_INT.match(text) and text == value:
            return int(text), "str->int"
        if _PADDED_INT.match(text):
            raise _refuse(field, value, "zero-padded: an int would drop its leading zeros")
        raise _refuse(field, value, "not an integer")
    raise _refuse(field, value)


def to_float(field: Field, value: Any) -> tuple[float | int, str | None]:
    """A number field's value: ints and floats as they are, numeric strings parsed."""
    if isinstance(value, bool):
        raise _refuse(field, value, "a flag is not an amount")
    if isinstance(value, int | float):
        return value, None
    if isinstance(value, str) and _DECIMAL.match(value):
        return float(value), "str->float"
    raise _refuse(field, value, "not a number")


def to_str(field: Field, value: Any, digits: int | None = None) -> tuple[str, str | None]:
    """A text field's value: an int becomes its digits (zero-padded back to a code's fixed width)."""
    if isinstance(value, str):
        return value, None
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
        width = digits or field.digits
        if width and value >= 0 and len(text) < width:
            return text.zfill(width), "int->str zero-padded"
        return text, "int->str"
    raise _refuse(field, value)


def to_datetime(field: Field, value: Any, zone: str) -> tuple[str, str | None]:
    """``YYYY-MM-DD HH:MM:SS`` in the source's local time (the raw layer's form).

    Accepted without loss: a ``T`` separator, a zero fraction (``.000``), an offset or ``Z``
    (converted to the source zone's local time, UTC+6 before 2024-03-01 and UTC+5 after for
    Asia/Almaty), epoch milliseconds. A non-zero fraction is kept. A local time in the hour the
    zone repeated (2024-02-29 23:00-24:00) is kept too, in the raw layer's naive form (the form the
    API itself uses), and counted as its own kind (``... in the repeated hour``): the offset that
    told the two occurrences apart is the one thing that form cannot hold.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        if value < _MIN_EPOCH_MS:
            raise _refuse(field, value, "an integer date must be epoch milliseconds")
        instant = dt.datetime.fromtimestamp(value / 1000, tz=dt.UTC)
        local, repeated = _local(instant, zone, keep_ms=value % 1000 != 0)
        return local, "datetime epoch-ms" + repeated
    if not isinstance(value, str):
        raise _refuse(field, value)
    match = _DATETIME.match(value)
    if not match:
        raise _refuse(field, value, "not a date")
    sep, time_, frac, offset = match["sep"], match["time"], match["frac"], match["offset"]
    if time_ is None:
        return value, None
    kinds = []
    if sep == "T":
        kinds.append("datetime T")
    if len(time_) == 5:
        time_ += ":00"
        kinds.append("datetime no seconds")
    fraction = ""
    if frac is not None:
        if frac.strip("0"):
            fraction = "." + frac[:6]
            if len(frac) > 6 and frac[6:].strip("0"):
                raise _refuse(field, value, "finer than microseconds")
        else:
            kinds.append("datetime zero fraction")
    if offset is not None:
        text = offset if offset == "Z" else offset if len(offset) != 3 else offset + ":00"
        aware = dt.datetime.fromisoformat(f"{match['date']}T{time_}{fraction}{text}")
        local, repeated = _local(aware, zone, keep_ms=bool(fraction))
        name = "Z" if offset == "Z" else aware.strftime("%z")
        return local, ", ".join([*kinds, f"datetime offset {name}{repeated}"])
    out = f"{match['date']} {time_}{fraction}"
    return (out, ", ".join(kinds)) if kinds else (value, None)


def _local(instant: dt.datetime, zone: str, *, keep_ms: bool) -> tuple[str, str]:
    """(naive local time in ``zone``, " in the repeated hour" when that local time occurred twice)."""
    tz = _zone(zone)
    naive = instant.astimezone(tz).replace(tzinfo=None)
    repeated = naive.replace(tzinfo=tz, fold=1).utcoffset() != naive.replace(tzinfo=tz, fold=0).utcoffset()
    fmt = "%Y-%m-%d %H:%M:%S.%f" if keep_ms and naive.microsecond else "%Y-%m-%d %H:%M:%S"
    return naive.strftime(fmt), " in the repeated hour" if repeated else ""


def to_list(field: Field, value: Any) -> tuple[list, list[str]]:
    """A list field's value: null or missing as ``[]``, a scalar or comma string wrapped, items coerced."""
    kinds: list[str] = []
    if value is MISSING:
        return [], ["missing->[]"]
    if value is None:
        return [], ["null->[]"]
    if isinstance(value, str):
        items: list = [p.strip() for p in value.split(",") if p.strip()]
        kinds.append("comma string->list" if "," in value else "scalar->list")
    elif isinstance(value, list):
        items = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        items = [value]
        kinds.append("scalar->list")
    else:
        raise _refuse(field, value)
    item_field = Field(field.name, field.type[:-2], digits=field.digits)
    out = []
    item_kinds: set[str] = set()
    for item in items:
        try:
            new, kind = to_str(item_field, item) if item_field.type == "str" else to_int(item_field, item)
        except Lossy as exc:
            code = f"expected {field.type}, got an item {exc.code.split('got ')[-1]}"
            raise Lossy(code, f"expected {field.type}, got {_shown(value)}: item {exc.reason}") from None
        out.append(new)
        if kind:
            item_kinds.add(kind)
    kinds.extend(f"items {k}" for k in sorted(item_kinds))
    return out, kinds


def coerce(field: Field, value: Any, zone: str = "Asia/Almaty") -> tuple[Any, str | None]:
    """``value`` in ``field``'s contract type and the kind of coercion (None when it already fits).

    Raises :class:`Lossy` when the value cannot take the type without loss. ``zone`` is the source's
    time zone (``Settings.source_timezone``), used only for dates that carry an offset.
    """
    t = field.type
    if t in LIST_TYPES:
        out, kinds = to_list(field, value)
        return out, (", ".join(kinds) or None)
    if value is None or value is MISSING:
        return None, None
    if t == "int":
        return to_int(field, value)
    if t == "float":
        return to_float(field, value)
    if t == "str":
        return to_str(field, value)
    if t == "datetime":
        return to_datetime(field, value, zone)
    if t == "bool":
        if isinstance(value, bool):
            return value, None
        if value in (0, 1) and not isinstance(value, float):
            return bool(value), "int->bool"
        raise _refuse(field, value)
    raise ValueError(f"unknown contract type {t!r} of field {field.name}")  # pragma: no cover


@dataclass(frozen=True)
class Verdict:
    """What the loader does with one observed difference: ``coerced``, ``quarantined`` or ``fatal``."""

    outcome: str
    detail: str


def verdict(field: Field, value: Any, zone: str = "Asia/Almaty") -> Verdict | None:
    """The loader's verdict on ``value`` for ``field`` (None when it fits as it is)."""
    try:
        _, kind = coerce(field, value, zone)
    except Lossy as exc:
        return Verdict("quarantined", exc.reason)
    return Verdict("coerced", kind) if kind else None


def summary_lines(counts: Iterable[tuple[str, str, str, int]]) -> list[str]:
    """One console line per kind of coercion: values, fields, and the fields themselves (up to 4).

    ``counts`` holds ``(table, field, kind, n)``. Per field and kind the figures stay in the run's
    metadata and the manifest; the console gets one line per kind, not one per field.
    """
    by_kind: dict[str, dict[str, int]] = {}
    for table, name, kind, n in counts:
        fields = by_kind.setdefault(kind, {})
        fields[f"{table}.{name}"] = fields.get(f"{table}.{name}", 0) + n
    lines = []
    for kind, fields in sorted(by_kind.items(), key=lambda kv: (-sum(kv[1].values()), kv[0])):
        shown = ", ".join(sorted(fields)[:4]) + (", ..." if len(fields) > 4 else "")
        lines.append(f"coerced ({kind}): {sum(fields.values()):,} values in {len(fields)} fields: {shown}")
    return lines
