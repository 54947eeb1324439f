"""The CRM's client of the bridge's provisioning API, against a server answering as bridgev2."""

from __future__ import annotations

from typing import Any

from aiohttp import ClientSession, web
import pytest
from pytest_aiohttp import AiohttpServer

from crm_appservice import bridge
from crm_appservice.config import Settings, load

from .conftest import ConfigFactory


async def _settings(make_config: ConfigFactory, url: str) -> Settings:
    path = make_config(
        {
            "bridge.provisioning_url": url,
            "bridge.provisioning_secret": "a-provisioning-secret-of-length",
        }
    )
    return load(path)[1]


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (201, {"dm_room_mxid": "!new"}, {"dm_room_mxid": "!new"}),  # create_dm made the room
        (200, {"dm_room_mxid": "!old"}, {"dm_room_mxid": "!old"}),
        (401, {"errcode": "M_UNKNOWN_TOKEN"}, "refused bridge.provisioning_secret"),
        (403, {"errcode": "M_FORBIDDEN"}, "the `user` or `admin` level in the bridge's"),
        (404, {"errcode": "M_NOT_FOUND", "error": "That number is not on WhatsApp"},
         "That number is not on WhatsApp"),
    ],
)  # fmt: skip
async def test_answers_are_told_apart(
    aiohttp_server: AiohttpServer,
    make_config: ConfigFactory,
    status: int,
    body: dict[str, Any],
    expected: Any,
) -> None:
    async def answer(request: web.Request) -> web.Response:
        return web.json_response(body, status=status)

    app = web.Application()
    app.router.add_post("/_matrix/provision/v3/create_dm/{phone}", answer)
    server = await aiohttp_server(app)
    settings = await _settings(make_config, str(server.make_url("/_matrix/provision")))
    async with ClientSession() as session:
        if isinstance(expected, dict):
            got = await bridge.request(session, settings, "POST", "/v3/create_dm/+1555")
            assert got == expected
        else:
            with pytest.raises(bridge.BridgeError) as raised:
                await bridge.request(session, settings, "POST", "/v3/create_dm/+1555")
            assert expected in str(raised.value)
