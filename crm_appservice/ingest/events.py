"""Events of a transaction sorted into the records the store writes in batches.

:func:`parse_transaction` is pure and synchronous: it validates each event on its own, so one
malformed event is flagged on its raw copy and never fails the transaction, and it produces one
list per kind of record, ready to be written with one statement each.
"""

from __future__ import annotations

from dataclasses import replace
import logging
from typing import Any

from .content import BadEvent, parse_message, preview
from .mautrix import (
    BRIDGE_ERROR_PREFIXES,
    NOT_CHATS,
    RECEIVER_KEY,
    customer_remote_id,
    failure_reason,
    location_text,
)
from .messages import (
    CRM_EDIT_KEY,
    CRM_REACTION_KEY,
    UNREADABLE_KEY,
    crm_id,
    message_record,
)
from .namespaces import MAX_MXID, Namespaces
from .records import Batch, RawRecord

log = logging.getLogger("crm.ingest")

BRIDGE_STATE_TYPES = ("m.bridge", "uk.half-shot.bridge")
SEND_STATUS_TYPE = "com.beeper.message_send_status"
# State and other events that carry nothing for the inbox: kept raw, not flagged.
IGNORED_TYPES = frozenset(
    {
        "m.room.create",
        "m.room.power_levels",
        "m.room.join_rules",
        "m.room.history_visibility",
        "m.room.guest_access",
        "m.room.topic",
        "m.room.canonical_alias",
        "m.room.server_acl",
        "m.room.pinned_events",
        "m.room.tombstone",
        "m.space.parent",
        "m.space.child",
        "com.beeper.room_features",
        "com.beeper.disappearing_timer",
        "org.matrix.msc3381.poll.response",
    }
)
# Ephemeral events with no lasting meaning: neither stored nor mapped.
TRANSIENT_EDU_TYPES = frozenset({"m.typing", "m.presence"})
# The latest time an event may carry: the end of year 9999 (PostgreSQL's timestamps go further,
# browsers' dates not much).
MAX_TS = 253_402_300_799_999


def _str(obj: dict[str, Any], key: str, prefix: str = "") -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value.startswith(prefix) or len(value) <= len(prefix):
        raise BadEvent(f"{key} is missing or invalid")
    return value


def _opt(obj: Any, key: str) -> str | None:
    if not isinstance(obj, dict):
        return None
    value = obj.get(key)
    return value if isinstance(value, str) and value else None


