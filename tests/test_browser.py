"""The web inbox in headless Chromium (Debian's package, driven by Playwright) against the real
backend: PostgreSQL, Synapse, the bridge emulator and the CRM serving the built inbox.

Screenshots of the main screens are written to `test-artifacts/` (or $CRM_ARTIFACTS)."""

from __future__ import annotations

import asyncio
import time

from aiohttp import web
from playwright.async_api import Browser, Request, Response

from testbed.media import png
from testbed.synapse import free_port

from .chromium import WAIT, browser, bubble, csp_violations, logged_in, row, shot, world
from .matrix_world import World, with_provisioning

__all__ = ["browser", "world"]  # the fixtures, for the tests below


async def test_live_message_reply_ticks_and_one_request_per_switch(
    world: World, browser: Browser
) -> None:
    emu = world.emulator
    ana = await world.portal("15551260001", "Ana")
    ben = await world.portal("15551260002", "Ben")
    await emu.send_text(ben, "15551260002", "Hello from Ben")
    ana_id = await world.conversation_id(ana.room_id)
    ben_id = await world.conversation_id(ben.room_id)
    await world.until(
        lambda: world.db.fetchval(
            "SELECT count(*) = 1 FROM messages WHERE conversation_id = $1", ben_id),
        "Ben's message",
    )  # fmt: skip
    page = await logged_in(world, browser)
    await shot(page, "1-inbox")

    # A customer writes: the row and, once opened, the thread show it without a reload.
    await emu.send_text(ana, "15551260001", "Is the blue sofa still available?")
    await row(page, ana_id).get_by_text("Is the blue sofa").wait_for(timeout=WAIT)
    await row(page, ana_id).click()
    await bubble(page, "Is the blue sofa still available?").wait_for(timeout=WAIT)
    await emu.send_text(ana, "15551260001", "And in green?")
    await bubble(page, "And in green?").wait_for(timeout=WAIT)

    # A reply: one bubble, ticking to delivered and then read.
    box = page.get_by_role("textbox", name="Write a reply…")
    await box.fill("Yes, both colours are in stock")
    await box.press("Enter")
    mine = bubble(page, "Yes, both colours are in stock")
    await mine.locator(".tick-read").wait_for(timeout=WAIT)
    assert await mine.count() == 1
    # The list says the team had the last word.
    await row(page, ana_id).get_by_text("You: Yes, both colours").wait_for(timeout=WAIT)

    # A private note from the composer: in the thread where it was written, never sent.
    await page.get_by_label("Note", exact=True).check()
    await box.fill("Call her back about the green one")
    await box.press("Enter")
    written = page.get_by_role("note", name="Private note")
    await written.get_by_text("Call her back about the green one").wait_for(timeout=WAIT)
    await page.get_by_label("Note", exact=True).uncheck()
    assert await world.db.fetchval("SELECT count(*) FROM notes") == 1
    assert not await world.db.fetchval(
        "SELECT count(*) FROM messages WHERE body LIKE 'Call her back%'"
    )
    await shot(page, "2-thread")

    # `?` lists the keyboard shortcuts (outside the composer), Esc closes the list.
    await page.locator("body").click(position={"x": 5, "y": 5})
    await page.keyboard.press("?")
    shortcuts = page.get_by_role("dialog", name="Keyboard shortcuts")
    await shortcuts.get_by_text("Assign the conversation to me").wait_for(timeout=WAIT)
    await shot(page, "6-shortcuts")
    await page.keyboard.press("Escape")
    await shortcuts.wait_for(state="detached", timeout=WAIT)

    # Switching conversations: no chain of requests. Ben's row is the one after Ana's, so his
    # bundle was fetched ahead when Ana's conversation opened (in one request): opening it only
    # marks his unread message read, and the tab counts follow in place.
    requests: list[str] = []

    def seen(request: Request) -> None:
        if "/api/v1/" in request.url and "/api/v1/media/" not in request.url:
            requests.append(f"{request.method} {request.url.split('/api/v1', 1)[1]}")

    page.on("request", seen)
    await row(page, ben_id).click()
    await bubble(page, "Hello from Ben").wait_for(timeout=WAIT)
    await page.wait_for_timeout(500)
    page.remove_listener("request", seen)
    assert requests == [f"POST /conversations/{ben_id}/read"], requests
    assert await page.locator("section.thread").count() == 1  # the previous one is gone
    await page.wait_for_timeout(300)
    # Back to Ana: cached and kept current by the live connection, so no request at all.
    requests.clear()
    page.on("request", seen)
    await row(page, ana_id).click()
    await bubble(page, "And in green?").wait_for(timeout=WAIT)
    await page.wait_for_timeout(300)
    assert requests == [], requests
    assert await page.locator("section.thread").count() == 1
    assert await page.locator("aside.side").count() == 1
    page.remove_listener("request", seen)

    # Snoozed until tomorrow morning: the header says until when, and Open ends it.
    status = page.locator(".thread-header").get_by_role("combobox", name="Status")
    await status.select_option(label="Snooze until tomorrow 9:00")
    until = await world.until(
        lambda: world.db.fetchval(
            "SELECT snoozed_until FROM conversations WHERE id = $1 AND status = 'snoozed'",
            ana_id),
        "Ana snoozed",
    )  # fmt: skip
    morning = await page.evaluate(
        "() => { const d = new Date(); d.setDate(d.getDate() + 1); d.setHours(9, 0, 0, 0);"
        " return d.toISOString(); }"
    )
    assert until.isoformat().replace("+00:00", ".000Z") == morning
    assert (await status.locator("option:checked").inner_text()).startswith("Snoozed until ")
    await status.select_option(label="Open")
    await world.until(
        lambda: world.db.fetchval(
            "SELECT status = 'open' AND snoozed_until IS NULL FROM conversations WHERE id = $1",
            ana_id),
        "Ana open again",
    )  # fmt: skip

    # A search: the row shows the message that matched, with the words marked.
    search = page.get_by_placeholder("Search names, phones and messages")
    await search.fill("blue sof")
    marks = row(page, ana_id).locator(".preview mark")
    await marks.first.wait_for(timeout=WAIT)
    assert await marks.all_inner_texts() == ["blue", "sofa"]
    await shot(page, "7-search")
    await search.fill("")
    # All of it ran under the inbox's Content-Security-Policy, which refused nothing.
    assert await csp_violations(page) == []


