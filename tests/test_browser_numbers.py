"""Two WhatsApp numbers in the page: an admin names them and sees each one's state, the list
and the thread say which number a chat is on, and a new chat asks which number to write from
(desktop and phone)."""

from __future__ import annotations

from playwright.async_api import Browser

from testbed.emulator import with_bridge

from . import chromium
from .chromium import WAIT, logged_in, row, shot
from .matrix_world import World

world = chromium.world
browser = chromium.browser

SHOP, WAREHOUSE = "15550000001", "15550000002"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


async def test_two_numbers_named_shown_and_chosen(world: World, browser: Browser) -> None:
    emu = world.emulator
    assert emu.owner_phone == SHOP
    emu.provisioning.logins.extend([SHOP, WAREHOUSE])
    emu.provisioning.states[WAREHOUSE] = {"state_event": "TRANSIENT_DISCONNECT",
                                          "error": "wa-phone-offline"}  # fmt: skip
    await world.crm.stop()
    world.crm.settings = with_bridge(world.crm.settings, emu)
    await world.crm.start()
    lid = "lid-9134001"
    to_shop = await world.portal(lid, "Ana")
    to_warehouse = await world.portal(lid, "Ana", receiver=WAREHOUSE)
    await emu.send_text(to_shop, lid, "Do you have it in blue?")
    await emu.send_text(to_warehouse, lid, "When can I pick it up?")
    shop_id = await world.conversation_id(to_shop.room_id)
    warehouse_id = await world.conversation_id(to_warehouse.room_id)

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
