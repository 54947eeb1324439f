"""A throwaway Synapse on 127.0.0.1 with SQLite, for the tests and the demo.

It is the real homeserver (`matrix-synapse` from PyPI, run as a subprocess), configured for a
closed machine: no federation, no key servers, no URL previews, no presence, and every
appservice registration given to it loaded. It is tied to this process like the embedded
PostgreSQL: killed with it if it dies.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from typing import Any

import aiohttp
from ruamel.yaml import YAML

from crm_appservice.store.embedded import die_with_parent

log = logging.getLogger("crm.testbed.synapse")
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def reserved_port() -> int:
    """A free port below the kernel's ephemeral range: one a server can leave and take again
    (between tests) without a client's connection or another `free_port()` getting it meanwhile."""
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        low = int(f.read().split()[0])
    while True:
        port = 10_000 + secrets.randbelow(max(low - 10_000, 1))
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port


class LocalSynapse:
    def __init__(
        self,
        directory: str,
        server_name: str,
        registrations: list[str],
        port: int | None = None,
    ) -> None:
        self.directory = os.path.abspath(directory)
        self.server_name = server_name
        self.registrations = [os.path.abspath(p) for p in registrations]
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def config_path(self) -> str:
        return os.path.join(self.directory, "homeserver.yaml")

    @property
    def log_path(self) -> str:
        return os.path.join(self.directory, "homeserver.log")

    def write_config(self) -> None:
        os.makedirs(self.directory, exist_ok=True)
        d = self.directory
        log_config = os.path.join(d, "log.yaml")
        yaml = YAML()
        with open(log_config, "w") as f:
            yaml.dump(
                {
                    "version": 1,
                    "formatters": {
                        "p": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
                    },
                    "handlers": {
                        "file": {
                            "class": "logging.FileHandler",
                            "filename": self.log_path,
                            "formatter": "p",
                        }
                    },
                    "root": {"level": "WARNING", "handlers": ["file"]},
                    "disable_existing_loggers": False,
                },
                f,
            )
        config: dict[str, Any] = {
            "server_name": self.server_name,
            "pid_file": os.path.join(d, "homeserver.pid"),
            "listeners": [
                {
                    "port": self.port,
                    "bind_addresses": ["127.0.0.1"],
                    "type": "http",
                    "tls": False,
                    "x_forwarded": False,
                    "resources": [{"names": ["client", "media"], "compress": False}],
                }
            ],
            "database": {
                "name": "sqlite3",
                "args": {"database": os.path.join(d, "homeserver.db")},
            },
            "log_config": log_config,
            "media_store_path": os.path.join(d, "media_store"),
            "signing_key_path": os.path.join(d, "signing.key"),
            "trusted_key_servers": [],
            "suppress_key_server_warning": True,
            "report_stats": False,
            "macaroon_secret_key": secrets.token_urlsafe(32),
            "registration_shared_secret": secrets.token_urlsafe(32),
            "form_secret": secrets.token_urlsafe(32),
            "enable_registration": False,
            "federation_domain_whitelist": [],
            "url_preview_enabled": False,
            "presence": {"enabled": False},
            "max_upload_size": "100M",
            "enable_metrics": False,
            "app_service_config_files": self.registrations,
        }
        if os.path.exists(self.config_path):
            # Keep the secrets of an existing homeserver (the demo restarts it).
            with open(self.config_path) as f:
                old = yaml.load(f) or {}
            for key in ("macaroon_secret_key", "registration_shared_secret", "form_secret"):
                if key in old:
                    config[key] = old[key]
        with open(self.config_path, "w") as f:
            yaml.dump(config, f)

    def spawn(self) -> subprocess.Popen[bytes]:
        """Start the process; call from the main thread (its parent-death signal is per thread)."""
        self.write_config()
        with open(self.log_path, "ab") as log_file:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "synapse.app.homeserver", "-c", self.config_path],
                cwd=self.directory,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=die_with_parent,
            )
        return self.process

    async def start(self, startup_limit: float = 90) -> None:
        process = self.spawn()
        deadline = time.monotonic() + startup_limit
        async with aiohttp.ClientSession() as http:
            while True:
                if process.poll() is not None:
                    raise RuntimeError(
                        f"Synapse exited with code {process.returncode}, see {self.log_path}"
                    )
                try:
                    async with http.get(f"{self.url}/_matrix/client/versions") as resp:
                        if resp.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                if time.monotonic() > deadline:
                    await self.stop()
                    raise RuntimeError(f"Synapse did not start within {startup_limit:g} s")
                await asyncio.sleep(0.1)
        log.info("Synapse %s is up at %s", self.server_name, self.url)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    async def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.to_thread(process.wait, 30)
        except subprocess.TimeoutExpired:
            process.kill()
            await asyncio.to_thread(process.wait)
