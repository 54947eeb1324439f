-- depends: 0005.last-message-direction
-- A manager opening a conversation with unread messages sends a read receipt into the room (the
-- bridge shows the customer their messages as read): one more kind of outbox entry, in the
-- Matrix lane, after the replies queued before it.
ALTER TABLE outbox DROP CONSTRAINT outbox_action_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_action_check CHECK (action IN (
    'send', 'react', 'unreact', 'edit', 'redact', 'read', 'email', 'notify'));
