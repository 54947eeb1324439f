-- depends: 0017.contacts-are-people
-- A business may connect several WhatsApp numbers (the bridge keeps several logins per user):
-- each conversation is on one of them (its receiver), and admins give each a name ("Shop",
-- "Warehouse") that the inbox shows beside it.
ALTER TABLE own_logins ADD COLUMN name text CHECK (char_length(name) BETWEEN 1 AND 80);
-- The list of one number: newest activity first, keyset on (last_message_at, id).
CREATE INDEX conversations_receiver_idx
    ON conversations (receiver, is_archived, last_message_at DESC NULLS LAST, id DESC);
