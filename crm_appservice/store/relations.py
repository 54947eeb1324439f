"""Edits, reactions and deletions as ingest writes them: each applies only within its own room,
and a manager's own coming back completes the row the API stored."""

from __future__ import annotations

from .sql import compose, records

_EDIT_COLUMNS = """event_id text, room_id text, target text, sender text, crm_id bigint, body text,
    html text, preview text, ts bigint"""
_REACTION_COLUMNS = """event_id text, room_id text, target text, sender text, crm_id bigint,
    key text, ts bigint"""
_REDACTION_COLUMNS = "event_id text, room_id text, redacts text, sender text, ts bigint"


# A manager's edit coming back (`crm_id`, the version the API stored) only gets its event id: the
# message shows the new text already.
EDITS = compose(
    """
WITH e AS (
    SELECT * FROM {edits}
), target AS (
    -- An edit applies only to a message of its own room, by the same sender.
    SELECT e.*, m.id AS message_id
      FROM e JOIN messages m ON m.event_id = e.target AND m.sender_mxid = e.sender
      JOIN conversations c ON c.id = m.conversation_id AND c.room_id = e.room_id
), echo AS (
    UPDATE message_edits v SET event_id = e.event_id
      FROM target e
     WHERE e.crm_id IS NOT NULL AND v.id = e.crm_id AND v.message_id = e.message_id
       AND v.event_id IS NULL
    RETURNING v.id
), t AS (
    SELECT DISTINCT ON (m.id)
           m.id, m.conversation_id, m.body, m.html, e.event_id, e.body AS new_body,
           e.html AS new_html, e.preview, to_timestamp(e.ts / 1000.0) AS edited
      FROM target e JOIN messages m ON m.id = e.message_id
     WHERE m.deleted_at IS NULL
       AND (m.edited_at IS NULL OR to_timestamp(e.ts / 1000.0) > m.edited_at)
       AND (e.crm_id IS NULL
            OR NOT EXISTS (SELECT 1 FROM message_edits v
                            WHERE v.id = e.crm_id AND v.message_id = m.id))
     ORDER BY m.id, e.ts DESC
), ver AS (
    INSERT INTO message_edits (message_id, event_id, body, html, edited_at)
    SELECT id, event_id, body, html, edited FROM t
    ON CONFLICT (event_id) DO NOTHING
    RETURNING message_id
), upd AS (
    UPDATE messages m SET body = t.new_body, html = t.new_html, edited_at = t.edited
      FROM t JOIN ver ON ver.message_id = t.id
     WHERE m.id = t.id
    RETURNING m.id
), conv AS (
    UPDATE conversations c SET last_message_preview = t.preview, updated_at = now()
      FROM t JOIN ver ON ver.message_id = t.id
     WHERE c.id = t.conversation_id AND c.last_message_id = t.id
    RETURNING c.id
)
SELECT (SELECT coalesce(array_agg(id), '{}') FROM upd) AS message_ids,
       (SELECT coalesce(array_agg(id), '{}') FROM conv) AS conversation_ids
""",
    edits=records("$1", "x", _EDIT_COLUMNS),
)

# A manager's reaction coming back (`crm_id`, the row the API stored) only gets its event id.
REACTIONS = compose(
    """
WITH r AS (
    SELECT r.*, m.id AS message_id
      FROM {reactions}
      JOIN messages m ON m.event_id = r.target
      JOIN conversations c ON c.id = m.conversation_id AND c.room_id = r.room_id
), echo AS (
    UPDATE reactions x SET event_id = r.event_id
      FROM r
     WHERE r.crm_id IS NOT NULL AND x.id = r.crm_id AND x.message_id = r.message_id
       AND x.event_id IS NULL
    RETURNING x.id
)
INSERT INTO reactions (message_id, event_id, sender_mxid, key, created_at)
SELECT r.message_id, r.event_id, r.sender, r.key, to_timestamp(r.ts / 1000.0)
  FROM r
 WHERE r.crm_id IS NULL
    OR NOT EXISTS (SELECT 1 FROM reactions x WHERE x.id = r.crm_id AND x.message_id = r.message_id)
ON CONFLICT (event_id) DO NOTHING
RETURNING message_id
""",
    reactions=records("$1", "r", _REACTION_COLUMNS),
)

# A redaction applies only within its own room, and only from the event's sender or the room's
# bridge bot.
REDACTIONS = compose(
    """
WITH r AS (
    SELECT x.*, c.id AS conversation_id, c.bridge_bot
      FROM {redactions}
      JOIN conversations c ON c.room_id = x.room_id
), msg AS (
    UPDATE messages m SET deleted_at = to_timestamp(r.ts / 1000.0)
      FROM r
     WHERE m.event_id = r.redacts AND m.deleted_at IS NULL
       AND m.conversation_id = r.conversation_id
       AND (m.sender_mxid = r.sender OR r.sender = r.bridge_bot)
    RETURNING m.id, m.conversation_id
), conv AS (
    UPDATE conversations c SET last_message_preview = NULL, updated_at = now()
      FROM msg WHERE c.id = msg.conversation_id AND c.last_message_id = msg.id
    RETURNING c.id
), rea AS (
    -- ANY keeps this an index lookup even while the reactions table is small enough for a
    -- scan of all of it to look cheap (most redactions are of messages: none is found here).
    UPDATE reactions x SET deleted_at = to_timestamp(r.ts / 1000.0)
      FROM r
     WHERE x.event_id = ANY (ARRAY(SELECT redacts FROM r)) AND x.event_id = r.redacts
       AND x.deleted_at IS NULL
       AND (x.sender_mxid = r.sender OR r.sender = r.bridge_bot)
       AND EXISTS (SELECT 1 FROM messages t
                    WHERE t.id = x.message_id AND t.conversation_id = r.conversation_id)
    RETURNING x.message_id
)
SELECT (SELECT coalesce(array_agg(id), '{}') FROM msg)
       || (SELECT coalesce(array_agg(message_id), '{}') FROM rea) AS message_ids,
       (SELECT coalesce(array_agg(id), '{}') FROM conv) AS conversation_ids
""",
    redactions=records("$1", "x", _REDACTION_COLUMNS),
)
