"""Synapse and the bridge emulator wired together for a CRM: what the tests and the demo run.

The CRM's registration is generated first (its URL and tokens), then the emulator's, then Synapse
starts with both; the CRM itself is started by the caller (in the test process, or as
`crm-appservice run` for the demo).
"""

from __future__ import annotations

import os

from ruamel.yaml import YAML

from .emulator import BridgeEmulator
from .synapse import LocalSynapse, free_port, reserved_port


class LocalMatrix:
    def __init__(
        self,
        directory: str,
        server_name: str,
        crm_registration: str,
        crm_user: str,
        synapse_port: int | None = None,
    ) -> None:
        self.directory = os.path.abspath(directory)
        self.server_name = server_name
        self.crm_registration = crm_registration
        self.synapse_port = synapse_port or free_port()
        self.emulator = BridgeEmulator(
            homeserver=f"http://127.0.0.1:{self.synapse_port}",
            domain=server_name,
            crm_user=crm_user,
        )
        # The bridge's double puppet acts with the CRM's token (double_puppet.secrets).
        with open(crm_registration) as f:
            self.emulator.crm_as_token = str(YAML(typ="safe").load(f)["as_token"])
        self.synapse: LocalSynapse | None = None

    @property
    def homeserver_url(self) -> str:
        return f"http://127.0.0.1:{self.synapse_port}"

    def _write_emulator_registration(self) -> str:
        os.makedirs(self.directory, exist_ok=True)
        path = os.path.join(self.directory, "whatsapp-registration.yaml")
        with open(path, "w") as f:
            YAML().dump(self.emulator.registration(), f)
        return path

    def _synapse(self) -> LocalSynapse:
        self.synapse = LocalSynapse(
            os.path.join(self.directory, "synapse"),
            self.server_name,
            [self.crm_registration, self._write_emulator_registration()],
            port=self.synapse_port,
        )
        return self.synapse

    async def start(self) -> None:
        await self.emulator.listen()
        await self._synapse().start()
        await self.emulator.start()

    async def stop(self) -> None:
        await self.emulator.stop()
        if self.synapse:
            await self.synapse.stop()

    # --- one homeserver for many tests ------------------------------------------------------
    # Synapse takes seconds to start; the emulator, milliseconds. A shared world starts Synapse
    # once (`start_homeserver`) and gives each test a new emulator (`renew`): no portals, no
    # login, on the port and tokens Synapse was registered with.

    async def start_homeserver(self) -> None:
        """Synapse only, with the emulator's registration on a port kept for it."""
        self.emulator.port = reserved_port()
        await self._synapse().start()

    async def renew(self) -> BridgeEmulator:
        """A fresh emulator on the registered port, Synapse started again if a test stopped it."""
        old = self.emulator
        self.emulator = BridgeEmulator(
            homeserver=old.homeserver,
            domain=old.domain,
            crm_user=old.crm_user,
            as_token=old.as_token,
            hs_token=old.hs_token,
            port=old.port,
            crm_as_token=old.crm_as_token,
        )
        assert self.synapse, "start_homeserver() first"
        if not self.synapse.running:
            await self.synapse.start()
        await self.emulator.listen()
        await self.emulator.start()
        return self.emulator
