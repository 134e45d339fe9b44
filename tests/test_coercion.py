"""Lossless coercion at the contract: every expected value below is written by hand.

What converts without loss is converted and named by its kind; what would lose something raises
``Lossy`` with a reason (and the record goes to quarantine). ``explode_page`` is checked too: a lot
in the shapes public clients of the API show lands as a row, counted per table, field and kind.
"""

from __future__ import annotations

import pytest

from pipelines.goszakup_api import LOTS, Field
from pipelines.sources.coercion import MISSING, Lossy, coerce, verdict
from pipelines.sources.records import PageTally, explode_page

INT = Field("ref_buy_status_id", "int")
FLOAT = Field("total_sum", "float")
STR = Field("number_anno", "str")
BIN = Field("customer_bin", "str", digits=12)
DATE = Field("last_update_date", "datetime")
STRS = Field("enstru_list", "str[]")
KATOS = Field("pln_point_kato_list", "str[]", digits=9)
INTS = Field("point_list", "int[]")


@pytest.mark.parametrize(
    ("field", "value", "expected", "kind"),
    [
        (INT, 230, 230, None),
        (INT, "230", 230, "str->int"),
        (INT, "0", 0, "str->int"),
        (INT, "-7", -7, "str->int"),
        (INT, True, 1, "bool->int"),
        (INT, False, 0, "bool->int"),
        (INT, 7.0, 7, "float->int"),
        (FLOAT, 10000, 10000, None),
        (FLOAT, "10000.50", 10000.5, "str->float"),
        (FLOAT, "1e3", 1000.0, "str->float"),
        (STR, "415500-1", "415500-1", None),
        (STR, 415500, "415500", "int->str"),
        (BIN, 60240767647, "060240767647", "int->str zero-padded"),
        (BIN, 140240355843, "140240355843", "int->str"),
        (BIN, "060240767647", "060240767647", None),
        (STRS, [412010], ["412010"], "items int->str"),
        (STRS, 412010, ["412010"], "scalar->list, items int->str"),
        (STRS, "201413.000.000002", ["201413.000.000002"], "scalar->list"),
        (STRS, "a, b", ["a", "b"], "comma string->list"),
        (STRS, None, [], "null->[]"),
        (STRS, MISSING, [], "missing->[]"),
        (STRS, [], [], None),
        (
            KATOS,
            [551710000, 11710000],
            ["551710000", "011710000"],
            "items int->str, items int->str zero-padded",
        ),
        (INTS, ["40000001"], [40000001], "items str->int"),
        (INTS, 40000001, [40000001], "scalar->list"),
        (INT, None, None, None),
        (DATE, "2018-01-08 05:01:18", "2018-01-08 05:01:18", None),
        (DATE, "2018-01-08", "2018-01-08", None),
        (DATE, "2018-01-08T05:01:18", "2018-01-08 05:01:18", "datetime T"),
        (DATE, "2018-01-08 05:01:18.000", "2018-01-08 05:01:18", "datetime zero fraction"),
        (DATE, "2018-01-08 05:01:18.250", "2018-01-08 05:01:18.250", None),
        (DATE, "2018-01-08T05:01", "2018-01-08 05:01:00", "datetime T, datetime no seconds"),
        # UTC+6 before 2024-03-01: 23:01:18Z the day before is 05:01:18 local
        (DATE, "2018-01-07T23:01:18Z", "2018-01-08 05:01:18", "datetime T, datetime offset Z"),
        (DATE, "2018-01-08T05:01:18+06:00", "2018-01-08 05:01:18", "datetime T, datetime offset +0600"),
        (DATE, "2018-01-08T04:01:18+05:00", "2018-01-08 05:01:18", "datetime T, datetime offset +0500"),
        (
            DATE,
            "2018-01-08T05:01:18.000+0600",
            "2018-01-08 05:01:18",
            "datetime T, datetime zero fraction, datetime offset +0600",
        ),
        # UTC+5 from 2024-03-01: 10:00Z is 15:00 local
        (DATE, "2024-06-01T10:00:00Z", "2024-06-01 15:00:00", "datetime T, datetime offset Z"),
        # 2024-02-29 23:30 local happened twice (UTC+6 until 18:00Z, then UTC+5): kept, named apart
        (
            DATE,
            "2024-02-29T17:30:00Z",
            "2024-02-29 23:30:00",
            "datetime T, datetime offset Z in the repeated hour",
        ),
        (
            DATE,
            "2024-02-29T23:30:00+05:00",
            "2024-02-29 23:30:00",
            "datetime T, datetime offset +0500 in the repeated hour",
        ),
        (
            DATE,
            "2024-02-29T17:59:59Z",
            "2024-02-29 23:59:59",
            "datetime T, datetime offset Z in the repeated hour",
        ),
        (DATE, "2024-02-29T19:00:00Z", "2024-03-01 00:00:00", "datetime T, datetime offset Z"),
        # 1515367278000 ms = 2018-01-07T23:21:18Z = 2018-01-08 05:21:18 at UTC+6
        (DATE, 1515367278000, "2018-01-08 05:21:18", "datetime epoch-ms"),
    ],
)
def test_lossless_values_are_converted_and_named(field: Field, value, expected, kind) -> None:
    assert coerce(field, value) == (expected, kind)


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        (INT, "007", "zero-padded"),
        (INT, 3.5, "fraction"),
        (INT, "12 345", "not an integer"),
        (INT, [1], "expected int, got list"),
        (FLOAT, "12,5 млн", "not a number"),
        (FLOAT, True, "flag"),
        (STR, True, "expected str, got bool"),
        (STR, {"ru": "x"}, "expected str, got dict"),
        (INTS, ["0400"], "zero-padded"),
        (INTS, [1.5], "fraction"),
        (STRS, [True], "got bool"),
        (DATE, "08.01.2018", "not a date"),
        (DATE, 20180108, "epoch milliseconds"),
        (DATE, "2018-01-08T05:01:18.1234567", "finer than microseconds"),
    ],
)
def test_lossy_values_are_refused_with_a_reason(field: Field, value, words: str) -> None:
    with pytest.raises(Lossy) as info:
        coerce(field, value)
    assert words in info.value.reason
    assert info.value.reason.startswith(f"expected {field.type}")
    assert verdict(field, value).outcome == "quarantined"