async def test_long_thread_stays_small_in_the_dom(world: World, browser: Browser) -> None:
    cara = await world.portal("15551260003", "Cara")
    conversation = await world.conversation_id(cara.room_id)
    contact = await world.db.fetchval(
        "SELECT contact_id FROM conversations WHERE id = $1", conversation
    )
    await world.db.execute(
        """
        INSERT INTO messages (conversation_id, event_id, direction, sender_contact_id, kind, body,
                              created_at)
        SELECT $1, '$old' || i, 'in', $2, 'text', 'history ' || i,
               now() - interval '30 days' + i * interval '1 minute'
          FROM generate_series(1, 5000) i
        """,
        conversation,
        contact,
    )
    await world.db.execute(
        "UPDATE conversations SET last_message_at = now() - interval '1 day' WHERE id = $1",
        conversation,
    )
    page = await logged_in(world, browser)
    await row(page, conversation).click()
    await bubble(page, "history 5000").wait_for(timeout=WAIT)
    most = 0
    scroller = page.locator(".messages")
    oldest = page.get_by_text("history 1", exact=True)  # not "history 10…"
    deadline = time.monotonic() + 120
    while not await oldest.count() and time.monotonic() < deadline:
        await scroller.evaluate("el => el.scrollTop = 0")
        await page.wait_for_timeout(100)
        most = max(most, await page.locator(".bubble-row").count())
    await oldest.wait_for(timeout=WAIT)
    assert 0 < most < 200, most

    # A search hit 600 messages back: opening it from the list loads the pages up to it and
    # shows it, marked, in the middle of the thread.
    await world.db.execute(
        "UPDATE messages SET body = 'history 4400 walnut table' WHERE event_id = '$old4400'"
    )
    fresh = await logged_in(world, browser)
    await fresh.get_by_placeholder("Search names, phones and messages").fill("walnut")
    hit = row(fresh, conversation)
    await hit.locator(".preview mark", has_text="walnut").wait_for(timeout=WAIT)
    await hit.click()
    found = fresh.locator(".bubble-row.flash", has_text="history 4400 walnut table")
    await found.wait_for(timeout=WAIT)
    box, view = await found.bounding_box(), await fresh.locator(".messages").bounding_box()
    assert box and view and view["y"] <= box["y"] <= view["y"] + view["height"] - box["height"]
    # Its day floats over the thread (its separator is far above): a date, weeks ago.
    day = fresh.locator(".day-float")
    await day.wait_for(timeout=WAIT)
    label = await day.inner_text()
    assert label and label not in ("Today", "Yesterday") and any(c.isdigit() for c in label)
    await shot(fresh, "8-search-hit")


