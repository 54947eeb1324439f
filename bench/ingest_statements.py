"""Where an ingest transaction's time goes: each statement, the parsing and the commit.

Writes the same workload as `bench/ingest.py` straight through the store (no HTTP), timing every
statement the store issues, the parser and the commit, and prints their medians, p99 and share
of a transaction. It is the profile behind the ingest figures in the README, kept runnable.

    .venv/bin/python -m bench.ingest_statements [--transactions 1500]

The database listens on a Unix socket in a temporary directory and stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
from collections import defaultdict
import statistics
import time
from typing import Any

import asyncpg
import orjson

from crm_appservice.ingest.events import Parser
from crm_appservice.ingest.namespaces import Namespaces
from crm_appservice.store import feed, ingest, people, portals, relations, statuses

from .common import BOT, DOMAIN, new_database, percentile, tear_down
from .workload import Workload

NAMES = {
    ingest._TXN_AND_RAW: "transaction id + raw events",
    portals.PORTALS: "portals",
    portals.ROOM_NAMES: "room names",
    people.CONTACTS: "contacts",
    ingest._MESSAGES: "messages + conversations",
    relations.EDITS: "edits",
    relations.REACTIONS: "reactions",
    relations.REDACTIONS: "deletions",
    statuses.STATUSES: "send statuses + receipts",
    ingest._INVITES: "invites",
    feed._RECORD: "live feed",
}


class Timed:
    """A connection whose statements, BEGIN and COMMIT are timed by name."""

    def __init__(self, conn: asyncpg.Connection, times: dict[str, list[float]]) -> None:
        self._conn = conn
        self._times = times

    def _timed(self, method: str) -> Any:
        call = getattr(self._conn, method)

        async def run(sql: str, *args: Any) -> Any:
            started = time.perf_counter()
            result = await call(sql, *args)
            self._times[NAMES.get(sql, "other")].append(time.perf_counter() - started)
            return result

        return run

    def __getattr__(self, name: str) -> Any:
        if name in ("fetch", "fetchrow", "fetchval", "execute"):
            return self._timed(name)
        return getattr(self._conn, name)

    def transaction(self) -> Any:
        inner = self._conn.transaction()
        times = self._times

        class Block:
            async def __aenter__(self) -> None:
                started = time.perf_counter()
                await inner.__aenter__()
                times["begin"].append(time.perf_counter() - started)

            async def __aexit__(self, *exc: Any) -> None:
                started = time.perf_counter()
                await inner.__aexit__(*exc)
                times["commit"].append(time.perf_counter() - started)

        return Block()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--transactions", type=int, default=1500)
    parser.add_argument("--history", type=int, default=300, help="transactions stored first")
    args = parser.parse_args()

    workdir, pg = await new_database("crm-bench-statements-")
    try:
        conn = await asyncpg.connect(pg.dsn())
        parse = Parser(
            Namespaces(DOMAIN, BOT, "crm_", ("whatsapp_.*",), ("whatsappbot",), (), (" (WA)",))
        )
        load = Workload()
        times: dict[str, list[float]] = defaultdict(list)
        known: set[str] = set()  # as the appservice handler: a known ghost needs no upsert
        timed: Any = Timed(conn, times)  # stands in for the connection

        async def push(body: dict[str, Any], txn: int) -> None:
            text = orjson.dumps(body).decode()
            started = time.perf_counter()
            batch = parse(body["events"], body.get("ephemeral", []), "ephemeral")
            times["parsing"].append(time.perf_counter() - started)
            batch.contacts = {
                mxid: c
                for mxid, c in batch.contacts.items()
                if not (c["from_message"] and mxid in known)
            }
            known.update(batch.contacts)
            started = time.perf_counter()
            await ingest.write_transaction(
                timed, f"t{txn}", text, len(body["events"]), batch, parse
            )
            times["whole transaction"].append(time.perf_counter() - started)

        txn = 0
        for events in load.portals():
            txn += 1
            await push({"events": events}, txn)
        for _ in range(args.history):
            txn += 1
            await push(load.transaction(), txn)
        await conn.execute("ANALYZE")
        times.clear()
        for _ in range(args.transactions):
            txn += 1
            await push(load.transaction(), txn)
        await conn.close()

        n = args.transactions
        print(f"ingest statements: {n} transactions of 100 events over 500 portals")
        print(f"  {'step':30s} {'ms/txn':>7s} {'median':>7s} {'p99':>7s} {'share':>6s}")
        whole = sum(times["whole transaction"])
        for name, values in sorted(times.items(), key=lambda kv: -sum(kv[1])):
            share = "" if name == "whole transaction" else f"{sum(values) / whole:6.0%}"
            print(
                f"  {name:30s} {sum(values) * 1000 / n:7.2f}"
                f" {statistics.median(values) * 1000:7.2f}"
                f" {percentile(values, 0.99) * 1000:7.2f} {share:>6s}"
            )
        print("  (parsing is outside the whole transaction; the rest is inside it)")
    finally:
        await tear_down(None, pg, workdir)


if __name__ == "__main__":
    asyncio.run(main())
