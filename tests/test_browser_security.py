"""The inbox's protections as a browser meets them: its Content-Security-Policy, and a
sign-out that reaches every open tab."""

from __future__ import annotations

from playwright.async_api import Browser

from . import chromium
from .chromium import WAIT, bubble, csp_violations, inbox_url, logged_in, row, shot
from .matrix_world import World

# The same Synapse, bridge emulator, CRM and Chromium as the inbox's own browser tests.
world = chromium.world
browser = chromium.browser

INJECT = """() => {
  // What an HTML injection would try: an inline script and an inline handler.
  const s = document.createElement("script");
  s.textContent = "window.__ran = 'script'";
  document.body.append(s);
  const html = '<img src="/nothing" onerror="window.__ran = `handler`">';
  document.body.insertAdjacentHTML("beforeend", html);
}"""


async def test_the_csp_refuses_injected_script_and_the_inbox_still_works(
    world: World, browser: Browser
) -> None:
    ana = await world.portal("15551270001", "Ana")
    await world.emulator.send_text(ana, "15551270001", "Hello")
    page = await logged_in(world, browser)
    answer = await page.request.get(inbox_url(world))
    policy = answer.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert answer.headers["x-content-type-options"] == "nosniff"
    await row(page, await world.conversation_id(ana.room_id)).click()
    await bubble(page, "Hello").wait_for(timeout=WAIT)
    assert await csp_violations(page) == []  # the inbox itself needs nothing it refuses
    await page.evaluate(INJECT)
    await page.wait_for_function("window.__violations.length >= 2", timeout=WAIT)
    assert await page.evaluate("window.__ran") is None
    assert all(v.startswith("script-src") for v in await csp_violations(page))


async def test_signing_out_in_one_tab_signs_out_the_others(world: World, browser: Browser) -> None:
    first = await logged_in(world, browser)
    second = await first.context.new_page()
    await second.goto(inbox_url(world))
    await second.get_by_role("tab", name="All").wait_for(timeout=WAIT)
    await first.get_by_role("button", name="Sign out").click()
    await first.get_by_label("E-mail").wait_for(timeout=WAIT)
    # The other tab was told by its live connection: it shows the login without a reload.
    await second.get_by_label("E-mail").wait_for(timeout=WAIT)
    await shot(second, "10-signed-out-elsewhere")
