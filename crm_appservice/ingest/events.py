"""Events of a transaction sorted into the records the store writes in batches.

:func:`parse_transaction` is pure and synchronous: it validates each event on its own, so one
malformed event is flagged on its raw copy and never fails the transaction, and it produces one
list per kind of record, ready to be written with one statement each. Which record an event
makes is decided here; how each kind is read is in :mod:`.room_state`, :mod:`.relations`,
:mod:`.signals` and :mod:`.content`.
"""

from __future__ import annotations

from dataclasses import replace
import logging
from typing import Any

from . import relations, room_state, signals
from .content import BadEvent, parse_message
from .fields import optional, required
from .mautrix import location_text
from .messages import UNREADABLE_KEY, message_record
from .namespaces import Namespaces
from .records import Batch, RawRecord
from .room_state import BRIDGE_STATE_TYPES
from .signals import SEND_STATUS_TYPE

log = logging.getLogger("crm.ingest")

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


def _raw(source: str, idx: int, is_ephemeral: bool) -> RawRecord:
    return {
        "event_id": None,
        "room_id": None,
        "event_type": None,
        "sender": None,
        "is_ephemeral": is_ephemeral,
        "source": source,
        "idx": idx,
        "error": None,
    }


class _Parser:
    def __init__(self, ns: Namespaces) -> None:
        self.ns = ns
        self.batch = Batch(name_suffixes=list(ns.name_suffixes))

    def room_event(self, event: Any, idx: int) -> None:
        """Validate and sort one PDU; its raw copy is always kept, flagged if it is bad."""
        raw = _raw("events", idx, is_ephemeral=False)
        self.batch.raw.append(raw)
        try:
            if not isinstance(event, dict):
                raise BadEvent("not an object")
            if UNREADABLE_KEY in event:
                raise BadEvent("not readable JSON (nested too deep, or a number out of range)")
            raw["event_id"] = required(event, "event_id", "$")
            raw["room_id"] = optional(event, "room_id")
            raw["event_type"] = optional(event, "type")
            raw["sender"] = optional(event, "sender")
            required(event, "room_id", "!")
            required(event, "type")
            required(event, "sender", "@")
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
        batch, ns = self.batch, self.ns
        if not ns.speaks_for_the_bridge(event["sender"]):
            room_state.stranger(batch, ns, event, content)
        elif event_type in BRIDGE_STATE_TYPES:
            room_state.portal(batch, ns, event, content)
        elif event_type == "m.room.name":
            room_state.room_name(batch, ns, event, content)
        elif event_type == "m.room.member":
            room_state.member(batch, ns, event, content)
        elif event_type == "m.room.tombstone":
            room_state.tombstone(batch, ns, event, content)
        elif event_type in ("m.room.message", "m.sticker"):
            self._message(event, event_type, content)
        elif event_type == "m.reaction":
            relations.reaction(batch, ns, event, content)
        elif event_type == "m.room.redaction":
            relations.redaction(batch, event, content)
        elif event_type == SEND_STATUS_TYPE:
            signals.send_status(batch, ns, event, content)
        elif event_type == "m.room.encrypted":
            raise BadEvent("encrypted events are not supported (turn off encryption)")
        elif event_type not in IGNORED_TYPES:
            raise BadEvent(f"unsupported event type {event_type}")

    def _message(self, event: dict[str, Any], event_type: str, content: dict[str, Any]) -> None:
        """A message, an edit of one, or the bridge's notice that one failed."""
        relates = content.get("m.relates_to")
        relates = relates if isinstance(relates, dict) else {}
        if relates.get("rel_type") == "m.replace":
            relations.edit(self.batch, self.ns, event, event_type, content, relates)
            return
        reply_to = optional(relates.get("m.in_reply_to"), "event_id")
        if signals.error_notice(self.batch, self.ns, event, content, reply_to):
            return
        parsed = parse_message(event_type, content)
        if parsed.kind == "location":
            parsed = replace(parsed, body=location_text(parsed.body))
        self.batch.messages.append(message_record(event, parsed, self.ns, reply_to))
        room_state.sender_contact(self.batch, self.ns, event)

    def ephemeral(self, edu: Any, source: str, idx: int) -> None:
        if not isinstance(edu, dict) or optional(edu, "type") in TRANSIENT_EDU_TYPES:
            return
        raw = _raw(source, idx, is_ephemeral=True)
        raw["room_id"] = optional(edu, "room_id")
        raw["event_type"] = optional(edu, "type")
        self.batch.raw.append(raw)
        try:
            if edu.get("type") == "m.receipt":
                signals.receipts(self.batch, self.ns, edu)
            else:
                raise BadEvent(f"unsupported ephemeral event type {edu.get('type')}")
        except BadEvent as e:
            raw["error"] = str(e)
        except Exception as e:
            log.exception("Ephemeral event in %s could not be read", raw["room_id"])
            raw["error"] = f"could not be read ({type(e).__name__})"


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
