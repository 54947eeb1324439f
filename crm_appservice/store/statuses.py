"""The delivery signals ingest brings for the CRM's own messages, applied by one statement with
the one rule of crm_appservice/delivery.py."""

from __future__ import annotations

from .. import delivery
from .sql import compose, records

# Every delivery signal for our messages, applied by one statement with the one rule of
# crm_appservice/delivery.py. The signals arrive out of order (a read receipt can come before
# the bridge's SUCCESS), so each message takes the strongest of this batch's signals: the
# bridge's send status or error notice ($1), the bridge bot's receipt (sent in the same step as
# the first SUCCESS, when WhatsApp's server took the message: bridged, not delivered), and a
# customer's receipt, which marks read everything we sent up to the receipt's event ($2).
STATUSES = compose(
    """
WITH s AS (
    -- The bridge's send statuses and error notices count only from the room's own bridge bot,
    -- and only for a message of that room.
    SELECT m.id, x.signal, x.error
      FROM {signals}
      JOIN conversations c ON c.room_id = x.room_id AND c.bridge_bot = x.sender
      JOIN messages m ON m.event_id = x.target AND m.conversation_id = c.id
), r AS (
    SELECT r.user_id, c.id AS conversation_id, c.bridge_bot, c.receiver, c.kind, c.contact_id,
           c.customer_remote_id, m.id AS message_id, m.created_at
      FROM {receipts}
      JOIN conversations c ON c.room_id = r.room_id
      JOIN messages m ON m.event_id = r.event_id AND m.conversation_id = c.id
), read_up_to AS (
    -- Read by the customer: a receipt of a contact's ghost that is none of the business's own
    -- (in a one-to-one chat: the chat's customer).
    SELECT r.conversation_id, max(r.created_at) AS created_at
      FROM r JOIN ghosts g ON g.mxid = r.user_id
     WHERE r.user_id IS DISTINCT FROM r.bridge_bot AND g.remote_id IS DISTINCT FROM r.receiver
       AND (r.kind <> 'dm' OR r.customer_remote_id IS NULL OR g.contact_id = r.contact_id
            OR g.remote_id = r.customer_remote_id)
       AND NOT EXISTS (SELECT 1 FROM own_ghosts o WHERE o.mxid = r.user_id)
     GROUP BY r.conversation_id
), signals AS (
    SELECT s.id, s.signal, s.error FROM s
    UNION ALL
    SELECT r.message_id, 'bridged', NULL FROM r WHERE r.user_id = r.bridge_bot
    UNION ALL
    SELECT m.id, 'read', NULL
      FROM read_up_to u
      JOIN messages m ON m.conversation_id = u.conversation_id AND m.direction = 'out'
                     AND m.status IN {moved_by_read}
                     AND m.created_at <= u.created_at AND m.event_id IS NOT NULL
), best AS (
    SELECT DISTINCT ON (id) id, signal, error
      FROM signals
     ORDER BY id, {precedence}
), next AS (
    SELECT b.id, b.error, {next_status} AS status
      FROM best b JOIN messages m ON m.id = b.id AND m.direction = 'out'
)
UPDATE messages m
   SET status = n.status, error = CASE WHEN n.status = 'failed' THEN n.error END
  FROM next n
 WHERE m.id = n.id AND n.status <> m.status
RETURNING m.id
""",
    signals=records("$1", "x", "room_id text, sender text, target text, signal text, error text"),
    receipts=records("$2", "r", "room_id text, event_id text, user_id text"),
    moved_by_read=delivery.sql_in(delivery.moved_by("read")),
    precedence=delivery.precedence_sql("signal"),
    next_status=delivery.sql("m.status", "b.signal"),
)
