"""The client-server API as the bridge's appservice uses it: requests as the bot or a ghost
(`?user_id=`), registering ghosts, sending with timestamps (`?ts=`), media."""

from __future__ import annotations

import itertools
import secrets
from typing import Any
from urllib.parse import quote

import aiohttp


class AppserviceClient:
    """Requests with the appservice token; the emulator sets the attributes below."""

    homeserver: str
    as_token: str
    _session: aiohttp.ClientSession | None = None
    _txn_ids: itertools.count[int]
    _registered: set[str]

    async def request(
        self,
        method: str,
        path: str,
        user_id: str | None = None,
        body: Any = None,
        data: bytes | None = None,
        params: dict[str, str] | None = None,
        content_type: str | None = None,
        token: str | None = None,
    ) -> Any:
        """`token` acts with another appservice's token (the bridge's double puppet)."""
        assert self._session is not None, "call start() first"
        query = dict(params or {})
        if user_id:
            query["user_id"] = user_id
        headers = {"Authorization": f"Bearer {token or self.as_token}"}
        if content_type:
            headers["Content-Type"] = content_type
        async with self._session.request(
            method, self.homeserver + path, params=query, json=body, data=data, headers=headers
        ) as resp:
            payload = await resp.json(content_type=None)
            if resp.status >= 400:
                raise MatrixRequestError(resp.status, payload)
            return payload

    async def download(self, mxc: str) -> tuple[bytes, str]:
        """Fetch a file from the media repository, as the bridge does before sending it on:
        (bytes, Content-Type)."""
        assert self._session is not None, "call start() first"
        server, media_id = mxc.removeprefix("mxc://").split("/", 1)
        headers = {"Authorization": f"Bearer {self.as_token}"}
        url = f"{self.homeserver}/_matrix/client/v1/media/download/{server}/{media_id}"
        async with self._session.get(url, headers=headers) as resp:
            if resp.status != 200:
                raise MatrixRequestError(resp.status, await resp.json(content_type=None))
            return await resp.read(), resp.headers.get("Content-Type", "")

    async def ensure_user(self, user_id: str, displayname: str | None = None) -> None:
        if user_id not in self._registered:
            localpart = user_id[1:].split(":", 1)[0]
            try:
                await self.request(
                    "POST",
                    "/_matrix/client/v3/register",
                    body={"type": "m.login.application_service", "username": localpart},
                )
            except MatrixRequestError as e:
                if e.errcode != "M_USER_IN_USE":
                    raise
            self._registered.add(user_id)
        if displayname is not None:
            await self.request(
                "PUT",
                f"/_matrix/client/v3/profile/{quote(user_id)}/displayname",
                user_id=user_id,
                body={"displayname": displayname},
            )

    async def send(
        self,
        room_id: str,
        sender: str,
        content: dict[str, Any],
        event_type: str = "m.room.message",
        ts: int | None = None,
        token: str | None = None,
    ) -> str:
        txn = f"emu{next(self._txn_ids)}-{secrets.token_hex(4)}"
        params = {"ts": str(ts)} if ts is not None else None
        resp = await self.request(
            "PUT",
            f"/_matrix/client/v3/rooms/{quote(room_id)}/send/{quote(event_type)}/{txn}",
            user_id=sender,
            body=content,
            params=params,
            token=token,
        )
        return str(resp["event_id"])

    async def upload(self, sender: str, data: bytes, mimetype: str, filename: str) -> str:
        resp = await self.request(
            "POST",
            "/_matrix/media/v3/upload",
            user_id=sender,
            data=data,
            params={"filename": filename},
            content_type=mimetype,
        )
        return str(resp["content_uri"])


class MatrixRequestError(Exception):
    def __init__(self, status: int, payload: Any) -> None:
        self.status = status
        self.errcode = payload.get("errcode") if isinstance(payload, dict) else None
        super().__init__(f"{status} {payload}")
