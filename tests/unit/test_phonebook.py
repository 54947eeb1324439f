"""The bridge's contact list is read for LID numbers only where it says them plainly: whatever
else an answer holds is left out, and no number is ever made up from an id."""

from __future__ import annotations

from typing import Any

import pytest

from crm_appservice.live import phonebook
from crm_appservice.live.phonebook import numbers

GOOD = {"id": "lid-123456789012345", "name": "Mia (WA)", "identifiers": ["tel:+351912345678"]}


def test_a_lid_contact_with_its_number_is_learnt() -> None:
    assert numbers({"contacts": [GOOD]}) == [
        {"platform": "whatsapp", "remote_id": "lid-123456789012345", "phone": "+351912345678",
         "source": "contacts"}
    ]  # fmt: skip
    # A user search answers under `results`; a list under the other key is not taken for it.
    assert [n["source"] for n in numbers({"results": [GOOD]}, "results")] == ["search"]
    assert numbers({"contacts": [GOOD]}, "results") == []


@pytest.mark.parametrize(
    "answer",
    [
        None, [], "contacts", {"contacts": None}, {"contacts": {"id": "lid-1"}},
        {"contacts": [None, 1, "lid-1", []]},
        {"contacts": [{**GOOD, "id": "351912345678"}]},  # a phone-keyed id: its digits say it
        {"contacts": [{**GOOD, "id": "lid-12ab"}]},
        {"contacts": [{**GOOD, "id": "lid-" + "1" * 40}]},
        {"contacts": [{**GOOD, "id": 123}]},
        {"contacts": [{**GOOD, "identifiers": "tel:+351912345678"}]},
        {"contacts": [{**GOOD, "identifiers": [None, 5, {"tel": "+351912345678"}]}]},
        {"contacts": [{**GOOD, "identifiers": ["tel:351912345678"]}]},  # no +
        {"contacts": [{**GOOD, "identifiers": ["tel:+0351912345678"]}]},
        {"contacts": [{**GOOD, "identifiers": ["tel:+35191234567890123"]}]},  # too long
        {"contacts": [{**GOOD, "identifiers": ["tel:+351 912 345 678"]}]},
        {"contacts": [{**GOOD, "identifiers": ["tel:+351912345678\n"]}]},
        {"contacts": [{**GOOD, "identifiers": ["mailto:mia@example.com"]}]},
        {"contacts": [{key: value for key, value in GOOD.items() if key != "identifiers"}]},
    ],
)  # fmt: skip
def test_anything_else_is_left_out(answer: Any) -> None:
    assert numbers(answer) == []


def test_the_first_well_formed_number_counts_and_a_huge_list_is_cut(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    two = {**GOOD, "identifiers": ["tel:+1", "tel:+351912345678", "tel:+351900000000"]}
    assert [n["phone"] for n in numbers({"contacts": [two]})] == ["+351912345678"]
    monkeypatch.setattr(phonebook, "MAX_CONTACTS", 3)
    many = [{**GOOD, "id": f"lid-{100000000000 + i}"} for i in range(10)]
    assert len(numbers({"contacts": many})) == 3
