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
) -> Any:
    """Call the provisioning API; its JSON answer, or BridgeError (BridgeRefused when the
    bridge itself said no)."""
    bridge = settings.bridge
    if not bridge.provisioning_url:
        raise BridgeError("bridge.provisioning_url is not set: set it and"
                          " bridge.provisioning_secret from the bridge's config")  # fmt: skip
    url = bridge.provisioning_url.rstrip("/") + path
    headers = {"Authorization": f"Bearer {bridge.provisioning_secret or ''}"}
    try:
        async with session.request(
            method, url, headers=headers, params={"user_id": acting_user(settings)}, json=body
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
        raise BridgeRefused(status, str(said or f"the provisioning API answered {status}"))
    return answer


class BridgeRefused(BridgeError):
    """The bridge answered, with an error of its own (a wrong number, no login, …)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


async def logins(session: aiohttp.ClientSession, settings: Settings) -> list[str]:
    """The bridge's logins (WhatsApp accounts connected); BridgeError if it cannot be asked."""
    body = await request(session, settings, "GET", "/v3/logins")
    ids = body.get("login_ids") if isinstance(body, dict) else None
    return [str(i) for i in ids] if isinstance(ids, list) else []
