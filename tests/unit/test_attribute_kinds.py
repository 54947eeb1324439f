"""How an attribute's value is read as its kind has it, from JSON and from what people write."""

from __future__ import annotations

from typing import Any

import pytest

from crm_appservice.attribute_kinds import (
    BadValue,
    Definition,
    from_json,
    from_text,
    key_for,
    written,
)

NUMBER = Definition("budget", "Budget", "number")
DATE = Definition("since", "Since", "date")
YES_NO = Definition("vip", "VIP", "boolean")
TIER = Definition("tier", "Tier", "choice", ("Gold", "Silver"))


@pytest.mark.parametrize(
    ("label", "key"),
    [("Budget (EUR)", "budget_eur"), ("Größe", "grosse"), ("2nd phone", "a_2nd_phone"),
     ("——", "attribute"), ("Бюджет", "attribute"), ("x" * 60, "x" * 40)],
)  # fmt: skip
def test_a_key_from_a_label(label: str, key: str) -> None:
    assert key_for(label) == key


@pytest.mark.parametrize(
    ("written", "value"),
    [("1500", 1500), ("1 500,50", 1500.5), ("1.234.567,8", 1234567.8), ("1,234,567.8", 1234567.8),
     ("12,5", 12.5), ("0.125", 0.125), ("-3", -3), ("1'000", 1000), ("12345,678", 12345.678),
     ("1 234 567", 1234567), ("1,234.5678", 1234.5678), ("1.2340", 1.234),
     ("1.5E+11", 150000000000)],
)  # fmt: skip
def test_numbers_as_people_write_them(written: str, value: Any) -> None:
    assert from_text(NUMBER, written) == value


@pytest.mark.parametrize(
    "written",
    ["1.200", "1,200", "lots", "1e400", "NaN", "Infinity", "", "1E+1000000", "-1e999999999",
     # dots and commas that are no grouping: a date in a number column, groups not of three
     "10.05.2026", "1,5,0", "1.2.3", "1.23.456", "12,34,567.8", "1.234.56", "1 23"],
)  # fmt: skip
def test_numbers_that_are_none_or_could_be_two(written: str) -> None:
    with pytest.raises(BadValue):
        from_text(NUMBER, written)


def test_dates_yes_no_and_choices() -> None:
    assert from_text(DATE, "31.12.2026") == from_text(DATE, "31/12/2026") == "2026-12-31"
    assert from_text(DATE, "2026-01-05") == "2026-01-05"
    for bad in ("31.02.2026", "2026-1-5", "20260105", "2026-W01-1", "tomorrow"):
        with pytest.raises(BadValue):
            from_text(DATE, bad)
    assert [from_text(YES_NO, w) for w in ("Yes", "ja", "1", "no", "FALSE")] == [
        True, True, True, False, False]  # fmt: skip
    assert from_text(TIER, " silver ") == "Silver"
    assert from_json(TIER, "GOLD") == "Gold"
    assert from_json(NUMBER, "1") == 1 and from_json(DATE, "05.01.2026") == "2026-01-05"
    for d, value in [(NUMBER, True), (NUMBER, [1]), (YES_NO, 1), (DATE, 20260101), (TIER, "x")]:
        with pytest.raises(BadValue):
            from_json(d, value)


def test_a_number_too_large_to_hold_is_refused_wherever_it_comes_from() -> None:
    for value in (1e300, 10**40):
        with pytest.raises(BadValue):
            from_json(NUMBER, value)


@pytest.mark.parametrize("value", [1.234, 12.345, -999.001, 1234, 0.5, 1234567.891])
def test_a_number_as_written_is_read_back_as_itself(value: float) -> None:
    """What the export writes the import reads as the same number (1.234 is not 1234)."""
    assert from_text(NUMBER, written(NUMBER, value)) == value
