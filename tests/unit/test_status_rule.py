"""The one status rule of outgoing messages, as a table written out by hand: every signal from
every status. tests/test_delivery.py checks its SQL and every path of the product against the
same table."""

from __future__ import annotations

import pytest

from crm_appservice import delivery

# The rule, written out: rows are the status before, columns the signal.
SIGNALS = ("accepted", "bridged", "delivered", "read", "bridge_failed", "gave_up", "retry")
EXPECTED = {
    status: tuple(row.split())
    for status, row in {
        "pending": "  sent      sent      delivered read   failed    failed    pending",
        "sent": "     sent      sent      delivered read   failed    sent      sent",
        "delivered": "delivered delivered delivered read   delivered delivered delivered",
        "read": "     read      read      read      read   read      read      read",
        "failed": "   sent      failed    failed    failed failed    failed    pending",
    }.items()
}
CASES = [
    (status, signal, EXPECTED[status][i])
    for status in delivery.STATES
    for i, signal in enumerate(SIGNALS)
]


def test_the_table_covers_every_state_and_signal() -> None:
    assert set(EXPECTED) == set(delivery.STATES)
    assert set(SIGNALS) == set(delivery.SIGNALS)


@pytest.mark.parametrize(("status", "signal", "expected"), CASES)
def test_every_signal_from_every_status(status: str, signal: str, expected: str) -> None:
    assert delivery.after(status, signal) == expected
