-- depends: 0022.quick-replies
-- Labels: a name and a colour the team puts on conversations and on contacts (VIP, wholesale,
-- complaint). Each row holds its labels' ids in an array, so adding or removing one is one
-- UPDATE of the row the live feed pushes anyway, and a list filtered by labels is read from a
-- GIN index. Arrays hold no foreign keys: a label is added only while its row is locked FOR
-- KEY SHARE (store/labels.py), and its deletion removes it from every array in the same
-- transaction.
CREATE TABLE labels (
    id bigserial PRIMARY KEY,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 40 AND name = btrim(name)),
    colour text NOT NULL CHECK (colour ~ '^#[0-9a-f]{6}$'),
    created_by bigint REFERENCES managers (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX labels_name_key ON labels (lower(name));

ALTER TABLE conversations ADD COLUMN label_ids bigint[] NOT NULL DEFAULT '{}'
    CHECK (cardinality(label_ids) <= 50);
ALTER TABLE contacts ADD COLUMN label_ids bigint[] NOT NULL DEFAULT '{}'
    CHECK (cardinality(label_ids) <= 50);

-- A list with a label filter: the labelled conversations by the index, then in list order.
CREATE INDEX conversations_labels_idx ON conversations USING gin (label_ids)
    WHERE label_ids <> '{}';
CREATE INDEX contacts_labels_idx ON contacts USING gin (label_ids) WHERE label_ids <> '{}';
-- The counts per label (of the open conversations, as the tabs count): read from this index
-- alone, never from the table.
CREATE INDEX conversations_open_labels_idx ON conversations (id) INCLUDE (label_ids, assignee_id)
    WHERE status = 'open' AND NOT is_archived AND merged_into IS NULL AND label_ids <> '{}';

-- The tab counts (read with every inbox that opens, and with the label counts) from an index
-- alone too: without it they read every listed conversation from the table (25 ms at 100k).
CREATE INDEX conversations_counts_idx ON conversations (assignee_id) INCLUDE (status, unread_count)
    WHERE (status = 'open' OR unread_count > 0) AND NOT is_archived AND merged_into IS NULL;

ALTER TABLE live_events DROP CONSTRAINT live_events_type_check;
ALTER TABLE live_events ADD CONSTRAINT live_events_type_check CHECK (type IN (
    'message.created', 'message.updated', 'conversation.created', 'conversation.updated',
    'note.created', 'note.updated', 'history.created', 'session.ended', 'manager.changed',
    'label.updated', 'label.deleted'));
