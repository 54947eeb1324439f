"""The transaction parser alone: which record each event of the bridge makes, and which events
it flags, without a database. (What the records then change is tests/test_mapping.py's.)"""

from __future__ import annotations

from typing import Any

from crm_appservice.ingest.events import parse_transaction
from crm_appservice.ingest.namespaces import Namespaces

from .. import factories as f

ROOM = "!room:crm.localhost"
PHONE = "4915111111111"
NS = Namespaces(f.DOMAIN, f.BOT, "crm_", ("whatsapp_.*",), ("whatsappbot",), (), (" (WA)",))


def parse(*events: dict[str, Any], edus: list[Any] | None = None) -> Any:
    return parse_transaction(list(events), edus or [], NS)


def test_a_portal_is_its_bridge_state_its_ghost_and_the_invite() -> None:
    batch = parse(*f.portal(ROOM, PHONE, name="Alice"))
    portal = batch.portals[ROOM]
    assert portal["kind"] == "dm" and portal["bridge_bot"] == f.BRIDGE_BOT
    assert portal["customer_remote_id"] == PHONE and portal["receiver"] == f.OWNER_PHONE
    assert portal["channel_name"] == "Alice"
    contact = batch.contacts[f.ghost(PHONE)]
    assert contact["remote_id"] == PHONE and contact["display_name"] == "Alice"
    assert batch.invites[ROOM] == {"room_id": ROOM, "inviter": f.BRIDGE_BOT, "accept": True}
    assert [r["error"] for r in batch.raw] == [None, None, None]


def test_bridge_state_from_anyone_but_a_bridge_bot_is_flagged() -> None:
    state = f.bridge_state(ROOM, f"{PHONE}@s.whatsapp.net")
    state["sender"] = f.ghost(PHONE)
    batch = parse(state)
    assert not batch.portals
    assert batch.raw[0]["error"] == "bridge state that is not a state event of a bridge bot"


def test_a_message_and_its_relations_each_make_their_record() -> None:
    message = f.text(ROOM, f.ghost(PHONE), "Is the sofa still available?")
    target = message["event_id"]
    edit = f.event(ROOM, "m.room.message", f.ghost(PHONE), {
        "msgtype": "m.text", "body": "* Is it?",
        "m.new_content": {"msgtype": "m.text", "body": "Is it?"},
        "m.relates_to": {"rel_type": "m.replace", "event_id": target},
    })  # fmt: skip
    reaction = f.event(ROOM, "m.reaction", f.ghost(PHONE), {
        "m.relates_to": {"rel_type": "m.annotation", "event_id": target, "key": "👍"},
    })  # fmt: skip
    redaction = f.event(ROOM, "m.room.redaction", f.ghost(PHONE), {}, redacts=target)
    batch = parse(message, edit, reaction, redaction)
    assert [m["body"] for m in batch.messages] == ["Is the sofa still available?"]
    assert batch.contacts[f.ghost(PHONE)]["from_message"] is True
    assert [(e["target"], e["body"]) for e in batch.edits] == [(target, "Is it?")]
    assert [(r["target"], r["key"]) for r in batch.reactions] == [(target, "👍")]
    assert [r["redacts"] for r in batch.redactions] == [target]


def test_the_bridges_word_on_a_message_is_a_status_and_its_receipts() -> None:
    sent = "$sent:crm.localhost"
    status = f.event(ROOM, "com.beeper.message_send_status", f.BRIDGE_BOT, {
        "m.relates_to": {"rel_type": "m.reference", "event_id": sent},
        "status": "SUCCESS", "delivered_to_users": [f.ghost(PHONE)],
    })  # fmt: skip
    notice = f.event(ROOM, "m.room.message", f.BRIDGE_BOT, {
        "msgtype": "m.notice", "body": "\u26a0\ufe0f Your message was not bridged: timeout",
        "m.relates_to": {"m.in_reply_to": {"event_id": sent}},
    })  # fmt: skip
    batch = parse(status, notice, edus=[f.receipt(ROOM, sent, f.ghost(PHONE))])
    assert [s["signal"] for s in batch.statuses] == ["delivered", "bridge_failed"]
    assert not batch.messages, "the bridge's error notice is no message"
    assert [(r["event_id"], r["user_id"]) for r in batch.receipts] == [(sent, f.ghost(PHONE))]


def test_a_status_from_anyone_else_counts_for_nothing() -> None:
    status = f.event(ROOM, "com.beeper.message_send_status", f.ghost(PHONE), {
        "m.relates_to": {"event_id": "$x"}, "status": "SUCCESS",
    })  # fmt: skip
    stranger = "@mallory:crm.localhost"
    batch = parse(status, edus=[f.receipt(ROOM, "$x", stranger)])
    assert not batch.statuses and not batch.receipts
    assert batch.raw[0]["error"] == "send status not sent by a bridge bot"


def test_a_strangers_message_is_flagged_but_their_invite_is_read() -> None:
    stranger = "@mallory:crm.localhost"
    invite = f.event(ROOM, "m.room.member", stranger, {"membership": "invite"}, state_key=f.BOT)
    batch = parse(f.text(ROOM, stranger, "I am the bridge"), invite)
    assert not batch.messages
    assert "who is not the bridge" in (batch.raw[0]["error"] or "")
    assert batch.invites[ROOM]["accept"] is False


def test_every_malformed_event_is_kept_raw_and_flagged_on_its_own() -> None:
    good = f.text(ROOM, f.ghost(PHONE), "fine")
    no_ts = f.text(ROOM, f.ghost(PHONE), "when?")
    del no_ts["origin_server_ts"]
    batch = parse(good, "not an object", no_ts, {"event_id": "nope"})  # type: ignore[arg-type]
    errors = [r["error"] for r in batch.raw]
    assert errors == [
        None,
        "not an object",
        "origin_server_ts is missing or invalid",
        "event_id is missing or invalid",
    ]
    assert [m["body"] for m in batch.messages] == ["fine"]
