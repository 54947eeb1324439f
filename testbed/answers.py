"""How the emulated bridge answers what the CRM's user sends into a portal: send statuses,
the bot's receipt, the customer's receipts, failures and error notices, as bridgev2 does."""

from __future__ import annotations

from dataclasses import dataclass
import logging
from typing import TYPE_CHECKING

import aiohttp

from .client import MatrixRequestError

if TYPE_CHECKING:
    from .emulator import BridgeEmulator, SentByCRM

log = logging.getLogger("crm.testbed.emulator")

# bridgev2 messagestatus.go, ToNoticeEvent: certain, or not sure the message failed.
ERROR_NOTICE = "⚠️ Your message was not bridged: "
UNSURE_NOTICE = "⚠️ Your message may not have been bridged: "


@dataclass
class Outcome:
    """How the emulated bridge answers the CRM's messages."""

    # success | fail (WhatsApp refused it) | fail_generic (a send error of the bridge's own:
    # FAIL_RETRIABLE, m.event_not_handled, no message, the detail in internal_error) | silent
    result: str = "success"
    delivery_receipt: bool = True
    read_by_contact: bool = True
    error: str = "The recipient is not on WhatsApp"


async def answer(emu: BridgeEmulator, sent: SentByCRM) -> None:
    """Answer a message the CRM sent into a portal as the bridge would (see Outcome)."""

    outcome = emu.outcome
    portal = emu.portals[sent.room_id]
    relates = {"rel_type": "m.reference", "event_id": sent.event_id}
    try:
        if outcome.result == "success":
            # WhatsApp's server took it: the first SUCCESS (no delivered_to_users), and in the
            # same step the bot's read receipt (bridgev2 matrix/connector.go,
            # internalSendMessageStatus; messagestatus.go ToMSSEvent has no network key).
            await emu.send(
                sent.room_id,
                emu.bot,
                {"m.relates_to": relates, "status": "SUCCESS"},
                event_type="com.beeper.message_send_status",
            )
            if outcome.delivery_receipt:
                await emu.receipt(sent.room_id, emu.bot, sent.event_id)
            if not portal.is_group:
                # The customer's phone has it: a second SUCCESS naming them, in DMs only
                # (bridgev2 portal.go, handleRemoteDeliveryReceipt ignores other rooms).
                await emu.send(
                    sent.room_id,
                    emu.bot,
                    {"m.relates_to": relates, "status": "SUCCESS",
                     "delivered_to_users": [emu.ghost(portal.phones[0])]},
                    event_type="com.beeper.message_send_status",
                )  # fmt: skip
            if outcome.read_by_contact:
                await emu.read(portal, portal.phones[0], sent.event_id)
        elif outcome.result == "fail_generic":
            await emu.send(
                sent.room_id,
                emu.bot,
                {"m.relates_to": relates, "status": "FAIL_RETRIABLE",
                 "reason": "m.event_not_handled", "message": "",
                 "internal_error": outcome.error},
                event_type="com.beeper.message_send_status",
            )  # fmt: skip
            await emu.send(
                sent.room_id,
                emu.bot,
                {"msgtype": "m.notice", "body": UNSURE_NOTICE + outcome.error,
                 "m.relates_to": {"m.in_reply_to": {"event_id": sent.event_id}}},
            )  # fmt: skip
        elif outcome.result == "fail":
            await emu.send(
                sent.room_id,
                emu.bot,
                {
                    "m.relates_to": relates,
                    "status": "FAIL_PERMANENT",
                    "reason": "m.foreign_network_error",
                    "message": outcome.error,
                },
                event_type="com.beeper.message_send_status",
            )
            await emu.send(
                sent.room_id,
                emu.bot,
                {
                    "msgtype": "m.notice",
                    "body": ERROR_NOTICE + outcome.error,
                    "m.relates_to": {"m.in_reply_to": {"event_id": sent.event_id}},
                },
            )
    except (aiohttp.ClientError, MatrixRequestError) as e:
        log.warning("Could not answer %s: %s", sent.event_id, e)
