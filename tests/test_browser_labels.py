"""Labels as managers use them: an admin adds them on the Team page; one manager, on a phone,
labels a conversation from its header; a colleague whose list is filtered by that label sees
the conversation arrive with its chip and the label's count grow, live, and leave when the label
is taken off; a label an admin removes goes from every row at once."""

from __future__ import annotations

from playwright.async_api import Browser

from . import chromium
from .chromium import WAIT, inbox_url, label_from_header, logged_in, open_read, row, shot
from .matrix_world import World

world = chromium.world
browser = chromium.browser
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


async def test_a_label_put_on_by_one_manager_shows_live_in_a_colleagues_filtered_list(
    world: World, browser: Browser
) -> None:
    emu = world.emulator
    ids = {}
    for phone, name in [("15551280001", "Rita Alves"), ("15551280002", "Hugo Sousa")]:
        portal = await world.portal(phone, name)
        await emu.send_text(portal, phone, f"Hello from {name.split()[0]}")
        ids[name] = await world.conversation_id(portal.room_id)
    await world.until(
        lambda: world.db.fetchval("SELECT count(*) = 2 FROM messages"), "the customers' messages"
    )
    admin = await logged_in(world, browser)
    await admin.get_by_role("button", name="Team").click()
    labels = admin.get_by_role("region", name="Labels")
    for name in ("VIP", "Wholesale"):
        await labels.get_by_label("Name", exact=True).fill(name)
        await labels.get_by_role("button", name="Add label").click()
        await labels.get_by_label(f"Rename {name}").wait_for(timeout=WAIT)
    await labels.get_by_label("Colour of VIP").fill("#c62828")
    await world.until(
        lambda: world.db.fetchval("SELECT colour = '#c62828' FROM labels WHERE name = 'VIP'"),
        "VIP's colour",
    )
    await shot(admin, "45-label-settings")

    # The admin's list shows VIP's conversations only.
    await admin.goto(inbox_url(world))
    await admin.get_by_role("button", name="Labels").click()
    menu = admin.get_by_role("dialog", name="Labels")
    await menu.get_by_role("checkbox").first.check()
    await admin.keyboard.press("Escape")
    await admin.locator(".empty").first.wait_for(timeout=WAIT)

    # Olga, on a phone, puts VIP on Rita's conversation.
    olga = await logged_in(world, browser, "olga@example.com", "Olga", "manager", **PHONE)
    await open_read(world, olga, ids["Rita Alves"])
    await label_from_header(olga, "VIP")
    await shot(olga, "46-label-menu-phone")
    await olga.keyboard.press("Escape")
    await olga.get_by_role("dialog", name="Labels").wait_for(state="detached", timeout=WAIT)

    # Live in the admin's filtered list: the row with its chip, and VIP's count.
    rita = row(admin, ids["Rita Alves"])
    await rita.locator(".label-chip", has_text="VIP").wait_for(timeout=WAIT)
    assert await row(admin, ids["Hugo Sousa"]).count() == 0
    await admin.get_by_role("button", name="VIP", exact=True).click()
    vip_count = admin.get_by_role("dialog", name="Labels").locator("li", has_text="VIP")
    await vip_count.locator(".count", has_text="1").wait_for(timeout=WAIT)
    await shot(admin, "47-label-filter-live")
    await admin.keyboard.press("Escape")

    # Taken off on the phone: gone from the filtered list.
    await olga.get_by_role("button", name="Labels").click()
    await olga.get_by_role("dialog", name="Labels").get_by_label("VIP").click()
    await rita.wait_for(state="detached", timeout=WAIT)

    # Wholesale on both (by a script), then removed by the admin: gone from Olga's rows at once.
    script = await world.inbox()
    wholesale = await world.db.fetchval("SELECT id FROM labels WHERE name = 'Wholesale'")
    for name in ("Rita Alves", "Hugo Sousa"):
        status, _ = await script.call(
            "POST", f"/api/v1/conversations/{ids[name]}/labels", json={"label_id": wholesale}
        )
        assert status == 200
    await olga.goto(inbox_url(world))
    hugo = row(olga, ids["Hugo Sousa"])
    await hugo.locator(".label-chip", has_text="Wholesale").wait_for(timeout=WAIT)
    await admin.get_by_role("button", name="Team").click()
    await (
        labels.locator(f'[data-label="{wholesale}"]').get_by_role("button", name="Remove").click()
    )
    await labels.get_by_role("alertdialog").get_by_role("button", name="Remove").click()
    await hugo.locator(".label-chip").wait_for(state="detached", timeout=WAIT)
    assert await olga.locator(".label-chip").count() == 0
