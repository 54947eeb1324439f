"""Replies through the API and the outbox, without a homeserver: the API's contract, the
worker's retries and give-up, and our own events coming back. (With Synapse: test_outbox.)"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import aiohttp
import asyncpg

from crm_appservice.config import Settings
from crm_appservice.ingest.messages import CRM_MESSAGE_KEY

from . import factories as f
from .conftest import API, Homeserver, bearer

ROOM = "!shop"
PHONE = "33612345678"


async def _conversation(hs: Homeserver, db: asyncpg.Pool) -> tuple[int, dict[str, Any]]:
    question = f.text(ROOM, f.ghost(PHONE), "Is the sofa available?")
    await hs.ok([*f.portal(ROOM, PHONE, "Alice"), question])
    conversation_id = await db.fetchval("SELECT id FROM conversations WHERE room_id = $1", ROOM)
    return int(conversation_id), question


async def _send(api: API, conversation_id: int, **body: Any) -> tuple[int, Any]:
    return await api.call("POST", f"/api/v1/conversations/{conversation_id}/messages", json=body)


async def _equal(value: Any, expected: Any) -> bool:
    return bool(await value == expected)


async def _until(check: Any, timeout: float = 10.0) -> Any:
    for _ in range(int(timeout / 0.05)):
        result = await check()
        if result:
            return result
        await asyncio.sleep(0.05)
    raise AssertionError("timed out")


async def test_reply_is_stored_pending_and_once_per_client_txn_id(
    api: API, hs: Homeserver, db: asyncpg.Pool
) -> None:
    conversation_id, question = await _conversation(hs, db)
    question_id = await db.fetchval(
        "SELECT id FROM messages WHERE event_id = $1", question["event_id"]
    )
    status, first = await _send(
        api, conversation_id, client_txn_id="t-1", body="  Yes, it is.  ", reply_to=question_id
    )
    assert status == 202, first
    assert first["status"] == "pending" and first["direction"] == "out"
    assert first["body"] == "Yes, it is." and first["reply_to"] == question_id
    assert first["sender"]["type"] == "manager" and first["sender"]["name"] == "Anna"
    assert first["client_txn_id"] == "t-1" and first["channel"] == "matrix"

    again = await _send(api, conversation_id, client_txn_id="t-1", body="Yes, it is.")
    assert again[0] == 200 and again[1]["id"] == first["id"]
    # Ten browser retries at once still make one message.
    results = await asyncio.gather(
        *(_send(api, conversation_id, client_txn_id="t-2", body="x") for _ in range(10))
    )
    assert sorted(s for s, _ in results) == [200] * 9 + [202]
    assert len({m["id"] for _, m in results}) == 1
    assert await db.fetchval("SELECT count(*) FROM messages WHERE direction = 'out'") == 2
    assert await db.fetchval("SELECT count(*) FROM outbox") == 2

    listed = (await api.get("/api/v1/conversations"))["items"][0]
    # The team had the last word: the list says so ("You: x").
    assert listed["last_message"]["direction"] == "out"
    assert listed["last_message"]["text"] == "x"
    conversation = await api.get(f"/api/v1/conversations/{conversation_id}")
    assert conversation["conversation"]["unread_count"] == 0  # replying reads the thread
    assert conversation["conversation"]["last_message"]["text"] == "x"


async def test_bad_replies_get_clear_errors_and_store_nothing(
    api: API, hs: Homeserver, db: asyncpg.Pool
) -> None:
    conversation_id, _ = await _conversation(hs, db)
    hs2 = [*f.portal("!other", "4915112345678", "Bob")]
    other_message = f.text("!other", f.ghost("4915112345678"), "Hallo")
    await hs.ok([*hs2, other_message])
    other_id = await db.fetchval(
        "SELECT id FROM messages WHERE event_id = $1", other_message["event_id"]
    )
    cases = [
        ({"client_txn_id": "a", "body": "   "}, 422, "body"),
        ({"client_txn_id": "a"}, 422, "body"),
        ({"body": "hi"}, 422, "client_txn_id"),
        ({"client_txn_id": "has space", "body": "hi"}, 422, "client_txn_id"),
        ({"client_txn_id": "a", "body": "hi", "extra": 1}, 422, "extra"),
        ({"client_txn_id": "a", "body": "hi", "reply_to": other_id}, 422, "reply_to"),
        ({"client_txn_id": "a", "body": "x" * 70_000}, 422, "body"),
    ]
    for body, expected, field in cases:
        status, answer = await _send(api, conversation_id, **body)
        assert status == expected, (body, answer)
        assert answer["error"]["field"] == field, (body, answer)
    status, answer = await _send(api, 999_999, client_txn_id="a", body="hi")
    assert status == 404 and answer["error"]["code"] == "not_found"
    assert await db.fetchval("SELECT count(*) FROM messages WHERE direction = 'out'") == 0
    assert await db.fetchval("SELECT count(*) FROM outbox") == 0


async def test_unreachable_homeserver_retries_then_fails_with_reason(
    api: API, hs: Homeserver, db: asyncpg.Pool
) -> None:
    conversation_id, _ = await _conversation(hs, db)
    _, message = await _send(api, conversation_id, client_txn_id="t", body="Hello")

    async def failed() -> Any:
        return await db.fetchrow(
            "SELECT m.status, m.error, o.attempts, o.state FROM messages m"
            " JOIN outbox o ON o.message_id = m.id WHERE m.id = $1 AND m.status = 'failed'",
            message["id"],
        )

    row = await _until(failed)
    assert row["attempts"] == 3 and row["state"] == "failed"
    assert "unreachable" in row["error"] and "gave up after 3 attempts" in row["error"]
    status, retried = await api.call("POST", f"/api/v1/messages/{message['id']}/retry")
    assert status == 202 and retried["status"] == "pending" and retried["error"] is None
    row = await db.fetchrow("SELECT attempts, state FROM outbox WHERE message_id = $1",
                            message["id"])  # fmt: skip
    assert row["state"] == "pending"
    # Retrying something that is not a failed reply is refused.
    incoming = await db.fetchval("SELECT id FROM messages WHERE direction = 'in'")
    assert (await api.call("POST", f"/api/v1/messages/{incoming}/retry"))[0] == 409
    assert (await api.call("POST", "/api/v1/messages/999999/retry"))[0] == 404


async def test_our_event_coming_back_completes_the_reply(
    api: API, hs: Homeserver, db: asyncpg.Pool
) -> None:
    """The homeserver accepted a send but the CRM died before recording it: the event's copy
    in a transaction completes the message, and the worker then sends nothing more."""
    conversation_id, _ = await _conversation(hs, db)
    _, message = await _send(api, conversation_id, client_txn_id="t", body="On its way")
    echo = f.text(ROOM, f.BOT, "On its way")
    echo["content"][CRM_MESSAGE_KEY] = message["id"]
    await hs.ok([echo])
    row = await db.fetchrow("SELECT event_id, status FROM messages WHERE id = $1", message["id"])
    assert (row["event_id"], row["status"]) == (echo["event_id"], "sent")
    assert await db.fetchval("SELECT count(*) FROM messages WHERE direction = 'out'") == 1

    async def done() -> Any:
        return await db.fetchval(
            "SELECT state = 'done' FROM outbox WHERE message_id = $1", message["id"]
        )

    await _until(done)
    # The same event again (a repeated transaction with a new id) changes nothing.
    await hs.ok([echo])
    assert await db.fetchval("SELECT count(*) FROM messages WHERE direction = 'out'") == 1
    # An event of our user carrying another conversation's message id is its own message.
    forged = f.text(ROOM, f.BOT, "elsewhere")
    forged["content"][CRM_MESSAGE_KEY] = 123456
    await hs.ok([forged])
    assert await db.fetchval("SELECT count(*) FROM messages WHERE direction = 'out'") == 2


async def test_a_reply_whose_echo_comes_first_keeps_its_quote(
    api: API, hs: Homeserver, db: asyncpg.Pool
) -> None:
    """The event came back before the worker recorded the send: its quoted message used to be
    lost (the worker's record no longer applied to a message already sent)."""
    conversation_id, question = await _conversation(hs, db)
    quoted = await db.fetchval("SELECT id FROM messages WHERE event_id = $1", question["event_id"])
    _, message = await _send(api, conversation_id, client_txn_id="q", body="Yes", reply_to=quoted)
    echo = f.text(ROOM, f.BOT, "Yes")
    echo["content"][CRM_MESSAGE_KEY] = message["id"]
    echo["content"]["m.relates_to"] = {"m.in_reply_to": {"event_id": question["event_id"]}}
    await hs.ok([echo])
    row = await db.fetchrow(
        "SELECT status, reply_to_event_id FROM messages WHERE id = $1", message["id"]
    )
    assert (row["status"], row["reply_to_event_id"]) == ("sent", question["event_id"])
    answer = await api.get(f"/api/v1/conversations/{conversation_id}/messages")
    mine = next(m for m in answer["items"] if m["id"] == message["id"])
    assert mine["reply_to"] == quoted


async def test_bad_attachments_get_clear_errors_and_leave_nothing(
    api: API, hs: Homeserver, db: asyncpg.Pool, settings: Settings
) -> None:
    conversation_id, _ = await _conversation(hs, db)
    path = f"/api/v1/conversations/{conversation_id}/messages"

    def form(data: bytes | None, **fields: str) -> aiohttp.FormData:
        body = aiohttp.FormData(default_to_multipart=True)
        for key, value in {"client_txn_id": "f-1", **fields}.items():
            body.add_field(key, value)
        if data is not None:
            body.add_field("file", data, filename="../../etc/x.bin",
                           content_type="application/octet-stream")  # fmt: skip
        return body

    too_big = b"x" * (settings.media.max_upload_size + 1)
    cases = [
        (form(too_big), 413, "file"),
        (form(b""), 422, "file"),
        (form(None), 422, "file"),
        (form(b"data", colour="red"), 422, "colour"),
        (form(b"data", width="-3"), 422, "width"),
    ]
    for body, expected, field in cases:
        status, answer = await api.call("POST", path, data=body)
        assert (status, answer["error"].get("field")) == (expected, field), answer
    status, answer = await api.call("POST", path, data={"client_txn_id": "u", "body": "hi"})
    assert status == 415 and "JSON" in answer["error"]["message"]
    assert await db.fetchval("SELECT count(*) FROM messages WHERE direction = 'out'") == 0
    spool = settings.media.spool_dir
    assert not os.path.isdir(spool) or os.listdir(spool) == []

    status, message = await api.call("POST", path, data=form(b"%PDF", body="Your invoice"))
    assert status == 202, message
    assert message["kind"] == "file" and message["media"]["filename"] == "x.bin"
    assert message["body"] == "Your invoice"
    # A browser retry of the same upload: the same message, and no second file kept.
    status, again = await api.call("POST", path, data=form(b"%PDF", body="Your invoice"))
    assert status == 200 and again["id"] == message["id"]
    assert len(os.listdir(spool)) == 1


async def test_react_edit_delete_rules(
    api: API, hs: Homeserver, db: asyncpg.Pool, add_manager: Any
) -> None:
    conversation_id, question = await _conversation(hs, db)
    incoming = await db.fetchval("SELECT id FROM messages WHERE event_id = $1",
                                 question["event_id"])  # fmt: skip
    _, mine = await _send(api, conversation_id, client_txn_id="r-1", body="Hello")
    path = f"/api/v1/messages/{mine['id']}"

    assert (await api.call("PATCH", "/api/v1/messages/999999", json={"body": "x"}))[0] == 404
    status, answer = await api.call("PATCH", f"/api/v1/messages/{incoming}", json={"body": "x"})
    assert status == 403 and "replies sent from the inbox" in answer["error"]["message"]
    status, answer = await api.call("PATCH", path, json={"body": ""})
    assert status == 422 and answer["error"]["field"] == "body"
    status, answer = await api.call("POST", f"/api/v1/messages/{incoming}/reactions",
                                    json={"key": ""})  # fmt: skip
    assert status == 422 and answer["error"]["field"] == "key"

    # Another manager may not change Anna's reply; Anna (an admin) may change theirs.
    ben_id = await add_manager("ben@example.com", name="Ben")
    ben = await bearer(db, ben_id)  # wins over the client's cookie (Anna's)
    status, answer = await api.call("PATCH", path, json={"body": "Hi"}, headers=ben)
    assert status == 403 and "your own" in answer["error"]["message"]
    assert (await api.call("DELETE", path, headers=ben))[0] == 403
    _, bens = await api.call(
        "POST", f"/api/v1/conversations/{conversation_id}/messages", headers=ben,
        json={"client_txn_id": "b-1", "body": "Hi from Ben"},
    )  # fmt: skip
    status, edited = await api.call("PATCH", f"/api/v1/messages/{bens['id']}",
                                    json={"body": "Hi from Ben!"})  # fmt: skip
    assert status == 202 and edited["body"] == "Hi from Ben!"

    # The same reaction twice is one reaction; an unknown one cannot be taken back.
    for expected in (202, 200):
        status, reacted = await api.call("POST", f"/api/v1/messages/{incoming}/reactions",
                                         json={"key": "❤️"})  # fmt: skip
        assert status == expected and reacted["reactions"] == [
            {"key": "❤️", "count": 1, "mine": True}]  # fmt: skip
    assert (await api.call("DELETE", f"/api/v1/messages/{incoming}/reactions/👍"))[0] == 404
    assert await db.fetchval("SELECT count(*) FROM outbox WHERE action = 'react'") == 1
    assert (await api.call("POST", f"/api/v1/messages/{incoming}/reactions",
                           json={"key": "👍", "colour": "x"}))[0] == 422  # fmt: skip

    # WhatsApp shows one reaction of the business per message: Ben's replaces Anna's, and the
    # old one is taken back in the chat before the new one goes out.
    status, reacted = await api.call("POST", f"/api/v1/messages/{incoming}/reactions",
                                     json={"key": "👍"}, headers=ben)  # fmt: skip
    assert status == 202 and reacted["reactions"] == [{"key": "👍", "count": 1, "mine": True}]
    rows = await db.fetch("SELECT action FROM outbox WHERE message_id = $1 ORDER BY id", incoming)
    assert [r["action"] for r in rows] == ["react", "unreact", "react"]
    live = await db.fetch(
        "SELECT key, sender_manager_id FROM reactions WHERE message_id = $1"
        " AND deleted_at IS NULL", incoming,
    )  # fmt: skip
    assert [(r["key"], r["sender_manager_id"]) for r in live] == [("👍", ben_id)]
    anna_sees = await api.get(f"/api/v1/conversations/{conversation_id}/messages")
    shown = next(m for m in anna_sees["items"] if m["id"] == incoming)
    assert shown["reactions"] == [{"key": "👍", "count": 1, "mine": False}]


async def test_deleted_before_sent_is_never_sent(
    api: API, hs: Homeserver, db: asyncpg.Pool
) -> None:
    """The homeserver is unreachable here: a reply deleted while it waits for its next attempt
    is dropped, not sent; a failed reply that is edited goes out with its new text on retry."""
    conversation_id, _ = await _conversation(hs, db)
    _, message = await _send(api, conversation_id, client_txn_id="d-1", body="Oops")
    status, deleted = await api.call("DELETE", f"/api/v1/messages/{message['id']}")
    assert status == 202 and deleted["deleted_at"] is not None

    async def dropped() -> Any:
        return await db.fetchrow(
            "SELECT status, error FROM messages WHERE id = $1 AND status = 'failed'",
            message["id"],
        )

    row = await _until(dropped)
    assert row["error"] == "Deleted before it was sent"

    async def states() -> Any:
        rows = await db.fetch(
            "SELECT action, state FROM outbox WHERE message_id = $1 ORDER BY id", message["id"]
        )
        return [(r["action"], r["state"]) for r in rows]

    # The redaction's entry comes after the send's in the lane: it finds nothing to redact.
    await _until(lambda: _equal(states(), [("send", "done"), ("redact", "done")]))
    assert (await api.call("POST", f"/api/v1/messages/{message['id']}/retry"))[0] == 409

    _, other = await _send(api, conversation_id, client_txn_id="d-2", body="Helo")

    async def failed() -> Any:
        return await db.fetchval("SELECT status = 'failed' FROM messages WHERE id = $1",
                                 other["id"])  # fmt: skip

    await _until(failed)
    status, edited = await api.call("PATCH", f"/api/v1/messages/{other['id']}",
                                    json={"body": "Hello"})  # fmt: skip
    assert status == 202 and edited["body"] == "Hello"
    # Not in the chat: nothing to edit there; the retry sends the new text.
    assert await db.fetchval("SELECT count(*) FROM outbox WHERE action = 'edit'") == 0
    assert await db.fetchval("SELECT body FROM message_edits WHERE message_id = $1",
                             other["id"]) == "Helo"  # fmt: skip
