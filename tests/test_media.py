"""The media proxy against the real Synapse, with files the emulated bridge uploaded."""

from __future__ import annotations

import asyncio
import os

import aiohttp
from multidict import CIMultiDict

from crm_appservice.keys import MEDIA_CACHE
from testbed.media import png

from .matrix_world import World

PHONE = "15551250001"


async def _get(
    http: aiohttp.ClientSession, path: str, method: str = "GET", **headers: str
) -> tuple[int, CIMultiDict[str], bytes]:
    async with http.request(method, path, headers=headers) as resp:
        return resp.status, CIMultiDict(resp.headers), await resp.read()


async def test_files_ranges_caching_and_headers(world: World) -> None:
    emu = world.emulator
    portal = await world.portal(PHONE, "Mia")
    video = os.urandom(600_000)
    poster = png(64, 36)
    video_event = await emu.send_media(
        portal, PHONE, "m.video", video, "video/mp4", "tour.mp4",
        info={"w": 640, "h": 360, "duration": 4000}, thumbnail=(poster, "image/png", 64, 36),
    )  # fmt: skip
    photo = png(640, 480)
    photo_event = await emu.send_media(portal, PHONE, "m.image", photo, "image/png", "shop.png")
    video_id = (await world.message(video_event))["id"]
    photo_id = (await world.message(photo_event))["id"]
    brochure_event = await emu.send_media(portal, PHONE, "m.file", os.urandom(5000),
                                          "application/pdf", "brochure.pdf")  # fmt: skip
    brochure_id = (await world.message(brochure_event))["id"]
    inbox = await world.inbox()
    http = inbox.http
    url = f"/api/v1/media/{video_id}"

    # The API hands out the proxy's URLs, and only those.
    conversation = await world.conversation_id(portal.room_id)
    _, page = await inbox.call("GET", f"/api/v1/conversations/{conversation}/messages")
    by_id = {m["id"]: m for m in page["items"]}
    assert by_id[video_id]["media"]["url"] == url
    assert by_id[video_id]["media"]["thumbnail_url"] == f"{url}/thumbnail"
    assert by_id[photo_id]["media"]["thumbnail_url"] == f"/api/v1/media/{photo_id}/thumbnail"

    # Eight browsers open the video at once: one download from the homeserver.
    cache = world.crm.app[MEDIA_CACHE]
    answers = await asyncio.gather(*(_get(http, url) for _ in range(8)))
    assert {(status, body == video) for status, _, body in answers} == {(200, True)}
    assert cache.downloads == 1
    _, headers, _ = answers[0]
    assert headers["Content-Type"] == "video/mp4"
    assert headers["Content-Length"] == str(len(video))
    assert headers["Accept-Ranges"] == "bytes"
    assert headers["Cache-Control"] == "private, max-age=31536000, immutable"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Security-Policy"] == "sandbox"
    assert headers["Content-Disposition"].startswith("inline")
    etag = headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")

    size = len(video)
    for header, first, last in [
        ("bytes=0-99", 0, 99),
        ("bytes=1000-", 1000, size - 1),
        ("bytes=-500", size - 500, size - 1),
        ("bytes=599000-700000", 599_000, size - 1),
    ]:
        status, got, body = await _get(http, url, Range=header)
        assert status == 206, header
        assert got["Content-Range"] == f"bytes {first}-{last}/{size}", header
        assert body == video[first : last + 1] and got["Content-Length"] == str(len(body))
    status, got, _ = await _get(http, url, Range=f"bytes={size}-")
    assert status == 416 and got["Content-Range"] == f"bytes */{size}"
    # A range for another version of the file (If-Range) gets the whole file.
    status, _, body = await _get(http, url, Range="bytes=0-9", **{"If-Range": '"old"'})
    assert status == 200 and body == video
    status, got, body = await _get(http, url, method="HEAD")
    assert status == 200 and body == b"" and got["Content-Length"] == str(size)
    status, got, body = await _get(http, url, **{"If-None-Match": etag})
    assert status == 304 and body == b"" and got["ETag"] == etag

    # Thumbnails: the bridge's poster for the video, the homeserver's scaled copy of the photo.
    status, got, body = await _get(http, f"{url}/thumbnail")
    assert (status, got["Content-Type"], body) == (200, "image/png", poster)
    status, got, body = await _get(http, f"/api/v1/media/{photo_id}/thumbnail")
    assert status == 200 and got["Content-Type"].startswith("image/")
    assert body[:4] in (b"\x89PNG", b"\xff\xd8\xff\xe0", b"\xff\xd8\xff\xdb") and body != photo
    status, _, body = await _get(http, f"/api/v1/media/{photo_id}")
    assert status == 200 and body == photo

    # The homeserver gone: what is cached is still served; the rest is a clear 502.
    downloads = cache.downloads
    synapse = world.testbed.synapse
    assert synapse is not None
    await synapse.stop()
    try:
        status, _, body = await _get(http, url, Range="bytes=0-9")
        assert status == 206 and body == video[:10]
        assert cache.downloads == downloads
        status, _, _ = await _get(http, f"/api/v1/media/{photo_id}")
        assert status == 200  # cached
        async with http.get(f"/api/v1/media/{brochure_id}") as resp:
            assert resp.status == 502  # never fetched before
            assert (await resp.json())["error"]["code"] == "media_unavailable"
    finally:
        await synapse.start()


