"""Contact attributes as a team uses them: an admin defines them on the Team page, two
managers fill them in on one contact at the same time (both kept), and the Contacts page is
filtered by them (desktop and phone)."""

from __future__ import annotations

from playwright.async_api import Browser, Page

from . import chromium
from .chromium import WAIT, logged_in, shot
from .matrix_world import World

world = chromium.world
browser = chromium.browser
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


async def _rows(page: Page, count: int) -> list[str]:
    rows = page.locator("[data-contact] .name")
    for _ in range(100):
        if await rows.count() == count:
            return await rows.all_inner_texts()
        await page.wait_for_timeout(100)
    raise AssertionError(f"{await rows.count()} rows, not {count}")


async def test_define_fill_in_and_filter_by_attributes(world: World, browser: Browser) -> None:
    anna = await world.portal("4915112345678", "Anna Schmidt")
    await world.emulator.send_text(anna, "4915112345678", "Hello")
    await world.until(
        lambda: world.db.fetchval("SELECT count(*) = 1 FROM messages"), "Anna's message"
    )
    await world.db.execute(
        """INSERT INTO contacts (platform, remote_id, phone, display_name, attributes)
           SELECT 'whatsapp', (4930000000 + i)::text, '+49' || (30000000 + i),
                  'Customer ' || lpad(i::text, 2, '0'), jsonb_build_object('budget', i * 100)
             FROM generate_series(1, 30) i"""
    )
    page = await logged_in(world, browser)
    await page.get_by_role("button", name="Team").click()
    settings = page.get_by_role("region", name="Contact attributes")
    for label, kind, choices in [("Budget", "Number", None), ("Tier", "A list of choices",
                                 "Gold\nSilver\n"), ("VIP", "Yes / no", None)]:  # fmt: skip
        await settings.get_by_label("Name", exact=True).fill(label)
        await settings.get_by_label("Type").select_option(label=kind)
        if choices:
            await settings.get_by_label("Choices (one per line)").fill(choices)
        await settings.get_by_role("button", name="Add attribute").click()
        await settings.locator(f'[data-attribute="{label.lower()}"]').wait_for(timeout=WAIT)
    # The imported budgets were numbers already: the definition took them as they were.
    await shot(page, "38-attribute-settings")

    anna_id = await world.db.fetchval(
        "SELECT id FROM contacts WHERE display_name = 'Anna Schmidt'"
    )
    url = page.url.replace("/team", f"/contacts/{anna_id}")
    colleague = await logged_in(world, browser, "olga@example.com", "Olga", "manager", **PHONE)
    await page.goto(url)
    await colleague.goto(url)
    budget = page.get_by_label("Budget", exact=True)
    await budget.fill("2500")
    await colleague.get_by_label("VIP").select_option(label="Yes")
    await budget.press("Enter")
    await page.get_by_label("Tier").select_option(label="Gold")
    await world.until(
        lambda: world.db.fetchval(
            """SELECT attributes = '{"budget": 2500, "tier": "Gold", "vip": true}'
                 FROM contacts WHERE id = $1""", anna_id),
        "both managers' attributes",
    )  # fmt: skip
    # What the server cannot read is said, and the stored value stays (never removed).
    await budget.fill("lots")
    await budget.press("Enter")
    await page.get_by_text("'lots' must be a number").wait_for(timeout=WAIT)
    assert await budget.input_value() == "2500"
    stored = "SELECT attributes -> 'budget' FROM contacts WHERE id = $1"
    assert await world.db.fetchval(stored, anna_id) == "2500"
    await page.reload()
    await page.get_by_label("VIP").and_(page.locator("select")).wait_for(timeout=WAIT)
    assert await page.get_by_label("VIP").input_value() == "true"
    await shot(page, "39-contact-attributes")

    await page.get_by_role("link", name="All contacts").click()
    await page.get_by_label("+ Filter by attribute").select_option(label="Budget")
    await page.get_by_label("Condition on Budget").select_option(label="≥")
    await page.get_by_label("Value of Budget").fill("2 450")  # as people write it
    assert await _rows(page, 7) == [
        "Anna Schmidt", *(f"Customer {i}" for i in range(25, 31))]  # fmt: skip
    await page.get_by_label("+ Filter by attribute").select_option(label="Tier")
    await page.get_by_label("Value of Tier").select_option(label="Gold")
    assert await _rows(page, 1) == ["Anna Schmidt"]
    await shot(page, "40-contacts-by-attribute")
    await page.get_by_role("button", name="Remove the filter on Tier").click()
    await _rows(page, 7)

    await colleague.goto(page.url)
    await colleague.get_by_label("+ Filter by attribute").select_option(label="VIP")
    await colleague.get_by_label("Value of VIP").select_option(label="Yes")
    assert await _rows(colleague, 1) == ["Anna Schmidt"]
    await shot(colleague, "41-contacts-by-attribute-on-a-phone")
