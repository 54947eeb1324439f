"""Who a ghost is: contacts as people, the ghosts that speak for them, and the merges the bridge
makes plain (see migrations/0017.contacts-are-people.sql).

mautrix-whatsapp names one customer in several ways: a phone ghost until it learns their LID,
then a LID ghost, in the same room (re-keyed: `m.bridge` sent again with a new `channel.id`) or
in another one (the old room tombstoned into it). None of that makes a second person: a ghost the
bridge makes the customer of a chat that already has its contact is that contact's, and two
contacts the bridge shows to be one are merged.
"""

from __future__ import annotations

from ..ingest.mautrix import placeholder_name_sql
from .batch import dumps
from .database import Conn
from .sql import compose, records

_CONTACT_COLUMNS = "room_id text, mxid text, remote_id text, display_name text, avatar_url text"

# The ghosts of a transaction's member events and senders: each ghost is one contact's, found by
# the ghost, else the contact of the one-to-one chat it is the customer of (the chat re-keyed to
# this ghost), else a new contact. Then the contact's name and avatar from the ghost (a stand-in
# name, "Unknown user" or a phone with hidden digits, never replaces a name), and a one-to-one
# chat without a contact gets its customer's (and, when the customer is an active manager's,
# that manager as its assignee).
CONTACTS = compose(
    """
WITH src AS (
    SELECT x.*, c.id AS conversation_id, c.platform, c.kind, c.receiver, c.customer_remote_id,
           c.contact_id AS chat_contact
      FROM {contacts}
      JOIN conversations c ON c.room_id = x.room_id
), pick AS (
    SELECT DISTINCT ON (mxid) * FROM src
     ORDER BY mxid, display_name IS NULL, {stand_in_last}, conversation_id
), known AS (
    SELECT g.mxid, g.contact_id FROM ghosts g JOIN pick p ON p.mxid = g.mxid
), heir AS (
    SELECT DISTINCT ON (s.mxid) s.mxid, s.chat_contact AS contact_id
      FROM src s
     WHERE s.kind = 'dm' AND s.chat_contact IS NOT NULL AND s.remote_id = s.customer_remote_id
       AND NOT EXISTS (SELECT 1 FROM known k WHERE k.mxid = s.mxid)
     ORDER BY s.mxid, s.conversation_id
), fresh AS (
    INSERT INTO contacts AS ct (platform, remote_id, mxid, phone, display_name, avatar_url)
    SELECT p.platform, p.remote_id, p.mxid,
           -- the number the bridge said for this remote id, else a phone ghost's own digits
           coalesce(rp.phone, CASE WHEN p.platform = 'whatsapp' AND p.remote_id ~ '^[0-9]{5,15}$'
                                   THEN '+' || p.remote_id END),
           p.display_name, p.avatar_url
      FROM pick p
      LEFT JOIN remote_phones rp ON rp.platform = p.platform AND rp.remote_id = p.remote_id
     WHERE NOT EXISTS (SELECT 1 FROM known k WHERE k.mxid = p.mxid)
       AND NOT EXISTS (SELECT 1 FROM heir h WHERE h.mxid = p.mxid)
     ORDER BY p.platform, p.remote_id
    -- A contact of this remote id without its ghost (kept from before ghosts were): take it.
    ON CONFLICT (platform, remote_id) DO UPDATE SET mxid = coalesce(ct.mxid, excluded.mxid)
    RETURNING id, platform, remote_id, phone
), fresh_phones AS (
    INSERT INTO contact_phones (contact_id, phone)
    SELECT id, phone FROM fresh WHERE phone IS NOT NULL
    ON CONFLICT DO NOTHING
), new_ghosts AS (
    INSERT INTO ghosts (mxid, platform, remote_id, contact_id)
    SELECT p.mxid, p.platform, p.remote_id, coalesce(h.contact_id, f.id)
      FROM pick p
      LEFT JOIN heir h ON h.mxid = p.mxid
      LEFT JOIN fresh f ON f.platform = p.platform AND f.remote_id = p.remote_id
     WHERE coalesce(h.contact_id, f.id) IS NOT NULL
    ON CONFLICT DO NOTHING
    RETURNING mxid, contact_id
), voices AS (
    SELECT mxid, contact_id FROM known UNION ALL SELECT mxid, contact_id FROM new_ghosts
), named AS (
    UPDATE contacts ct
       SET display_name = coalesce(p.display_name, ct.display_name),
           avatar_url = coalesce(p.avatar_url, ct.avatar_url), updated_at = now()
      FROM pick p JOIN voices v ON v.mxid = p.mxid
     WHERE ct.id = v.contact_id
       AND NOT EXISTS (SELECT 1 FROM fresh f WHERE f.id = ct.id)
       AND (p.display_name IS NOT NULL AND ct.display_name IS DISTINCT FROM p.display_name
            AND NOT ({new_name_stands_in} AND ct.display_name IS NOT NULL)
         OR p.avatar_url IS NOT NULL AND ct.avatar_url IS DISTINCT FROM p.avatar_url)
    RETURNING ct.id
), dm AS (
    -- A new chat of someone's customer is theirs while they are active (the owner's).
    UPDATE conversations c SET contact_id = v.contact_id, updated_at = now(),
           assignee_id = coalesce(c.assignee_id,
               (SELECT m.id FROM contacts oc JOIN managers m ON m.id = oc.owner_id
                 WHERE oc.id = v.contact_id AND m.is_active))
      FROM src JOIN voices v ON v.mxid = src.mxid
     WHERE c.id = src.conversation_id AND c.kind = 'dm' AND c.contact_id IS NULL
       AND CASE WHEN src.customer_remote_id IS NOT NULL
                THEN src.remote_id = src.customer_remote_id
                ELSE src.remote_id IS DISTINCT FROM src.receiver END
    RETURNING c.id
)
SELECT (SELECT coalesce(array_agg(id), '{}') FROM dm) AS dm_ids,
       (SELECT coalesce(array_agg(mxid), '{}') FROM new_ghosts) AS new_ghosts,
       (SELECT coalesce(array_agg(DISTINCT c.id), '{}')
          FROM named JOIN conversations c ON c.contact_id = named.id) AS contact_conversations
""",
    contacts=records("$1", "x", _CONTACT_COLUMNS),
    stand_in_last=placeholder_name_sql("display_name"),
    new_name_stands_in=placeholder_name_sql("p.display_name"),
)

