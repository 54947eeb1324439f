"""The WebSocket hub: one per process, fed by PostgreSQL LISTEN/NOTIFY.

Every change is written to `live_events` in the transaction that makes it; the commit NOTIFYs
every instance. Each hub reads the new events in `seq` order (a transaction can commit after
later seqs did: the hub waits for a missing seq until every transaction that could hold it has
finished, as Synapse's stream id generators track unfinished ids, so no committed change is ever
skipped), builds each payload once (the
resource as it is now), and offers the frame to every connected socket. Each socket has its own
bounded queue and sender task: a slow browser never delays the others, and one whose queue
overflows is disconnected (it reconnects with `?since=` and catches up).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
import logging
import time
from typing import Any

from aiohttp import WSMsgType, web
import asyncpg
import orjson

from ..store import (
    conversations as conversation_store,
    deals as deal_store,
    feed,
    history,
    labels as label_store,
    messages as message_store,
    notes as note_store,
    pipelines as pipeline_store,
    views as view_store,
)
from ..store.database import Pool, listen_until_stopped, wait_for_either

log = logging.getLogger("crm.live")

QUEUE_SIZE = 256
HIDDEN = 0  # the frame cache's key of `conversation.hidden` (manager ids start at 1)
BATCH = 500
POLL_INTERVAL = 10.0
GAP_POLL = 0.05  # how often a missing seq is looked for again

Render = Callable[[str, asyncpg.Record, int], dict[str, Any]]
Builder = Callable[["Client"], bytes | None]
# How each kind of live event's resource is read, many at a time.
LOADERS: dict[str, Callable[[Any, list[int]], Awaitable[list[asyncpg.Record]]]] = {
    "conversation": conversation_store.by_ids,
    "message": message_store.by_ids,
    "note": note_store.notes_by_ids,
    "history": history.by_ids,
    "label": label_store.by_ids,
    "view": view_store.by_ids,
    "pipeline": pipeline_store.by_ids,
    "deal": deal_store.by_ids,
}
# Resources every manager sees, whoever the conversations are assigned to.
TEAM_WIDE = frozenset({"label", "pipeline"})
# Resources of one manager's or the team's (owner_id NULL): a personal one goes to its owner.
OWNED = frozenset({"view"})
# Events of a resource that is gone: the frame carries its id alone, for everyone.
GONE = frozenset({"label.deleted", "view.deleted", "pipeline.deleted", "deal.deleted"})


@dataclass(frozen=True)
class Closing:
    """Queued instead of a frame: the sender closes the connection with this code."""

    code: int
    reason: str


TOO_SLOW = Closing(4008, "too slow")


class Client:
    """One WebSocket connection and its bounded queue of frames."""

    def __init__(
        self,
        ws: web.WebSocketResponse,
        manager_id: int,
        restricted: bool = False,
        session_id: int | None = None,
        role: str | None = None,
    ) -> None:
        self.ws = ws
        self.manager_id = manager_id
        # Sees only the conversations assigned to them and the unassigned ones.
        self.restricted = restricted
        # The session it was opened with, and the manager's role then (live/guard.py).
        self.session_id = session_id
        self.role = role
        self.queue: asyncio.Queue[bytes | Closing] = asyncio.Queue(QUEUE_SIZE)
        self.overflowed = False
        self.ended = False
        # While a reconnecting client is replayed, live frames wait here, after the replay.
        self.held: list[bytes] | None = None

    def sees(self, assignee_id: int | None) -> bool:
        return not self.restricted or assignee_id is None or assignee_id == self.manager_id

    def owns(self, owner_id: int | None) -> bool:
        """A deal is a restricted manager's only when it is theirs (it names its customer)."""
        return not self.restricted or owner_id == self.manager_id

    def offer(self, frame: bytes | None) -> None:
        if frame is None or self.ended:
            return
        if self.held is not None:
            self.held.append(frame)
            if len(self.held) > QUEUE_SIZE:
                self.held = None
                self.overflowed = True
                self.end(TOO_SLOW.code, TOO_SLOW.reason)
            return
        self._put(frame)

    def _put(self, frame: bytes | None) -> None:
        if frame is None or self.ended:
            return
        try:
            self.queue.put_nowait(frame)
        except asyncio.QueueFull:
            self.overflowed = True
            self.end(TOO_SLOW.code, TOO_SLOW.reason)

    def end(self, code: int, reason: str) -> None:
        """Close with `code`; nothing queued and not yet sent goes out any more."""
        if self.ended:
            return
        self.ended = True
        self.held = None
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(Closing(code, reason))

    def release(self) -> None:
        held, self.held = self.held, None
        for frame in held or []:
            self._put(frame)

    async def send_loop(self) -> None:
        while True:
            frame = await self.queue.get()
            if isinstance(frame, Closing):
                await self.ws.close(code=frame.code, message=frame.reason.encode())
                return
            # The frame is already UTF-8 JSON: sent as a text frame as it is.
            await self.ws.send_frame(frame, WSMsgType.TEXT)


