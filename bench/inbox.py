"""Inbox benchmark: the API and the WebSocket on a database of a big team's size.

Fills a database with 100,000 conversations and 5,000,000 messages (COPY), starts the CRM, and
measures through HTTP the conversation list (default, each filter, search), the conversation
bundle and a message page, the Contacts page (by name and newest first, searches, filters, a
page 1,000 deep) and a contact's page, and in the same run the same store queries issued
directly through asyncpg; then holds 1,000 WebSockets and measures the time until every one has
the frame of an ingested transaction, and the CRM's memory across 10,000 WebSocket
connect/disconnect cycles.

    .venv/bin/python -m bench.inbox [--conversations 100000] [--messages 5000000] [--samples 200]
        [--fanouts 100]

Everything listens on 127.0.0.1 and stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from decimal import Decimal
import gc
import hashlib
import random
import resource
import time
from typing import Any

import aiohttp
import asyncpg
import orjson

from crm_appservice.api import cursors
from crm_appservice.api.conversations import list_filters
from crm_appservice.api.view_models import ConversationFilters
from crm_appservice.store import (
    contact_list,
    conversations,
    labels,
    messages,
    notes,
    orders,
    views as view_store,
)

from .common import HS_TOKEN, new_database, percentile, start_crm, tear_down
from .dataset import EMAIL, LABEL_COMMON, LABEL_OTHER, LABEL_RARE, NUMBERS, PASSWORD, fill

NAME_42 = hashlib.md5(b"42", usedforsecurity=False).hexdigest()[:6].title()  # one customer


def _filter(
    key: str, op: contact_list.Op, num: int | None = None, txt: str | None = None
) -> contact_list.AttributeFilter:
    return contact_list.AttributeFilter(key, op, None if num is None else Decimal(num), txt)


# Seven digits from the middle of customer 42's number (see dataset.fill).
PHONE_42 = (
    hashlib.md5(b"42", usedforsecurity=False)
    .hexdigest()[2:9]
    .translate(str.maketrans("abcdef", "012345"))
)
TARGETS = {"list": 20.0, "bundle": 25.0, "ratio": 2.0, "fanout": 100.0, "memory": 10.0}


async def timed(call: Callable[[], Awaitable[Any]], samples: int) -> list[float]:
    out = []
    for _ in range(samples):
        t0 = time.perf_counter()
        await call()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def show(result: tuple[str, float, float, float | None]) -> None:
    name, p50, p99, sql50 = result
    ratio = f"{p50 / sql50:6.2f}" if sql50 else "     -"
    sql = f"{sql50:7.2f}ms" if sql50 else "        -"
    print(f"  {name:28s} {p50:7.2f}ms {p99:7.2f}ms {sql} {ratio}", flush=True)


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def raise_file_limit() -> None:
    """1,000 sockets each side need more descriptors than the usual soft limit of 1,024."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))