# One-to-one chats of these rooms whose customer (by the bridge's chat id) is a ghost of another
# contact than the chat's: the bridge re-keyed the chat to a ghost the CRM knew as someone else,
# so the two are one person. (keep, gone) pairs, the chat's contact kept.
REKEYED = """
SELECT DISTINCT c.contact_id AS keep, g.contact_id AS gone
  FROM conversations c
  JOIN ghosts g ON g.platform = c.platform AND g.remote_id = c.customer_remote_id
 WHERE c.room_id = ANY($1::text[]) AND c.kind = 'dm' AND c.merged_into IS NULL
   AND c.contact_id IS NOT NULL AND g.contact_id <> c.contact_id
"""

# The bridge's tombstones: the room's conversation will be merged into its replacement's.
TOMBSTONES = compose(
    """
UPDATE conversations c SET replacement_room = t.replacement_room, updated_at = now()
  FROM {tombstones}
 WHERE c.room_id = t.room_id AND c.replacement_room IS DISTINCT FROM t.replacement_room
   AND c.merged_into IS NULL AND t.replacement_room <> t.room_id
""",
    tombstones=records("$1", "t", "room_id text, replacement_room text"),
)

# Tombstoned conversations whose replacement is a conversation now, among these rooms (either
# side): (gone, keep) pairs, oldest tombstone first.
DUE_MERGES = """
SELECT o.id AS gone, n.id AS keep
  FROM conversations o
  JOIN conversations n ON n.room_id = o.replacement_room AND n.merged_into IS NULL
 WHERE o.merged_into IS NULL AND o.replacement_room IS NOT NULL AND o.id <> n.id
   AND (o.room_id = ANY($1::text[]) OR n.room_id = ANY($1::text[]))
 ORDER BY o.id
"""

# One conversation into another: its messages, notes and history move, its unread count adds
# up, the kept one takes what it lacks (assignee, contact) and the newest last message; the
# other points at it and leaves every list and count (archived and resolved, besides).
# Returns the contacts of both, to be one person.
_MERGE_CONVERSATION = """
WITH old AS (
    SELECT * FROM conversations WHERE id = $1
), moved AS (
    UPDATE messages SET conversation_id = $2 WHERE conversation_id = $1 RETURNING 1
), notes AS (
    UPDATE notes SET conversation_id = $2 WHERE conversation_id = $1 RETURNING 1
), history AS (
    UPDATE conversation_history SET conversation_id = $2 WHERE conversation_id = $1 RETURNING 1
), gone AS (
    UPDATE conversations o
       SET merged_into = $2, unread_count = 0, is_archived = true, status = 'resolved',
           snoozed_until = NULL, updated_at = now()
     WHERE o.id = $1
    RETURNING o.contact_id
), kept AS (
    UPDATE conversations n
       SET unread_count = n.unread_count + g.unread_count,
           assignee_id = coalesce(n.assignee_id, g.assignee_id),
           contact_id = coalesce(n.contact_id, g.contact_id),
           last_message_id = CASE WHEN g.last_message_at > coalesce(n.last_message_at,
                                                                    '-infinity')
                                  THEN g.last_message_id ELSE n.last_message_id END,
           last_message_preview = CASE WHEN g.last_message_at > coalesce(n.last_message_at,
                                                                         '-infinity')
                                       THEN g.last_message_preview
                                       ELSE n.last_message_preview END,
           last_message_out = CASE WHEN g.last_message_at > coalesce(n.last_message_at,
                                                                     '-infinity')
                                   THEN g.last_message_out ELSE n.last_message_out END,
           last_message_at = greatest(n.last_message_at, g.last_message_at),
           updated_at = now()
      FROM old g
     WHERE n.id = $2
    RETURNING n.contact_id
)
SELECT (SELECT contact_id FROM kept) AS keep, (SELECT contact_id FROM gone) AS gone,
       (SELECT count(*) FROM moved) AS messages
"""

