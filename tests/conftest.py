"""The test harness: one throwaway PostgreSQL cluster per run, a fresh database per test.

The cluster is the product's own embedded server (the same code `database.url: embedded` runs),
in a temporary directory. Migrations are applied once to a template database; each test gets a
copy made with CREATE DATABASE … TEMPLATE, ahead of time (tests/databases.py). Everything is
removed at the end, also when tests fail; if pytest itself is killed, the server's parent-death
signal stops it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
import itertools
import json
import os
import shutil
import socket
import tempfile
from typing import TYPE_CHECKING, Any
import uuid

from aiohttp.test_utils import TestClient
from argon2 import PasswordHasher
import asyncpg
import pytest
from pytest_aiohttp import AiohttpClient
from ruamel.yaml import YAML

from crm_appservice.config import Settings, load
from crm_appservice.server import POOL, create_app
from crm_appservice.store.embedded import EmbeddedPostgres
from crm_appservice.store.migrate import apply_migrations

from .databases import FreshDatabases

if TYPE_CHECKING:
    from .matrix_world import SharedMatrix, World

TEMPLATE_DB = "crm_template"
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLE_CONFIG = os.path.join(REPO, "crm_appservice", "example-config.yaml")
# Every migration of the package, in the order they apply.
ALL_MIGRATIONS = sorted(
    name.removesuffix(".sql")
    for name in os.listdir(os.path.join(REPO, "migrations"))
    if name.endswith(".sql")
)


def reachable_tempdir(prefix: str) -> str:
    """A temporary directory that the unprivileged PostgreSQL user can enter when we are root
    (mkdtemp and pytest's tmp_path are 0700)."""
    path = tempfile.mkdtemp(prefix=prefix)
    os.chmod(path, 0o755)
    return path


# Fixtures that start a real Synapse: a test using one is marked `synapse`.
SYNAPSE_FIXTURES = {"world", "matrix"}
SLOW_MODULES = {"test_e2e", "test_outbox", "test_outbox_media", "test_slow_homeserver",
                "test_emulator_provisioning", "test_whatsapp", "test_demo"}  # fmt: skip


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the tests that start Synapse or Chromium, for the quick loop to leave out."""
    for item in items:
        module = item.module.__name__.rsplit(".", 1)[-1] if item.module else ""
        fixtures = set(getattr(item, "fixturenames", ()))
        if module.startswith("test_browser"):
            item.add_marker(pytest.mark.browser)
        elif module in SLOW_MODULES or fixtures & SYNAPSE_FIXTURES:
            item.add_marker(pytest.mark.synapse)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[EmbeddedPostgres]:
    root = reachable_tempdir("crm-test-pg-")
    server = EmbeddedPostgres(os.path.join(root, "data"))
    try:
        server.start_sync()
        asyncio.run(server.create_database(TEMPLATE_DB))
        apply_migrations(server.dsn(TEMPLATE_DB))
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def fresh_databases(pg_server: EmbeddedPostgres) -> Iterator[FreshDatabases]:
    databases = FreshDatabases(pg_server, TEMPLATE_DB)
    yield databases
    databases.stop()


@pytest.fixture(scope="session")
def matrix() -> Iterator[SharedMatrix]:
    """One Synapse for the run's end-to-end tests (per xdist worker): tests/matrix_world.py."""
    from .matrix_world import SharedMatrix  # that module builds on this one

    shared = SharedMatrix()
    shared.start()
    try:
        yield shared
    finally:
        shared.stop()


@pytest.fixture
async def world(
    matrix: SharedMatrix, db_dsn: str, make_config: ConfigFactory, workdir: str
) -> AsyncIterator[World]:
    """Synapse (the run's), a fresh emulator and a CRM on this test's database."""
    from .matrix_world import running_world

    async for w in running_world(make_config, workdir, db_dsn, shared=matrix):
        yield w


@pytest.fixture
async def empty_db(pg_server: EmbeddedPostgres) -> AsyncIterator[str]:
    """A DSN of a new database without any schema."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    await pg_server.create_database(name)
    yield pg_server.dsn(name)
    await drop_database(pg_server, name)


@pytest.fixture
async def db_dsn(
    pg_server: EmbeddedPostgres, fresh_databases: FreshDatabases
) -> AsyncIterator[str]:
    """A DSN of a new database with the current schema, for this test alone."""
    name = await asyncio.to_thread(fresh_databases.take)
    yield pg_server.dsn(name)
    fresh_databases.give_back(name)


async def drop_database(server: EmbeddedPostgres, name: str) -> None:
    conn = await asyncpg.connect(server.dsn("postgres"))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture
async def pool(db_dsn: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await asyncpg.create_pool(db_dsn, min_size=1, max_size=5)
    yield pool
    await pool.close()


@pytest.fixture
def workdir() -> Iterator[str]:
    path = reachable_tempdir("crm-test-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


ConfigFactory = Callable[..., str]


def write_config(directory: str, overrides: dict[str, Any] | None = None) -> str:
    """Copy the example config into `directory`, setting dotted keys from `overrides`."""
    yaml = YAML()
    with open(EXAMPLE_CONFIG) as f:
        data = yaml.load(f)
    # The directories the CRM writes to live in the test's own directory.
    data["media"]["spool_dir"] = os.path.join(directory, "outbox")
    data["media"]["cache_dir"] = os.path.join(directory, "media-cache")
    for key, value in (overrides or {}).items():
        node = data
        *parents, last = key.split(".")
        for part in parents:
            node = node[part]
        if value is _DELETE:
            del node[last]
        else:
            node[last] = value
    path = os.path.join(directory, "config.yaml")
    with open(path, "w") as f:
        yaml.dump(data, f)
    os.chmod(path, 0o600)  # as the CRM writes it (a readable one is warned about)
    return path


_DELETE = object()


@pytest.fixture
def make_config(workdir: str) -> ConfigFactory:
    def factory(overrides: dict[str, Any] | None = None) -> str:
        return write_config(workdir, overrides)

    return factory


@pytest.fixture
def delete_marker() -> object:
    return _DELETE


AS_TOKEN = "as-token-for-tests-0123456789abcdef"
HS_TOKEN = "hs-token-for-tests-0123456789abcdef"


# A port held (bound, never listening) for the whole run: connecting to it is refused, and no
# server of another test can take it, as one could take a port that was merely free.
_CLOSED = socket.socket()
_CLOSED.bind(("127.0.0.1", 0))


def closed_port() -> int:
    """A port where nothing ever listens: a homeserver or database that is not there."""
    return int(_CLOSED.getsockname()[1])


def offline_settings(make_config: ConfigFactory, overrides: dict[str, Any]) -> Settings:
    """Settings with tokens, pointing at a homeserver address where nothing listens; test
    modules that need other settings override the `settings` fixture with this."""
    path = make_config(
        {
            "appservice.as_token": AS_TOKEN,
            "appservice.hs_token": HS_TOKEN,
            "homeserver.address": f"http://127.0.0.1:{closed_port()}",
            **overrides,
        }
    )
    return load(path)[1]


async def bearer(db: asyncpg.Pool, manager_id: int) -> dict[str, str]:
    """Headers of a new API token of the manager (they win over the test client's cookie)."""
    from crm_appservice.store import sessions

    async with db.acquire() as conn:
        token, _ = await sessions.create(conn, manager_id, "api_token", None, "tests")
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def settings(make_config: ConfigFactory) -> Settings:
    return offline_settings(
        make_config,
        {
            "appservice.max_body_size": 1,
            # Replies meet the missing homeserver: fail them quickly.
            "outbox.retry_initial_delay": 0.05,
            "outbox.retry_max_delay": 0.2,
            "outbox.max_attempts": 3,
        },
    )


_txn = itertools.count(1)


class Homeserver:
    """Pushes transactions the way Synapse does."""

    def __init__(self, client: TestClient) -> None:  # type: ignore[type-arg]
        self.client = client

    async def push(
        self,
        events: list[Any],
        ephemeral: list[Any] | None = None,
        txn_id: str | None = None,
        token: str | None = HS_TOKEN,
        body: Any = None,
    ) -> tuple[int, Any]:
        payload: Any = body if body is not None else {"events": events}
        if ephemeral is not None:
            payload["ephemeral"] = ephemeral
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        resp = await self.client.put(
            f"/_matrix/app/v1/transactions/{txn_id or next(_txn)}", data=data, headers=headers
        )
        return resp.status, await resp.json()

    async def ok(self, events: list[Any], **kw: Any) -> None:
        status, body = await self.push(events, **kw)
        assert (status, body) == (200, {})


@pytest.fixture
async def client(db_dsn: str, settings: Settings, aiohttp_client: AiohttpClient) -> TestClient:  # type: ignore[type-arg]
    return await aiohttp_client(create_app(settings, db_dsn))


@pytest.fixture
def hs(client: TestClient) -> Homeserver:  # type: ignore[type-arg]
    return Homeserver(client)


@pytest.fixture
async def db(client: TestClient) -> AsyncIterator[asyncpg.Pool]:  # type: ignore[type-arg]
    yield client.app[POOL]


async def count(db: asyncpg.Pool, table: str) -> int:
    return int(await db.fetchval(f"SELECT count(*) FROM {table}"))


class API:
    """A manager's client of the inbox API: logs in and sends the CSRF header on changes."""

    def __init__(self, client: TestClient, csrf: str | None = None) -> None:  # type: ignore[type-arg]
        self.client = client
        self.csrf = csrf

    async def login(self, email: str, password: str) -> Any:
        resp = await self.client.post(
            "/api/v1/auth/login", json={"email": email, "password": password}
        )
        body = await resp.json()
        if resp.status == 200:
            self.csrf = body["csrf_token"]
        return resp.status, body

    async def call(self, method: str, path: str, **kw: Any) -> tuple[int, Any]:
        headers = dict(kw.pop("headers", {}))
        if self.csrf and method not in ("GET", "HEAD"):
            headers.setdefault("X-CSRF-Token", self.csrf)
        resp = await self.client.request(method, path, headers=headers, **kw)
        return resp.status, await resp.json()

    async def get(self, path: str, **kw: Any) -> Any:
        status, body = await self.call("GET", path, **kw)
        assert status == 200, body
        return body


async def define(api: API, **kinds: str | list[str]) -> None:
    """Contact attributes, as an admin defines them: key=kind, or key=[choices]."""
    for key, kind in kinds.items():
        body = {"kind": "choice", "choices": kind} if isinstance(kind, list) else {"kind": kind}
        status, made = await api.call(
            "POST", "/api/v1/contact-attributes", json={"label": key.title(), "key": key, **body}
        )
        assert status == 201, made


PASSWORD = "correct horse battery staple"
# Managers made by fixtures get a real argon2id hash of PASSWORD with the lightest parameters:
# each login of a test verifies it in a fraction of a millisecond instead of ~110 ms. Managers
# made through the API or the command line get the product's own parameters.
PASSWORD_HASH = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)


@pytest.fixture
def add_manager(db: asyncpg.Pool) -> Callable[..., Any]:
    from crm_appservice.store import managers

    async def add(
        email: str, role: str = "manager", name: str | None = None, hashed: str = PASSWORD_HASH
    ) -> int:
        name = name or email.split("@")[0]
        manager, _ = await managers.create(db, email, name, role, hashed)
        return manager.id

    return add


@pytest.fixture
async def api(client: TestClient, add_manager: Callable[..., Any]) -> API:  # type: ignore[type-arg]
    await add_manager("anna@example.com", role="admin", name="Anna")
    session = API(client)
    status, _ = await session.login("anna@example.com", PASSWORD)
    assert status == 200
    return session
