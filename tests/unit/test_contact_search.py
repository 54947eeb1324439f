"""What a search of the Contacts page reads as (part of) a phone number."""

from __future__ import annotations

import pytest

from crm_appservice.store.contact_list import phone_digits


@pytest.mark.parametrize(
    ("typed", "digits"),
    [
        ("+49 151 1234", "491511234"),
        ("0151-12345", "15112345"),  # the trunk zero: no stored number has it
        ("0049 (151) 23", "4915123"),  # an international prefix written out
        ("(030) 555", "30555"),
        ("15.12", "1512"),
        ("12", None),  # too short to tell a number from a part of everything
        ("00", None),
        ("anna 151", None),  # words and digits: a name search
        ("+", None),
        ("٣٣٣٣", None),  # other scripts' digits are not what numbers are stored with
    ],
)
def test_phone_digits(typed: str, digits: str | None) -> None:
    assert phone_digits(typed) == digits
