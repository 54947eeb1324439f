-- depends: 0003.outbox
-- Every kind of outgoing work goes through the outbox: Matrix sends, reactions, edits and
-- redactions, e-mail replies and e-mail notifications of managers.
-- * lane: entries of one conversation in the same lane go out one after the other, oldest first
--   (a reaction waits for the reply it reacts to). Lanes are independent, so a mail server that
--   is down never holds up WhatsApp replies, nor the other way round.
-- * message_id stays NULL for a notification (it is about a conversation, not one message).
ALTER TABLE outbox ADD COLUMN lane text NOT NULL DEFAULT 'matrix'
    CHECK (lane IN ('matrix', 'email', 'notify'));
UPDATE outbox SET lane = 'email' WHERE action = 'email';
DROP INDEX outbox_conversation_pending_idx;
CREATE INDEX outbox_conversation_pending_idx ON outbox (conversation_id, lane, id)
    WHERE state = 'pending';

-- Mail notifications of assigned conversations: a manager counts as online while one of their
-- browsers holds the live connection (each instance extends online_until while it does); a
-- conversation is mailed about at most once per period (notified_at), and only when its last
-- message is newer than the one it was last mailed about (notified_message_id).
ALTER TABLE managers ADD COLUMN online_until timestamptz;
ALTER TABLE conversations ADD COLUMN notified_at timestamptz,
                          ADD COLUMN notified_message_id bigint;
