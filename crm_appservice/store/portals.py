"""Which rooms are conversations: bridge state and room names as ingest writes them,
the CRM's own logins, and the sweep of other rooms' raw events (see migrations 0007, 0008)."""

from __future__ import annotations

from .database import Conn
from .sql import compose, records

_PORTAL_COLUMNS = """room_id text, platform text, remote_chat_id text, kind text,
    channel_name text, bridge_bot text, receiver text, customer_remote_id text, avatar_url text"""

# A portal's bridge state, sent again when the chat changes. Only the bridge bot that made the
# conversation may change it: another bridge's bot cannot take over a room. A room becomes a
# conversation only if it is the CRM's: the bridge invited the CRM's user (an accepted invite,
# written before this statement runs), or its receiver is one of the CRM's logins; the receiver
# of a room the CRM was invited to is then one of its logins too.
PORTALS = compose(
    """
INSERT INTO conversations AS c (room_id, platform, remote_chat_id, kind, channel_name, bridge_bot,
                                receiver, customer_remote_id, avatar_url, room_name, title)
SELECT p.room_id, p.platform, p.remote_chat_id, p.kind, p.channel_name, p.bridge_bot, p.receiver,
       p.customer_remote_id, p.avatar_url, n.name, coalesce(n.name, p.channel_name)
  FROM {portals}
  LEFT JOIN LATERAL (
        SELECT nullif(btrim(r.content -> 'content' ->> 'name'), '') AS name
          FROM raw_events r
         WHERE r.room_id = p.room_id AND r.event_type = 'm.room.name' AND r.error IS NULL
         ORDER BY r.id DESC LIMIT 1) n0 ON true
  -- The name as ingest keeps it: without the bridge's suffix ($2), as Namespaces.clean_name.
  LEFT JOIN LATERAL (
        SELECT coalesce((SELECT nullif(btrim(left(n0.name, -length(s))), '')
                           FROM unnest($2::text[]) s
                          WHERE right(n0.name, length(s)) = s AND length(n0.name) > length(s)
                          LIMIT 1), n0.name) AS name) n ON true
 WHERE EXISTS (SELECT 1 FROM conversations e WHERE e.room_id = p.room_id)
    OR EXISTS (SELECT 1 FROM room_invites i WHERE i.room_id = p.room_id AND i.accept)
    OR EXISTS (SELECT 1 FROM own_logins l
                WHERE l.platform = p.platform AND l.login_id = p.receiver)
 ORDER BY p.room_id
ON CONFLICT (room_id) DO UPDATE
   SET platform = excluded.platform, remote_chat_id = excluded.remote_chat_id,
       kind = excluded.kind, channel_name = excluded.channel_name,
       bridge_bot = excluded.bridge_bot, receiver = excluded.receiver,
       customer_remote_id = excluded.customer_remote_id,
       avatar_url = coalesce(excluded.avatar_url, c.avatar_url),
       title = coalesce(c.room_name, excluded.channel_name), updated_at = now()
 WHERE c.bridge_bot IS NULL OR c.bridge_bot = excluded.bridge_bot
RETURNING id, room_id, (xmax = 0) AS created
""",
    portals=records("$1", "p", _PORTAL_COLUMNS),
)

LEARN_LOGINS = compose(
    """
INSERT INTO own_logins (platform, login_id)
SELECT DISTINCT p.platform, p.receiver
  FROM {portals}
  JOIN room_invites i ON i.room_id = p.room_id AND i.accept
 WHERE p.receiver IS NOT NULL
ON CONFLICT DO NOTHING
""",
    portals=records("$1", "p", _PORTAL_COLUMNS),
)

ROOM_NAMES = compose(
    """
UPDATE conversations c
   SET room_name = n.name, title = coalesce(n.name, c.channel_name), updated_at = now()
  FROM {names}
 WHERE c.room_id = n.room_id AND c.room_name IS DISTINCT FROM n.name
RETURNING c.id
""",
    names=records("$1", "n", "room_id text, name text"),
)

# The bridge state a room received before the CRM's user was invited to it (then it was not yet
# the CRM's room): mapped when the invite arrives.
EARLIER_BRIDGE_STATE = """
SELECT content FROM raw_events r
 WHERE r.room_id = ANY($1::text[]) AND r.event_type IN ('m.bridge', 'uk.half-shot.bridge')
   AND r.error IS NULL AND r.txn_id IS DISTINCT FROM $2
   AND NOT EXISTS (SELECT 1 FROM conversations c WHERE c.room_id = r.room_id)
 ORDER BY r.id
"""


# Raw events of rooms that are not the CRM's, once older than the grace period: a batch at a
# time, in id order from where the last sweep stopped (rows are never examined twice), by one
# instance at a time (the sweep row's lock). A room that has an accepted invite is the CRM's
# even before it has its conversation.
SWEEP = """
WITH mark AS (
    SELECT last_id FROM raw_events_sweep FOR UPDATE SKIP LOCKED
), batch AS (
    SELECT r.id, r.room_id FROM raw_events r, mark
     WHERE r.id > mark.last_id AND r.received_at < now() - make_interval(secs => $1)
     ORDER BY r.id
     LIMIT $2
), gone AS (
    DELETE FROM raw_events r
     USING batch b
     WHERE r.id = b.id AND b.room_id IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM conversations c WHERE c.room_id = b.room_id)
       AND NOT EXISTS (SELECT 1 FROM room_invites i WHERE i.room_id = b.room_id AND i.accept)
    RETURNING 1
), moved AS (
    UPDATE raw_events_sweep SET last_id = (SELECT max(id) FROM batch)
     WHERE EXISTS (SELECT 1 FROM batch)
    RETURNING 1
)
SELECT (SELECT count(*) FROM batch) AS examined, (SELECT count(*) FROM gone) AS deleted
"""


async def sweep_foreign_rooms(conn: Conn, grace: float, batch: int = 5000) -> tuple[int, int]:
    """Delete one batch of other rooms' raw events; (examined, deleted)."""
    row = await conn.fetchrow(SWEEP, grace, batch)
    assert row is not None
    return int(row["examined"]), int(row["deleted"])
