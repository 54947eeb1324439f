"""The emulator's provisioning API, which later features drive like mautrix-whatsapp's."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import os

import aiohttp
import pytest

from testbed.synapse import free_port
from testbed.world import LocalMatrix

from .conftest import ConfigFactory
from .matrix_world import DOMAIN, crm_settings

PREFIX = "/_matrix/provision/v3"


@pytest.fixture
async def matrix(
    db_dsn: str, make_config: ConfigFactory, workdir: str
) -> AsyncIterator[LocalMatrix]:
    hs_port = free_port()
    _, registration = await crm_settings(make_config, workdir, db_dsn, hs_port)
    directory = os.path.join(workdir, "tb")
    world = LocalMatrix(directory, DOMAIN, registration, f"@crm_bot:{DOMAIN}", hs_port)
    await world.start()
    try:
        yield world
    finally:
        await world.stop()


async def test_login_flows_and_new_chat(matrix: LocalMatrix) -> None:
    emu = matrix.emulator
    emu.provisioning.flow.time_scale = 0.01
    headers = {"Authorization": f"Bearer {emu.provisioning_secret}"}
    async with aiohttp.ClientSession(base_url=emu.url, headers=headers) as http:
        async with http.get(f"{PREFIX}/login/flows") as resp:
            assert [f["id"] for f in (await resp.json())["flows"]] == ["qr", "phone"]
        async with http.post(f"{PREFIX}/create_dm/+15551112222") as resp:
            assert resp.status == 404  # not logged in yet

        async with http.post(f"{PREFIX}/login/start/qr") as resp:
            step = await resp.json()
        assert step["type"] == "display_and_wait"
        assert step["display_and_wait"]["type"] == "qr"
        first_code = step["display_and_wait"]["data"]
        wait_url = f"{PREFIX}/login/step/{step['login_id']}/{step['step_id']}/display_and_wait"
        async with http.post(wait_url, params={"txn_id": step["txn_id"]}) as resp:
            refreshed = await resp.json()
        assert refreshed["display_and_wait"]["data"] != first_code  # a new QR code
        assert refreshed["txn_id"] != step["txn_id"]

        waiter = asyncio.create_task(http.post(wait_url, params={"txn_id": refreshed["txn_id"]}))
        await asyncio.sleep(0.05)
        emu.provisioning.complete(step["login_id"])
        async with await waiter as resp:
            done = await resp.json()
        assert done["type"] == "complete"
        assert done["complete"]["user_login_id"] == emu.owner_phone
        async with http.get(f"{PREFIX}/logins") as resp:
            assert (await resp.json())["login_ids"] == [emu.owner_phone]
        async with http.post(wait_url) as resp:  # told once; the process is gone
            assert resp.status == 404 and (await resp.json())["errcode"] == "M_NOT_FOUND"

        async with http.post(f"{PREFIX}/create_dm/+15551112222") as resp:
            assert resp.status == 201  # a room made just now, as bridgev2 answers
            dm = await resp.json()
        # Since v26.08 a number's chat is with its LID ghost; the answer says no number (the
        # bridge strips it from ghost profiles by default); the user search does, and the contact
        # list once the number is saved in the phone's address book.
        assert dm["id"].startswith("lid-") and dm["mxid"] == f"@whatsapp_{dm['id']}:{DOMAIN}"
        assert "identifiers" not in dm
        async with http.get(f"{PREFIX}/contacts") as resp:
            assert (await resp.json())["contacts"] == []
        async with http.post(f"{PREFIX}/search_users", json={"query": ""}) as resp:
            found = (await resp.json())["results"]
        assert [(c["id"], c["identifiers"]) for c in found] == [(dm["id"], ["tel:+15551112222"])]
        emu.provisioning.saved.add("15551112222")
        async with http.get(f"{PREFIX}/contacts") as resp:
            listed = (await resp.json())["contacts"]
        assert [(c["id"], c["identifiers"]) for c in listed] == [(dm["id"], ["tel:+15551112222"])]
        assert emu.portals[dm["dm_room_mxid"]].chat_id == f"{dm['id'][4:]}@lid"
        assert dm["dm_room_mxid"] in emu.portals
        async with http.post(f"{PREFIX}/create_dm/15551112222") as resp:
            assert resp.status == 200  # it existed
            assert (await resp.json())["dm_room_mxid"] == dm["dm_room_mxid"]

    async with (
        aiohttp.ClientSession(base_url=emu.url) as anonymous,
        anonymous.get(f"{PREFIX}/logins") as resp,
    ):
        assert resp.status == 401
        assert (await resp.json())["errcode"] == "M_MISSING_TOKEN"


async def _post(http: aiohttp.ClientSession, path: str, **kw: object) -> tuple[int, dict]:  # type: ignore[type-arg]
    async with http.post(f"{PREFIX}{path}", **kw) as resp:  # type: ignore[arg-type]
        return resp.status, await resp.json()


async def test_qr_codes_last_as_long_as_the_bridges_then_the_login_times_out(
    matrix: LocalMatrix,
) -> None:
    """login.go's qrIntervals (a minute, then five of 20 s) at a hundredth of the pace; waits
    that name the step's txn_id join the one held, and the process outlives a cut wait."""
    emu = matrix.emulator
    emu.provisioning.flow.time_scale = 0.01
    headers = {"Authorization": f"Bearer {emu.provisioning_secret}"}
    async with aiohttp.ClientSession(base_url=emu.url, headers=headers) as http:
        _, step = await _post(http, "/login/start/qr")
        wait = f"/login/step/{step['login_id']}/{step['step_id']}/display_and_wait"
        loop = asyncio.get_running_loop()
        started = loop.time()
        # A wait cut by its caller (a proxy, the CRM) leaves the login going.
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(_post(http, wait, params={"txn_id": step["txn_id"]}), 0.2)
        joined = await asyncio.gather(*(_post(http, wait, params={"txn_id": step["txn_id"]})
                                        for _ in range(2)))  # fmt: skip
        first = loop.time() - started
        assert 0.55 <= first < 0.9  # the first code: a minute, scaled
        (s1, a), (s2, b) = joined
        assert s1 == s2 == 200 and a["display_and_wait"]["data"] == b["display_and_wait"]["data"]
        # Without the txn_id a call while one is held gets the current code at once.
        held = asyncio.create_task(_post(http, wait, params={"txn_id": a["txn_id"]}))
        await asyncio.sleep(0.05)
        status, current = await asyncio.wait_for(_post(http, wait), 0.1)
        assert (
            status == 200 and current["display_and_wait"]["data"] == a["display_and_wait"]["data"]
        )
        codes = [step["display_and_wait"]["data"], a["display_and_wait"]["data"]]
        status, answer = await held
        while status == 200:
            codes.append(answer["display_and_wait"]["data"])
            status, answer = await _post(http, wait, params={"txn_id": answer["txn_id"]})
        assert len(set(codes)) == 6 and 1.5 <= loop.time() - started < 2.2
        assert (status, answer["errcode"]) == (400, "FI.MAU.WHATSAPP.LOGIN_TIMEOUT")
        assert (await _post(http, wait))[0] == 404

        # A wrong step is the bridge's 500; a cancelled wait 410.
        _, step = await _post(http, "/login/start/qr")
        status, answer = await _post(
            http, f"/login/step/{step['login_id']}/other/display_and_wait"
        )
        assert (status, answer["errcode"]) == (500, "M_BAD_STATE")
        wait = f"/login/step/{step['login_id']}/{step['step_id']}/display_and_wait"
        held = asyncio.create_task(_post(http, wait, params={"txn_id": step["txn_id"]}))
        await asyncio.sleep(0.05)
        assert (await _post(http, f"/login/cancel/{step['login_id']}"))[0] == 200
        status, answer = await held
        assert (status, answer["errcode"]) == (410, "FI.MAU.BRIDGE.LOGIN_CANCELLED")


