"""Reading as a manager does: a message that arrives in the thread a manager is looking at is
read (the customer's WhatsApp shows it so), one that arrives in a hidden tab is not until the
manager comes back."""

from __future__ import annotations

import asyncio

from playwright.async_api import Browser

from . import chromium
from .chromium import WAIT, bubble, logged_in, row, shot
from .matrix_world import World

# The same Synapse, bridge emulator, CRM and Chromium as the inbox's own browser tests.
world = chromium.world
browser = chromium.browser

HIDE = """(hidden) => {
  Object.defineProperty(document, "hidden", { value: hidden, configurable: true });
  document.dispatchEvent(new Event("visibilitychange"));
}"""


async def test_a_message_arriving_in_the_open_thread_is_read_and_in_a_hidden_tab_is_not(
    world: World, browser: Browser
) -> None:
    emu = world.emulator
    ana = await world.portal("15551290001", "Ana")
    await emu.send_text(ana, "15551290001", "Hello")
    conversation = await world.conversation_id(ana.room_id)
    page = await logged_in(world, browser)
    await row(page, conversation).click()
    await bubble(page, "Hello").wait_for(timeout=WAIT)

    async def unread() -> int:
        count: int = await world.db.fetchval(
            "SELECT unread_count FROM conversations WHERE id = $1", conversation
        )
        return count

    async def receipts() -> int:
        count: int = await world.db.fetchval(
            "SELECT count(*) FROM outbox WHERE conversation_id = $1 AND action = 'read'",
            conversation,
        )
        return count

    await world.until(lambda: _is(unread(), 0), "read on opening")
    await world.until(lambda: _more(receipts(), 0), "a read receipt on opening")
    opened_receipts = await receipts()

    await emu.send_text(ana, "15551290001", "Are you there?")
    await bubble(page, "Are you there?").wait_for(timeout=WAIT)

    await world.until(lambda: _is(unread(), 0), "read as it arrived")
    await world.until(lambda: _more(receipts(), opened_receipts), "a read receipt for it")
    await row(page, conversation).locator(".unread-count").wait_for(state="detached", timeout=WAIT)

    await page.evaluate(HIDE, True)  # the manager switched to another tab
    await emu.send_text(ana, "15551290001", "Hello??")
    await bubble(page, "Hello??").wait_for(timeout=WAIT)
    await asyncio.sleep(1.0)
    assert await unread() == 1
    await shot(page, "11-unread-while-away")
    assert await row(page, conversation).locator(".unread-count").inner_text() == "1"
    # The marker still says what was unread on opening, not what was read since.
    assert await page.locator(".unread-marker").inner_text() == "1 unread message"
    await page.evaluate(HIDE, False)  # back
    await world.until(lambda: _is(unread(), 0), "read once back")
    await row(page, conversation).locator(".unread-count").wait_for(state="detached", timeout=WAIT)


async def _is(value: object, expected: int) -> bool:
    return await value == expected  # type: ignore[misc]


async def _more(value: object, than: int) -> bool:
    return await value > than  # type: ignore[misc, operator]
