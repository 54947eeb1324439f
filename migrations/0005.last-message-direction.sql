-- depends: 0004.outbox-lanes
-- The list shows whose word was last ("You: …" before a reply of the team): who wrote a
-- conversation's newest message is kept beside its preview, as the preview itself is, so a list
-- page never has to look up fifty messages for it.
ALTER TABLE conversations ADD COLUMN last_message_out boolean NOT NULL DEFAULT false;
UPDATE conversations c SET last_message_out = true
  FROM messages m
 WHERE m.id = c.last_message_id AND m.direction = 'out';
