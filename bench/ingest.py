"""Ingest benchmark: appservice transactions pushed at a running CRM the way Synapse pushes them.

One transaction at a time (Synapse never has two in flight), 100 events each, spread over 500
WhatsApp portals: text (some HTML, some replies), media, the CRM's own messages, edits,
reactions, deletions, bridge send statuses, and read receipts as ephemeral events. It prints
events/s and the p50/p99 time until a transaction is acknowledged, and in the same run the speed
of a bare asyncpg batch insert of the same rows into a table with no indexes, and the ratio.

    .venv/bin/python -m bench.ingest [--transactions 300] [--runs 5]

It also times the parse path alone (reading the body and sorting its events, what runs in the
event loop before anything is stored) for one ordinary message and for adversarial ones: the
slowest is what one hostile customer message can cost every instance, on every retry.

Everything listens on 127.0.0.1 and stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from typing import Any

import aiohttp
import asyncpg

from crm_appservice.appservice import body as body_reader
from crm_appservice.ingest.events import Parser
from crm_appservice.ingest.namespaces import Namespaces

from .common import BOT, DOMAIN, HS_TOKEN, new_database, percentile, start_crm, tear_down
from .workload import EVENTS_PER_TXN, ROOMS, Workload, next_id, next_ts

WARMUP = 20


async def push_all(url: str, bodies: list[bytes]) -> tuple[float, list[float]]:
    """Send transactions one at a time; returns (elapsed seconds, per-transaction ms)."""
    latencies: list[float] = []
    headers = {"Authorization": f"Bearer {HS_TOKEN}", "Content-Type": "application/json"}
    async with aiohttp.ClientSession() as http:
        start = time.perf_counter()
        for body in bodies:
            t0 = time.perf_counter()
            async with http.put(
                f"{url}/_matrix/app/v1/transactions/{next_id()}", data=body, headers=headers
            ) as resp:
                await resp.read()
                if resp.status != 200:
                    raise RuntimeError(f"transaction answered {resp.status}")
            latencies.append((time.perf_counter() - t0) * 1000)
        return time.perf_counter() - start, latencies


async def raw_baseline(dsn: str, txns: list[dict[str, Any]]) -> float:
    """Rows/s of a bare batch insert of the same events, one database transaction each."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS bench_bare (event_id text, room_id text, sender text,"
            " event_type text, content jsonb, ts bigint)"
        )
        columns = [
            (
                [e["event_id"] for e in t["events"]],
                [e["room_id"] for e in t["events"]],
                [e["sender"] for e in t["events"]],
                [e["type"] for e in t["events"]],
                [json.dumps(e["content"]) for e in t["events"]],
                [e["origin_server_ts"] for e in t["events"]],
            )
            for t in txns
        ]
        start = time.perf_counter()
        rows = 0
        for cols in columns:
            async with conn.transaction():
                await conn.execute(
                    "INSERT INTO bench_bare SELECT * FROM unnest($1::text[], $2::text[],"
                    " $3::text[], $4::text[], $5::jsonb[], $6::bigint[])",
                    *cols,
                )
            rows += len(cols[0])
        return rows / (time.perf_counter() - start)
    finally:
        await conn.close()


def adversarial_bodies() -> dict[str, bytes]:
    """One transaction of one event each: an ordinary message, and messages built to be slow
    or to break a parser (each at most 64 KB, what Synapse lets an event be)."""
    room, sender = f"!adv:{DOMAIN}", f"@whatsapp_4917000001:{DOMAIN}"

    def message(content: dict[str, Any]) -> dict[str, Any]:
        return {
            "event_id": f"$adv{next_id()}",
            "room_id": room,
            "type": "m.room.message",
            "sender": sender,
            "origin_server_ts": next_ts(),
            "content": content,
        }

    def body_of(*events: Any) -> bytes:
        return json.dumps({"events": list(events)}).encode()

    reply = {"m.in_reply_to": {"event_id": "$x"}}
    deep = "[" * 300 + "]" * 300
    return {
        "ordinary text": body_of(message({"msgtype": "m.text", "body": "Is it in stock?"})),
        "60 KB of quoted lines": body_of(
            message({"msgtype": "m.text", "body": "> quoted\n" * 6500, "m.relates_to": reply})
        ),
        "deep nesting + NUL": body_of(
            message({"msgtype": "m.text", "body": "a\u0000b", "x": json.loads(deep)})
        ),
        "nesting past 1,024": b'{"events":[' + b"[" * 30000 + b"]" * 30000 + b"]}",
        "10,000 nested <div>": body_of(
            message(
                {
                    "msgtype": "m.text",
                    "body": "x",
                    "format": "org.matrix.custom.html",
                    "formatted_body": "<div>" * 10000,
                }
            )
        ),
        "900 <b> tags, 50 KB text": body_of(
            message(
                {
                    "msgtype": "m.text",
                    "body": "x",
                    "format": "org.matrix.custom.html",
                    "formatted_body": "<b>x</b>" * 900 + "x" * 50000,
                }
            )
        ),
        "lone surrogates": body_of(message({"msgtype": "m.text", "body": "x"})).replace(
            b'"x"', b'"' + b"\\ud800" * 10000 + b'"'
        ),
        "60 KB geo URI": body_of(
            message({"msgtype": "m.location", "body": "", "geo_uri": "geo:1" + "1" * 60000})
        ),
    }


