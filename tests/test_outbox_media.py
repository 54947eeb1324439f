"""What managers send beyond text reaches the room as the bridge expects it: each kind of
attachment, reactions, edits and deletions (through a real Synapse and the bridge emulator)."""

from __future__ import annotations

import os
import uuid

import aiohttp

from crm_appservice.ingest.messages import CRM_MESSAGE_KEY
from testbed.media import png

from .matrix_world import (
    World,
)
from .test_outbox import reply, room_events, status_is


async def test_each_attachment_kind_reaches_the_bridge(world: World) -> None:
    emu = world.emulator
    eva = await world.portal("15551240004", "Eva")
    conversation = await world.conversation_id(eva.room_id)
    inbox = await world.inbox()
    files = [
        # (file name, type, bytes, extra fields, expected msgtype, expected kind)
        ("sofa.png", "image/png", png(32, 24), {"width": "32", "height": "24"}, "m.image",
         "image"),
        ("tour.mp4", "video/mp4", os.urandom(300_000), {"duration_ms": "4000"}, "m.video",
         "video"),
        ("song.mp3", "audio/mpeg", os.urandom(5000), {}, "m.audio", "audio"),
        ("note.ogg", "audio/ogg", os.urandom(3000), {"voice": "true", "duration_ms": "2500"},
         "m.audio", "voice"),
        ("invoice.pdf", "application/pdf", b"%PDF-1.4 " + os.urandom(2000), {}, "m.file",
         "file"),
    ]  # fmt: skip
    sent: dict[int, tuple[str, str, bytes, dict[str, str], str]] = {}
    for name, mimetype, data, extra, msgtype, kind in files:
        form = aiohttp.FormData()
        form.add_field("client_txn_id", uuid.uuid4().hex)
        form.add_field("body", f"Here is {name}")
        for key, value in extra.items():
            form.add_field(key, value)
        form.add_field("file", data, filename=name, content_type=mimetype)
        status, message = await inbox.call(
            "POST", f"/api/v1/conversations/{conversation}/messages", data=form
        )
        assert status == 202, message
        assert message["kind"] == kind and message["status"] == "pending"
        assert message["media"]["filename"] == name and message["media"]["size"] == len(data)
        sent[message["id"]] = (name, mimetype, data, extra, msgtype)

    for message_id in sent:
        # The bridge's SUCCESS, its delivery receipt and the contact's read receipt.
        await world.until(lambda i=message_id: status_is(world.db, i, "read"), "the read tick")
    _, page = await inbox.call("GET", f"/api/v1/conversations/{conversation}/messages")
    shown = {m["id"]: m for m in page["items"]}
    assert {shown[i]["status"] for i in sent} == {"read"}
    assert all(shown[i]["event_id"] and shown[i]["media"]["url"] for i in sent)
    by_id = {s.content[CRM_MESSAGE_KEY]: s.content for s in emu.sent_by_crm}
    for message_id, (name, mimetype, data, extra, msgtype) in sent.items():
        content = by_id[message_id]
        assert content["msgtype"] == msgtype, name
        assert content["body"] == f"Here is {name}" and content["filename"] == name
        assert content["info"]["mimetype"] == mimetype and content["info"]["size"] == len(data)
        downloaded, served_type = await emu.download(content["url"])
        assert downloaded == data, name
        assert served_type.split(";")[0] == mimetype
        if "width" in extra:
            assert (content["info"]["w"], content["info"]["h"]) == (32, 24)
        if "duration_ms" in extra:
            assert content["info"]["duration"] == int(extra["duration_ms"])
        if "voice" in extra:
            assert content["org.matrix.msc3245.voice"] == {}
    # The spool is empty again once everything is sent.
    spool = world.crm.settings.media.spool_dir
    assert not os.path.isdir(spool) or os.listdir(spool) == []


async def test_reactions_edits_and_deletions_reach_the_room(world: World) -> None:
    emu = world.emulator
    fay = await world.portal("15551240006", "Fay")
    incoming = await emu.send_text(fay, "15551240006", "Is the blue one still there?")
    conversation = await world.conversation_id(fay.room_id)
    question = await world.message(incoming)
    inbox = await world.inbox()
    message = await reply(inbox, conversation, "Yes, one left")
    path = f"/api/v1/messages/{message['id']}"

    # Queued right behind the reply: each goes out after it, in order.
    status, reacted = await inbox.call(
        "POST", f"/api/v1/messages/{question['id']}/reactions", json={"key": "👍"}
    )
    assert status == 202 and reacted["reactions"] == [{"key": "👍", "count": 1, "mine": True}]
    status, edited = await inbox.call("PATCH", path, json={"body": "Yes, one left in blue"})
    assert status == 202 and edited["body"] == "Yes, one left in blue" and edited["edited_at"]

    async def settled() -> bool:
        return not await world.db.fetchval("SELECT count(*) FROM outbox WHERE state <> 'done'")

    await world.until(settled, "the reaction and the edit")
    events = await room_events(emu, fay.room_id)
    sent = next(e for e in events if e["content"].get(CRM_MESSAGE_KEY) == message["id"])
    [reaction] = [e for e in events if e["type"] == "m.reaction"]
    assert reaction["content"]["m.relates_to"] == {
        "rel_type": "m.annotation", "event_id": incoming, "key": "👍"}  # fmt: skip
    [edit] = [e for e in events if "m.new_content" in e["content"]]
    assert edit["content"]["m.new_content"] == {
        "msgtype": "m.text",
        "body": "Yes, one left in blue",
    }
    assert edit["content"]["m.relates_to"] == {
        "rel_type": "m.replace",
        "event_id": sent["event_id"],
    }
    # Their copies coming back completed our rows, and made no second reaction or version.
    await world.until(
        lambda: world.db.fetchval(
            "SELECT count(*) = 1 FROM message_edits WHERE event_id = $1", edit["event_id"]),
        "the edit's event id",
    )  # fmt: skip
    rows = await world.db.fetch("SELECT event_id, deleted_at FROM reactions")
    assert [(r["event_id"], r["deleted_at"]) for r in rows] == [(reaction["event_id"], None)]
    versions = await world.db.fetch("SELECT body FROM message_edits")
    assert [v["body"] for v in versions] == ["Yes, one left"]

    # Take the reaction back and delete the reply: both are redacted in the room.
    status, unreacted = await inbox.call(
        "DELETE", f"/api/v1/messages/{question['id']}/reactions/👍"
    )
    assert status == 202 and unreacted["reactions"] == []
    status, deleted = await inbox.call("DELETE", path)
    assert status == 202 and deleted["deleted_at"] and deleted["body"] is None
    await world.until(settled, "the redactions")
    redactions = [e for e in await room_events(emu, fay.room_id)
                  if e["type"] == "m.room.redaction"]  # fmt: skip
    assert sorted(e["redacts"] for e in redactions) == sorted(
        [reaction["event_id"], sent["event_id"]]
    )
    # Sending them again (a repeated request) adds nothing.
    assert (await inbox.call("DELETE", path))[0] == 200
    assert (await inbox.call("DELETE", f"/api/v1/messages/{question['id']}/reactions/👍"))[
        0
    ] == 404
    bundle = await inbox.call("GET", f"/api/v1/conversations/{conversation}")
    last = bundle[1]["conversation"]["last_message"]
    assert (last["deleted"], last["text"]) == (True, None)  # the list says it was deleted