async def test_pairing_code_waits_for_the_phone_and_numbers_are_read_as_whatsmeow_does(
    matrix: LocalMatrix,
) -> None:
    emu = matrix.emulator
    emu.provisioning.flow.time_scale = 0.01
    headers = {"Authorization": f"Bearer {emu.provisioning_secret}"}
    async with aiohttp.ClientSession(base_url=emu.url, headers=headers) as http:
        _, step = await _post(http, "/login/start/phone")
        assert (
            step["type"] == "user_input"
            and step["user_input"]["fields"][0]["id"] == "phone_number"
        )
        input_url = f"/login/step/{step['login_id']}/{step['step_id']}/user_input"
        status, answer = await _post(http, input_url, json={"phone_number": "+49 12"})
        assert (status, answer["errcode"]) == (400, "FI.MAU.WHATSAPP.PHONE_NUMBER_TOO_SHORT")
        assert (await _post(http, input_url, json={"phone_number": "+4917012345"}))[0] == 404

        _, step = await _post(http, "/login/start/phone")
        input_url = f"/login/step/{step['login_id']}/{step['step_id']}/user_input"
        status, code = await _post(http, input_url, json={"phone_number": "+49 170 1234567"})
        assert status == 200 and code["display_and_wait"]["type"] == "code"
        wait = f"/login/step/{step['login_id']}/{code['step_id']}/display_and_wait"
        # Held far longer than a QR code would be (the whole of qrIntervals, scaled)...
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(_post(http, wait, params={"txn_id": code["txn_id"]}), 2.0)
        # ...and the phone pairing while nobody waits is told to the next wait.
        emu.provisioning.complete(step["login_id"])
        status, done = await _post(http, wait, params={"txn_id": code["txn_id"]})
        assert status == 200 and done["complete"]["user_login_id"] == "491701234567"

        emu.provisioning.flow.passkey = "error"  # provisioning.fail_on_webauthn: true
        _, step = await _post(http, "/login/start/qr")
        wait = f"/login/step/{step['login_id']}/{step['step_id']}/display_and_wait"
        status, answer = await _post(http, wait, params={"txn_id": step["txn_id"]})
        assert (status, answer["errcode"]) == (400, "COM.BEEPER.WEBAUTHN_UNSUPPORTED")
