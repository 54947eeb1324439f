"""Media benchmark: a cached 20 MB video read by 8 concurrent range readers, the way video
players read it, through the CRM's media proxy and, in the same run, from aiohttp's own
`FileResponse` serving the same bytes from disk (the baseline of the ratio).

A real Synapse (SQLite) with the bridge emulator, which uploads the video and sends it into a
portal; the CRM runs as its own process, the baseline server as another. Each reader fetches
the whole file in 1 MiB ranges (`Range: bytes=a-b`), one after the other. It prints the
throughput (MB/s over all readers) and the p99 time to first byte of the range requests.

    .venv/bin/python -m bench.media [--runs 5] [--readers 8] [--size-mb 20]

Everything listens on 127.0.0.1 and stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import time

import aiohttp
from aiohttp import web
import asyncpg

from crm_appservice.store import managers, sessions

from .common import REPO, free_port, percentile, wait_until_up
from .synapse import crm_with_synapse

RANGE = 1024 * 1024
PHONE = "4915700000001"


def serve_file(path: str, port: int) -> None:
    """The baseline: aiohttp's FileResponse for the same file (run as its own process)."""

    async def handler(request: web.Request) -> web.FileResponse:
        return web.FileResponse(path, headers={"Content-Type": "video/mp4"})

    app = web.Application()
    app.router.add_get("/video.mp4", handler)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


async def start_baseline(path: str, workdir: str) -> tuple[asyncio.subprocess.Process, str]:
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.media", "--serve-file", path, "--port", str(port),
        cwd=workdir, env={**os.environ, "PYTHONPATH": REPO},
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/video.mp4"
    await wait_until_up(proc, url, "the baseline server")
    return proc, url


async def read_run(
    url: str, headers: dict[str, str], size: int, readers: int, expected: bytes
) -> tuple[float, list[float]]:
    """Every reader reads the whole file in ranges; (MB/s, time to first byte of each, ms)."""
    ttfb: list[float] = []
    total = 0

    async def reader(http: aiohttp.ClientSession, seed: int) -> None:
        nonlocal total
        offsets = list(range(0, size, RANGE))
        random.Random(seed).shuffle(offsets[1:])  # start at 0, then seek about, like a player
        for first in offsets:
            last = min(first + RANGE, size) - 1
            t0 = time.perf_counter()
            async with http.get(url, headers={"Range": f"bytes={first}-{last}"}) as resp:
                chunk = await resp.content.readany()
                ttfb.append((time.perf_counter() - t0) * 1000)
                body = chunk + await resp.read()
                if resp.status != 206 or body != expected[first : last + 1]:
                    raise RuntimeError(f"range {first}-{last} answered {resp.status}")
                total += len(body)

    async with aiohttp.ClientSession(headers=headers) as http:
        start = time.perf_counter()
        await asyncio.gather(*(reader(http, seed) for seed in range(readers)))
        elapsed = time.perf_counter() - start
    return total / elapsed / 1e6, ttfb


async def main(args: argparse.Namespace) -> None:
    baseline = None
    try:
        async with crm_with_synapse() as tb:
            video = random.Random(1).randbytes(args.size_mb * 1024 * 1024)
            path = os.path.join(tb.workdir, "video.mp4")
            with open(path, "wb") as f:
                f.write(video)
            baseline, baseline_url = await start_baseline(path, tb.workdir)

            emu = tb.matrix.emulator
            portal = await emu.create_portal(PHONE, "Viewer")
            event_id = await emu.send_media(
                portal, PHONE, "m.video", video, "video/mp4", "tour.mp4"
            )
            db = await asyncpg.connect(tb.pg.dsn())
            message_id = None
            for _ in range(600):
                message_id = await db.fetchval(
                    "SELECT id FROM messages WHERE event_id = $1", event_id
                )
                if message_id:
                    break
                await asyncio.sleep(0.1)
            if message_id is None:
                raise RuntimeError("the video message did not arrive")
            manager, _ = await managers.create(db, "bench@example.com", "Bench", "admin", "-")
            token, _ = await sessions.create(db, manager.id, "api_token", None, "bench")
            await db.close()

            auth = {"Authorization": f"Bearer {token}"}
            media_url = f"{tb.url}/api/v1/media/{message_id}"
            async with aiohttp.ClientSession(headers=auth) as http, http.get(media_url) as resp:
                if resp.status != 200 or await resp.read() != video:  # fills the cache
                    raise RuntimeError(f"the media proxy answered {resp.status}")

            size = len(video)
            await read_run(media_url, auth, size, args.readers, video)  # warm-up
            await read_run(baseline_url, {}, size, args.readers, video)
            rates: dict[str, list[float]] = {"proxy": [], "file": []}
            ttfbs: dict[str, list[float]] = {"proxy": [], "file": []}
            for run in range(1, args.runs + 1):
                order = [("proxy", media_url, auth), ("file", baseline_url, {})]
                if run % 2 == 0:
                    order.reverse()  # neither side always runs first
                for name, target, headers in order:
                    rate, ttfb = await read_run(target, headers, size, args.readers, video)
                    rates[name].append(rate)
                    ttfbs[name] += ttfb
                proxy_rate, file_rate = rates["proxy"][-1], rates["file"][-1]
                print(
                    f"run {run}: proxy {proxy_rate:7.0f} MB/s   FileResponse {file_rate:7.0f} MB/s"
                    f"   ratio {file_rate / proxy_rate:.2f}"
                )
            proxy, file = statistics.median(rates["proxy"]), statistics.median(rates["file"])
            p99_proxy, p99_file = percentile(ttfbs["proxy"], 0.99), percentile(ttfbs["file"], 0.99)
            print()
            print(
                f"media: {args.runs} runs, a cached {args.size_mb} MB video read in 1 MiB"
                f" ranges by {args.readers} readers at once"
            )
            print(f"  media proxy, MB/s (median):              {proxy:8.0f}")
            print(f"  aiohttp FileResponse, MB/s (median):     {file:8.0f}")
            print(
                f"  FileResponse / proxy throughput:         {file / proxy:8.2f}  (target ≤ 1.5)"
            )
            p50_proxy, p50_file = percentile(ttfbs["proxy"], 0.5), percentile(ttfbs["file"], 0.5)
            print(f"  time to first byte p50, proxy:           {p50_proxy:8.2f} ms")
            print(f"  time to first byte p99, proxy:           {p99_proxy:8.2f} ms")
            print(f"  time to first byte p50, FileResponse:    {p50_file:8.2f} ms")
            print(f"  time to first byte p99, FileResponse:    {p99_file:8.2f} ms")
            print(f"  proxy / FileResponse, p99 TTFB:          {p99_proxy / p99_file:8.2f}")

    finally:
        if baseline is not None and baseline.returncode is None:
            baseline.terminate()
            await baseline.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--readers", type=int, default=8)
    parser.add_argument("--size-mb", type=int, default=20)
    parser.add_argument("--serve-file", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.serve_file:
        serve_file(arguments.serve_file, arguments.port)
    else:
        asyncio.run(main(arguments))