# Resources a restricted manager may not see all of: the field that says whose each is, and the
# rule on it. One they may not see comes as `<kind>.hidden` with its id, so their lists drop it;
# the other resources of a conversation (messages, notes, history) follow its assignee unsaid.
HIDEABLE: dict[str, tuple[str, Callable[[Client, int | None], bool]]] = {
    "conversation": ("assignee_id", Client.sees),
    "deal": ("owner_id", Client.owns),
}


class Hub:
    def __init__(self, pool: Pool, render: Render) -> None:
        self.pool = pool
        self.render = render
        self.clients: set[Client] = set()
        self.last_seq = 0
        self._wake = asyncio.Event()
        # A missing seq seen: (the newest seq read then, the transactions in progress then).
        # Once they have all finished, a seq up to that one that is still missing was rolled
        # back: its owner took it before the newer seq was taken, so it was among them.
        self._gap: tuple[int, list[int]] | None = None
        # Told of every batch of the feed's events, connected clients or not (caches).
        self.watchers: list[Callable[[list[asyncpg.Record]], None]] = []

    async def start(self) -> None:
        """Start after the newest committed seq, or before the first seq missing among the
        newest ones: a transaction that took it may commit right after this start."""
        async with self.pool.acquire() as conn:
            newest = (await feed.bounds(conn))[1]
            self.last_seq = newest
            # (A seq pruned or rolled back long ago looks missing too: it is passed as soon as
            # the transactions in progress now have ended.)
            expected = max(0, newest - BATCH) + 1
            for event in await feed.after(conn, expected - 1, BATCH):
                if event["seq"] != expected:
                    self.last_seq = expected - 1
                    self._gap = (newest, await feed.in_progress(conn))
                    break
                expected += 1

    def _notified(self, *_: object) -> None:
        self._wake.set()

    async def run(self, stopping: asyncio.Event) -> None:
        """Listen for NOTIFY and push; a lost connection is re-established."""
        await listen_until_stopped(
            self.pool,
            feed.CHANNEL,
            self._notified,
            lambda listener: self._pump_until(stopping, listener),
            stopping,
            retry_delay=1.0,
        )

    async def _pump_until(self, stopping: asyncio.Event, listener: Any) -> None:
        last_prune = 0.0
        while not stopping.is_set() and not listener.is_closed():
            self._wake.clear()
            more = await self.pump()
            if time.monotonic() - last_prune > 300:
                async with self.pool.acquire() as conn:
                    await feed.prune(conn)
                last_prune = time.monotonic()
            if more:
                continue
            timeout = GAP_POLL if self._gap is not None else POLL_INTERVAL
            await wait_for_either(self._wake, stopping, timeout)

    async def pump(self) -> bool:
        """Push the events committed since the last push; True if there may be more."""
        async with self.pool.acquire() as conn:
            events = await self._contiguous(conn, await feed.after(conn, self.last_seq, BATCH))
            if not events:
                return False
            for watch in self.watchers:
                watch(events)
            # Who gets these events is settled with last_seq, before any await: a client that
            # attaches from now on replays them from the feed itself (and gets each once).
            recipients = list(self.clients)
            self.last_seq = events[-1]["seq"]
            # Nobody connected here: nothing to read or render.
            frames = await self.frames(conn, events) if recipients else []
        for build in frames:
            for client in recipients:
                if client in self.clients:
                    client.offer(build(client))
        return len(events) == BATCH

    async def _contiguous(self, conn: Any, events: list[asyncpg.Record]) -> list[asyncpg.Record]:
        """Events up to the first seq that may still commit: a missing seq is skipped only once
        it is known to be rolled back (see `_gap`), never because it took long."""
        if not events:
            return events
        dead_upto = self.last_seq
        if self._gap is not None and await feed.all_finished(conn, self._gap[1]):
            dead_upto = self._gap[0]
            self._gap = None
            # What committed meanwhile is visible now; what is still missing is dead.
            events = await feed.after(conn, self.last_seq, BATCH)
        expected = self.last_seq + 1
        for i, event in enumerate(events):
            seq = event["seq"]
            if seq != expected and seq - 1 > dead_upto:
                if self._gap is None:
                    self._gap = (events[-1]["seq"], await feed.in_progress(conn))
                return events[:i]
            expected = seq + 1
        return events

    async def frames(self, conn: Any, events: list[asyncpg.Record]) -> list[Builder]:
        """One frame builder per event; payloads are read once, serialised once per viewer."""
        rows: dict[tuple[str, int], asyncpg.Record] = {}
        for kind, load in LOADERS.items():
            ids = [e["ref_id"] for e in events
                   if e["type"].startswith(kind + ".") and e["type"] not in GONE]  # fmt: skip
            if ids:
                for row in await load(conn, ids):
                    rows[kind, row["id"]] = row
        builders: list[Builder] = []
        for event in events:
            if event["type"] in GONE:
                builders.append(_gone(event["type"], event["seq"], event["ref_id"]))
                continue
            kind = event["type"].split(".", 1)[0]
            found = rows.get((kind, event["ref_id"]))
            if found is not None:
                builders.append(_builder(self.render, event["type"], event["seq"], found, kind))
        return builders

    async def attach(self, client: Client, since: int | None) -> None:
        """Start pushing to `client`, first replaying what it missed after `since`."""
        upto = self.last_seq  # taken with the registration, before any await
        self.clients.add(client)
        hello = {"type": "hello", "seq": upto, "data": None}
        if since is None or since >= upto:
            client.offer(orjson.dumps(hello))
            return
        client.held = []
        try:
            async with self.pool.acquire() as conn:
                oldest, _ = await feed.bounds(conn)
                if since < oldest - 1:
                    client._put(orjson.dumps({"type": "resync", "seq": upto, "data": None}))
                    return
                seq = since
                while seq < upto:
                    events = [e for e in await feed.after(conn, seq, BATCH) if e["seq"] <= upto]
                    if not events:
                        break
                    for build in await self.frames(conn, events):
                        client._put(build(client))
                    seq = events[-1]["seq"]
        finally:
            client.release()

    def detach(self, client: Client) -> None:
        self.clients.discard(client)

    async def close_all(self) -> None:
        for client in list(self.clients):
            await client.ws.close(code=1001, message=b"server shutdown")
        self.clients.clear()


