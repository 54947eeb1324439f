-- The messages of one transaction ($1: a JSON array of message records),
-- inserted once each, with what they change in their conversations.
--
-- Our own replies come back as events carrying their message id (`crm_id`): they complete that
-- message (its event id, `sent`) if the outbox has not recorded the send yet, and are never
-- inserted as second messages. An id that names no reply of that room's conversation is
-- ignored: the event is then stored like any other.
--
-- A message is outgoing when the CRM's user sent it, or a ghost of the business's own number:
-- the login's phone ghost (its remote id is the receiver), a ghost learnt as one of ours, or in
-- a one-to-one chat any ghost that is not the customer's (the bridge adds the login's own
-- ghost, phone or LID, to every DM). Such a ghost is then remembered as ours (`own_ghosts`).
-- A message from a ghost is its contact's: the person it speaks for (`ghosts`).
WITH m AS (
    SELECT * FROM {batch}
), echo AS (
    UPDATE messages o
       SET event_id = m.event_id, error = NULL, status = {accepted},
           reply_to_event_id = coalesce(o.reply_to_event_id, m.reply_to)
      FROM m
     WHERE m.crm_id IS NOT NULL AND o.id = m.crm_id AND o.direction = 'out'
       AND o.event_id IS NULL
       AND o.conversation_id = (SELECT c.id FROM conversations c WHERE c.room_id = m.room_id)
    RETURNING o.id
), ins AS (
    INSERT INTO messages (conversation_id, event_id, direction, sender_mxid, sender_contact_id,
                          kind, body, html, media_url, media_mimetype, media_size, media_width,
                          media_height, media_duration_ms, media_filename, thumbnail_url,
                          thumbnail_mimetype, thumbnail_width, thumbnail_height, latitude,
                          longitude, reply_to_event_id, status, created_at)
    SELECT c.id, m.event_id, d.direction, m.sender,
           -- the business's own ghost is no contact's voice
           CASE WHEN d.direction = 'in' THEN g.contact_id END, m.kind, m.body, m.html, m.media_url,
           m.media_mimetype, m.media_size, m.media_width, m.media_height, m.media_duration_ms,
           m.media_filename, m.thumbnail_url, m.thumbnail_mimetype, m.thumbnail_width,
           m.thumbnail_height, m.latitude, m.longitude, m.reply_to,
           CASE WHEN d.direction = 'out' THEN 'sent' END, to_timestamp(m.ts / 1000.0)
      FROM m
      JOIN conversations r ON r.room_id = m.room_id
      -- a room the bridge tombstoned into another: its conversation is the other's now
      JOIN conversations c ON c.id = coalesce(r.merged_into, r.id)
      LEFT JOIN ghosts g ON g.mxid = m.sender
     CROSS JOIN LATERAL (
           SELECT CASE WHEN m.from_crm THEN 'out'
                       WHEN g.remote_id IS NULL THEN 'in'
                       WHEN g.remote_id = c.receiver THEN 'out'
                       WHEN c.kind = 'dm' AND c.customer_remote_id IS NOT NULL
                            AND g.remote_id <> c.customer_remote_id
                            AND g.contact_id IS DISTINCT FROM c.contact_id THEN 'out'
                       WHEN EXISTS (SELECT 1 FROM own_ghosts o WHERE o.mxid = m.sender)
                            THEN 'out'
                       ELSE 'in' END AS direction) d
     WHERE m.crm_id IS NULL
        OR NOT EXISTS (SELECT 1 FROM messages o
                        WHERE o.id = m.crm_id AND o.conversation_id = c.id
                          AND o.direction = 'out')
     ORDER BY m.ts
    ON CONFLICT (event_id) DO NOTHING
    RETURNING id, conversation_id, direction, created_at, event_id, sender_contact_id
), own AS (
    INSERT INTO own_ghosts (mxid, receiver)
    SELECT DISTINCT ON (m.sender) m.sender, c.receiver
      FROM ins JOIN m ON m.event_id = ins.event_id
      JOIN conversations c ON c.id = ins.conversation_id
     WHERE ins.direction = 'out' AND NOT m.from_crm AND c.kind = 'dm'
       AND EXISTS (SELECT 1 FROM ghosts g WHERE g.mxid = m.sender)
    ON CONFLICT (mxid) DO NOTHING
), newest AS (
    -- Per conversation: its newest new message, and what arrived from the contact.
    SELECT DISTINCT ON (ins.conversation_id)
           ins.conversation_id, ins.id, ins.created_at, ins.direction, m.preview,
           count(*) FILTER (WHERE ins.direction = 'in') OVER w AS n_in,
           min(ins.created_at) FILTER (WHERE ins.direction = 'in') OVER w AS first_in,
           max(ins.created_at) FILTER (WHERE ins.direction = 'in') OVER w AS last_in
      FROM ins JOIN m ON m.event_id = ins.event_id
    WINDOW w AS (PARTITION BY ins.conversation_id)
     ORDER BY ins.conversation_id, ins.created_at DESC, ins.id DESC
), upd AS (
    UPDATE conversations c
       SET last_message_at = greatest(c.last_message_at, n.created_at),
           last_message_id = CASE WHEN n.created_at >= coalesce(c.last_message_at, '-infinity')
                                  THEN n.id ELSE c.last_message_id END,
           last_message_preview = CASE
                                  WHEN n.created_at >= coalesce(c.last_message_at, '-infinity')
                                  THEN n.preview ELSE c.last_message_preview END,
           last_message_out = CASE
                              WHEN n.created_at >= coalesce(c.last_message_at, '-infinity')
                              THEN n.direction = 'out' ELSE c.last_message_out END,
           -- Unread: incoming messages after the last read; usually all of them, and only
           -- backfilled history (older than the last read) needs counting one by one.
           unread_count = c.unread_count + CASE
                WHEN n.n_in = 0 THEN 0
                WHEN c.last_read_at IS NULL OR n.first_in > c.last_read_at THEN n.n_in
                ELSE (SELECT count(*) FROM ins i
                       WHERE i.conversation_id = c.id AND i.direction = 'in'
                         AND i.created_at > c.last_read_at) END,
           status = CASE WHEN n.last_in > coalesce(c.last_message_at, '-infinity')
                          AND c.status IN ('resolved', 'snoozed') THEN 'open' ELSE c.status END,
           snoozed_until = CASE WHEN n.last_in > coalesce(c.last_message_at, '-infinity')
                                 AND c.status IN ('resolved', 'snoozed') THEN NULL
                                ELSE c.snoozed_until END,
           -- A customer writing again brings an archived conversation back into the inbox
           -- (history the bridge backfills does not).
           is_archived = CASE WHEN n.last_in > coalesce(c.last_message_at, '-infinity')
                              THEN false ELSE c.is_archived END,
           updated_at = now()
      FROM newest n
     WHERE c.id = n.conversation_id
    RETURNING c.id
)
SELECT (SELECT coalesce(array_agg(id), '{}') FROM ins) AS message_ids,
       (SELECT coalesce(array_agg(id), '{}') FROM upd) AS conversation_ids,
       (SELECT coalesce(array_agg(id), '{}') FROM echo) AS echo_ids