async def test_media_display_and_video_plays(world: World, browser: Browser) -> None:
    emu = world.emulator
    dora = await world.portal("15551260004", "Dora")
    conversation = await world.conversation_id(dora.room_id)
    page = await logged_in(world, browser)
    # A real, playable video: recorded by the browser itself (WebM), so no codec tool is needed.
    recorded: list[int] = await page.evaluate(
        """async () => {
            const canvas = document.createElement('canvas');
            canvas.width = 160; canvas.height = 120;
            const ctx = canvas.getContext('2d');
            const stream = canvas.captureStream(15);
            const recorder = new MediaRecorder(stream, {mimeType: 'video/webm'});
            const chunks = [];
            recorder.ondataavailable = (e) => chunks.push(e.data);
            recorder.start(100);
            for (let i = 0; i < 30; i++) {
                ctx.fillStyle = `hsl(${i * 12} 70% 50%)`;
                ctx.fillRect(0, 0, 160, 120);
                await new Promise((r) => setTimeout(r, 66));
            }
            recorder.stop();
            await new Promise((r) => recorder.onstop = r);
            const buffer = await new Blob(chunks, {type: 'video/webm'}).arrayBuffer();
            return Array.from(new Uint8Array(buffer));
        }"""
    )
    video = bytes(recorded)
    await emu.send_media(dora, "15551260004", "m.image", png(320, 200), "image/png", "shop.png",
                         info={"w": 320, "h": 200})  # fmt: skip
    video_event = await emu.send_media(
        dora, "15551260004", "m.video", video, "video/webm", "tour.webm",
        info={"w": 160, "h": 120, "duration": 2000},
        thumbnail=(png(160, 120), "image/png", 160, 120),
    )  # fmt: skip
    gone_event = await emu.send_media(
        dora, "15551260004", "m.video", video, "video/webm", "gone.webm", info={"w": 160, "h": 120}
    )
    gone = await world.message(gone_event)
    await world.message(video_event)
    # The file of the second video is no longer on the homeserver.
    await world.db.execute(
        "UPDATE messages SET media_url = 'mxc://crm.localhost/doesNotExist' WHERE id = $1",
        gone["id"],
    )

    ranges: list[tuple[str, int]] = []

    def answered(response: Response) -> None:
        if "/api/v1/media/" in response.url and response.request.headers.get("range"):
            ranges.append((response.request.headers["range"], response.status))

    page.on("response", answered)
    await row(page, conversation).click()
    image = page.locator(".image img")
    await image.wait_for(timeout=WAIT)
    await page.wait_for_function(
        "() => { const i = document.querySelector('.image img'); return i && i.naturalWidth > 0 }",
        timeout=WAIT,
    )
    player = page.locator("video").first
    await player.evaluate("v => v.play()")
    await page.wait_for_function(
        "() => { const v = document.querySelector('video'); return v && v.currentTime > 0.2 }",
        timeout=WAIT,
    )
    assert any(status == 206 for _, status in ranges), ranges
    # The missing file: a visible fallback with a download link, not a broken player.
    fallback = page.locator(".media-fallback", has_text="cannot be played")
    await page.locator("video").nth(1).evaluate("v => v.load()")
    await fallback.wait_for(timeout=WAIT)
    assert await fallback.get_by_role("link", name="Download").count() == 1
    await shot(page, "3-media")
    assert await csp_violations(page) == []  # images and video are the server's own


async def test_websocket_cut_and_restored(world: World, browser: Browser) -> None:
    emu = world.emulator
    eli = await world.portal("15551260005", "Eli")
    conversation = await world.conversation_id(eli.room_id)
    await emu.send_text(eli, "15551260005", "first")
    page = await logged_in(world, browser)
    await row(page, conversation).click()
    await bubble(page, "first").wait_for(timeout=WAIT)
    # The CRM goes away (every socket cut); the customer writes meanwhile; the CRM comes back.
    await world.crm.stop()
    await page.get_by_text("Reconnecting…").wait_for(timeout=WAIT)
    await emu.send_text(eli, "15551260005", "sent while you were away")
    await asyncio.sleep(1)
    await world.crm.start()
    await bubble(page, "sent while you were away").wait_for(timeout=60_000)
    await page.get_by_text("Reconnecting…").wait_for(state="hidden", timeout=WAIT)
    await shot(page, "4-reconnected")


