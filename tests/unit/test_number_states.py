"""The bridge's whoami, read for the WhatsApp page: each login's state in the page's words, and
nothing taken from it that is not what the bridge writes."""

from __future__ import annotations

from typing import Any

import pytest

from crm_appservice.api.whatsapp import numbers_of


def _login(login_id: Any = "15550000001", **state: Any) -> dict[str, Any]:
    return {"id": login_id, "state": state, "profile": {"phone": "+15550000001"}}


@pytest.mark.parametrize(
    ("state", "shown"),
    [
        ({"state_event": "CONNECTED"}, "connected"),
        ({"state_event": "BACKFILLING"}, "connected"),
        ({"state_event": "CONNECTING"}, "connecting"),
        ({"state_event": "TRANSIENT_DISCONNECT", "error": "wa-keepalive-timeout"}, "connecting"),
        ({"state_event": "TRANSIENT_DISCONNECT", "error": "wa-phone-offline"}, "phone_offline"),
        ({"state_event": "BAD_CREDENTIALS", "error": "wa-logged-out"}, "logged_out"),
        ({"state_event": "LOGGED_OUT"}, "logged_out"),
        ({"state_event": "UNKNOWN_ERROR", "error": "wa-stream-error"}, "error"),
        ({"state_event": ["CONNECTED"]}, "error"),
        ({}, "error"),
    ],
)
def test_each_state_in_the_pages_words(state: dict[str, Any], shown: str) -> None:
    [number] = numbers_of({"logins": [_login(**state)]})
    assert (number.login_id, number.state, number.name) == ("15550000001", shown, None)


def test_what_is_malformed_is_left_out() -> None:
    whoami = {"logins": [
        None, "15550000001", {"state": {}}, _login(12345678), _login("1555&user_id=@x:y"),
        _login("15550000002", state_event="CONNECTED") | {"state": "CONNECTED"},
        _login("15550000003") | {"profile": {"phone": "15550000003 or anything"}},
    ]}  # fmt: skip
    assert [(n.login_id, n.state, n.phone) for n in numbers_of(whoami)] == [
        ("15550000002", "error", "+15550000001"),
        ("15550000003", "error", None),
    ]
    for answer in (None, [], {"logins": None}, {"logins": {"id": "15550000001"}}):
        assert numbers_of(answer) == []
