"""The Contacts page as a manager uses it: every contact in a list that loads as it scrolls,
found by a part of the name or the number written the local way, filtered by owner, and a
contact's own page with their conversations, which open in the inbox (desktop and phone)."""

from __future__ import annotations

from playwright.async_api import Browser, Page

from . import chromium
from .chromium import WAIT, logged_in, shot
from .matrix_world import World

world = chromium.world
browser = chromium.browser


async def _only_one_row(page: Page) -> None:
    rows = page.locator("[data-contact]")
    for _ in range(100):
        if await rows.count() == 1:
            return
        await page.wait_for_timeout(100)
    raise AssertionError(f"{await rows.count()} rows, not one")


PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


async def test_find_a_contact_make_them_mine_and_open_their_chat(
    world: World, browser: Browser
) -> None:
    emu = world.emulator
    anna = await world.portal("4915112345678", "Anna Schmidt")
    await emu.send_text(anna, "4915112345678", "Is the sofa still available?")
    await world.until(
        lambda: world.db.fetchval("SELECT count(*) = 1 FROM messages"), "Anna's message"
    )
    # An imported customer base: 240 contacts besides Anna, most without a conversation.
    await world.db.execute(
        """INSERT INTO contacts (platform, remote_id, phone, display_name, email)
           SELECT 'whatsapp', (4930000000 + i)::text, '+49' || (30000000 + i),
                  'Customer ' || lpad(i::text, 3, '0'), 'c' || i || '@example.com'
             FROM generate_series(1, 240) i"""
    )
    page = await logged_in(world, browser)
    await page.get_by_role("button", name="Contacts").click()
    rows = page.locator("[data-contact]")
    await rows.first.wait_for(timeout=WAIT)
    # The business's own number is nobody's customer: Anna comes first.
    assert "Anna Schmidt" in await rows.first.inner_text()
    await shot(page, "34-contacts")

    # The list loads its next pages as it is scrolled to the end.
    scroller = page.locator(".contacts .rows")
    for _ in range(20):
        await scroller.evaluate("el => el.scrollTop = el.scrollHeight")
        if await page.get_by_text("Customer 240").count():
            break
        await page.wait_for_timeout(300)
    await page.get_by_text("Customer 240").wait_for(timeout=WAIT)

    search = page.get_by_label("Search by name, number, e-mail or attribute")
    await search.fill("0151 1234")  # the number as Germans write it
    await page.locator("[data-contact]", has_text="Anna Schmidt").wait_for(timeout=WAIT)
    await _only_one_row(page)
    await search.fill("schmi")
    await page.locator("[data-contact]", has_text="Anna Schmidt").click()

    await page.get_by_role("heading", name="Anna Schmidt").wait_for(timeout=WAIT)
    await page.get_by_label("Owner").select_option(label="Eve")
    await world.until(
        lambda: world.db.fetchval(
            "SELECT owner_id IS NOT NULL FROM contacts WHERE display_name = 'Anna Schmidt'"
        ),
        "Anna is Eve's customer",
    )
    await shot(page, "35-contact-page")

    await page.get_by_role("link", name="All contacts").click()
    await page.get_by_label("Search by name, number, e-mail or attribute").fill("")
    await page.get_by_label("Owner").select_option(label="My customers")
    await _only_one_row(page)
    await page.locator("[data-contact]", has_text="Anna Schmidt").click()
    await page.locator(".contact-chats .row", has_text="Anna Schmidt").click()
    await page.locator(".thread h2", has_text="Anna Schmidt").wait_for(timeout=WAIT)
    assert "/conversations/" in page.url

    phone = await logged_in(world, browser, "olga@example.com", "Olga", "manager", **PHONE)
    await phone.goto(page.url.split("/conversations/")[0] + "/contacts")
    await phone.get_by_label("Search by name, number, e-mail or attribute").fill("anna")
    await phone.locator("[data-contact]", has_text="Anna Schmidt").click()
    await phone.get_by_role("heading", name="Anna Schmidt").wait_for(timeout=WAIT)
    await shot(phone, "36-contact-on-a-phone")
