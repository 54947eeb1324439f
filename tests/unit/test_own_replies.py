"""Who may edit or delete a message: the server's rule on the table of cases the web's copy
(web/src/permissions.ts) is tested against too."""

from __future__ import annotations

from typing import Any

import pytest

from crm_appservice.api import own_replies

from ..cases import shared

CASES = shared("change-rule-cases")["cases"]


def _row(message: dict[str, Any]) -> dict[str, Any]:
    return {**message, "deleted_at": "2026-01-01T00:00:00Z" if message["deleted"] else None}


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_the_rule_follows_the_shared_cases(case: dict[str, Any]) -> None:
    row = _row(case["message"])
    assert own_replies.may_edit(row, 1, case["viewer_role"]) is case["edit"]
    assert own_replies.may_delete(row, 1, case["viewer_role"]) is case["delete"]


def test_each_refusal_says_why() -> None:
    theirs = _row({**CASES[0]["message"], "sender_manager_id": 2})
    refused = own_replies.refusal(theirs, 1, "manager", "edited")
    assert refused is not None and refused.status == 403
    assert "Only your own replies can be edited" in str(refused.message)
    mail = _row({**CASES[0]["message"], "channel": "email"})
    refused = own_replies.refusal(mail, 1, "admin", "deleted")
    assert refused is not None and refused.status == 409
