"""Which rooms are conversations: bridge state, room names and contacts as ingest writes them,
the CRM's own logins, and the sweep of other rooms' raw events (see migrations 0007, 0008)."""

from __future__ import annotations

from ..ingest.mautrix import placeholder_name_sql
from .database import Conn
from .sql import compose, records

_PORTAL_COLUMNS = """room_id text, platform text, remote_chat_id text, kind text,
    channel_name text, bridge_bot text, receiver text, customer_remote_id text, avatar_url text"""
_CONTACT_COLUMNS = "room_id text, mxid text, remote_id text, display_name text, avatar_url text"

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

CONTACTS = compose(
    """
WITH src AS (
    SELECT x.*, c.id AS conversation_id, c.platform, c.kind, c.receiver, c.customer_remote_id
      FROM {contacts}
      JOIN conversations c ON c.room_id = x.room_id
), up AS (
    INSERT INTO contacts AS ct (platform, remote_id, mxid, phone, display_name, avatar_url)
    SELECT DISTINCT ON (platform, remote_id)
           platform, remote_id, mxid,
           CASE WHEN platform = 'whatsapp' AND remote_id ~ '^[0-9]{5,15}$'
                THEN '+' || remote_id END,
           display_name, avatar_url
      FROM src
     ORDER BY platform, remote_id, display_name IS NULL, {stand_in_last}
    ON CONFLICT (platform, remote_id) DO UPDATE
       -- A stand-in name ("Unknown user", a phone with hidden digits) never replaces a name.
       SET display_name = CASE
               WHEN {new_name_stands_in}
                AND ct.display_name IS NOT NULL THEN ct.display_name
               ELSE coalesce(excluded.display_name, ct.display_name) END,
           avatar_url = coalesce(excluded.avatar_url, ct.avatar_url),
           mxid = excluded.mxid, updated_at = now()
     WHERE excluded.display_name IS NOT NULL AND ct.display_name IS DISTINCT FROM
               excluded.display_name
           AND NOT ({new_name_stands_in}
                    AND ct.display_name IS NOT NULL)
        OR excluded.avatar_url IS NOT NULL AND ct.avatar_url IS DISTINCT FROM excluded.avatar_url
        OR ct.mxid IS DISTINCT FROM excluded.mxid
    RETURNING id, platform, remote_id
), all_contacts AS (
    SELECT id, platform, remote_id FROM up
    UNION
    SELECT ct.id, ct.platform, ct.remote_id
      FROM src JOIN contacts ct ON ct.platform = src.platform AND ct.remote_id = src.remote_id
), dm AS (
    UPDATE conversations c SET contact_id = a.id, updated_at = now()
      FROM src JOIN all_contacts a ON a.platform = src.platform AND a.remote_id = src.remote_id
     WHERE c.id = src.conversation_id AND c.kind = 'dm' AND c.contact_id IS NULL
       AND CASE WHEN src.customer_remote_id IS NOT NULL
                THEN src.remote_id = src.customer_remote_id
                ELSE src.remote_id IS DISTINCT FROM src.receiver END
    RETURNING c.id
)
SELECT (SELECT coalesce(array_agg(id), '{}') FROM dm) AS dm_ids,
       (SELECT coalesce(array_agg(DISTINCT c.id), '{}')
          FROM up JOIN conversations c ON c.contact_id = up.id) AS contact_conversations
""",
    contacts=records("$1", "x", _CONTACT_COLUMNS),
    stand_in_last=placeholder_name_sql("display_name"),
    new_name_stands_in=placeholder_name_sql("excluded.display_name"),
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
