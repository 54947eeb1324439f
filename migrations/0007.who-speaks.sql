-- depends: 0006.read-receipts
-- Who is whom in a portal, from the bridge's own words only.
--
-- customer_remote_id: in a one-to-one chat, the remote id of the customer's ghost, read from the
-- chat's id (mautrix-whatsapp keys a DM by the customer: `<n>@lid` is ghost `lid-<n>`,
-- `<digits>@s.whatsapp.net` ghost `<digits>`). Any other ghost writing in that chat is the
-- business's own number (its phone or its LID ghost): its messages are outgoing.
ALTER TABLE conversations ADD COLUMN customer_remote_id text;
UPDATE conversations
   SET customer_remote_id = CASE
           WHEN remote_chat_id ~ '^[0-9]+@lid$' THEN 'lid-' || split_part(remote_chat_id, '@', 1)
           WHEN remote_chat_id ~ '^[0-9]+@s\.whatsapp\.net$' THEN split_part(remote_chat_id, '@', 1)
       END
 WHERE platform = 'whatsapp' AND kind = 'dm';

-- The ghosts of the business's own numbers, learnt where the bridge makes them plain (a ghost
-- other than the customer writing in a one-to-one chat): in groups, which carry no receiver,
-- their messages are outgoing too, and their read receipts are not the customer's.
CREATE TABLE own_ghosts (
    mxid        text PRIMARY KEY,
    receiver    text,
    learned_at  timestamptz NOT NULL DEFAULT now()
);
