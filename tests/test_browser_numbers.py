"""Two WhatsApp numbers in the page: an admin names them and sees each one's state, the list
and the thread say which number a chat is on, and a new chat asks which number to write from
(desktop and phone)."""

from __future__ import annotations

from playwright.async_api import Browser

from . import chromium
from .chromium import WAIT, logged_in, row, shot
from .matrix_world import World
from .test_numbers import SHOP, WAREHOUSE, customer_on_both, two_numbers

world = chromium.world
browser = chromium.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


async def test_two_numbers_named_shown_and_chosen(world: World, browser: Browser) -> None:
    await two_numbers(world)
    _, _, shop_id, warehouse_id = await customer_on_both(world, "lid-9134001")

    page = await logged_in(world, browser)
    await page.get_by_role("button", name="Team").click()
    await page.get_by_text("Phone offline: WhatsApp on the phone needs internet").wait_for(
        timeout=WAIT
    )
    for login, name in ((SHOP, "Shop"), (WAREHOUSE, "Warehouse")):
        field = page.get_by_label(f"Name of +{login}, as the inbox shows it")
        await field.fill(name)
        await field.press("Enter")
    await world.until(
        lambda: world.db.fetchval("SELECT count(name) = 2 FROM own_logins"), "both names"
    )
    await shot(page, "30-two-numbers")

    await page.get_by_role("button", name="Back to the inbox").click()
    await (
        row(page, warehouse_id)
        .locator(".badge.number", has_text="Warehouse")
        .wait_for(timeout=WAIT)
    )
    await row(page, shop_id).locator(".badge.number", has_text="Shop").wait_for(timeout=WAIT)
    await row(page, warehouse_id).click()
    await page.locator(".thread-header .badge.number", has_text="Warehouse").wait_for(timeout=WAIT)
    await shot(page, "31-numbers-in-the-list")

    # The list of one number.
    await page.get_by_label("Number", exact=True).select_option(label="Shop")
    await row(page, warehouse_id).wait_for(state="detached", timeout=WAIT)
    await row(page, shop_id).wait_for(timeout=WAIT)
    await page.get_by_label("Number", exact=True).select_option(label="Any number")
    await row(page, warehouse_id).wait_for(timeout=WAIT)

    await page.get_by_role("button", name="+ New conversation").click()
    chooser = page.get_by_label("Write from")
    assert await chooser.locator("option").all_inner_texts() == ["Shop", "Warehouse"]
    await chooser.select_option(label="Warehouse")
    await page.get_by_label("Phone number with country code").fill("+351 912 345 678")
    await shot(page, "32-new-chat-asks-the-number")
    await page.get_by_role("button", name="Open", exact=True).click()
    await page.locator(".thread h2", has_text="+351912345678").wait_for(timeout=WAIT)
    opened = await world.db.fetchval(
        "SELECT c.receiver FROM conversations c JOIN contacts ct ON ct.id = c.contact_id"
        " WHERE ct.phone = '+351912345678'"
    )
    assert opened == WAREHOUSE

    phone = await logged_in(world, browser, "olga@example.com", "Olga", "manager", **PHONE)
    await (
        row(phone, warehouse_id)
        .locator(".badge.number", has_text="Warehouse")
        .wait_for(timeout=WAIT)
    )
    await shot(phone, "33-numbers-on-a-phone")