async def test_connect_whatsapp_and_open_a_new_chat(world: World, browser: Browser) -> None:
    emu = world.emulator
    await with_provisioning(world)
    page = await logged_in(world, browser)
    await page.get_by_role("button", name="Team").click()
    await page.get_by_text("WhatsApp is not connected yet.").wait_for(timeout=WAIT)
    await page.get_by_role("button", name="Connect with a QR code").click()
    qr = page.locator("canvas.qr")
    await qr.wait_for(timeout=WAIT)
    await page.wait_for_function(
        "() => { const c = document.querySelector('canvas.qr'); return c && c.width > 100 }"
    )
    await shot(page, "5-connect-whatsapp")
    emu.provisioning.complete()  # the phone scans the code
    await page.get_by_text(f"+{emu.owner_phone}").first.wait_for(timeout=WAIT)
    assert await qr.count() == 0

    await page.get_by_role("button", name="Back to the inbox").click()
    await page.get_by_role("button", name="+ New conversation").click()
    # The number as the field's example shows it (spaces and all) is one the form takes.
    box = page.get_by_label("Phone number with country code")
    assert await box.get_attribute("placeholder") == "+49 151 2345 6789"
    await box.fill("+49 151 2345 6789")
    await page.get_by_role("button", name="Open", exact=True).click()
    await page.locator(".thread h2", has_text="+4915123456789").wait_for(timeout=WAIT)
    conversation = await world.db.fetchval(
        "SELECT c.id FROM conversations c JOIN contacts ct ON ct.id = c.contact_id"
        " WHERE ct.phone = '+4915123456789'"
    )
    assert page.url.endswith(f"/conversations/{conversation}")


async def test_linking_with_a_pairing_code_on_a_phone_takes_the_phone_its_time(
    world: World, browser: Browser
) -> None:
    """At a phone's width: a rejected number says why and leaves the form usable, and the
    pairing code stays on screen while the phone takes its time (the bridge holds the wait far
    longer than the CRM holds a browser's), until WhatsApp is linked."""
    emu = world.emulator
    emu.provisioning.flow.time_scale = 0.01
    await with_provisioning(world, login_wait=0.25)
    page = await logged_in(world, browser)
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.get_by_role("button", name="Team").click()
    await page.get_by_role("button", name="Connect with a phone number").click()
    number = page.get_by_role("textbox", name="Phone")
    await number.fill("12")
    await page.get_by_role("button", name="Get the pairing code").click()
    await page.get_by_role("alert").filter(has_text="too short").wait_for(timeout=WAIT)
    await number.fill("+49 170 1234567")
    await page.get_by_role("button", name="Get the pairing code").click()
    code = page.locator(".pairing-code")
    await code.wait_for(timeout=WAIT)
    shown = await code.inner_text()
    await asyncio.sleep(2.0)  # eight of the CRM's waits, each "nothing yet"
    assert await code.inner_text() == shown and await page.get_by_role("alert").count() == 0
    await shot(page, "9-pairing-code-phone")
    emu.provisioning.complete()  # the phone enters the code
    await page.get_by_text("Successfully logged in as +491701234567").wait_for(timeout=WAIT)
    assert await code.count() == 0


ATTACK = """<!doctype html><title>elsewhere</title><script>
window.result = "pending";
const ws = new WebSocket("ws://127.0.0.1:%d/api/v1/ws");
ws.onopen = () => { window.result = "open"; };
ws.onmessage = () => { window.result = "read the feed"; };
ws.onclose = () => { if (window.result === "pending") window.result = "refused"; };
</script>"""
TRY = """(port) => new Promise((done) => {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/api/v1/ws`);
  ws.onopen = () => { ws.close(); done("open"); };
  ws.onclose = () => done("refused");
})"""


async def test_a_page_of_another_origin_cannot_open_the_live_connection(
    world: World, browser: Browser
) -> None:
    """Same site, another port: the browser sends the manager's cookie along, so only the
    Origin tells the attack from the inbox."""
    page = await logged_in(world, browser)
    port = world.crm.settings.appservice.port
    assert await page.evaluate(TRY, port) == "open"  # the inbox's own page

    app = web.Application()

    async def elsewhere(_: web.Request) -> web.Response:
        return web.Response(text=ATTACK % port, content_type="text/html")

    app.router.add_get("/", elsewhere)
    runner = web.AppRunner(app)
    await runner.setup()
    other = free_port()
    await web.TCPSite(runner, "127.0.0.1", other).start()
    try:
        await page.goto(f"http://127.0.0.1:{other}/")  # the manager opens a link elsewhere
        await page.wait_for_function("window.result !== 'pending'", timeout=WAIT)
        assert await page.evaluate("window.result") == "refused"
    finally:
        await runner.cleanup()
