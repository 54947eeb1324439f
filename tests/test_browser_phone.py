"""The inbox on a phone (390 by 844, touch): one pane at a time with a way back, the contact's
panel never over the thread on opening, header and composer within a fifth of the screen,
a message's actions on a long press below it, and no page that scrolls sideways."""

from __future__ import annotations

import asyncio
from typing import Any

from playwright.async_api import Browser, Page

from . import chromium
from .chromium import WAIT, bubble, logged_in, row, shot
from .matrix_world import World

world = chromium.world
browser = chromium.browser

PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "has_touch": True,
    "is_mobile": True,
    "device_scale_factor": 2,
}


async def no_sideways_scroll(page: Page) -> None:
    width = await page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width} px wide"


async def long_press(page: Page, target: Any) -> None:
    box = await target.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    options = {"pointerType": "touch", "isPrimary": True, "clientX": x, "clientY": y}
    await target.dispatch_event("pointerdown", options)
    await asyncio.sleep(0.7)
    await target.dispatch_event("pointerup", options)


async def test_the_main_flow_on_a_phone(world: World, browser: Browser) -> None:
    _, conversation = await world.customer_writes(
        "15551300051", "Kim Nakamura-Oliveira", "Hi, is the walnut table still available?"
    )
    page = await logged_in(world, browser, **PHONE)
    await row(page, conversation).wait_for(timeout=WAIT)
    await no_sideways_scroll(page)
    await shot(page, "21-phone-list")

    # The thread: the list gives way, the contact's panel stays closed, room for the messages.
    await row(page, conversation).click()
    message = bubble(page, "walnut table")
    await message.wait_for(timeout=WAIT)
    assert not await page.locator(".list").is_visible()
    assert await page.get_by_role("complementary", name="Contact").count() == 0
    header = await page.locator(".thread-header").bounding_box()
    composer = await page.locator(".composer").bounding_box()
    assert header is not None and composer is not None
    assert header["height"] + composer["height"] <= 844 / 5, (header, composer)
    # What a manager changes is all there, none squeezed out of sight.
    for name in ("Status", "Assignee"):
        control = await page.get_by_label(name).last.bounding_box()
        assert control is not None and control["width"] >= 60, (name, control)
    await no_sideways_scroll(page)
    await shot(page, "22-phone-thread")

    # A long press shows the message's actions, below it, not over its text.
    await long_press(page, message.locator(".bubble"))
    actions = message.locator(".actions")
    await actions.wait_for(timeout=WAIT)
    text = await message.locator(".bubble .text").bounding_box()
    bar = await actions.bounding_box()
    assert text is not None and bar is not None
    assert bar["y"] >= text["y"] + text["height"], (text, bar)
    await no_sideways_scroll(page)
    await shot(page, "23-phone-actions")
    await long_press(page, message.locator(".bubble"))
    await actions.wait_for(state="hidden", timeout=WAIT)

    # The contact: a pane of its own, and back to the conversation.
    await page.get_by_role("button", name="Contact").click()
    side = page.get_by_role("complementary", name="Contact")
    await side.wait_for(timeout=WAIT)
    box = await side.bounding_box()
    assert box is not None and box["width"] >= 380
    await shot(page, "24-phone-contact")
    await side.get_by_role("button", name="← Conversation").click()
    await side.wait_for(state="detached", timeout=WAIT)
    await message.wait_for(timeout=WAIT)

    # Back to the list, and the Team page fits the screen.
    await page.get_by_role("button", name="Back to the inbox").click()
    await row(page, conversation).wait_for(timeout=WAIT)
    await page.get_by_role("button", name="Team").click()
    await page.get_by_role("heading", name="Team", exact=True).wait_for(timeout=WAIT)
    await no_sideways_scroll(page)
    # The bar's buttons each on one line.
    for button in await page.locator(".topbar button").all():
        box = await button.bounding_box()
        assert box is not None and box["height"] < 40, await button.inner_text()
    await shot(page, "25-phone-team")