class _Parser:
    def __init__(self, ns: Namespaces) -> None:
        self.ns = ns
        self.batch = Batch(name_suffixes=list(ns.name_suffixes))

    def room_event(self, event: Any, idx: int) -> None:
        """Validate and sort one PDU; its raw copy is always kept, flagged if it is bad."""
        raw: RawRecord = {
            "event_id": None,
            "room_id": None,
            "event_type": None,
            "sender": None,
            "is_ephemeral": False,
            "source": "events",
            "idx": idx,
            "error": None,
        }
        self.batch.raw.append(raw)
        try:
            if not isinstance(event, dict):
                raise BadEvent("not an object")
            if UNREADABLE_KEY in event:
                raise BadEvent("not readable JSON (nested too deep, or a number out of range)")
            raw["event_id"] = _str(event, "event_id", "$")
            raw["room_id"] = _opt(event, "room_id")
            raw["event_type"] = _opt(event, "type")
            raw["sender"] = _opt(event, "sender")
            _str(event, "room_id", "!")
            _str(event, "type")
            _str(event, "sender", "@")
            ts = event.get("origin_server_ts")
            if not isinstance(ts, int) or isinstance(ts, bool) or not 0 <= ts <= MAX_TS:
                raise BadEvent("origin_server_ts is missing or invalid")
            if not isinstance(event.get("content"), dict):
                raise BadEvent("content is missing or not an object")
            self._map(event)
        except BadEvent as e:
            raw["error"] = str(e)
        except Exception as e:  # whatever an event holds, the others are still stored
            log.exception("Event %s could not be read", raw["event_id"])
            raw["error"] = f"could not be read ({type(e).__name__})"

    def _map(self, event: dict[str, Any]) -> None:
        event_type: str = event["type"]
        content: dict[str, Any] = event["content"]
        if not self.ns.speaks_for_the_bridge(event["sender"]):
            self._stranger(event, event_type, content)
        elif event_type in BRIDGE_STATE_TYPES:
            self._portal(event, content)
        elif event_type == "m.room.name":
            # A one-to-one portal is named after the ghost, the bridge's suffix included.
            self.batch.room_names[event["room_id"]] = {
                "room_id": event["room_id"],
                "name": self.ns.clean_name(content.get("name")),
            }
        elif event_type == "m.room.member":
            self._member(event, content)
        elif event_type in ("m.room.message", "m.sticker"):
            self._message(event, event_type, content)
        elif event_type == "m.reaction":
            relates = content.get("m.relates_to")
            if not isinstance(relates, dict) or relates.get("rel_type") != "m.annotation":
                raise BadEvent("m.reaction without an m.annotation relation")
            self.batch.reactions.append(
                {
                    "event_id": event["event_id"],
                    "room_id": event["room_id"],
                    "target": _str(relates, "event_id", "$"),
                    "sender": event["sender"],
                    "crm_id": crm_id(event, CRM_REACTION_KEY, self.ns),
                    "key": _str(relates, "key"),
                    "ts": event["origin_server_ts"],
                }
            )
        elif event_type == "m.room.redaction":
            redacts = event.get("redacts") or content.get("redacts")
            if not isinstance(redacts, str) or not redacts.startswith("$"):
                raise BadEvent("redaction without redacts")
            self.batch.redactions.append(
                {
                    "event_id": event["event_id"],
                    "room_id": event["room_id"],
                    "redacts": redacts,
                    "sender": event["sender"],
                    "ts": event["origin_server_ts"],
                }
            )
        elif event_type == SEND_STATUS_TYPE:
            self._send_status(event, content)
        elif event_type == "m.room.encrypted":
            raise BadEvent("encrypted events are not supported (turn off encryption)")
        elif event_type not in IGNORED_TYPES:
            raise BadEvent(f"unsupported event type {event_type}")

    def _stranger(self, event: dict[str, Any], event_type: str, content: dict[str, Any]) -> None:
        """An ordinary Matrix user's event: only an invite of the CRM's user means something
        (it is declined, unless the config accepts invites from them)."""
        if (
            event_type == "m.room.member"
            and event.get("state_key") == self.ns.bot_mxid
            and content.get("membership") == "invite"
        ):
            self._member(event, content)
            return
        raise BadEvent(
            f"sent by {event['sender'][:MAX_MXID]}, who is not the bridge, one of its ghosts"
            " or the CRM"
        )

    def _portal(self, event: dict[str, Any], content: dict[str, Any]) -> None:
        """The bridge's room state. Only a bridge bot sets it, as state: anybody else's copy (or
        a timeline event of that type) would let them say whose messages are whose."""
        if not isinstance(event.get("state_key"), str) or not self.ns.is_bridge_bot(
            event["sender"]
        ):
            raise BadEvent("bridge state that is not a state event of a bridge bot")
        protocol, channel = content.get("protocol"), content.get("channel")
        if not isinstance(protocol, dict) or not isinstance(channel, dict):
            raise BadEvent("bridge state without protocol or channel")
        platform, chat_id = _str(protocol, "id"), _str(channel, "id")
        if content.get("com.beeper.room_type.v2") == "space" or chat_id in NOT_CHATS:
            return  # the bridge's space of a login, or its status broadcasts: no chat
        dm = content.get("com.beeper.room_type") == "dm"
        self.batch.portals[event["room_id"]] = {
            "room_id": event["room_id"],
            "platform": platform,
            "remote_chat_id": chat_id,
            "kind": "dm" if dm else "group",
            "channel_name": self.ns.clean_name(channel.get("displayname")),
            "bridge_bot": event["sender"],
            "receiver": _opt(channel, RECEIVER_KEY),
            "customer_remote_id": customer_remote_id(platform, chat_id) if dm else None,
            "avatar_url": _opt(channel, "avatar_url"),
        }

    def _member(self, event: dict[str, Any], content: dict[str, Any]) -> None:
        user_id = _str(event, "state_key", "@")
        membership = _str(content, "membership")
        if self.ns.is_crm_user(user_id):
            if membership == "invite" and user_id == self.ns.bot_mxid:
                self.batch.invites[event["room_id"]] = {
                    "room_id": event["room_id"],
                    "inviter": event["sender"],
                    "accept": self.ns.accepts_invite_from(event["sender"]),
                }
            return
        remote_id = self.ns.ghost_remote_id(user_id)
        if remote_id is None or membership not in ("join", "invite"):
            return
        if event["sender"] != user_id and not self.ns.is_bridge_bot(event["sender"]):
            return  # a ghost's name is the ghost's or the bridge bot's to say
        self.batch.contacts[user_id] = {
            "room_id": event["room_id"],
            "mxid": user_id,
            "remote_id": remote_id,
            "display_name": self.ns.clean_name(content.get("displayname")),
            "avatar_url": _opt(content, "avatar_url"),
            "from_message": False,
        }

    def _message(self, event: dict[str, Any], event_type: str, content: dict[str, Any]) -> None:
        relates = content.get("m.relates_to")
        relates = relates if isinstance(relates, dict) else {}
        if relates.get("rel_type") == "m.replace":
            new_content = content.get("m.new_content")
            if not isinstance(new_content, dict):
                raise BadEvent("edit without m.new_content")
            parsed = parse_message(event_type, new_content)
            self.batch.edits.append(
                {
                    "event_id": event["event_id"],
                    "room_id": event["room_id"],
                    "target": _str(relates, "event_id", "$"),
                    "sender": event["sender"],
                    "crm_id": crm_id(event, CRM_EDIT_KEY, self.ns),
                    "body": parsed.body,
                    "html": parsed.html,
                    "preview": preview(parsed),
                    "ts": event["origin_server_ts"],
                }
            )
            return
        reply = relates.get("m.in_reply_to")
        reply_to = _opt(reply, "event_id")
        body = content.get("body")
        if (
            reply_to
            and content.get("msgtype") == "m.notice"
            and isinstance(body, str)
            and body.startswith(BRIDGE_ERROR_PREFIXES)
            and self.ns.is_bridge_bot(event["sender"])
        ):
            self.batch.statuses.append(
                {
                    "room_id": event["room_id"],
                    "sender": event["sender"],
                    "target": reply_to,
                    "signal": "bridge_failed",
                    "error": body,
                }
            )
            return
        parsed = parse_message(event_type, content)
        if parsed.kind == "location":
            parsed = replace(parsed, body=location_text(parsed.body))
        self.batch.messages.append(message_record(event, parsed, self.ns, reply_to))
        ghost = self.ns.ghost_remote_id(event["sender"])
        if ghost is not None and event["sender"] not in self.batch.contacts:
            self.batch.contacts[event["sender"]] = {
                "room_id": event["room_id"],
                "mxid": event["sender"],
                "remote_id": ghost,
                "display_name": None,
                "avatar_url": None,
                "from_message": True,
            }

    def _send_status(self, event: dict[str, Any], content: dict[str, Any]) -> None:
        if not self.ns.is_bridge_bot(event["sender"]):
            raise BadEvent("send status not sent by a bridge bot")
        relates = content.get("m.relates_to")
        if not isinstance(relates, dict):
            raise BadEvent("send status without m.relates_to")
        target = _str(relates, "event_id", "$")
        status = content.get("status")
        error = None
        if status == "SUCCESS":
            delivered = content.get("delivered_to_users")
            mapped = "delivered" if isinstance(delivered, list) and delivered else "bridged"
        elif status in ("FAIL_RETRIABLE", "FAIL_PERMANENT"):
            mapped = "bridge_failed"
            error = _opt(content, "message") or failure_reason(content)
        elif status == "PENDING":
            return
        else:
            raise BadEvent("send status with an unknown status")
        self.batch.statuses.append(
            {
                "room_id": event["room_id"],
                "sender": event["sender"],
                "target": target,
                "signal": mapped,
                "error": error,
            }
        )

    def ephemeral(self, edu: Any, source: str, idx: int) -> None:
        if not isinstance(edu, dict) or _opt(edu, "type") in TRANSIENT_EDU_TYPES:
            return
        raw: RawRecord = {
            "event_id": None,
            "room_id": _opt(edu, "room_id"),
            "event_type": _opt(edu, "type"),
            "sender": None,
            "is_ephemeral": True,
            "source": source,
            "idx": idx,
            "error": None,
        }
        self.batch.raw.append(raw)
        try:
            if edu.get("type") == "m.receipt":
                self._receipt(edu)
            else:
                raise BadEvent(f"unsupported ephemeral event type {edu.get('type')}")
        except BadEvent as e:
            raw["error"] = str(e)
        except Exception as e:
            log.exception("Ephemeral event in %s could not be read", raw["room_id"])
            raw["error"] = f"could not be read ({type(e).__name__})"

    def _receipt(self, edu: dict[str, Any]) -> None:
        room_id = _str(edu, "room_id", "!")
        content = edu.get("content")
        if not isinstance(content, dict):
            raise BadEvent("receipt without content")
        for event_id, kinds in content.items():
            if not isinstance(kinds, dict) or not isinstance(event_id, str):
                continue
            readers = kinds.get("m.read")
            if not isinstance(readers, dict):
                continue
            for user_id, info in readers.items():
                if not isinstance(user_id, str) or not event_id.startswith("$"):
                    continue
                if self.ns.ghost_remote_id(user_id) is None and not self.ns.is_bridge_bot(user_id):
                    continue  # only the bridge's receipts say anything of a message's way
                ts = info.get("ts") if isinstance(info, dict) else None
                self.batch.receipts.append(
                    {
                        "room_id": room_id,
                        "event_id": event_id,
                        "user_id": user_id,
                        "ts": ts if isinstance(ts, int) else 0,
                    }
                )


def parse_transaction(
    events: list[Any], ephemeral: list[Any], ns: Namespaces, ephemeral_key: str = "ephemeral"
) -> Batch:
    """Sort a transaction body's `events` and `ephemeral_key` lists into records."""
    parser = _Parser(ns)
    for idx, event in enumerate(events):
        parser.room_event(event, idx)
    for idx, edu in enumerate(ephemeral):
        parser.ephemeral(edu, ephemeral_key, idx)
    return parser.batch


class Parser:
    """`parse_transaction` bound to the namespaces of one configuration."""

    def __init__(self, namespaces: Namespaces) -> None:
        self.namespaces = namespaces

    def __call__(
        self, events: list[Any], ephemeral: list[Any], ephemeral_key: str = "ephemeral"
    ) -> Batch:
        return parse_transaction(events, ephemeral, self.namespaces, ephemeral_key)