# A conversation that pointed at the one now merged points further, at the one kept.
_FOLLOW_CONVERSATION = "UPDATE conversations SET merged_into = $2 WHERE merged_into = $1"

# One contact into another: its ghosts, conversations, phones and orders move (an order whose
# number the kept contact has already stays, reachable through the merged row), and it points at
# the kept one, like every contact that pointed at it.
_MERGE_CONTACT = """
WITH ghosts AS (
    UPDATE ghosts SET contact_id = $2 WHERE contact_id = $1 RETURNING 1
), chats AS (
    UPDATE conversations SET contact_id = $2, updated_at = now() WHERE contact_id = $1
    RETURNING id
), phones AS (
    UPDATE contact_phones p SET contact_id = $2
     WHERE p.contact_id = $1
       AND NOT EXISTS (SELECT 1 FROM contact_phones k
                        WHERE k.contact_id = $2 AND k.phone = p.phone)
    RETURNING 1
), orders AS (
    UPDATE orders o SET contact_id = $2, updated_at = now()
     WHERE o.contact_id = $1
       AND NOT EXISTS (SELECT 1 FROM orders k WHERE k.contact_id = $2 AND k.number = o.number)
    RETURNING 1
), deals AS (
    UPDATE deals SET contact_id = $2, version = version + 1, updated_at = now()
     WHERE contact_id = $1
    RETURNING 1
), pointers AS (
    UPDATE contacts SET merged_into = $2, updated_at = now()
     WHERE id = $1 OR merged_into = $1
    RETURNING 1
), kept AS (
    UPDATE contacts k
       SET phone = coalesce(k.phone, g.phone), email = coalesce(k.email, g.email),
           display_name = coalesce(k.display_name, g.display_name),
           avatar_url = coalesce(k.avatar_url, g.avatar_url),
           attributes = g.attributes || k.attributes, updated_at = now()
      FROM contacts g
     WHERE k.id = $2 AND g.id = $1
    RETURNING 1
)
SELECT coalesce(array_agg(id), '{}') AS conversations FROM chats
"""


_PHONE_COLUMNS = "platform text, remote_id text, phone text, source text"

# Numbers the bridge said for remote ids (E.164, checked by the caller): kept per remote id, and
# each becomes the current phone of the contact whose ghost that is, its earlier ones kept as
# its other phones. The conversations of the contacts whose phone changed.
LEARN_PHONES = compose(
    """
WITH x AS (
    SELECT DISTINCT ON (platform, remote_id) * FROM {phones} ORDER BY platform, remote_id, phone
), kept AS (
    INSERT INTO remote_phones AS r (platform, remote_id, phone, source)
    SELECT platform, remote_id, phone, source FROM x
     ORDER BY platform, remote_id
    ON CONFLICT (platform, remote_id) DO UPDATE
       SET phone = excluded.phone, source = excluded.source, learned_at = now()
     WHERE r.phone IS DISTINCT FROM excluded.phone
    RETURNING 1
), people AS (
    SELECT DISTINCT ON (g.contact_id) g.contact_id, x.phone
      FROM x JOIN ghosts g ON g.platform = x.platform AND g.remote_id = x.remote_id
     ORDER BY g.contact_id, x.remote_id LIKE 'lid-%' DESC, x.phone
), seen AS (
    INSERT INTO contact_phones AS cp (contact_id, phone)
    SELECT contact_id, phone FROM people
     ORDER BY contact_id, phone
    ON CONFLICT (contact_id, phone) DO UPDATE SET last_seen = now()
    RETURNING 1
), current AS (
    UPDATE contacts ct SET phone = p.phone, updated_at = now()
      FROM people p
     WHERE ct.id = p.contact_id AND ct.phone IS DISTINCT FROM p.phone
    RETURNING ct.id
)
SELECT coalesce(array_agg(DISTINCT c.id), '{}') AS conversations
  FROM current JOIN conversations c ON c.contact_id = current.id
""",
    phones=records("$1", "x", _PHONE_COLUMNS),
)

