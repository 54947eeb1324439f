"""Ingest benchmark: appservice transactions pushed at a running CRM the way Synapse pushes them.

One transaction at a time (Synapse never has two in flight), 100 events each, spread over 500
WhatsApp portals: text (some HTML, some replies), media, the CRM's own messages, edits,
reactions, deletions, bridge send statuses, and read receipts as ephemeral events. It prints
events/s and the p50/p99 time until a transaction is acknowledged, and in the same run the speed
of a bare asyncpg batch insert of the same rows into a table with no indexes, and the ratio.

    .venv/bin/python bench/ingest.py [--transactions 300] [--runs 5]

It also times the parse path alone (reading the body and sorting its events, what runs in the
event loop before anything is stored) for one ordinary message and for adversarial ones: the
slowest is what one hostile customer message can cost every instance, on every retry.

Everything listens on 127.0.0.1 and stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import shutil
import signal
import socket
import statistics
import sys
import tempfile
import time
from typing import Any

import aiohttp
import asyncpg
from ruamel.yaml import YAML

from crm_appservice.appservice import body as body_reader
from crm_appservice.ingest.events import Parser
from crm_appservice.ingest.namespaces import Namespaces
from crm_appservice.store.embedded import EmbeddedPostgres
from crm_appservice.store.migrate import apply_migrations

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOMAIN = "crm.localhost"
BOT = f"@crm_bot:{DOMAIN}"
BRIDGE_BOT = f"@whatsappbot:{DOMAIN}"
HS_TOKEN = "bench-hs-token-0123456789abcdef"
AS_TOKEN = "bench-as-token-0123456789abcdef"
ROOMS = 500
EVENTS_PER_TXN = 100
WARMUP = 20

_ids = itertools.count(1)
_clock = itertools.count(1_750_000_000_000, 7)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Workload:
    """Realistic mautrix-whatsapp traffic over ROOMS portals."""

    def __init__(self, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.rooms = [f"!bench{i}:{DOMAIN}" for i in range(ROOMS)]
        self.phones = {room: f"4917{i:08d}" for i, room in enumerate(self.rooms)}
        self.incoming: list[tuple[str, str, str]] = []  # (room, sender, event_id)
        self.outgoing: list[tuple[str, str]] = []  # (room, event_id)

    def ghost(self, room: str) -> str:
        return f"@whatsapp_{self.phones[room]}:{DOMAIN}"

    def event(
        self,
        room: str,
        etype: str,
        sender: str,
        content: dict[str, Any],
        state_key: str | None = None,
    ) -> dict[str, Any]:
        ev = {
            "event_id": f"$bench{next(_ids)}",
            "room_id": room,
            "type": etype,
            "sender": sender,
            "origin_server_ts": next(_clock),
            "content": content,
            "unsigned": {"age": 3},
        }
        if state_key is not None:
            ev["state_key"] = state_key
        return ev

    def portals(self) -> list[list[dict[str, Any]]]:
        """Setup transactions: bridge state, the contact's ghost and the CRM's invite for every
        room."""
        events = []
        for room in self.rooms:
            phone = self.phones[room]
            events.append(
                self.event(
                    room,
                    "m.bridge",
                    BRIDGE_BOT,
                    {
                        "bridgebot": BRIDGE_BOT,
                        "com.beeper.room_type": "dm",
                        "protocol": {"id": "whatsapp", "displayname": "WhatsApp"},
                        "channel": {
                            "id": f"{phone}@s.whatsapp.net",
                            "displayname": f"Customer {phone}",
                            "fi.mau.receiver": "4915550000000",
                        },
                    },
                    state_key=f"{DOMAIN}/whatsapp",
                )
            )
            events.append(
                self.event(
                    room,
                    "m.room.member",
                    self.ghost(room),
                    {"membership": "join", "displayname": f"Customer {phone} (WA)"},
                    state_key=self.ghost(room),
                )
            )
            # The bridge invites the CRM's user: what makes the portal the CRM's.
            events.append(
                self.event(
                    room, "m.room.member", BRIDGE_BOT, {"membership": "invite"}, state_key=BOT
                )
            )
        return [events[i : i + EVENTS_PER_TXN] for i in range(0, len(events), EVENTS_PER_TXN)]

    def _text(self, room: str) -> dict[str, Any]:
        r = self.rng.random()
        body = "Hi, is the item still available? " * self.rng.randint(1, 3)
        content: dict[str, Any] = {"msgtype": "m.text", "body": body}
        if r < 0.15:
            content["format"] = "org.matrix.custom.html"
            content["formatted_body"] = "<b>Hi</b>, is the <i>item</i> still available?"
        elif r < 0.25 and self.incoming:
            target = self.rng.choice(self.incoming[-500:])
            content["m.relates_to"] = {"m.in_reply_to": {"event_id": target[2]}}
        ev = self.event(room, "m.room.message", self.ghost(room), content)
        self.incoming.append((room, ev["sender"], ev["event_id"]))
        return ev

    def _media(self, room: str) -> dict[str, Any]:
        kind = self.rng.choice(["m.image", "m.image", "m.video", "m.audio", "m.file"])
        info: dict[str, Any] = {
            "mimetype": "image/jpeg",
            "size": 123456,
            "w": 1280,
            "h": 960,
            "thumbnail_url": f"mxc://{DOMAIN}/thumb{next(_ids)}",
            "thumbnail_info": {"mimetype": "image/jpeg", "w": 320, "h": 240},
        }
        content: dict[str, Any] = {
            "msgtype": kind,
            "body": "photo.jpg",
            "filename": "photo.jpg",
            "url": f"mxc://{DOMAIN}/media{next(_ids)}",
            "info": info,
        }
        if kind == "m.audio":
            content["org.matrix.msc3245.voice"] = {}
            content["org.matrix.msc1767.audio"] = {"duration": 4100, "waveform": [0, 9, 30]}
            info["mimetype"] = "audio/ogg"
        ev = self.event(room, "m.room.message", self.ghost(room), content)
        self.incoming.append((room, ev["sender"], ev["event_id"]))
        return ev

    def transaction(self) -> dict[str, Any]:
        events: list[dict[str, Any]] = []
        ephemeral: list[dict[str, Any]] = []
        rng = self.rng
        while len(events) < EVENTS_PER_TXN:
            room = rng.choice(self.rooms)
            r = rng.random()
            if r < 0.66 or not self.incoming:
                events.append(self._text(room))
            elif r < 0.74:
                events.append(self._media(room))
            elif r < 0.78:
                ev = self.event(
                    room,
                    "m.room.message",
                    BOT,
                    {"msgtype": "m.text", "body": "Yes, it is in stock!"},
                )
                self.outgoing.append((room, ev["event_id"]))
                events.append(ev)
            elif r < 0.83:
                t_room, sender, target = rng.choice(self.incoming[-2000:])
                events.append(
                    self.event(
                        t_room,
                        "m.room.message",
                        sender,
                        {
                            "msgtype": "m.text",
                            "body": "* corrected",
                            "m.new_content": {"msgtype": "m.text", "body": "corrected"},
                            "m.relates_to": {"rel_type": "m.replace", "event_id": target},
                        },
                    )
                )
            elif r < 0.90:
                t_room, sender, target = rng.choice(self.incoming[-2000:])
                events.append(
                    self.event(
                        t_room,
                        "m.reaction",
                        sender,
                        {
                            "m.relates_to": {
                                "rel_type": "m.annotation",
                                "event_id": target,
                                "key": "👍",
                            }
                        },
                    )
                )
            elif r < 0.92:
                t_room, sender, target = rng.choice(self.incoming[-2000:])
                events.append(self.event(t_room, "m.room.redaction", sender, {"redacts": target}))
            elif self.outgoing:
                o_room, target = rng.choice(self.outgoing[-300:])
                events.append(
                    self.event(
                        o_room,
                        "com.beeper.message_send_status",
                        BRIDGE_BOT,
                        {
                            "m.relates_to": {"rel_type": "m.reference", "event_id": target},
                            "status": "SUCCESS",
                            "delivered_to_users": [self.ghost(o_room)],
                        },
                    )
                )
        for _ in range(5):
            if self.outgoing:
                o_room, target = rng.choice(self.outgoing[-300:])
                ephemeral.append(
                    {
                        "type": "m.receipt",
                        "room_id": o_room,
                        "content": {
                            target: {"m.read": {self.ghost(o_room): {"ts": next(_clock)}}}
                        },
                    }
                )
        return {"events": events, "ephemeral": ephemeral}


async def start_crm(workdir: str, dsn: str) -> tuple[asyncio.subprocess.Process, str]:
    port = free_port()
    yaml = YAML()
    with open(os.path.join(REPO, "config.example.yaml")) as f:
        config = yaml.load(f)
    config["homeserver"]["address"] = f"http://127.0.0.1:{free_port()}"  # nobody listens
    config["appservice"].update(
        port=port, address=f"http://127.0.0.1:{port}", as_token=AS_TOKEN, hs_token=HS_TOKEN
    )
    config["database"]["url"] = dsn
    config["logging"]["root"]["level"] = "ERROR"
    config["logging"]["loggers"] = {}
    path = os.path.join(workdir, "config.yaml")
    with open(path, "w") as f:
        yaml.dump(config, f)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "crm_appservice",
        "run",
        "-c",
        path,
        cwd=workdir,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    await wait_until_up(proc, f"{url}/healthz", "the CRM")
    return proc, url


async def wait_until_up(proc: asyncio.subprocess.Process, url: str, what: str) -> None:
    """Wait (up to a minute) until `url` answers 200; kill `proc` if it never does."""
    async with aiohttp.ClientSession() as http:
        for _ in range(600):
            try:
                async with http.get(url) as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"{what} did not start")


async def new_database(prefix: str) -> tuple[str, EmbeddedPostgres]:
    """A new temporary directory with a started, migrated embedded PostgreSQL in it (both
    removed again if it does not start); `tear_down` removes them after the run."""
    workdir = tempfile.mkdtemp(prefix=prefix)
    os.chmod(workdir, 0o755)
    pg = EmbeddedPostgres(os.path.join(workdir, "pg"))
    try:
        await pg.start()
        await asyncio.to_thread(apply_migrations, pg.dsn())
    except BaseException:
        await tear_down(None, pg, workdir)
        raise
    return workdir, pg


async def tear_down(
    proc: asyncio.subprocess.Process | None, pg: EmbeddedPostgres, workdir: str
) -> None:
    """Stop the CRM and the database a benchmark started, and remove their files."""
    if proc and proc.returncode is None:
        proc.send_signal(signal.SIGTERM)
        await proc.wait()
    await pg.stop_async()
    shutil.rmtree(workdir, ignore_errors=True)


async def push_all(url: str, bodies: list[bytes]) -> tuple[float, list[float]]:
    """Send transactions one at a time; returns (elapsed seconds, per-transaction ms)."""
    latencies: list[float] = []
    headers = {"Authorization": f"Bearer {HS_TOKEN}", "Content-Type": "application/json"}
    async with aiohttp.ClientSession() as http:
        start = time.perf_counter()
        for body in bodies:
            t0 = time.perf_counter()
            async with http.put(
                f"{url}/_matrix/app/v1/transactions/{next(_ids)}", data=body, headers=headers
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
            "event_id": f"$adv{next(_ids)}",
            "room_id": room,
            "type": "m.room.message",
            "sender": sender,
            "origin_server_ts": next(_clock),
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
