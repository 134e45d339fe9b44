"""The check digit of Kazakhstan's 12-digit business and individual identification numbers.

A BIN (legal entities) and an IIN (natural persons) share one algorithm: weight the first 11
digits by 1..11 and take the sum mod 11; if that is 10, weight them by 3..11, 1, 2 instead; if it
is 10 again the number cannot be valid, otherwise the result must equal the 12th digit.

The rule is written once, here. Great Expectations has no expectation for it, so the suites
compute a boolean column in DuckDB (:func:`sql_is_valid`, fast on millions of rows) and expect it
to be true; the sandbox builds its numbers with :func:`check_digit`; the dbt macro
``biin_is_valid`` (``dbt_project/macros/goszakup.sql``) is tested against :func:`is_valid` on the
same cases (``tests/test_bin_iin.py``). The Python version is the reference.
"""

from __future__ import annotations

import re

FIRST_WEIGHTS: tuple[int, ...] = tuple(range(1, 12))
SECOND_WEIGHTS: tuple[int, ...] = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)
_TWELVE_DIGITS = re.compile(r"[0-9]{12}")


def check_digit(first11: str) -> int | None:
    """The 12th digit for these first 11 digits, or None when no check digit exists."""
    if len(first11) != 11 or not first11.isascii() or not first11.isdigit():
        raise ValueError(f"expected 11 digits, got {first11!r}")
    digits = [int(c) for c in first11]
    for weights in (FIRST_WEIGHTS, SECOND_WEIGHTS):
        rest = sum(w * d for w, d in zip(weights, digits, strict=True)) % 11
        if rest != 10:
            return rest
    return None


def is_valid(value: object) -> bool:
    """True when ``value`` is a 12-digit string whose last digit is the right check digit."""
    if not isinstance(value, str) or not _TWELVE_DIGITS.fullmatch(value):
        return False
    return check_digit(value[:11]) == int(value[11])


def complete(first11: str) -> str | None:
    """``first11`` plus its check digit, or None when those 11 digits have no valid completion."""
    digit = check_digit(first11)
    return None if digit is None else f"{first11}{digit}"


def sql_is_valid(column_sql: str) -> str:
    """A DuckDB boolean expression: NULL for NULL input, else whether the value is a valid BIN/IIN.

    ``column_sql`` is an SQL expression (a quoted column name). It is cast to VARCHAR, so a
    column that turned numeric (leading zeros lost) fails instead of raising.
    """
    v = f"CAST({column_sql} AS VARCHAR)"

    def digit(i: int) -> str:  # 1-based
        return f"CAST(substr({v}, {i}, 1) AS INTEGER)"

    def weighted(weights: tuple[int, ...]) -> str:
        return "((" + " + ".join(f"{w} * {digit(i)}" for i, w in enumerate(weights, 1)) + ") % 11)"

    first, second, last = weighted(FIRST_WEIGHTS), weighted(SECOND_WEIGHTS), digit(12)
    return (
        f"(CASE WHEN {column_sql} IS NULL THEN NULL "
        f"WHEN NOT regexp_full_match({v}, '[0-9]{{12}}') THEN false "
        f"WHEN {first} <> 10 THEN {first} = {last} "
        f"ELSE {second} <> 10 AND {second} = {last} END)"
    )


__all__ = ["check_digit", "complete", "is_valid", "sql_is_valid"]
