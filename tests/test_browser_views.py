"""Saved views as a team uses them: an admin saves "VIP, waiting for us" from the list's filters
and shares it; a manager on a phone sees it beside the tabs. When she labels a customer's
conversation VIP, the admin's open view shows it arrive and both views' counts grow, live; when
the admin answers the customer, the conversation is no longer waiting and leaves the view."""

from __future__ import annotations

from playwright.async_api import Browser

from . import chromium
from .chromium import WAIT, label_from_header, logged_in, open_read, row, shot
from .matrix_world import World

world = chromium.world
browser = chromium.browser
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


async def test_a_shared_view_follows_a_colleagues_label_and_a_reply_live(
    world: World, browser: Browser
) -> None:
    emu = world.emulator
    await world.db.execute("INSERT INTO labels (name, colour) VALUES ('VIP', '#c62828')")
    ids = {}
    for phone, name in [("15551290001", "Rita Alves"), ("15551290002", "Hugo Sousa")]:
        portal = await world.portal(phone, name)
        await emu.send_text(portal, phone, f"Hello from {name.split()[0]}")
        ids[name] = await world.conversation_id(portal.room_id)
    await world.until(
        lambda: world.db.fetchval("SELECT count(*) = 2 FROM messages"), "the customers' messages"
    )

    admin = await logged_in(world, browser)
    await admin.get_by_role("button", name="Labels").click()
    await admin.get_by_role("dialog", name="Labels").get_by_label("VIP").check()
    await admin.keyboard.press("Escape")
    await admin.get_by_label("Waiting", exact=True).select_option(label="Waiting for us")
    await admin.locator(".empty").first.wait_for(timeout=WAIT)
    await admin.get_by_role("button", name="Save view").click()
    await admin.get_by_role("textbox", name="View name").fill("VIP waiting")
    await admin.get_by_label("Share with the team").check()
    await shot(admin, "48-saved-view-form")
    await admin.get_by_role("button", name="Save", exact=True).click()
    view = admin.get_by_role("button", name="VIP waiting")
    await view.locator(".count", has_text="0").wait_for(timeout=WAIT)
    assert await view.get_attribute("aria-pressed") == "true"

    # Olga, on a phone, has the team's view beside her tabs (it came to her open inbox live).
    olga = await logged_in(world, browser, "olga@example.com", "Olga", "manager", **PHONE)
    await olga.get_by_role("button", name="VIP waiting").wait_for(timeout=WAIT)
    await open_read(world, olga, ids["Rita Alves"])
    await label_from_header(olga, "VIP")
    await olga.keyboard.press("Escape")

    # The admin's view: Rita arrives with her chip, and the count is 1.
    rita = row(admin, ids["Rita Alves"])
    await rita.locator(".label-chip", has_text="VIP").wait_for(timeout=WAIT)
    await view.locator(".count", has_text="1").wait_for(timeout=WAIT)
    assert await row(admin, ids["Hugo Sousa"]).count() == 0
    await shot(admin, "49-saved-view-live")
    await olga.get_by_role("button", name="Back").click()
    olga_view = olga.get_by_role("button", name="VIP waiting")
    await olga_view.locator(".count", has_text="1").wait_for(timeout=WAIT)
    await olga_view.click()
    await row(olga, ids["Rita Alves"]).wait_for(timeout=WAIT)
    await shot(olga, "50-saved-view-phone")

    # The admin answers Rita: nobody waits for us there any more.
    await rita.click()
    box = admin.get_by_role("textbox", name="Write a reply…")
    await box.fill("Hi Rita, on it")
    await box.press("Enter")
    await world.until(
        lambda: world.db.fetchval(
            "SELECT last_message_out FROM conversations WHERE id = $1", ids["Rita Alves"]
        ),
        "the reply recorded",
    )
    await view.locator(".count", has_text="0").wait_for(timeout=WAIT)
    await row(admin, ids["Rita Alves"]).wait_for(state="detached", timeout=WAIT)
    await olga_view.locator(".count", has_text="0").wait_for(timeout=WAIT)
    await row(olga, ids["Rita Alves"]).wait_for(state="detached", timeout=WAIT)
