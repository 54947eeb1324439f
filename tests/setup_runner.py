"""`docker compose run --rm --no-deps SERVICE COMMAND…` for docker/setup.sh without a Docker
engine: each service's /data is its directory under DATA, and the command runs on this machine.

    setup_runner.py DATA SERVICE COMMAND...

- crm: the CRM itself (`crm-appservice …`), once its user (29340) is checked to be able to read
  its config and write its directory, as the image's `USER crm` would need.
- mautrix-whatsapp: the bridge's `-g` is not available here; this writes what it writes (from the
  sources of mautrix-go's mxmain `GenerateRegistration` and appservice `Registration.Save`): new
  tokens in its config, rewritten whole (mode 0600), and a registration (0600), as root, which is
  whom `docker compose run` with a command runs as in that image.
- synapse: `run -m synapse.app.homeserver …` is Synapse from PyPI, with the container's /data paths
  of its config pointed at the directory; its user (991) is checked first as for the CRM.
Every call is appended to DATA/../runner.log.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

from ruamel.yaml import YAML

from testbed.emulator import registration

UIDS = {"synapse": 991, "crm": 29340}


def can(uid: int, *test: str) -> bool:
    """`test(1)` run as uid with no other group: the kernel's own permission check."""
    run = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "test", *test]
    return subprocess.run(run, check=False).returncode == 0


def main(data: str, service: str, *command: str) -> int:
    home = os.path.join(data, service)
    with open(os.path.join(data, "..", "runner.log"), "a") as log:
        log.write(f"{service} {' '.join(command)}\n")
    args = [a.replace("/data/", home + "/") for a in command]
    if service in UIDS:
        config = args[args.index("-c") + 1]
        if not can(UIDS[service], "-r", config, "-a", "-w", home):
            print(f"{service} ({UIDS[service]}) cannot read {config} or write {home}",
                  file=sys.stderr)  # fmt: skip
            return 1
    if service == "crm" and args[0] == "crm-appservice":
        return subprocess.run([sys.executable, "-m", "crm_appservice", *args[1:]]).returncode
    if service == "synapse" and args[:3] == ["run", "-m", "synapse.app.homeserver"]:
        return subprocess.run([sys.executable, "-m", "synapse.app.homeserver", *host_paths(home,
                              args[3:])]).returncode  # fmt: skip
    if service == "mautrix-whatsapp" and args[0] == "/usr/bin/mautrix-whatsapp" and "-g" in args:
        bridge_generate(args[args.index("-c") + 1], args[args.index("-r") + 1])
        return 0
    print(f"no stand-in for: {service} {' '.join(command)}", file=sys.stderr)
    return 2


def on_host(path: str) -> str:
    """A config's text with the container's /data/ paths naming the directory it is in."""
    with open(path) as f:
        return f.read().replace("/data/", os.path.dirname(os.path.abspath(path)) + "/")


def host_paths(home: str, args: list[str]) -> list[str]:
    """Synapse's config names /data/… paths: a copy beside DATA names the directory instead."""
    path = args[args.index("-c") + 1]
    copy = os.path.join(home, "..", "..", "homeserver.host.yaml")
    with open(copy, "w") as f:
        f.write(on_host(path))
    return [copy if a == path else a for a in args]


def bridge_generate(config_path: str, registration_path: str) -> None:
    yaml = YAML()
    with open(config_path) as f:
        config = yaml.load(f)
    aps = config["appservice"]
    aps["as_token"], aps["hs_token"] = secrets.token_urlsafe(48), secrets.token_urlsafe(48)
    reg = registration(config["homeserver"]["domain"], aps["address"], aps["as_token"],
                       aps["hs_token"])  # fmt: skip
    for path, content in ((registration_path, reg), (config_path, config)):
        tmp = f"{path}.new"
        with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            yaml.dump(content, f)
        os.replace(tmp, path)


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
