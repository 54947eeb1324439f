"""Synapse and the bridge emulator wired together for a CRM: what the tests and the demo run.

The CRM's registration is generated first (its URL and tokens), then the emulator's, then Synapse
starts with both; the CRM itself is started by the caller (in the test process, or as
`crm-appservice run` for the demo).
"""

from __future__ import annotations

import os

from ruamel.yaml import YAML

from .emulator import BridgeEmulator
from .synapse import LocalSynapse, free_port


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

    async def start(self) -> None:
        await self.emulator.listen()
        emulator_registration = self._write_emulator_registration()
        self.synapse = LocalSynapse(
            os.path.join(self.directory, "synapse"),
            self.server_name,
            [self.crm_registration, emulator_registration],
            port=self.synapse_port,
        )
        await self.synapse.start()
        await self.emulator.start()

    async def stop(self) -> None:
        await self.emulator.stop()
        if self.synapse:
            await self.synapse.stop()
