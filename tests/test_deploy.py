"""What CI can check of the deployment without a Docker engine: the compose file and the
templates parse and reference files that exist, setup.sh renders configs the programs accept
(the CRM's with its own loader) and is safe to run twice, and the Dockerfile builds the way the
README does."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

from ruamel.yaml import YAML

from crm_appservice.config import load

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
    assert re.search(r"location /_matrix/ \{\s*return 404;", conf)
    body = int(re.search(r"client_max_body_size (\d+)m", conf).group(1))  # type: ignore[union-attr]
    assert body > 50  # the default attachment limit, in MiB


def test_setup_renders_configs_the_programs_accept_and_runs_twice(workdir: str) -> None:
    copy = os.path.join(workdir, "docker")
    shutil.copytree(DOCKER, copy, ignore=shutil.ignore_patterns("data"))
    run = [
        os.path.join(copy, "setup.sh"),
        "--configs-only",
        "shop.example",
        "https://inbox.shop.example",
    ]
    subprocess.run(run, check=True, capture_output=True)
    secrets = {n: open(os.path.join(copy, "data", "secrets", n)).read()  # noqa: SIM115
               for n in os.listdir(os.path.join(copy, "data", "secrets"))}  # fmt: skip
    again = subprocess.run(run, check=True, capture_output=True, text=True)
    assert "kept data/crm/config.yaml" in again.stdout
    assert secrets == {n: open(os.path.join(copy, "data", "secrets", n)).read()  # noqa: SIM115
                       for n in os.listdir(os.path.join(copy, "data", "secrets"))}  # fmt: skip
    assert all(len(v) >= 32 for v in secrets.values())

    crm = os.path.join(copy, "data", "crm", "config.yaml")
    settings = load(crm)[1]  # the product's own loader and validation
    assert settings.homeserver.domain == "shop.example"
    assert str(settings.web.public_url) == "https://inbox.shop.example"
    assert settings.database.url.endswith("@postgres/crm")
    assert settings.bridge.provisioning_secret == secrets["provisioning_secret"]
    assert settings.web.static_dir == "/opt/crm-appservice/web/dist"

    bridge = _yaml(os.path.join(copy, "data", "mautrix-whatsapp", "config.yaml"))
    assert bridge["matrix"]["message_status_events"] is True
    assert bridge["matrix"]["delivery_receipts"] is True
    assert bridge["encryption"]["allow"] is False
    assert bridge["provisioning"]["shared_secret"] == secrets["provisioning_secret"]
    assert bridge["bridge"]["permissions"]["@crm_bot:shop.example"] == "admin"
    synapse = _yaml(os.path.join(copy, "data", "synapse", "homeserver.yaml"))
    assert synapse["server_name"] == "shop.example"
    assert synapse["app_service_config_files"] == ["/appservices/crm.yaml",
                                                   "/appservices/whatsapp.yaml"]  # fmt: skip
    rendered = [crm, os.path.join(copy, "data", "synapse", "homeserver.yaml"),
                os.path.join(copy, "data", "mautrix-whatsapp", "config.yaml")]  # fmt: skip
    for path in rendered:
        with open(path) as f:
            assert not re.search(r"@[A-Z_]+@", f.read()), path  # every placeholder filled


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