def _builder(render: Render, etype: str, seq: int, row: asyncpg.Record, kind: str) -> Builder:
    """The frame of one event for a client: built once per viewer (a message's reactions say
    whether they are the viewer's). A client that may not see the conversation gets nothing,
    or for the conversation itself `conversation.hidden`, so its list drops it."""
    cache: dict[int, bytes] = {}
    owner = row["owner_id"] if kind in OWNED else None
    field, rule = HIDEABLE.get(kind, ("conversation_assignee_id", Client.sees))
    # Team-wide and owned resources are seen as an unassigned conversation is: by everyone.
    whose = None if kind in TEAM_WIDE or kind in OWNED else row[field]

    def build(client: Client) -> bytes | None:
        if owner is not None and client.manager_id != owner:
            return None
        if not rule(client, whose):
            if kind not in HIDEABLE:
                return None
            hidden = cache.get(HIDDEN)  # made once, for the first viewer who gets it
            if hidden is None:
                hidden = cache[HIDDEN] = orjson.dumps(
                    {"type": f"{kind}.hidden", "seq": seq, "data": {"id": row["id"]}}
                )
            return hidden
        viewer = client.manager_id
        frame = cache.get(viewer)
        if frame is None:
            frame = orjson.dumps({"type": etype, "seq": seq, "data": render(etype, row, viewer)})
            cache[viewer] = frame
        return frame

    return build


def _gone(etype: str, seq: int, ref_id: int) -> Builder:
    frame = orjson.dumps({"type": etype, "seq": seq, "data": {"id": ref_id}})
    return lambda _client: frame
