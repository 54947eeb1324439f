"""The deals board as a sales team uses it: an admin drags a deal across stages on a desktop,
moves it on by keyboard and loses it for a reason; a colleague's phone shows each move live.
From a conversation, "New deal" starts one for its customer, and the side panel moves it."""

from __future__ import annotations

from playwright.async_api import Browser, Page

from . import chromium
from .chromium import WAIT, inbox_url, logged_in, shot
from .matrix_world import World

world = chromium.world
browser = chromium.browser
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
COUNT = 300

SEED = """
WITH p AS (SELECT id FROM pipelines WHERE name = 'Sales'),
     s AS (SELECT d.id FROM deal_stages d, p WHERE d.pipeline_id = p.id
           ORDER BY d.position LIMIT 1)
INSERT INTO deals (pipeline_id, stage_id, position, title, value, currency)
SELECT p.id, s.id, n * 1048576, 'Deal ' || n, n * 10, 'EUR' FROM p, s, generate_series(1, $1) n
"""
CONVERSATION = """
WITH c AS (INSERT INTO contacts (platform, remote_id, display_name)
           VALUES ('whatsapp', 'rita', 'Rita Ortega') RETURNING id)
INSERT INTO conversations (room_id, platform, remote_chat_id, kind, status, contact_id,
                           last_message_at, last_message_preview)
SELECT '!rita', 'whatsapp', 'rita', 'dm', 'open', id, now(), 'Do you deliver?' FROM c
RETURNING id
"""


def column(page: Page, name: str):  # type: ignore[no-untyped-def]
    return page.get_by_role("region", name=name, exact=True)


def card(page: Page, title: str):  # type: ignore[no-untyped-def]
    return page.get_by_role("button", name=f"Deal {title}", exact=True)


async def test_a_deal_dragged_across_stages_moves_on_a_colleagues_phone(
    world: World, browser: Browser
) -> None:
    await world.db.execute(SEED, COUNT)
    admin = await logged_in(world, browser)
    olga = await logged_in(world, browser, "olga@example.com", "Olga", "manager", **PHONE)
    for page in (admin, olga):
        await page.goto(inbox_url(world) + "deals")
        await column(page, "New").get_by_text(f"{COUNT} deals").wait_for(timeout=WAIT)
    # Virtualised: a few cards of the 300 are in the page.
    assert await admin.locator(".deal-card").count() < 60
    await shot(admin, "54-board-desktop")

    # Dragged from New to Qualified: both boards move it, counts and totals with it.
    await card(admin, "Deal 1").drag_to(column(admin, "Qualified"))
    await column(admin, "Qualified").get_by_text("1 deal").wait_for(timeout=WAIT)
    await card(column(admin, "Qualified"), "Deal 1").wait_for(timeout=WAIT)
    await column(admin, "New").get_by_text(f"{COUNT - 1} deals").wait_for(timeout=WAIT)
    await column(olga, "Qualified").get_by_text("1 deal").wait_for(timeout=WAIT)
    await column(olga, "New").get_by_text(f"{COUNT - 1} deals").wait_for(timeout=WAIT)
    await shot(olga, "55-board-phone")

    # By keyboard: Alt+→ to the next stage.
    await card(admin, "Deal 1").focus()
    await admin.keyboard.press("Alt+ArrowRight")
    await column(admin, "Offer sent").get_by_text("1 deal").wait_for(timeout=WAIT)
    await column(olga, "Offer sent").get_by_text("1 deal").wait_for(timeout=WAIT)

    # Dropped on Lost: why, first.
    await card(admin, "Deal 1").drag_to(column(admin, "Lost"))
    dialog = admin.get_by_role("dialog", name="Why was it lost?")
    await dialog.wait_for(timeout=WAIT)
    await dialog.get_by_label("Reason").select_option(label="Chose a competitor")
    await dialog.get_by_label("Note (optional)").fill("Went with the shop next door")
    await shot(admin, "56-deal-lost-reason")
    await dialog.get_by_role("button", name="Mark lost").click()
    await column(admin, "Lost").get_by_text("1 deal").wait_for(timeout=WAIT)
    await column(olga, "Lost").get_by_text("1 deal").wait_for(timeout=WAIT)
    row = await world.db.fetchrow(
        "SELECT d.status, r.name AS reason, d.lost_note, d.id FROM deals d"
        " JOIN lost_reasons r ON r.id = d.lost_reason_id WHERE d.title = 'Deal 1'"
    )
    assert (row["status"], row["reason"]) == ("lost", "Chose a competitor")
    assert row["lost_note"] == "Went with the shop next door"
    steps = await world.db.fetchval(
        "SELECT count(*) FROM deal_stage_history WHERE deal_id = $1 AND from_stage_id IS NOT NULL",
        row["id"],
    )
    assert steps == 3

    # The card opens its deal: the history of its moves.
    await card(admin, "Deal 1").click()
    drawer = admin.get_by_role("complementary", name="Deal 1")
    await drawer.get_by_text("Offer sent → Lost").wait_for(timeout=WAIT)
    await shot(admin, "57-deal-drawer")
    await drawer.get_by_role("button", name="Close").click()

    # Scrolled to its end, the New column loads the rest of its cards.
    cards = column(admin, "New").locator(".deal-cards")
    for _ in range(40):
        await cards.evaluate("el => el.scrollTo(0, el.scrollHeight)")
        if await card(admin, f"Deal {COUNT}").count():
            break
        await admin.wait_for_timeout(100)
    await card(admin, f"Deal {COUNT}").wait_for(timeout=WAIT)


