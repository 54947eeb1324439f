-- depends: 0002.live-events
-- The outbox gets what its worker needs to send exactly once and in order:
-- * conversation_id: entries of one conversation are sent one after the other, oldest first;
-- * txn_id: the Matrix transaction id of the send, fixed when the entry is queued, so a retry
--   after a timeout or a crash is recognised by the homeserver as the same request (a manual
--   retry after a failure picks a new one: the homeserver must then really send again);
-- * queued_at: when the current round of attempts began (for the maximum age).
ALTER TABLE outbox
    ADD COLUMN conversation_id bigint NOT NULL,
    ADD COLUMN txn_id text NOT NULL,
    ADD COLUMN queued_at timestamptz NOT NULL DEFAULT now();
CREATE UNIQUE INDEX outbox_txn_key ON outbox (txn_id);
CREATE INDEX outbox_conversation_pending_idx ON outbox (conversation_id, id)
    WHERE state = 'pending';
DROP INDEX outbox_message_idx;
CREATE INDEX outbox_message_idx ON outbox (message_id, action);