async def main() -> None:
    raise_file_limit()
    parser = argparse.ArgumentParser()
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=5_000_000)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--sockets", type=int, default=1000)
    parser.add_argument("--cycles", type=int, default=10_000)
    parser.add_argument("--fanouts", type=int, default=100, help="ingested messages timed")
    args = parser.parse_args()
    workdir, pg = await new_database("crm-bench-inbox-")
    proc = None
    results: list[tuple[str, float, float, float | None]] = []
    try:
        t0 = time.perf_counter()
        await fill(pg.dsn(), args.conversations, args.messages)
        print(f"filled {args.conversations} conversations, {args.messages} messages "
              f"in {time.perf_counter() - t0:.0f} s", flush=True)  # fmt: skip
        proc, url = await start_crm(workdir, pg.dsn())
        raw = await asyncpg.connect(pg.dsn())
        jar = aiohttp.CookieJar(unsafe=True)
        connector = aiohttp.TCPConnector(limit=0)  # the sockets hold one connection each
        async with aiohttp.ClientSession(
            base_url=url, cookie_jar=jar, connector=connector
        ) as http:
            async with http.post("/api/v1/auth/login",
                                 json={"email": EMAIL, "password": PASSWORD}) as resp:  # fmt: skip
                body = await resp.json()
                me = body["manager"]["id"]
            rng = random.Random(5)
            n = args.conversations

            async def get(path: str) -> None:
                async with http.get(path) as resp:
                    assert resp.status == 200, (path, resp.status)
                    await resp.read()

            cases: list[tuple[str, str, conversations.Filters]] = [
                ("list default", "", conversations.Filters()),
                ("list status=pending", "status=pending", conversations.Filters(status="pending")),
                ("list assignee=me", "status=open&assignee=me",
                 conversations.Filters(status="open", assignee=me)),
                ("list assignee=none", "status=open&assignee=none",
                 conversations.Filters(status="open", unassigned=True)),
                ("list platform", "platform=telegram", conversations.Filters(platform="telegram")),
                ("list number", f"number={NUMBERS[1]}", conversations.Filters(number=NUMBERS[1])),
                ("list unread", "unread=true", conversations.Filters(unread=True)),
                ("list archived", "archived=true", conversations.Filters(archived=True)),
                ("list q=name", f"q={NAME_42}", conversations.Filters(q=NAME_42)),
                ("list q=text", "q=invoice", conversations.Filters(q="invoice")),
                # Labels: on a seventh, on a five-hundredth, either of two, both of two; and a
                # view of the manager's open ones with a label (what a saved view asks).
                ("list label", f"label={LABEL_COMMON}",
                 conversations.Filters(labels=(LABEL_COMMON,))),
                ("list label rare", f"label={LABEL_RARE}",
                 conversations.Filters(labels=(LABEL_RARE,))),
                ("list labels any", f"label={LABEL_RARE}&label={LABEL_OTHER}",
                 conversations.Filters(labels=(LABEL_RARE, LABEL_OTHER))),
                ("list labels all", f"label={LABEL_COMMON}&label={LABEL_OTHER}&label_match=all",
                 conversations.Filters(labels=(LABEL_COMMON, LABEL_OTHER), all_labels=True)),
                ("list mine+label", f"status=open&assignee=me&label={LABEL_COMMON}",
                 conversations.Filters(status="open", assignee=me, labels=(LABEL_COMMON,))),
                # Saved views: a label the customer waits on, long waits of one's own, one's
                # customers waiting.
                ("view label+waiting", f"status=open&label={LABEL_COMMON}&waiting=true",
                 conversations.Filters(status="open", labels=(LABEL_COMMON,), waiting=True)),
                ("view mine waiting>24h", "assignee=me&waiting=true&waiting_hours=24",
                 conversations.Filters(assignee=me, waiting=True, waiting_hours=24)),
                ("view my customers waiting", "owner=me&waiting=true",
                 conversations.Filters(owner=me, waiting=True)),
                # Its worst case: two words as common, never in the same message.
                ("list q=two common words", "q=sofa+invoice",
                 conversations.Filters(q="sofa invoice")),
            ]  # fmt: skip
            # The floors: HTTP and the session check alone, then one `SELECT 1` through the pool.
            api = await timed(lambda: get("/api/v1/me"), args.samples)
            results.append(("HTTP floor: /api/v1/me", percentile(api, 0.5),
                            percentile(api, 0.99), None))  # fmt: skip
            show(results[-1])
            api = await timed(lambda: get("/healthz"), args.samples)
            sql = await timed(lambda: raw.fetchval("SELECT 1"), args.samples)
            results.append(("HTTP floor: /healthz", percentile(api, 0.5), percentile(api, 0.99),
                            percentile(sql, 0.5)))  # fmt: skip
            show(results[-1])

            async def list_sql(f: conversations.Filters) -> None:
                """What the list endpoint asks the database: the page, and for a search the
                message each conversation of it matched."""
                await conversations.search_page(raw, f, None, 50)

            for name, query, filters in cases:
                api = await timed(lambda q=query: get(f"/api/v1/conversations?{q}"), args.samples)
                sql = await timed(lambda f=filters: list_sql(f), args.samples)
                results.append((name, percentile(api, 0.5), percentile(api, 0.99),
                                percentile(sql, 0.5)))  # fmt: skip
                show(results[-1])

            async def bundle_sql(cid: int) -> None:
                row = await conversations.get(raw, cid)
                await orders.orders(raw, row["contact_id"])
                await notes.notes(raw, cid)
                await messages.page(raw, cid, None, 50)

            ids = [rng.randint(1, n) for _ in range(args.samples)]
            it = iter(ids)
            api = await timed(lambda: get(f"/api/v1/conversations/{next(it)}"), args.samples)
            it = iter(ids)
            sql = await timed(lambda: bundle_sql(next(it)), args.samples)
            results.append(("bundle", percentile(api, 0.5), percentile(api, 0.99),
                            percentile(sql, 0.5)))  # fmt: skip
            show(results[-1])
            it = iter(ids)
            api = await timed(
                lambda: get(f"/api/v1/conversations/{next(it)}/messages?limit=50"), args.samples
            )
            it = iter(ids)
            sql = await timed(lambda: messages.page(raw, next(it), None, 50), args.samples)
            results.append(("message page", percentile(api, 0.5), percentile(api, 0.99),
                            percentile(sql, 0.5)))  # fmt: skip
            show(results[-1])

            async def counts_sql() -> None:
                await conversations.counts(raw, me, False)
                await labels.open_counts(raw, None)

            # The tab counts and the open conversations per label, read at every page load.
            api = await timed(lambda: get("/api/v1/conversations/counts"), args.samples)
            sql = await timed(counts_sql, args.samples)
            results.append(("counts (tabs, labels)", percentile(api, 0.5), percentile(api, 0.99),
                            percentile(sql, 0.5)))  # fmt: skip
            show(results[-1])

            # The saved views beside the tabs, each counted: five of them, as a team has.
            views = [
                {"status": "open", "label": [LABEL_COMMON], "waiting": True},
                {"assignee": "me", "waiting_hours": 24},
                {"owner": "me", "waiting": True},
                {"assignee": "none", "status": "open", "waiting": True},
                {"label": [LABEL_RARE]},
            ]
            for i, wanted in enumerate(views):
                view = {"name": f"View {i}", "shared": True, "filters": wanted}
                headers = {"X-CSRF-Token": body["csrf_token"]}
                async with http.post("/api/v1/views", json=view, headers=headers) as resp:
                    assert resp.status == 201, await resp.text()

            async def views_sql() -> None:
                for view in await view_store.visible(raw, me):
                    kept = ConversationFilters.model_validate(view_store.filters_of(view))
                    await conversations.count(raw, list_filters(kept, me, None))

            api = await timed(lambda: get("/api/v1/views"), args.samples)
            sql = await timed(views_sql, args.samples)
            results.append(("views (5, counted)", percentile(api, 0.5), percentile(api, 0.99),
                            percentile(sql, 0.5)))  # fmt: skip
            show(results[-1])

            # --- the Contacts page at full size: sorts, searches, filters, a page deep down ---
            contact_cases: list[tuple[str, str, contact_list.Filters]] = [
                ("contacts by name", "", contact_list.Filters()),
                ("contacts newest", "sort=newest", contact_list.Filters(sort="newest")),
                ("contacts q=name", f"q={NAME_42[:4]}", contact_list.Filters(q=NAME_42[:4])),
                ("contacts q=phone", f"q={PHONE_42}", contact_list.Filters(q=PHONE_42)),
                ("contacts q=e-mail", "q=customer4242%40",
                 contact_list.Filters(q="customer4242@")),
                ("contacts q=common", "q=cust", contact_list.Filters(q="cust")),
                ("contacts owner=me", "owner=me", contact_list.Filters(owner=me)),
                ("contacts number", f"number={NUMBERS[1]}",
                 contact_list.Filters(number=NUMBERS[1])),
                # An attribute filter few contacts match (an index range), and ones most match.
                ("contacts budget>=9990", "attribute=budget%3E%3D9990",
                 contact_list.Filters(attributes=(_filter("budget", ">=", num=9990),))),
                ("contacts budget<=5000", "attribute=budget%3C%3D5000",
                 contact_list.Filters(attributes=(_filter("budget", "<=", num=5000),))),
                ("contacts tier=Gold", "attribute=tier%3DGold",
                 contact_list.Filters(attributes=(_filter("tier", "=", txt="Gold"),))),
                ("contacts label", f"label={LABEL_COMMON}",
                 contact_list.Filters(labels=(LABEL_COMMON,))),
                ("contacts label rare", f"label={LABEL_RARE}",
                 contact_list.Filters(labels=(LABEL_RARE,))),
            ]  # fmt: skip
            for name, query, contact_filters in contact_cases:
                api = await timed(lambda q=query: get(f"/api/v1/contacts?{q}"), args.samples)
                sql = await timed(
                    lambda f=contact_filters: contact_list.page(raw, f, None, 50), args.samples
                )
                results.append((name, percentile(api, 0.5), percentile(api, 0.99),
                                percentile(sql, 0.5)))  # fmt: skip
                show(results[-1])
            # Page 1,000 of the list by name (half-way down a smaller one): only the cursor
            # differs from page 1.
            deep_rows = await raw.fetch(
                "SELECT sort_name, id FROM contacts WHERE merged_into IS NULL"
                " ORDER BY sort_name, id OFFSET $1 LIMIT 1",
                min(50_000, n // 2),
            )
            deep = contact_list.cursor_of(deep_rows[0], "name")
            token = cursors.encode(*deep)
            api = await timed(lambda: get(f"/api/v1/contacts?cursor={token}"), args.samples)
            sql = await timed(
                lambda: contact_list.page(raw, contact_list.Filters(), deep, 50), args.samples
            )
            results.append(("contacts page 1,000", percentile(api, 0.5), percentile(api, 0.99),
                            percentile(sql, 0.5)))  # fmt: skip
            show(results[-1])
            ids = [rng.randint(1, n) for _ in range(args.samples)]
            it = iter(ids)
            api = await timed(lambda: get(f"/api/v1/contacts/{next(it)}"), args.samples)
            results.append(("contact's page", percentile(api, 0.5), percentile(api, 0.99), None))
            show(results[-1])

            # --- 1,000 WebSockets: time until every one has an ingested message ---------
            sockets = [await http.ws_connect("/api/v1/ws") for _ in range(args.sockets)]
            for ws in sockets:
                await ws.receive_json()
            # The thousand sockets live in this process too: its own collector's pauses would be
            # counted as the server's, so what exists now is kept out of them.
            gc.collect()
            gc.freeze()
            fanout: list[float] = []
            auth = {"Authorization": f"Bearer {HS_TOKEN}"}
            for k in range(args.fanouts):
                event = {"event_id": f"$fan{k}", "room_id": "!bench1", "type": "m.room.message",
                         "sender": "@whatsapp_4915000000001:crm.localhost",
                         "origin_server_ts": int(time.time() * 1000),
                         "content": {"msgtype": "m.text", "body": f"fan-out {k}"}}  # fmt: skip

                async def until_message(ws: aiohttp.ClientWebSocketResponse) -> None:
                    while True:
                        frame = await ws.receive_json(loads=orjson.loads)
                        if frame["type"] == "message.created":
                            return

                waiters = [asyncio.create_task(until_message(ws)) for ws in sockets]
                t0 = time.perf_counter()
                async with http.put(f"/_matrix/app/v1/transactions/fan{k}",
                                    json={"events": [event]}, headers=auth) as resp:  # fmt: skip
                    assert resp.status == 200
                await asyncio.gather(*waiters)
                fanout.append((time.perf_counter() - t0) * 1000)
            for ws in sockets:
                await ws.close()
            results.append(("fan-out to all sockets", percentile(fanout, 0.5),
                            percentile(fanout, 0.99), None))  # fmt: skip
            show(results[-1])

            # --- memory across connect/disconnect cycles ---------------------------------
            assert proc is not None
            before = rss_mb(proc.pid)
            for start in range(0, args.cycles, 50):
                batch = [
                    http.ws_connect("/api/v1/ws") for _ in range(min(50, args.cycles - start))
                ]
                opened = await asyncio.gather(*batch)
                for ws in opened:
                    await ws.receive_json()
                    await ws.close()
            await asyncio.sleep(1)
            after = rss_mb(proc.pid)
        await raw.close()
        print()
        print(f"inbox: {args.conversations} conversations, {args.messages} messages, "
              f"{args.samples} requests a case, {args.sockets} sockets")  # fmt: skip
        print(f"  {'case':28s} {'API p50':>9s} {'API p99':>9s} {'SQL p50':>9s} {'ratio':>6s}")
        for result in results:
            show(result)
        print(f"  memory: {before:.1f} MB before, {after:.1f} MB after {args.cycles} "
              f"connect/disconnect cycles: {after - before:+.1f} MB")  # fmt: skip
        print(f"  targets: list p99 <= {TARGETS['list']} ms, bundle p99 <= {TARGETS['bundle']} ms,"
              f" API/SQL <= {TARGETS['ratio']}, fan-out p99 <= {TARGETS['fanout']} ms,"
              f" memory growth < {TARGETS['memory']} MB")  # fmt: skip
    finally:
        await tear_down(proc, pg, workdir)


if __name__ == "__main__":
    asyncio.run(main())