async def test_unsafe_files_access_and_deletion(world: World) -> None:
    emu = world.emulator
    portal = await world.portal("15551250002", "Noa")
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    html = b"<html><script>alert(document.cookie)</script></html>"
    svg_event = await emu.send_media(portal, "15551250002", "m.image", svg, "image/svg+xml",
                                     "logo.svg")  # fmt: skip
    html_event = await emu.send_media(portal, "15551250002", "m.file", html, "text/html",
                                      'naïve "offer".html')  # fmt: skip
    svg_id = (await world.message(svg_event))["id"]
    html_id = (await world.message(html_event))["id"]
    inbox = await world.inbox()

    status, headers, body = await _get(inbox.http, f"/api/v1/media/{svg_id}")
    assert status == 200 and body == svg
    assert headers["Content-Type"] == "image/svg+xml"
    assert headers["Content-Security-Policy"] == "sandbox"
    assert headers["X-Content-Type-Options"] == "nosniff"
    status, _, _ = await _get(inbox.http, f"/api/v1/media/{svg_id}/thumbnail")
    assert status == 404  # the homeserver does not rasterise SVG: no thumbnail offered
    status, headers, body = await _get(inbox.http, f"/api/v1/media/{html_id}")
    assert status == 200 and body == html and headers["Content-Type"] == "text/html"
    assert headers["Content-Security-Policy"] == "sandbox"
    assert headers["Content-Disposition"] == (
        'attachment; filename="na_ve _offer_.html"; '
        "filename*=UTF-8''na%C3%AFve%20%22offer%22.html"
    )

    # Without a session: 401; an unknown message: 404; a deleted one: 404.
    base = inbox.base_url
    async with (
        aiohttp.ClientSession() as anonymous,
        anonymous.get(f"{base}/api/v1/media/{svg_id}") as resp,
    ):
        assert resp.status == 401
    assert (await _get(inbox.http, "/api/v1/media/999999"))[0] == 404
    text_id = (await world.message(await emu.send_text(portal, "15551250002", "hi")))["id"]
    assert (await _get(inbox.http, f"/api/v1/media/{text_id}"))[0] == 404
    await emu.redact(portal, "15551250002", html_event)
    await world.until(
        lambda: world.db.fetchval(
            "SELECT deleted_at IS NOT NULL FROM messages WHERE id = $1", html_id),
        "the deletion",
    )  # fmt: skip
    assert (await _get(inbox.http, f"/api/v1/media/{html_id}"))[0] == 404
