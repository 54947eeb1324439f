-- depends: 0016.previews-as-data
-- A contact is a person; the bridge's ghosts speak for them. mautrix-whatsapp re-keys a chat from
-- the customer's phone ghost (@whatsapp_<digits>) to their LID ghost (@whatsapp_lid-<n>), and
-- when it had both a phone room and a LID room it tombstones the phone room into the other:
-- one person, two ghosts, and for a while two rooms.
--
-- ghosts: every ghost the CRM has seen, and whose voice it is. A message, a receipt or a name
-- from any of a contact's ghosts is that contact's.
CREATE TABLE ghosts (
    mxid        text PRIMARY KEY,
    platform    text NOT NULL,
    remote_id   text NOT NULL,
    contact_id  bigint NOT NULL REFERENCES contacts (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (platform, remote_id)
);
CREATE INDEX ghosts_contact_idx ON ghosts (contact_id);
CREATE INDEX ghosts_created_idx ON ghosts (created_at);
INSERT INTO ghosts (mxid, platform, remote_id, contact_id)
SELECT mxid, platform, remote_id, id FROM contacts WHERE mxid IS NOT NULL
ON CONFLICT DO NOTHING;

-- A LID ghost's number is in no room event: the bridge's provisioning API says it (its contact
-- list, and the answer of create_dm for a number). remote_phones keeps the latest number of each
-- remote id, as the bridge said it; contact_phones every number a person has had (a changed
-- number is a new phone of the same person; contacts.phone is the current one).
CREATE TABLE remote_phones (
    platform    text NOT NULL,
    remote_id   text NOT NULL,
    phone       text NOT NULL,
    source      text NOT NULL,
    learned_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (platform, remote_id)
);
CREATE TABLE contact_phones (
    contact_id  bigint NOT NULL REFERENCES contacts (id),
    phone       text NOT NULL,
    first_seen  timestamptz NOT NULL DEFAULT now(),
    last_seen   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (contact_id, phone)
);
CREATE INDEX contact_phones_phone_idx ON contact_phones (phone);
INSERT INTO contact_phones (contact_id, phone)
SELECT id, phone FROM contacts WHERE phone IS NOT NULL;

-- A contact found to be another one's person is merged into it: its ghosts, conversations and
-- orders move there, and the row stays (pointing at the one kept) for what still names it.
ALTER TABLE contacts ADD COLUMN merged_into bigint REFERENCES contacts (id);
CREATE INDEX contacts_merged_into_idx ON contacts (merged_into) WHERE merged_into IS NOT NULL;

-- A conversation whose room the bridge tombstoned into another portal: replacement_room is the
-- tombstone's target; once that room is a conversation, the messages, notes and history move
-- there and merged_into points at it. A merged conversation is in no list.
ALTER TABLE conversations ADD COLUMN replacement_room text;
ALTER TABLE conversations ADD COLUMN merged_into bigint REFERENCES conversations (id);
CREATE INDEX conversations_replacement_idx ON conversations (replacement_room)
    WHERE replacement_room IS NOT NULL;
CREATE INDEX conversations_merged_into_idx ON conversations (merged_into)
    WHERE merged_into IS NOT NULL;

-- A login's personal filtering space is no chat (its bridge state says
-- "personal_filtering_space", which earlier versions took for a group): out of the inbox.
UPDATE conversations SET is_archived = true
 WHERE remote_chat_id = '__personal_filtering_space__' AND NOT is_archived;
