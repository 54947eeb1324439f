"""HTTP in from the homeserver: appservice transactions and queries."""

from __future__ import annotations

from ..config import Settings
from ..ingest.namespaces import Namespaces


def namespaces_from(settings: Settings) -> Namespaces:
    aps = settings.appservice
    return Namespaces(
        domain=settings.homeserver.domain,
        bot_mxid=f"@{aps.bot_username}:{settings.homeserver.domain}",
        user_prefix=aps.user_prefix,
        ghost_patterns=aps.bridge_ghosts,
        bridge_bots=aps.bridge_bots,
        invite_patterns=aps.accept_invites_from,
        name_suffixes=aps.ghost_name_suffixes,
    )