def test_verdicts() -> None:
    assert verdict(INT, 1) is None
    assert verdict(INT, "1").outcome == "coerced"
    assert verdict(INT, "1").detail == "str->int"


def test_a_lot_in_the_real_apis_shapes_lands_and_is_counted() -> None:
    """The lot the issue saw quarantined: enstruList as ints, isDeleted as a JSON boolean."""
    record = {
        "id": "9001",
        "lotNumber": 17,
        "lastUpdateDate": "2023-11-01T15:59:04.000+06:00",
        "count": "2.5",
        "amount": 10000,
        "customerBin": 60240767647,
        "trdBuyId": 5000,
        "pointList": None,
        "enstruList": [412010],
        "plnPointKatoList": 551710000,
        "isDeleted": False,
        "singlOrgSign": True,
    }
    tally = PageTally()
    batches = list(explode_page(LOTS, [record], camel_case=True, tally=tally))
    rows = {b.meta.table_name: b.data for b in batches}
    assert list(rows) == ["lots"]
    (row,) = rows["lots"]
    assert row["id"] == 9001
    assert row["lot_number"] == "17"
    assert row["last_update_date"] == "2023-11-01 15:59:04"
    assert row["count"] == 2.5
    assert row["customer_bin"] == "060240767647"
    assert row["point_list"] == []
    assert row["enstru_list"] == ["412010"]
    assert row["pln_point_kato_list"] == ["551710000"]
    assert row["is_deleted"] == 0 and row["singl_org_sign"] == 1
    assert dict(tally.coerced) == {
        ("lots", "id", "str->int"): 1,
        ("lots", "lot_number", "int->str"): 1,
        ("lots", "last_update_date", "datetime T, datetime zero fraction, datetime offset +0600"): 1,
        ("lots", "count", "str->float"): 1,
        ("lots", "customer_bin", "int->str zero-padded"): 1,
        ("lots", "point_list", "null->[]"): 1,
        ("lots", "enstru_list", "items int->str"): 1,
        ("lots", "pln_point_kato_list", "scalar->list, items int->str"): 1,
        ("lots", "is_deleted", "bool->int"): 1,
        ("lots", "singl_org_sign", "bool->int"): 1,
    }
    assert not tally.refused


def test_a_lossy_lot_is_quarantined_with_field_reason_and_id() -> None:
    good = {"id": 1, "lotNumber": "1", "enstruList": ["a"], "pointList": [], "plnPointKatoList": []}
    bad = {**good, "id": 2, "refLotStatusId": "0230"}
    tally = PageTally()
    batches = list(explode_page(LOTS, [good, bad], camel_case=True, tally=tally))
    tables = {b.meta.table_name: b.data for b in batches}
    assert [r["id"] for r in tables["lots"]] == [1]
    (refused,) = tables["_quarantine"]
    assert (refused["record_id"], refused["field"]) == ("2", "ref_lot_status_id")
    assert "zero-padded" in refused["reason"]
    assert dict(tally.refused) == {("lots", "ref_lot_status_id", "expected int, got str"): 1}
    assert tally.examples[("lots", "ref_lot_status_id", "expected int, got str")] == "2"
    assert tally.refused_records == {"lots": 1}


def test_the_console_gets_one_line_per_kind() -> None:
    from pipelines.sources.coercion import summary_lines

    counts = [
        ("lots", "id", "str->int", 5),
        ("trd_buy", "id", "str->int", 3),
        ("lots", "is_deleted", "bool->int", 5),
        ("a", "f1", "int->str", 1),
        ("a", "f2", "int->str", 1),
        ("a", "f3", "int->str", 1),
        ("a", "f4", "int->str", 1),
        ("a", "f5", "int->str", 1),
    ]
    assert summary_lines(counts) == [
        "coerced (str->int): 8 values in 2 fields: lots.id, trd_buy.id",
        "coerced (bool->int): 5 values in 1 fields: lots.is_deleted",
        "coerced (int->str): 5 values in 5 fields: a.f1, a.f2, a.f3, a.f4, ...",
    ]
