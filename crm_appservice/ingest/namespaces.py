"""Who is who in a portal, from the config: the CRM's users, the bridges' ghosts and bots."""

from __future__ import annotations

import re
from typing import Any

# Ghosts whose remote id is remembered (see Namespaces.ghost_remote_id).
GHOST_CACHE_SIZE = 100_000
# Matrix ids are at most 255 bytes; a longer "sender" is nobody.
MAX_MXID = 255


class Namespaces:
    """Who is who, from the config: the CRM's users, the bridges' ghosts and bots."""

    def __init__(
        self,
        domain: str,
        bot_mxid: str,
        user_prefix: str,
        ghost_patterns: tuple[str, ...],
        bridge_bots: tuple[str, ...],
        invite_patterns: tuple[str, ...] = (),
        name_suffixes: tuple[str, ...] = (),
    ) -> None:
        self.domain = domain
        self.bot_mxid = bot_mxid
        self.user_prefix = user_prefix
        self.name_suffixes = name_suffixes
        escaped = re.escape(domain)
        self._ghosts = [re.compile(f"^@({p}):{escaped}$") for p in ghost_patterns]
        # A pattern `prefix.*` makes the remote id what follows the prefix.
        self._prefixes = [
            p[:-2] if p.endswith(".*") and re.escape(p[:-2]) == p[:-2] else ""
            for p in ghost_patterns
        ]
        self._bots = frozenset(f"@{b}:{domain}" for b in bridge_bots)
        self._inviters = [re.compile(p) for p in invite_patterns]
        # Every event's sender is looked up, and the same few thousand ghosts write again and
        # again: their answers are kept (a bounded map, emptied when full).
        self._remote_ids: dict[str, str | None] = {}

    def is_crm_user(self, mxid: str) -> bool:
        if mxid == self.bot_mxid:
            return True
        localpart, _, server = mxid[1:].partition(":")
        return server == self.domain and localpart.startswith(self.user_prefix)

    def ghost_remote_id(self, mxid: str) -> str | None:
        try:
            return self._remote_ids[mxid]
        except KeyError:
            pass
        if len(mxid) > MAX_MXID:
            return None
        found = None
        for pattern, prefix in zip(self._ghosts, self._prefixes, strict=True):
            match = pattern.match(mxid)
            if match:
                localpart: str = match.group(1)
                found = localpart[len(prefix) :] if prefix else localpart
                break
        if len(self._remote_ids) >= GHOST_CACHE_SIZE:
            self._remote_ids.clear()
        self._remote_ids[mxid] = found
        return found

    def is_bridge_bot(self, mxid: str) -> bool:
        return mxid in self._bots

    def speaks_for_the_bridge(self, mxid: str) -> bool:
        """Whether an event of `mxid` can be the bridge's or the CRM's own: a bridge bot, a
        ghost or a user of the CRM. Anybody else in a portal is an ordinary Matrix user."""
        return (
            self.is_crm_user(mxid)
            or self.is_bridge_bot(mxid)
            or self.ghost_remote_id(mxid) is not None
        )

    def accepts_invite_from(self, mxid: str) -> bool:
        if self.is_bridge_bot(mxid) or self.ghost_remote_id(mxid) is not None:
            return True
        return any(p.fullmatch(mxid) for p in self._inviters)

    def clean_name(self, name: Any) -> str | None:
        if not isinstance(name, str):
            return None
        for suffix in self.name_suffixes:
            if name.endswith(suffix) and len(name) > len(suffix):
                name = name[: -len(suffix)]
                break
        return name.strip() or None
