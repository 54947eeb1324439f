"""The inbox as a manager's day needs it: the tabs count what the list shows, a customer who
writes again is back in it, whatever happened to the conversation before."""

from __future__ import annotations

import re
from typing import Any

from playwright.async_api import Browser

from . import chromium
from .chromium import WAIT, bubble, logged_in, row, shot
from .matrix_world import World

# The same Synapse, bridge emulator, CRM and Chromium as the inbox's own browser tests.
world = chromium.world
browser = chromium.browser


async def test_the_tabs_count_what_the_list_shows_and_resolved_is_one_click_away(
    world: World, browser: Browser
) -> None:
    emu = world.emulator
    ids = {}
    for phone, name in [("15551300001", "Ana"), ("15551300002", "Ben"), ("15551300003", "Cy")]:
        portal = await world.portal(phone, name)
        await emu.send_text(portal, phone, f"Hello from {name}")
        ids[name] = await world.conversation_id(portal.room_id)
    await world.until(
        lambda: world.db.fetchval("SELECT count(*) = 3 FROM messages WHERE direction = 'in'"),
        "the messages",
    )
    await world.db.execute("UPDATE conversations SET status = 'resolved' WHERE id = $1",
                           ids["Ben"])  # fmt: skip
    page = await logged_in(world, browser)
    all_tab = page.get_by_role("tab", name="All")
    await row(page, ids["Ana"]).wait_for(timeout=WAIT)
    assert await all_tab.locator(".count").inner_text() == "2"
    assert await page.locator("[data-conversation]").count() == 2  # what the tab counts
    assert await all_tab.get_attribute("title") == "All open conversations"
    # Resolving one in the thread takes it out of the list and the count, at once.
    await row(page, ids["Ana"]).click()
    await bubble(page, "Hello from Ana").wait_for(timeout=WAIT)
    await page.get_by_label("Status").last.select_option("resolved")
    await row(page, ids["Ana"]).wait_for(state="detached", timeout=WAIT)
    await all_tab.locator(".count", has_text=re.compile(r"^1$")).wait_for(timeout=WAIT)
    await bubble(page, "Hello from Ana").wait_for(timeout=WAIT)  # the thread stays as it was
    await shot(page, "12-open-only")
    # The resolved ones are one choice away.
    await page.get_by_label("Status").first.select_option("resolved")
    await row(page, ids["Ben"]).wait_for(timeout=WAIT)
    await row(page, ids["Ana"]).wait_for(timeout=WAIT)  # the one just resolved, too
    assert await page.locator("[data-conversation]").count() == 2

    # A search in the default view says it looks at open ones only, and offers the rest.
    await page.get_by_label("Status").first.select_option("open")
    await page.get_by_placeholder("Search names, phones and messages").fill("Hello from Ben")
    await page.get_by_text("Only open conversations are searched.").wait_for(timeout=WAIT)
    await page.get_by_role("button", name="Search every status").click()
    await row(page, ids["Ben"]).wait_for(timeout=WAIT)
    await shot(page, "13-search-every-status")


async def test_a_colleagues_reply_is_theirs_and_whoever_answers_takes_the_customer(
    world: World, browser: Browser
) -> None:
    """Two managers: Olga answers an unassigned customer. Her list says "You:", Eve's says
    "Olga:", and the conversation is Olga's for both at once."""
    _, conversation = await world.customer_writes(
        "15551300011", "Dan", "Do you deliver on Saturdays?"
    )
    eve = await logged_in(world, browser)
    olga = await logged_in(world, browser, "olga@example.com", "Olga", "manager")
    await row(olga, conversation).click()
    box = olga.get_by_role("textbox", name="Write a reply…")
    await box.fill("Yes, until 4 pm")
    await box.press("Enter")
    await row(olga, conversation).get_by_text("You: Yes, until 4 pm").wait_for(timeout=WAIT)
    await row(eve, conversation).get_by_text("Olga: Yes, until 4 pm").wait_for(timeout=WAIT)
    # Taken by the one who answered: Eve's list shows Olga as its assignee, at once.
    await row(eve, conversation).locator(".assignee[title=Olga]").wait_for(timeout=WAIT)
    olga_id = await world.db.fetchval("SELECT id FROM managers WHERE email = 'olga@example.com'")
    taken = await world.db.fetchval(
        "SELECT assignee_id FROM conversations WHERE id = $1", conversation
    )
    assert taken == olga_id
    await shot(eve, "14-colleagues-reply")


def change(page: Any, text: str) -> Any:
    return page.locator(".history-row", has_text=text)


async def test_the_thread_shows_what_colleagues_and_the_customer_did(
    world: World, browser: Browser
) -> None:
    """Eve assigns Olga's customer to her and resolves it; Olga, reading the thread, sees it
    happen in place; the customer writing again reopens it, in both threads."""
    emu = world.emulator
    fay, conversation = await world.customer_writes(
        "15551300021", "Fay", "Is the blue one back in stock?"
    )
    eve = await logged_in(world, browser)
    olga = await logged_in(world, browser, "olga@example.com", "Olga", "manager")
    for page in (eve, olga):
        await row(page, conversation).click()
        await bubble(page, "Is the blue one back in stock?").wait_for(timeout=WAIT)
    await eve.get_by_label("Assignee").select_option(label="Olga")
    await change(olga, "Eve assigned the conversation to you").wait_for(timeout=WAIT)
    await change(eve, "You assigned the conversation to Olga").wait_for(timeout=WAIT)
    await eve.get_by_label("Status").last.select_option("resolved")
    await change(olga, "Eve resolved the conversation").wait_for(timeout=WAIT)
    await emu.send_text(fay, "15551300021", "Hello again")
    for page in (eve, olga):
        await bubble(page, "Hello again").wait_for(timeout=WAIT)
        await change(page, "The customer wrote again: the conversation is open").wait_for(
            timeout=WAIT
        )
    # In the order it happened, between the messages.
    texts = await olga.locator(".history-row > span, .bubble .text").all_inner_texts()
    order = [
        "Is the blue one back in stock?",
        "Eve assigned the conversation to you",
        "Eve resolved the conversation",
        "Hello again",
        "The customer wrote again: the conversation is open",
    ]
    assert [t for t in texts if t in order] == order
    await shot(olga, "15-history-in-the-thread")
    # Opened again later, the history is still there: it was stored, not only pushed.
    await olga.reload()
    await row(olga, conversation).click()
    await change(olga, "Eve resolved the conversation").wait_for(timeout=WAIT)
