"""How mautrix-whatsapp logs in, step by step and at its pace: the emulator's login processes.

Read from mautrix-whatsapp's pkg/connector/login.go and mautrix-go's
bridgev2/matrix/provisioninglogin.go (v26.08). Durations are the bridge's, multiplied by
`Logins.time_scale` (tests make them short without changing their shape).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
import re
import secrets
import time
from typing import Any

QR_STEP = "fi.mau.whatsapp.login.qr"
PHONE_STEP = "fi.mau.whatsapp.login.phone"
CODE_STEP = "fi.mau.whatsapp.login.code"
PASSKEY_STEP = "fi.mau.whatsapp.login.passkey"
COMPLETE_STEP = "fi.mau.whatsapp.login.complete"
# login.go qrIntervals: the first code lasts a minute, then five more of 20 s each; after the
# last one the login ends with ErrLoginTimeout.
QR_INTERVALS = (60.0, 20.0, 20.0, 20.0, 20.0, 20.0)
# provisioninglogin.go: every login process ends after 30 minutes whatever happens.
PROCESS_DEADLINE = 30 * 60.0


class LoginError(Exception):
    """An error answer of the provisioning API (status, errcode, message)."""

    def __init__(self, status: int, errcode: str, message: str) -> None:
        super().__init__(message)
        self.status, self.errcode, self.message = status, errcode, message


# login.go ErrLoginTimeout; provisioninglogin.go ErrLoginCancelled and the lookup's 404.
TIMEOUT = LoginError(400, "FI.MAU.WHATSAPP.LOGIN_TIMEOUT",
                     "Entering code or scanning QR timed out. Please try again.")  # fmt: skip
CANCELLED = LoginError(410, "FI.MAU.BRIDGE.LOGIN_CANCELLED", "Login was cancelled")
NOT_FOUND = LoginError(404, "M_NOT_FOUND", "Login not found")
# provisioninglogin.go with provisioning.fail_on_webauthn: true.
PASSKEY_UNSUPPORTED = LoginError(400, "COM.BEEPER.WEBAUTHN_UNSUPPORTED",
                                 "Logging in with a passkey is not yet supported")  # fmt: skip


@dataclass
class Process:
    id: str
    flow: str
    started: float = field(default_factory=time.monotonic)
    step_id: str = QR_STEP
    txn_id: str = ""
    qr_index: int = 0
    codes: dict[int, str] = field(default_factory=dict)
    phone: str | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)
    outcome: LoginError | str | None = None  # an error, or the login id it completed with
    waiting: int = 0  # waits in progress
    shown: dict[str, Any] = field(default_factory=dict)  # the step answered last

    def new_txn(self) -> str:
        self.txn_id = f"bls_{secrets.token_hex(10)}"
        return self.txn_id


@dataclass
class Logins:
    """The login processes of one emulated bridge, and the logins they made."""

    owner_phone: str
    time_scale: float = 1.0
    # None: no passkey asked; "step": the wait answers a webauthn step (the bridge's default);
    # "error": the bridge was set up with provisioning.fail_on_webauthn: true.
    passkey: str | None = None
    processes: dict[str, Process] = field(default_factory=dict)
    logins: list[str] = field(default_factory=list)

    def step(self, process: Process, kind: str, data: str, instructions: str) -> dict[str, Any]:
        process.shown = {
            "login_id": process.id,
            "type": "display_and_wait",
            "step_id": process.step_id,
            "txn_id": process.new_txn(),
            "instructions": instructions,
            "display_and_wait": {"type": kind, "data": data},
        }
        return process.shown

    def _qr(self, process: Process) -> dict[str, Any]:
        code = process.codes.setdefault(
            process.qr_index,
            f"2@{secrets.token_urlsafe(24)},{secrets.token_urlsafe(16)},{secrets.token_hex(8)}",
        )
        return self.step(process, "qr", code, "Scan the QR code with the WhatsApp app")

    def start(self, flow: str) -> dict[str, Any]:
        """Any flow but `phone` is a QR login (login.go CreateLogin)."""
        process = Process(id=secrets.token_hex(8), flow="phone" if flow == "phone" else "qr")
        self.processes[process.id] = process
        if process.flow == "qr":
            return self._qr(process)
        process.step_id = PHONE_STEP
        field_ = {"type": "phone_number", "id": "phone_number", "name": "Phone number",
                  "description": "Your WhatsApp phone number in international format"}  # fmt: skip
        return {"login_id": process.id, "type": "user_input", "step_id": PHONE_STEP,
                "txn_id": process.new_txn(), "instructions": "",
                "user_input": {"fields": [field_]}}  # fmt: skip

    def get(self, login_id: str, step_id: str) -> Process:
        process = self.processes.get(login_id)
        if process is None:
            raise NOT_FOUND
        if step_id != process.step_id:  # MBadState has no status code of its own: 500
            raise LoginError(500, "M_BAD_STATE", "Step ID does not match")
        return process

    def _finish(self, process: Process, outcome: LoginError | str) -> None:
        """The login is over; a wait held now, or the next one, is told how."""
        if process.outcome is None:
            process.outcome = outcome
            process.done.set()

    def complete(self, login_id: str | None = None) -> None:
        """The phone scanned the code or entered the pairing code (the newest login by
        default): the bridge has the login at once, whether a wait is held or not."""
        process = self.processes[login_id] if login_id else list(self.processes.values())[-1]
        login = process.phone or self.owner_phone
        if login not in self.logins:
            self.logins.append(login)
        self._finish(process, login)

    def cancel(self, login_id: str) -> None:
        process = self.processes.get(login_id)
        if process is None:
            raise NOT_FOUND
        self._finish(process, CANCELLED)
        if not process.waiting:
            self.processes.pop(process.id, None)

    def phone_number(self, process: Process, value: str) -> dict[str, Any]:
        """whatsmeow PairPhone: non-digits dropped, more than 6 digits, no leading 0; an error
        ends the login."""
        phone = re.sub(r"\D", "", value)
        error = None
        if len(phone) <= 6:
            error = LoginError(400, "FI.MAU.WHATSAPP.PHONE_NUMBER_TOO_SHORT",
                               "Phone number too short")  # fmt: skip
        elif phone.startswith("0"):
            error = LoginError(400, "FI.MAU.WHATSAPP.PHONE_NUMBER_NOT_INTERNATIONAL",
                               "Phone number must be in international format")  # fmt: skip
        if error:
            self.processes.pop(process.id, None)
            raise error
        process.phone, process.step_id = phone, CODE_STEP
        code = f"{secrets.token_hex(2).upper()}-{secrets.token_hex(2).upper()}"
        return self.step(process, "code", code, "Input the pairing code in the WhatsApp app")

    def told(self, process: Process) -> None:
        """A caller heard how the login ended: the process is gone (a wait whose caller had
        hung up tells nobody, and the next one hears it: provisioninglogin.go keeps sm.next)."""
        if process.outcome is not None:
            self.processes.pop(process.id, None)

    def _qr_index_now(self, process: Process) -> int:
        """The code that is current by the clock, which runs from the first one (len: none)."""
        elapsed, end = (time.monotonic() - process.started) / self.time_scale, 0.0
        for index, interval in enumerate(QR_INTERVALS):
            end += interval
            if elapsed < end:
                return index
        return len(QR_INTERVALS)

    async def wait(self, process: Process, txn_id: str | None) -> dict[str, Any]:
        """A display_and_wait call: held until the next code, the end of the login, or an
        error. A call while another is held joins it when it names the step's txn_id; without
        it, the bridge answers the current step at once (provisioninglogin.go, sm.prev)."""
        if process.outcome is None and process.waiting and txn_id is None:
            return process.shown
        if self.passkey and process.outcome is None:
            if self.passkey == "error":
                self.processes.pop(process.id, None)
                raise PASSKEY_UNSUPPORTED
            process.step_id = PASSKEY_STEP
            key = {"challenge": secrets.token_urlsafe(32)}
            return {"login_id": process.id, "type": "webauthn", "step_id": PASSKEY_STEP,
                    "txn_id": process.new_txn(), "instructions": "",
                    "webauthn": {"url": "https://web.whatsapp.com", "publicKey": key}}  # fmt: skip
        if process.outcome is None:
            if process.flow == "qr":
                end = sum(QR_INTERVALS[: process.qr_index + 1])
            else:  # the pairing code: held until the phone pairs (no timer of the bridge's)
                end = PROCESS_DEADLINE
            limit = process.started + end * self.time_scale - time.monotonic()
            process.waiting += 1
            try:
                await asyncio.wait_for(process.done.wait(), max(limit, 0))
            except TimeoutError:
                index = self._qr_index_now(process)
                if process.flow == "qr" and index < len(QR_INTERVALS):
                    process.qr_index = index
                    return self._qr(process)
                self._finish(process, TIMEOUT)
            finally:
                process.waiting -= 1
        outcome = process.outcome
        if isinstance(outcome, LoginError):
            raise outcome
        return {"login_id": process.id, "type": "complete", "step_id": COMPLETE_STEP,
                "txn_id": process.new_txn(),
                "instructions": f"Successfully logged in as +{outcome}",
                "complete": {"user_login_id": outcome}}  # fmt: skip
