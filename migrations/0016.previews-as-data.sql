-- The list's preview of a conversation's last message is its own words only (one line, at most
-- 200 characters): its kind, file name, length and whether it was deleted come from the message
-- itself, and the web inbox words them. Earlier rows held an English label ("📷 Photo: …",
-- "Message deleted"); they get the message's words again.
UPDATE conversations c
   SET last_message_preview = CASE WHEN m.deleted_at IS NOT NULL THEN NULL
                                   ELSE nullif(left(btrim(regexp_replace(coalesce(m.body, ''),
                                                '\s+', ' ', 'g')), 200), '') END
  FROM messages m
 WHERE m.id = c.last_message_id;
