"""The bridge's provisioning API (bridgev2: `/_matrix/provision/v3/...`), called server-side with
the shared secret, which never reaches a browser. Used by the readiness check and `doctor`."""

from __future__ import annotations

from typing import Any

import aiohttp

from .config import Settings


class BridgeError(Exception):
    """The provisioning API cannot be used; the message says why and what to fix."""


def acting_user(settings: Settings) -> str:
    """The Matrix user the CRM acts as towards the bridge."""
    return f"@{settings.appservice.bot_username}:{settings.homeserver.domain}"


async def request(
    session: aiohttp.ClientSession,
    settings: Settings,
    method: str,
    path: str,
    body: Any = None,
    *,
    query: dict[str, str] | None = None,
    limit: float | None = None,
) -> Any:
    """Call the provisioning API; its JSON answer, or BridgeError (BridgeRefused when the
    bridge itself said no). `limit` (seconds) replaces the session's time limit, for the calls
    the bridge holds long (logging in)."""
    bridge = settings.bridge
    if not bridge.provisioning_url:
        raise BridgeError("bridge.provisioning_url is not set: set it and"
                          " bridge.provisioning_secret from the bridge's config")  # fmt: skip
    url = bridge.provisioning_url.rstrip("/") + path
    headers = {"Authorization": f"Bearer {bridge.provisioning_secret or ''}"}
    try:
        params = {"user_id": acting_user(settings), **(query or {})}
        timeout = aiohttp.ClientTimeout(total=limit, connect=10) if limit else None
        async with session.request(
            method, url, headers=headers, params=params, json=body, timeout=timeout
        ) as resp:
            answer = await resp.json(content_type=None)
            status = resp.status
    except (aiohttp.ClientError, OSError, TimeoutError) as e:
        reason = f"{e or type(e).__name__}"
        raise BridgeError(f"cannot reach the provisioning API at {bridge.provisioning_url}"
                          f" ({reason}): check that the bridge runs") from None  # fmt: skip
    if status == 401:
        raise BridgeError("the bridge refused bridge.provisioning_secret: copy it from the"
                          " bridge's provisioning.shared_secret")  # fmt: skip
    if status == 403:
        raise BridgeError(f"the bridge does not let {acting_user(settings)} log in: give it"
                          " the `user` or `admin` level in the bridge's bridge.permissions"
                          )  # fmt: skip
    # 201: create_dm made a new room (bridgev2 provisioning.go answers Created then).
    if not 200 <= status < 300:
        said = answer.get("error") if isinstance(answer, dict) else None
        code = answer.get("errcode") if isinstance(answer, dict) else None
        raise BridgeRefused(status, str(said or f"the provisioning API answered {status}"),
                            code if isinstance(code, str) else None)  # fmt: skip
    return answer


# How a login ends badly, by the bridge's errcode (mautrix-whatsapp pkg/connector/login.go,
# mautrix-go bridgev2/matrix/provisioninglogin.go): the inbox's error code and what to do.
STARTED_OVER = "Start linking again."
LOGIN_ERRORS = {
    "FI.MAU.WHATSAPP.LOGIN_TIMEOUT":
        ("login_expired", f"The code expired before the phone linked. {STARTED_OVER}"),
    "FI.MAU.BRIDGE.LOGIN_TIMED_OUT":
        ("login_expired", f"The code expired before the phone linked. {STARTED_OVER}"),
    "M_NOT_FOUND":
        ("login_expired", f"This linking is over (expired or cancelled). {STARTED_OVER}"),
    "FI.MAU.BRIDGE.LOGIN_CANCELLED": ("login_cancelled", "Linking was cancelled."),
    "FI.MAU.WHATSAPP.PHONE_NUMBER_TOO_SHORT":
        ("phone_rejected", "That number is too short: type it with + and the country code."),
    "FI.MAU.WHATSAPP.PHONE_NUMBER_NOT_INTERNATIONAL":
        ("phone_rejected", "Type the number in international format: + and the country code."),
    "FI.MAU.WHATSAPP.RATE_LIMITED":
        ("phone_rejected", "WhatsApp is limiting pairing codes for this number: wait a few"
                           " minutes, or link with the QR code."),
    "COM.BEEPER.WEBAUTHN_UNSUPPORTED":
        ("passkey_unsupported", "WhatsApp asked for a passkey to link this device, which"
                                " the bridge cannot give. Try again later, or link the other"
                                " way."),
}  # fmt: skip


class BridgeRefused(BridgeError):
    """The bridge answered, with an error of its own (a wrong number, no login, …) and its
    errcode when it gave one."""

    def __init__(self, status: int, message: str, errcode: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.errcode = errcode


async def logins(session: aiohttp.ClientSession, settings: Settings) -> list[str]:
    """The bridge's logins (WhatsApp accounts connected); BridgeError if it cannot be asked."""
    body = await request(session, settings, "GET", "/v3/logins")
    ids = body.get("login_ids") if isinstance(body, dict) else None
    return [str(i) for i in ids] if isinstance(ids, list) else []
