"""What CI can check of the deployment without a Docker engine: the compose file and the
templates parse and reference files that exist, setup.sh renders configs the programs accept
(the CRM's with its own loader) and is safe to run twice, and the Dockerfile builds the way the
README does."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile

import aiohttp
import pytest
from ruamel.yaml import YAML

from crm_appservice.config import load
from testbed.synapse import LocalSynapse

from .conftest import ALL_MIGRATIONS
from .setup_runner import can, on_host

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCKER = os.path.join(REPO, "docker")


def _yaml(path: str) -> dict:  # type: ignore[type-arg]
    with open(path) as f:
        data = YAML(typ="safe").load(f)
    assert isinstance(data, dict), path
    return data


def test_compose_file_and_what_it_references() -> None:
    compose = _yaml(os.path.join(DOCKER, "docker-compose.yml"))
    services = compose["services"]
    assert set(services) == {"postgres", "synapse", "mautrix-whatsapp", "crm", "nginx"}
    assert services["mautrix-whatsapp"]["image"].startswith("dock.mau.dev/mautrix/whatsapp")
    build = services["crm"]["build"]
    assert os.path.isfile(os.path.join(DOCKER, build["context"], build["dockerfile"]))
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./") and not source.startswith("./data/"):
                assert os.path.exists(os.path.join(DOCKER, source)), (name, source)
    # Only nginx publishes a port: /_matrix/app stays on the internal network.
    assert [n for n, s in services.items() if s.get("ports")] == ["nginx"]


def test_nginx_passes_the_websocket_and_hides_the_appservice_api() -> None:
    with open(os.path.join(DOCKER, "nginx", "nginx.conf")) as f:
        conf = f.read()
    ws = conf[conf.index("location = /api/v1/ws") :]
    ws = ws[: ws.index("}")]
    assert "proxy_set_header Upgrade $http_upgrade" in ws
    timeout = int(re.search(r"proxy_read_timeout (\d+)s", ws).group(1))  # type: ignore[union-attr]
    assert timeout > 3 * 25  # well above the CRM's 25 s heartbeat
    # (What it refuses, however spelt, is tried against a real nginx: test_nginx.py.)
    assert re.search(r"location \^~ /_matrix/ \{\s*return 404;", conf)
    body = int(re.search(r"client_max_body_size (\d+)m", conf).group(1))  # type: ignore[union-attr]
    assert body > 50  # the default attachment limit, in MiB


# The users the services run as (docker/setup.sh), and two that must read nothing of theirs.
UIDS = {"synapse": 991, "mautrix-whatsapp": 1337, "crm": 29340, "postgres": 999, "nobody": 65534}
# Every file setup.sh leaves in data/, and exactly who may read it.
READERS = {
    "synapse/homeserver.yaml": {"synapse"},
    "synapse/signing.key": {"synapse"},
    "synapse/appservices/crm.yaml": {"synapse"},
    "synapse/appservices/whatsapp.yaml": {"synapse"},
    "crm/config.yaml": {"crm"},
    "crm/registration.yaml": {"crm"},
    "mautrix-whatsapp/config.yaml": {"mautrix-whatsapp"},
    "mautrix-whatsapp/registration.yaml": {"mautrix-whatsapp"},
    **{f"secrets/{name}": set() for name in (
        "postgres_password", "provisioning_secret", "crm_as_token", "crm_hs_token",
        "synapse_registration", "synapse_macaroon", "synapse_form")},
}  # fmt: skip


def _setup(copy: str) -> subprocess.CompletedProcess[str]:
    runner = os.path.join(copy, "runner")
    with open(runner, "w") as f:
        runs = [sys.executable, os.path.join(REPO, "tests", "setup_runner.py")]
        f.write(f'#!/bin/sh\nexec {" ".join(runs)} {os.path.join(copy, "data")} "$@"\n')
    os.chmod(runner, 0o755)
    env = {**os.environ, "SETUP_RUNNER": runner, "PYTHONPATH": REPO}
    run = [os.path.join(copy, "setup.sh"), "shop.example", "https://inbox.shop.example"]
    done = subprocess.run(run, capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def _read(path: str) -> str:
    with open(path) as f:
        return f.read()


def test_setup_gives_each_service_exactly_its_files_and_runs_twice(workdir: str) -> None:
    """docker/setup.sh as an admin runs it (as root), with its container steps run here: every
    file a service reads is readable by that service's user and by no other, the tokens agree
    everywhere, and a second run keeps everything."""
    copy = os.path.join(workdir, "docker")
    shutil.copytree(DOCKER, copy, ignore=shutil.ignore_patterns("data"))
    _setup(copy)
    data = os.path.join(copy, "data")
    found = {os.path.relpath(os.path.join(d, n), data) for d, _, ns in os.walk(data) for n in ns}
    assert found == set(READERS)
    for rel, readers in READERS.items():
        path = os.path.join(data, rel)
        assert not os.stat(path).st_mode & 0o077, rel  # nothing for group or others
        can_read = {name for name, uid in UIDS.items() if can(uid, "-r", path)}
        assert can_read == readers, (rel, can_read)
    for service in ("synapse", "mautrix-whatsapp", "crm"):
        writers = {n for n, uid in UIDS.items() if can(uid, "-w", os.path.join(data, service))}
        assert writers == {service}, (service, writers)

    secrets = {r: _read(os.path.join(data, r)) for r in READERS if r.startswith("secrets/")}
    assert all(len(v) >= 32 for v in secrets.values())
    crm_registration = _yaml(os.path.join(data, "crm", "registration.yaml"))
    bridge_registration = _yaml(os.path.join(data, "mautrix-whatsapp", "registration.yaml"))
    # Synapse's copies are the registrations.
    assert _yaml(os.path.join(data, "synapse", "appservices", "crm.yaml")) == crm_registration
    copied = _yaml(os.path.join(data, "synapse", "appservices", "whatsapp.yaml"))
    assert copied == bridge_registration
    settings = load(os.path.join(data, "crm", "config.yaml"))[1]  # the product's own loader
    crm_token = secrets["secrets/crm_as_token"]
    assert settings.appservice.as_token == crm_registration["as_token"] == crm_token
    assert settings.appservice.hs_token == crm_registration["hs_token"]
    assert settings.homeserver.domain == "shop.example"
    assert str(settings.web.public_url) == "https://inbox.shop.example"
    assert settings.database.url.endswith("@postgres/crm")
    assert settings.bridge.provisioning_secret == secrets["secrets/provisioning_secret"]
    assert settings.web.static_dir == "/opt/crm-appservice/web/dist"
    bridge = _yaml(os.path.join(data, "mautrix-whatsapp", "config.yaml"))
    # The bridge's double puppet is the CRM's user, with the token the CRM really has.
    assert bridge["double_puppet"]["secrets"] == {"shop.example": f"as_token:{crm_token}"}
    assert bridge["appservice"]["as_token"] == bridge_registration["as_token"]
    assert bridge["provisioning"]["shared_secret"] == secrets["secrets/provisioning_secret"]
    assert bridge["bridge"]["permissions"]["@crm_bot:shop.example"] == "admin"
    synapse = _yaml(os.path.join(data, "synapse", "homeserver.yaml"))
    assert synapse["server_name"] == "shop.example"
    for path in (os.path.join(data, s, "config.yaml") for s in ("crm", "mautrix-whatsapp")):
        assert not re.search(r"@[A-Z_]+@", _read(path)), path  # every placeholder filled
    assert not re.search(r"@[A-Z_]+@", _read(os.path.join(data, "synapse", "homeserver.yaml")))

    log = os.path.join(copy, "runner.log")
    calls = _read(log).splitlines()
    assert [c.split()[0] for c in calls] == ["crm", "mautrix-whatsapp", "synapse"]
    before = {rel: _read(os.path.join(data, rel)) for rel in READERS}
    again = _setup(copy)
    assert "kept data/crm/config.yaml" in again.stdout
    assert _read(log).splitlines() == calls  # nothing made a second time
    assert {rel: _read(os.path.join(data, rel)) for rel in READERS} == before


def test_setup_refuses_to_run_unprivileged(workdir: str) -> None:
    copy = os.path.join(workdir, "docker")
    shutil.copytree(DOCKER, copy, ignore=shutil.ignore_patterns("data"))
    os.chmod(workdir, 0o777)
    setup = [os.path.join(copy, "setup.sh"), "shop.example", "https://inbox.shop.example"]
    run = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *setup]
    done = subprocess.run(run, capture_output=True, text=True, check=False)
    assert done.returncode == 1 and "run as root" in done.stderr
    assert not os.path.exists(os.path.join(copy, "data"))


def test_the_wheel_holds_the_product_and_not_the_testbed(workdir: str) -> None:
    """What `pip install .` (the Dockerfile's) installs: the config template, the migrations, the
    statements read at import, the type marker; the testbed and the tests stay in the checkout."""
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", workdir, REPO],
        capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    [wheel] = [n for n in os.listdir(workdir) if n.endswith(".whl")]
    with zipfile.ZipFile(os.path.join(workdir, wheel)) as z:
        names = set(z.namelist())
    for data in ("example-config.yaml", "py.typed", "store/statements/ingest_messages.sql"):
        assert f"crm_appservice/{data}" in names
    assert {f"crm_appservice/migrations/{m}.sql" for m in ALL_MIGRATIONS} <= names
    assert not [n for n in names if n.startswith(("testbed/", "tests/", "bench/"))]
    assert not [n for n in names if "/testbed/" in n]


def test_dockerfile_builds_like_the_readme() -> None:
    with open(os.path.join(DOCKER, "Dockerfile")) as f:
        dockerfile = f.read()
    with open(os.path.join(REPO, "README.md")) as f:
        readme = f.read()
    assert "(cd web && npm ci && npm run build)" in readme and "pip install ." in readme
    assert "RUN npm ci" in dockerfile and "RUN npm run build" in dockerfile
    assert "pip install --no-cache-dir ." in dockerfile
    assert re.search(r"^USER crm$", dockerfile, re.M)  # not root
    assert "COPY --from=web /src/web/dist /opt/crm-appservice/web/dist" in dockerfile


class RenderedSynapse(LocalSynapse):
    """Synapse from PyPI on the homeserver.yaml setup.sh rendered, as the image would run it: its
    /data paths are the data directory's, and only what cannot work outside compose changes (the
    database is SQLite instead of the postgres service, the listener 127.0.0.1 on a free port)."""

    def __init__(self, rendered: str, directory: str) -> None:
        super().__init__(directory, "shop.example", [])
        self.rendered = rendered

    def write_config(self) -> None:
        os.makedirs(self.directory, exist_ok=True)
        config = YAML(typ="safe").load(on_host(self.rendered))
        database = os.path.join(self.directory, "hs.db")
        config["database"] = {"name": "sqlite3", "args": {"database": database}}
        (listener,) = config["listeners"]
        listener.update(port=self.port, bind_addresses=["127.0.0.1"])
        with open(self.config_path, "w") as f:
            YAML().dump(config, f)


@pytest.mark.synapse
async def test_synapse_starts_on_the_rendered_config_with_both_registrations(
    workdir: str,
) -> None:
    copy = os.path.join(workdir, "docker")
    shutil.copytree(DOCKER, copy, ignore=shutil.ignore_patterns("data"))
    _setup(copy)
    data = os.path.join(copy, "data")
    rendered = os.path.join(data, "synapse", "homeserver.yaml")
    synapse = RenderedSynapse(rendered, os.path.join(workdir, "synapse"))
    crm = _yaml(os.path.join(data, "crm", "registration.yaml"))["as_token"]
    bridge = _yaml(os.path.join(data, "mautrix-whatsapp", "registration.yaml"))["as_token"]
    await synapse.start()
    try:
        async with aiohttp.ClientSession() as http:

            async def whoami(token: str, query: str = "") -> str:
                url = f"{synapse.url}/_matrix/client/v3/account/whoami{query}"
                async with http.get(url, headers={"Authorization": f"Bearer {token}"}) as resp:
                    assert resp.status == 200, await resp.text()
                    return str((await resp.json())["user_id"])

            assert await whoami(crm) == "@crm_bot:shop.example"
            assert await whoami(bridge) == "@whatsappbot:shop.example"
            # The bridge's double puppet with the CRM's token: its first call, as the CRM's user.
            as_user = "?user_id=%40crm_bot%3Ashop.example"
            assert await whoami(crm, as_user) == "@crm_bot:shop.example"
    finally:
        await synapse.stop()


def _leaves(node: object, prefix: str = "") -> list[str]:
    if isinstance(node, dict) and node:
        return [leaf for k, v in node.items() for leaf in _leaves(v, f"{prefix}{k}.")]
    return [prefix[:-1]]


def test_the_bridge_template_uses_only_keys_the_bridge_keeps() -> None:
    """The bridge rewrites its config without the keys it does not know: a misspelt key would
    quietly be its default. Every leaf of the template is one of the bridge's own keys."""
    known = [line for line in _read(os.path.join(DOCKER, "mautrix-whatsapp", "known-keys.txt"))
             .splitlines() if line and not line.startswith("#")]  # fmt: skip
    free = tuple(k[:-1] for k in known if k.endswith(".*"))

    def unknown(tree: object) -> list[str]:
        return [k for k in _leaves(tree) if k not in known and not k.startswith(free)]

    template = _yaml(os.path.join(DOCKER, "mautrix-whatsapp", "config.yaml"))
    assert unknown(template) == []
    assert {"bridge.personal_filtering_spaces", "network.enable_status_broadcast"} <= set(known)
    # What this deployment relies on, at the values it needs.
    assert template["bridge"]["personal_filtering_spaces"] is False
    assert template["network"]["enable_status_broadcast"] is False
    assert template["backfill"]["enabled"] is True
    assert template["matrix"]["message_status_events"] is True
    assert template["matrix"]["delivery_receipts"] is True
    assert template["encryption"]["allow"] is False
    # A misspelling is caught: the check is not vacuous.
    misspelt = {"bridge": {"personal_filtering_space": False}}
    assert unknown(misspelt) == ["bridge.personal_filtering_space"]
