"""Changing many conversations at once as a manager does: tick a row, Shift+click to tick the
rows down to another, select all loaded, and assign them in one go. The colleague they went to
sees her "Mine" count become 50 live; each conversation's history says who assigned it."""

from __future__ import annotations

from playwright.async_api import Browser

from . import chromium
from .chromium import WAIT, inbox_url, logged_in, row, shot
from .matrix_world import World

world = chromium.world
browser = chromium.browser
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
COUNT = 50

INSERT = """
WITH contact AS (
    INSERT INTO contacts (platform, remote_id, display_name)
    SELECT 'whatsapp', 'bulk' || n, 'Customer ' || n FROM generate_series(1, $1) n
    RETURNING id, remote_id)
INSERT INTO conversations (room_id, platform, remote_chat_id, kind, title, status, contact_id,
                           last_message_at, last_message_preview)
SELECT '!' || remote_id, 'whatsapp', remote_id, 'dm', NULL, 'open', id,
       now() - make_interval(mins => id::int), 'Is it still available?'
  FROM contact
"""


async def test_fifty_conversations_assigned_at_once_reach_the_colleague_live(
    world: World, browser: Browser
) -> None:
    await world.db.execute(INSERT, COUNT)
    ids = [r["id"] for r in await world.db.fetch(
        "SELECT id FROM conversations ORDER BY last_message_at DESC, id DESC")]  # fmt: skip
    admin = await logged_in(world, browser)
    olga = await logged_in(world, browser, "olga@example.com", "Olga", "manager", **PHONE)
    mine = olga.get_by_role("tab", name="Mine")
    await mine.locator(".count", has_text="0").wait_for(timeout=WAIT)

    await admin.get_by_label("Select Customer", exact=False).first.wait_for(timeout=WAIT)
    await row(admin, ids[0]).wait_for(timeout=WAIT)
    await admin.get_by_label(f"Select {await _name(world, ids[0])}", exact=True).click()
    await admin.get_by_text("1 selected").wait_for(timeout=WAIT)
    await admin.get_by_label(f"Select {await _name(world, ids[4])}", exact=True).click(
        modifiers=["Shift"]
    )
    await admin.get_by_text("5 selected").wait_for(timeout=WAIT)
    await shot(admin, "51-bulk-range")
    await admin.get_by_role("button", name=f"Select all {COUNT}").click()
    await admin.get_by_text(f"{COUNT} selected").wait_for(timeout=WAIT)
    await admin.get_by_label("Assign…").select_option(label="Olga")
    await admin.locator(".bulk-bar").wait_for(state="detached", timeout=WAIT)

    # Olga's phone: fifty are hers, live.
    await mine.locator(".count", has_text=str(COUNT)).wait_for(timeout=WAIT)
    await mine.click()
    await row(olga, ids[0]).wait_for(timeout=WAIT)
    await shot(olga, "52-bulk-assigned-phone")
    olga_id = await world.db.fetchval("SELECT id FROM managers WHERE email = 'olga@example.com'")
    assert (
        await world.db.fetchval(
            "SELECT count(*) FROM conversations WHERE assignee_id = $1", olga_id
        )
        == COUNT
    )
    assert (
        await world.db.fetchval(
            "SELECT count(DISTINCT conversation_id) FROM conversation_history"
            " WHERE change = 'assignee' AND assignee_id = $1 AND actor_id IS NOT NULL",
            olga_id,
        )
        == COUNT
    )

    # `x` ticks the open conversation; the admin's rows show Olga as their assignee.
    await admin.goto(inbox_url(world) + f"conversations/{ids[2]}")
    await row(admin, ids[2]).wait_for(timeout=WAIT)
    await admin.keyboard.press("x")
    await admin.get_by_text("1 selected").wait_for(timeout=WAIT)
    assert await admin.get_by_label(
        f"Select {await _name(world, ids[2])}", exact=True
    ).is_checked()
    await shot(admin, "53-bulk-x")


async def _name(world: World, conversation_id: int) -> str:
    name: str = await world.db.fetchval(
        "SELECT ct.display_name FROM conversations c JOIN contacts ct ON ct.id = c.contact_id"
        " WHERE c.id = $1",
        conversation_id,
    )
    return name
