"""`python -m testbed.demo -c config.yaml`: the product with a local Matrix world.

One process runs a local Synapse, the bridge emulator and the CRM itself (the same `Program` as
`crm-appservice run`). A few customers have chats with the business and write in now and then,
so the real flow can be watched: emulator → Synapse → CRM. Ctrl+C stops everything.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import logging.config
import os
import random
import sys

from crm_appservice.config import ConfigError, Settings, load
from crm_appservice.program import Program

from .chats import Portal
from .emulator import BridgeEmulator, with_bridge
from .world import LocalMatrix

log = logging.getLogger("crm.demo")

CUSTOMERS = {
    "4915112345678": "Anna Schmidt",
    "31612345678": "Daan de Vries",
    "447700900123": "Olivia Brown",
    "5511987654321": "Lucas Silva",
}
LINES = [
    "Hi! Is the blue sofa still available?",
    "What are your opening hours on Saturday?",
    "Can you deliver to Utrecht next week?",
    "Thanks, the order arrived today 👍",
    "Could you send me the invoice again?",
    "Do you have this in size M?",
    "How long does shipping take?",
    "Is there a discount for 3 pieces?",
]


def _portals_file(directory: str) -> str:
    return os.path.join(directory, "portals.json")


def _load_portals(directory: str, emulator: BridgeEmulator) -> list[Portal]:
    try:
        with open(_portals_file(directory)) as f:
            saved = json.load(f)
    except (OSError, ValueError):
        return []
    portals = [Portal(**p) for p in saved]
    for portal in portals:
        emulator.portals[portal.room_id] = portal
    return portals


def _save_portals(directory: str, portals: list[Portal]) -> None:
    with open(_portals_file(directory), "w") as f:
        json.dump([p.__dict__ for p in portals], f)


async def _customers(matrix: LocalMatrix, stopping: asyncio.Event, interval: float) -> None:
    emulator = matrix.emulator
    portals = await asyncio.to_thread(_load_portals, matrix.directory, emulator)
    if not portals:
        for phone, name in CUSTOMERS.items():
            portal = await emulator.create_portal(phone, name)
            await emulator.send_text(portal, phone, random.choice(LINES))  # noqa: S311
            portals.append(portal)
        await asyncio.to_thread(_save_portals, matrix.directory, portals)
    while not stopping.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), interval * random.uniform(0.5, 1.5))  # noqa: S311
        if stopping.is_set():
            return
        portal = random.choice(portals)  # noqa: S311
        try:
            await emulator.send_text(portal, portal.phones[0], random.choice(LINES))  # noqa: S311
        except Exception as e:  # the demo keeps going whatever one message does
            log.warning("A customer could not write: %s", e)


async def run(settings: Settings, registration: str, directory: str, interval: float) -> None:
    matrix = LocalMatrix(
        directory,
        settings.homeserver.domain,
        registration,
        f"@{settings.appservice.bot_username}:{settings.homeserver.domain}",
        synapse_port=settings.homeserver.address.port,
    )
    matrix.emulator.provisioning.auto_complete_after = 8.0
    await matrix.start()
    # Connecting WhatsApp and opening a chat talk to the emulator's provisioning API, as they
    # would to the bridge's (unless the config names a bridge of its own).
    if settings.bridge.provisioning_url is None:
        settings = with_bridge(settings, matrix.emulator)
    program = Program(settings)
    crm = asyncio.create_task(program.run())
    customers = asyncio.create_task(_customers(matrix, program.stopping, interval))
    try:
        await crm
    finally:
        program.stopping.set()
        customers.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await customers
        await matrix.stop()


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m testbed.demo")
    parser.add_argument("-c", "--config", default="config.yaml")
    parser.add_argument("-r", "--registration", default="registration.yaml")
    parser.add_argument("--dir", default="testbed", help="where Synapse and the emulator live")
    parser.add_argument("--interval", type=float, default=30.0, help="seconds between messages")
    args = parser.parse_args()
    try:
        _, settings = load(args.config)
    except ConfigError as e:
        print(f"demo: config error: {e}", file=sys.stderr)
        return 2
    if not settings.appservice.has_tokens or not os.path.exists(args.registration):
        print("demo: run `crm-appservice generate-registration` first", file=sys.stderr)
        return 2
    logging.config.dictConfig(settings.logging)
    asyncio.run(run(settings, os.path.abspath(args.registration), args.dir, args.interval))
    return 0


if __name__ == "__main__":
    sys.exit(main())
