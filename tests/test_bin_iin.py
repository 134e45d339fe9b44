"""The BIN/IIN check digit rule, written once (``pipelines/bin_iin.py``), and its SQL forms.

The Python rule is checked against numbers worked out by hand; the DuckDB expression used by the
Great Expectations suites and the dbt macro ``biin_is_valid`` (rendered from
``dbt_project/macros/goszakup.sql`` with Jinja, as dbt renders it) must give the same verdict as
the Python rule on the same cases.
"""

from __future__ import annotations

import random
from pathlib import Path

import duckdb
import jinja2
import pytest

from pipelines.bin_iin import check_digit, complete, is_valid, sql_is_valid
from sandbox.world import kz_check_digit, valid_biin

MACROS = Path(__file__).resolve().parent.parent / "dbt_project" / "macros" / "goszakup.sql"


def _cases() -> list[str | None]:
    rng = random.Random(7)
    values: list[str | None] = ["".join(rng.choice("0123456789") for _ in range(12)) for _ in range(3000)]
    values += [v for v in (complete(f"{n * 7919 % 10**11:011d}") for n in range(300)) if v is not None]
    values += ["980107400000", "980107400001", "1234", "12345678901", "abcdefghijkl", "12345678901a", None]
    return values


def _sql_verdicts(expression: str, values: list[str | None]) -> dict[str, bool | None]:
    con = duckdb.connect()
    con.execute("CREATE TABLE t (v VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?)", [[v] for v in values])
    return dict(con.execute(f"SELECT v, {expression} FROM t WHERE v IS NOT NULL").fetchall())


def test_check_digit_by_hand() -> None:
    # 9*1 + 8*2 + 0*3 + 1*4 + 0*5 + 7*6 + 4*7 + 0*8 + 0*9 + 0*10 + 0*11 = 99; 99 mod 11 = 0
    assert check_digit("98010740000") == 0
    assert is_valid("980107400000")
    assert not is_valid("980107400001")
    # 0*1 + ... + 1*11 = 11; 11 mod 11 = 0
    assert complete("00000000001") == "000000000010"
    assert not is_valid("12345678901")  # 11 digits
    assert not is_valid("12345678901a")
    assert not is_valid(None)


def test_second_weights_used_when_first_sum_is_ten() -> None:
    # 00000000010: first weights give 1*10 = 10 -> second weights: 1*1 = 1, so the digit is 1
    assert check_digit("00000000010") == 1
    # 00000000020: first 2*10 = 20 = 9 mod 11, no second round
    assert check_digit("00000000020") == 9
    # 00000000005: first 5*11 = 55 = 0 mod 11
    assert check_digit("00000000005") == 0
    # a number whose both weighted sums are 10 has no valid check digit
    none = next(f"{n:011d}" for n in range(10**6) if check_digit(f"{n:011d}") is None)
    digits = [int(c) for c in none]
    assert sum(w * d for w, d in zip(range(1, 12), digits, strict=True)) % 11 == 10
    assert sum(w * d for w, d in zip((3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2), digits, strict=True)) % 11 == 10


def test_gx_sql_and_dbt_macro_agree_with_the_python_rule() -> None:
    values = _cases()
    expected = {v: is_valid(v) for v in values if v is not None}
    assert 0 < sum(expected.values()) < len(expected)  # both outcomes occur
    macro = jinja2.Environment().from_string(MACROS.read_text(encoding="utf-8")).module.biin_is_valid
    for name, expression in (("GX suites", sql_is_valid("v")), ("dbt macro", str(macro("v")))):
        got = _sql_verdicts(expression, values)
        wrong = {v: g for v, g in got.items() if g != expected[v]}
        assert not wrong, (
            f"{name} disagrees with pipelines.bin_iin on {len(wrong)} values, e.g. {list(wrong)[:3]}"
        )
    assert _sql_verdicts(str(macro("v")), [None, "980107400000"]) == {"980107400000": True}


def test_sandbox_uses_the_same_rule() -> None:
    assert kz_check_digit is check_digit and valid_biin is is_valid


@pytest.mark.parametrize("bad", ["", "1234567890", "1234567890123", "12345678901x"])
def test_check_digit_refuses_anything_but_eleven_digits(bad: str) -> None:
    with pytest.raises(ValueError):
        check_digit(bad)
