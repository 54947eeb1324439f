"""Schemathesis (a property-based API fuzzer) over `/api/v1/openapi.json`, as an admin and as a
manager: whatever the bodies, parameters and queries, no answer is a 5xx and every answer
matches the document (its status, its content type, its schema).

The CRM runs as in production against a real Synapse with the bridge emulator (media is
fetched from it), with a conversation, messages, an image, a note and an order for the
fuzzer's ids to find.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
import os
import sys

import pytest

from testbed.media import png

from .conftest import ConfigFactory
from .matrix_world import SharedMatrix, World, running_world

ST = os.path.join(os.path.dirname(sys.executable), "st")
# Enough cases per operation to try nulls, wrong types, huge and odd values everywhere, in a
# bounded time (well under a minute per role on two cores).
EXAMPLES = int(os.environ.get("CRM_FUZZ_EXAMPLES", "40"))
# (Not negative_data_rejection: bodies are taken with surrounding whitespace stripped, so a
# text just over a limit with spaces around it is accepted, as it should be.)
CHECKS = ",".join([
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
])  # fmt: skip
# Operations that end the caller's own credential, or need what is tested on its own (a
# WhatsApp login on the bridge, a WebSocket handshake), are left to their own tests
# (test_sessions.py, test_whatsapp.py, test_live.py); the rest are all fuzzed.
EXCLUDED = r"^/api/v1/(auth/logout|tokens/\{token_id\}|whatsapp.*|conversations/new|ws)$"


@pytest.fixture
async def world(
    matrix: SharedMatrix, db_dsn: str, make_config: ConfigFactory, workdir: str
) -> AsyncIterator[World]:
    async for w in running_world(make_config, workdir, db_dsn, shared=matrix):
        await w.crm.stop()
        web = replace(w.crm.settings.web, managers_see="assigned")
        w.crm.settings = replace(w.crm.settings, web=web)
        await w.crm.start()
        yield w


async def _data(world: World) -> None:
    portal = await world.portal("15551280001", "Fay")
    emu = world.emulator
    await emu.send_text(portal, "15551280001", "hello")
    await emu.send_media(portal, "15551280001", "m.image", png(8, 8), "image/png", "p.png")
    conversation = await world.conversation_id(portal.room_id)
    await world.until(
        lambda: world.db.fetchval(
            "SELECT count(*) = 2 FROM messages WHERE conversation_id = $1", conversation),
        "the messages",
    )  # fmt: skip
    await world.db.execute(
        "INSERT INTO orders (contact_id, number, status, total)"
        " SELECT contact_id, 'A-1', 'new', 1 FROM conversations WHERE id = $1",
        conversation,
    )


@pytest.mark.parametrize("role", ["admin", "manager"])
async def test_no_input_makes_a_5xx_or_an_answer_the_document_does_not_describe(
    world: World, role: str, workdir: str
) -> None:
    await _data(world)
    inbox = await world.inbox(f"{role}@example.com")
    await world.db.execute("UPDATE managers SET role = $2 WHERE email = $1",
                           f"{role}@example.com", role)  # fmt: skip
    aps = world.crm.settings.appservice
    proc = await asyncio.create_subprocess_exec(
        ST, "run", f"http://{aps.hostname}:{aps.port}/api/v1/openapi.json",
        "--header", f"Authorization:Bearer {inbox.token}",
        "--checks", CHECKS,
        "--max-examples", str(EXAMPLES),
        "--exclude-path-regex", EXCLUDED,
        "--phases", "examples,coverage,fuzzing",
        "--seed", "16",
        "--workers", "1",
        "--request-timeout", "30",
        "--generation-database", "none",
        "--suppress-health-check", "all",
        "--no-color",
        "--report", "junit", "--report-dir", workdir,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd=workdir,  # where it keeps its cache
    )  # fmt: skip
    output, _ = await proc.communicate()
    text = output.decode(errors="replace")
    assert proc.returncode == 0, text[-20000:]