# What the bridge said earlier for these ghosts, where their contact does not have it yet (a
# ghost new to the CRM, or one that joined a contact the bridge re-keyed to it).
_KNOWN_PHONES = """
SELECT g.platform, g.remote_id, r.phone, r.source
  FROM ghosts g
  JOIN remote_phones r ON r.platform = g.platform AND r.remote_id = g.remote_id
  JOIN contacts ct ON ct.id = g.contact_id
 WHERE g.mxid = ANY($1::text[]) AND ct.phone IS DISTINCT FROM r.phone
"""


# The bridge saying a LID's number joins the LID ghost's contact and the phone ghost of that
# number, where they are two (a group member moved to their LID, a chat opened with a number
# a customer had written from before): (keep, gone) pairs, the older contact kept.
_SAME_ACCOUNT = compose(
    """
SELECT DISTINCT least(lg.contact_id, pg.contact_id) AS keep,
       greatest(lg.contact_id, pg.contact_id) AS gone
  FROM {phones}
  JOIN ghosts lg ON lg.platform = x.platform AND lg.remote_id = x.remote_id
  JOIN ghosts pg ON pg.platform = x.platform AND pg.remote_id = substr(x.phone, 2)
 WHERE lg.contact_id <> pg.contact_id
""",
    phones=records("$1", "x", _PHONE_COLUMNS),
)


async def learn_phones(conn: Conn, phones: list[dict[str, str]]) -> list[int]:
    """Record numbers the bridge said (`platform`, `remote_id`, `phone`, `source`); the
    conversations whose contact changed (its phone, or merged with the number's own)."""
    if not phones:
        return []
    body = dumps(phones)
    changed = set(await conn.fetchval(LEARN_PHONES, body))
    for row in await conn.fetch(_SAME_ACCOUNT, body):
        changed.update(await merge_contacts(conn, row["keep"], row["gone"]))
    return sorted(changed)


async def apply_known_phones(conn: Conn, ghosts: list[str]) -> list[int]:
    """Give these ghosts' contacts the numbers the bridge said for them before."""
    rows = await conn.fetch(_KNOWN_PHONES, ghosts)
    return await learn_phones(conn, [dict(r) for r in rows])


_LOCK_PAIR = """
SELECT id, merged_into FROM contacts WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE
"""
# Deeper than any chain of merges a person has (each merge is a manager's or the bridge's).
_CHAIN = 50


async def _live_pair(conn: Conn, keep: int, gone: int) -> tuple[int, int]:
    """The two contacts locked (in id order, as a manager's merge locks them), each followed to
    the one it became if it was merged meanwhile: a merge that waited for another's lock merges
    what that one left, never a contact that is part of another person already."""
    for _ in range(_CHAIN):
        rows = {r["id"]: r["merged_into"] for r in await conn.fetch(_LOCK_PAIR, [keep, gone])}
        if rows.get(keep) is None and rows.get(gone) is None:
            return keep, gone
        keep = rows.get(keep) or keep
        gone = rows.get(gone) or gone
        if keep == gone:
            return keep, gone
    raise RuntimeError(f"contacts {keep} and {gone}: a chain of merges longer than {_CHAIN}")


async def merge_contacts(conn: Conn, keep: int, gone: int) -> list[int]:
    """Make `gone` part of `keep`; the conversations that changed contact."""
    keep, gone = await _live_pair(conn, keep, gone)
    if keep == gone:
        return []
    return list(await conn.fetchval(_MERGE_CONTACT, gone, keep))


async def merge_conversations(conn: Conn, gone: int, keep: int) -> set[int]:
    """Make conversation `gone` part of `keep`, and their contacts one; the conversations that
    changed."""
    row = await conn.fetchrow(_MERGE_CONVERSATION, gone, keep)
    assert row is not None
    await conn.execute(_FOLLOW_CONVERSATION, gone, keep)
    changed = {gone, keep}
    if row["keep"] is not None and row["gone"] is not None:
        changed.update(await merge_contacts(conn, row["keep"], row["gone"]))
    return changed


async def follow_the_bridge(conn: Conn, rooms: list[str]) -> set[int]:
    """The merges these rooms' bridge state shows: re-keyed chats whose new customer was known
    as someone else, and tombstoned rooms whose replacement is a conversation."""
    changed: set[int] = set()
    for row in await conn.fetch(REKEYED, rooms):
        changed.update(await merge_contacts(conn, row["keep"], row["gone"]))
    for row in await conn.fetch(DUE_MERGES, rooms):
        changed.update(await merge_conversations(conn, row["gone"], row["keep"]))
    return changed
