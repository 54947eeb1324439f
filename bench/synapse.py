"""A real Synapse (SQLite) with the bridge emulator beside the CRM, for the benchmarks that go
through the homeserver (the outbox, the media proxy)."""

from __future__ import annotations

from collections.abc import AsyncIterator
import contextlib
from dataclasses import dataclass
import os

from ruamel.yaml import YAML

from crm_appservice.config import load
from crm_appservice.registration import build_registration
from crm_appservice.store.embedded import EmbeddedPostgres
from testbed.world import LocalMatrix

from .common import (
    AS_TOKEN,
    BOT,
    DOMAIN,
    HS_TOKEN,
    free_port,
    new_database,
    run_crm,
    tear_down,
    write_config,
)


@dataclass
class Testbed:
    workdir: str
    pg: EmbeddedPostgres
    matrix: LocalMatrix
    url: str  # the CRM's


@contextlib.asynccontextmanager
async def crm_with_synapse() -> AsyncIterator[Testbed]:
    """PostgreSQL, a real Synapse with the bridge emulator, and the CRM as its own process, all
    on 127.0.0.1 and all stopped (and their files removed) afterwards."""
    workdir, pg = await new_database("crm-bench-")
    proc = None
    hs_port = free_port()
    matrix: LocalMatrix | None = None
    try:
        config, port = write_config(workdir, pg.dsn(), hs_port)
        registration = os.path.join(workdir, "registration.yaml")
        with open(registration, "w") as f:
            YAML().dump(build_registration(load(config)[1], AS_TOKEN, HS_TOKEN), f)
        matrix = LocalMatrix(os.path.join(workdir, "tb"), DOMAIN, registration, BOT, hs_port)
        await matrix.start()
        proc, url = await run_crm(workdir, config, port)
        yield Testbed(workdir, pg, matrix, url)
    finally:
        if matrix is not None:
            await matrix.stop()
        await tear_down(proc, pg, workdir)