async def test_a_deal_started_from_a_conversation(world: World, browser: Browser) -> None:
    conversation = await world.db.fetchval(CONVERSATION)
    admin = await logged_in(world, browser)
    olga = await logged_in(world, browser, "olga@example.com", "Olga", "manager")
    await olga.goto(inbox_url(world) + "deals")
    await column(olga, "New").get_by_text("No deals").wait_for(timeout=WAIT)

    await admin.goto(inbox_url(world) + f"conversations/{conversation}")
    deals = admin.get_by_role("region", name="Deals")
    await admin.get_by_role("button", name="Contact", exact=True).wait_for(timeout=WAIT)
    if not await deals.count():  # the side panel opens with the thread on a wide screen
        await admin.get_by_role("button", name="Contact", exact=True).click()
    await deals.get_by_text("No open deals").wait_for(timeout=WAIT)
    await deals.get_by_role("button", name="+ New deal").click()
    await deals.get_by_label("Title").fill("Sofa delivery")
    await deals.get_by_label("Value").fill("1.250,00")
    await deals.get_by_role("button", name="Add deal").click()
    await deals.get_by_text("Sofa delivery").wait_for(timeout=WAIT)
    # On the colleague's board at once, for Rita.
    await column(olga, "New").get_by_text("1 deal").wait_for(timeout=WAIT)
    await card(olga, "Sofa delivery").get_by_text("Rita Ortega").wait_for(timeout=WAIT)
    # Moved from the side panel; the board follows.
    await deals.get_by_label("Stage: Sofa delivery").select_option(label="Qualified")
    await column(olga, "Qualified").get_by_text("1 deal").wait_for(timeout=WAIT)
    await shot(admin, "58-side-deals")
    made = await world.db.fetchrow("SELECT value, contact_id FROM deals")
    assert str(made["value"]) == "1250.00"


async def test_an_admin_changes_the_pipelines_stages(world: World, browser: Browser) -> None:
    admin = await logged_in(world, browser)
    olga = await logged_in(world, browser, "olga@example.com", "Olga", "manager")
    await olga.goto(inbox_url(world) + "deals")
    await column(olga, "Qualified").wait_for(timeout=WAIT)
    await admin.goto(inbox_url(world) + "team")
    form = admin.get_by_role("form", name="Sales")
    await form.get_by_label("Stage 2").fill("Demo booked")
    await form.get_by_role("button", name="+ Add a stage").click()
    await form.get_by_label("Stage 4").fill("Negotiation")
    await form.get_by_role("button", name="Save").click()
    # The colleague's board has the new stages live, in order.
    await column(olga, "Negotiation").wait_for(timeout=WAIT)
    await column(olga, "Demo booked").wait_for(timeout=WAIT)
    names = await olga.locator(".deal-column h2").all_text_contents()
    assert names == ["New", "Demo booked", "Offer sent", "Negotiation", "Won", "Lost"]
    await shot(admin, "59-pipeline-settings")
