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
    await world.db.execute(
        "INSERT INTO contacts (platform, remote_id, display_name, email)"
        " VALUES ('email', 'anna.s@example.org', 'anna schmidt', 'anna.s@example.org')"
    )
    anna_id = await world.db.fetchval(
        "SELECT id FROM contacts WHERE display_name = 'Anna Schmidt'"
    )
    anna_row = f'[data-contact="{anna_id}"]'
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
    await page.locator(anna_row).wait_for(timeout=WAIT)
    await _only_one_row(page)
    await search.fill("+49 151")
    await _only_one_row(page)
    await page.locator(anna_row).click()

    await page.get_by_role("heading", name="Anna Schmidt").wait_for(timeout=WAIT)
    # The same person, imported once more: suggested, merged, and the merge undone.
    suggested = page.locator("[data-duplicate]", has_text="anna schmidt")
    await suggested.wait_for(timeout=WAIT)
    assert "same name" in await suggested.inner_text()
    await suggested.get_by_role("button", name="Merge into this contact").click()
    merged = page.locator("[data-merge]", has_text="anna schmidt, by Eve")
    await merged.wait_for(timeout=WAIT)
    await suggested.wait_for(state="detached", timeout=WAIT)
    assert await world.db.fetchval(
        "SELECT merged_into IS NOT NULL FROM contacts WHERE remote_id = 'anna.s@example.org'"
    )
    await merged.get_by_role("button", name="Undo").click()
    await merged.get_by_text("undone").wait_for(timeout=WAIT)
    await suggested.wait_for(timeout=WAIT)
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
    await page.locator(anna_row).click()
    await page.locator(".contact-chats .row", has_text="Anna Schmidt").click()
    await page.locator(".thread h2", has_text="Anna Schmidt").wait_for(timeout=WAIT)
    assert "/conversations/" in page.url

    phone = await logged_in(world, browser, "olga@example.com", "Olga", "manager", **PHONE)
    await phone.goto(page.url.split("/conversations/")[0] + "/contacts")
    await phone.get_by_label("Search by name, number, e-mail or attribute").fill("anna")
    await phone.locator(anna_row).click()
    await phone.get_by_role("heading", name="Anna Schmidt").wait_for(timeout=WAIT)
    await shot(phone, "36-contact-on-a-phone")


async def test_an_admin_imports_a_csv_file_after_its_preview(
    world: World, browser: Browser
) -> None:
    page = await logged_in(world, browser)
    await page.get_by_role("button", name="Contacts").click()
    await page.get_by_role("button", name="Import CSV").click()
    text = ("Kunde;Telefon;E-Mail;Stadt\n"
            "Jana Novák;0151 7654321;jana@example.cz;Köln\n"
            "Broken;12;;Bonn\n"
            "Piet;+31 6 12345678;piet@example.nl;Utrecht\n")  # fmt: skip
    await page.get_by_label("Country of numbers without +").fill("DE")
    await page.get_by_label("CSV file").set_input_files(
        files=[{"name": "kunden.csv", "mimeType": "text/csv", "buffer": text.encode()}]
    )
    status = page.get_by_role("status")
    await status.get_by_text("2 new, 0 to update, 1 with problems (left out)").wait_for(
        timeout=WAIT
    )
    await status.get_by_text("Line 3, Telefon:").wait_for(timeout=WAIT)
    # The suggested mapping, changed by hand: the city is not imported.
    await page.get_by_label("Imported as: Stadt").select_option(label="— not imported")
    await shot(page, "37-contact-import")
    await page.get_by_role("button", name="Import", exact=True).click()
    await status.get_by_text("Imported: 2 new, 0 updated").wait_for(timeout=WAIT)
    await page.locator("[data-contact]", has_text="Jana Novák").wait_for(timeout=WAIT)
    jana = await world.db.fetchrow("SELECT * FROM contacts WHERE display_name = 'Jana Novák'")
    assert (jana["phone"], jana["email"], jana["attributes"]) == (
        "+491517654321", "jana@example.cz", "{}")  # fmt: skip
    export = page.get_by_role("link", name="Export CSV")
    async with page.expect_download() as download:
        await export.click()
    path = await (await download.value).path()
    with open(path, encoding="utf-8-sig") as exported:
        lines = exported.read().splitlines()
    assert lines[0].startswith("name,phone,other numbers,email,owner")
    assert any(line.startswith("Jana Novák,+491517654321") for line in lines)