def parse_times(repeats: int) -> dict[str, tuple[float, float]]:
    """(median, max) ms to read and parse each body, over `repeats` runs."""
    parse = Parser(
        Namespaces(DOMAIN, BOT, "crm_", ("whatsapp_.*",), ("whatsappbot",), (), (" (WA)",))
    )
    times: dict[str, tuple[float, float]] = {}
    for name, data in adversarial_bodies().items():
        samples = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            read = body_reader.read(data)
            parse(read.parsed["events"], [])
            samples.append((time.perf_counter() - t0) * 1000)
        times[name] = (statistics.median(samples), max(samples))
    return times


def print_parse_times(repeats: int) -> None:
    times = parse_times(repeats)
    print(f"parse path, one event per transaction ({repeats} runs each): median / max ms")
    for name, (median, worst) in times.items():
        print(f"  {name:24s} {median:8.3f} / {worst:8.3f}")
    slowest = max(times, key=lambda n: times[n][1])
    ordinary = times["ordinary text"][0]
    print(
        f"  slowest: {slowest}, {times[slowest][1]:.2f} ms max"
        f" ({times[slowest][0] / ordinary:.0f}x the ordinary message's median)"
    )
    print()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--transactions", type=int, default=300, help="per run")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--history", type=int, default=200, help="transactions stored first")
    parser.add_argument("--parse-runs", type=int, default=50, help="runs of each parse body")
    args = parser.parse_args()
    print_parse_times(args.parse_runs)

    workdir, pg = await new_database("crm-bench-")
    proc = None
    try:
        proc, url = await start_crm(workdir, pg.dsn())
        load = Workload()
        setup = [json.dumps({"events": t}).encode() for t in load.portals()]
        await push_all(url, setup)
        conn = await asyncpg.connect(pg.dsn())
        portals = await conn.fetchval("SELECT count(*) FROM conversations")
        await conn.close()
        if portals != ROOMS:
            raise RuntimeError(f"{portals} of {ROOMS} portals became conversations")
        # A CRM that has been running: some history, and statistics as autovacuum keeps them.
        history = [json.dumps(load.transaction()).encode() for _ in range(args.history)]
        await push_all(url, history)
        conn = await asyncpg.connect(pg.dsn())
        await conn.execute("ANALYZE")
        await conn.close()
        warm = [load.transaction() for _ in range(WARMUP)]
        await push_all(url, [json.dumps(t).encode() for t in warm])

        rates, all_latencies, baselines = [], [], []
        for run in range(1, args.runs + 1):
            txns = [load.transaction() for _ in range(args.transactions)]
            bodies = [json.dumps(t).encode() for t in txns]
            n_events = sum(len(t["events"]) + len(t["ephemeral"]) for t in txns)
            elapsed, latencies = await push_all(url, bodies)
            rate = n_events / elapsed
            baseline = await raw_baseline(pg.dsn(), txns)
            rates.append(rate)
            baselines.append(baseline)
            all_latencies.extend(latencies)
            print(
                f"run {run}: {rate:8.0f} events/s   ack p50 {percentile(latencies, 0.5):5.1f} ms"
                f"  p99 {percentile(latencies, 0.99):5.1f} ms   raw insert {baseline:8.0f}"
                f" rows/s   ratio {rate / baseline:.2f}"
            )
        conn = await asyncpg.connect(pg.dsn())
        stored = await conn.fetchval("SELECT count(*) FROM messages")
        await conn.close()
        median_rate, median_base = statistics.median(rates), statistics.median(baselines)
        print()
        print(
            f"ingest: {args.runs} runs x {args.transactions} transactions x "
            f"{EVENTS_PER_TXN} events over {ROOMS} portals ({stored} messages stored)"
        )
        print(f"  events/s (median of runs):     {median_rate:8.0f}   (target >= 10000)")
        print(f"  ack p50 over all transactions: {percentile(all_latencies, 0.5):8.1f} ms")
        print(
            f"  ack p99 over all transactions: {percentile(all_latencies, 0.99):8.1f} ms"
            "   (target < 30 ms)"
        )
        print(f"  raw asyncpg batch insert:      {median_base:8.0f} rows/s")
        print(f"  ratio ingest / raw insert:     {median_rate / median_base:8.2f}")
    finally:
        await tear_down(proc, pg, workdir)


if __name__ == "__main__":
    asyncio.run(main())
