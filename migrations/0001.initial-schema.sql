-- The first schema, sized for 100k conversations and 10M messages.
-- Status-like columns are text with CHECK constraints rather than enum types: adding a value
-- later is then a plain constraint swap inside a transaction.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- Managers: the people who use the web inbox.
CREATE TABLE managers (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email          text NOT NULL,
    name           text NOT NULL,
    role           text NOT NULL CHECK (role IN ('admin', 'manager')),
    password_hash  text NOT NULL,
    is_active      boolean NOT NULL DEFAULT true,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CHECK (email = lower(email))
);
CREATE UNIQUE INDEX managers_email_key ON managers (email);

-- Login sessions and API tokens: only a hash of the secret is stored.
CREATE TABLE sessions (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_hash     bytea NOT NULL UNIQUE,
    manager_id     bigint NOT NULL REFERENCES managers (id) ON DELETE CASCADE,
    kind           text NOT NULL DEFAULT 'cookie' CHECK (kind IN ('cookie', 'api_token')),
    label          text,
    csrf_token     text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    last_seen_at   timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz
);
CREATE INDEX sessions_manager_idx ON sessions (manager_id);
CREATE INDEX sessions_expires_idx ON sessions (expires_at) WHERE expires_at IS NOT NULL;

-- Contacts: one person on one network (a bridge ghost user).
CREATE TABLE contacts (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    platform       text NOT NULL,
    remote_id      text NOT NULL,
    mxid           text,
    phone          text,
    email          text,
    display_name   text,
    avatar_url     text,
    attributes     jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (platform, remote_id)
);
CREATE UNIQUE INDEX contacts_mxid_key ON contacts (mxid) WHERE mxid IS NOT NULL;
CREATE INDEX contacts_phone_idx ON contacts (phone) WHERE phone IS NOT NULL;
CREATE INDEX contacts_name_trgm_idx ON contacts USING gin (display_name gin_trgm_ops);
CREATE INDEX contacts_phone_trgm_idx ON contacts USING gin (phone gin_trgm_ops);

-- Conversations: one per portal room.
CREATE TABLE conversations (
    id                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    room_id               text NOT NULL UNIQUE,
    platform              text NOT NULL,
    remote_chat_id        text,
    bridge_bot            text,
    -- The bridge login the portal belongs to (its own ghost's messages are outgoing).
    receiver              text,
    kind                  text NOT NULL DEFAULT 'dm' CHECK (kind IN ('dm', 'group')),
    -- title = room_name (m.room.name) when set, else channel_name (from m.bridge).
    title                 text,
    room_name             text,
    channel_name          text,
    avatar_url            text,
    contact_id            bigint REFERENCES contacts (id) ON DELETE SET NULL,
    status                text NOT NULL DEFAULT 'open'
                          CHECK (status IN ('open', 'pending', 'resolved', 'snoozed')),
    snoozed_until         timestamptz,
    assignee_id           bigint REFERENCES managers (id) ON DELETE SET NULL,
    is_archived           boolean NOT NULL DEFAULT false,
    last_message_at       timestamptz,
    last_message_id       bigint,  -- no foreign key: updated with every message
    last_message_preview  text,
    unread_count          integer NOT NULL DEFAULT 0 CHECK (unread_count >= 0),
    last_read_at          timestamptz,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    CHECK (status <> 'snoozed' OR snoozed_until IS NOT NULL)
);
-- The inbox list: newest activity first, keyset on (last_message_at, id).
CREATE INDEX conversations_last_message_idx
    ON conversations (last_message_at DESC NULLS LAST, id DESC);
CREATE INDEX conversations_archived_idx
    ON conversations (last_message_at DESC NULLS LAST, id DESC) WHERE is_archived;
CREATE INDEX conversations_platform_idx
    ON conversations (platform, is_archived, last_message_at DESC NULLS LAST, id DESC);
CREATE INDEX conversations_status_idx
    ON conversations (status, is_archived, last_message_at DESC NULLS LAST, id DESC);
CREATE INDEX conversations_assignee_idx
    ON conversations (assignee_id, status, last_message_at DESC NULLS LAST, id DESC);
CREATE INDEX conversations_unread_idx
    ON conversations (last_message_at DESC NULLS LAST, id DESC)
    WHERE unread_count > 0 AND NOT is_archived;
CREATE INDEX conversations_snoozed_idx ON conversations (snoozed_until) WHERE status = 'snoozed';
CREATE INDEX conversations_contact_idx ON conversations (contact_id);

-- Messages: every message of every conversation, both directions.
-- The tables written for every bridged event (messages, message_edits, reactions) have no foreign
-- keys: each check is one more query per inserted row on the ingest path. The ingest statements
-- insert these rows only by joining them to their parent rows, and neither messages nor
-- conversations are ever deleted (messages are soft-deleted with deleted_at), so the references
-- cannot dangle.
CREATE TABLE messages (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id     bigint NOT NULL,
    event_id            text UNIQUE,
    direction           text NOT NULL CHECK (direction IN ('in', 'out')),
    channel             text NOT NULL DEFAULT 'matrix' CHECK (channel IN ('matrix', 'email')),
    sender_mxid         text,
    sender_contact_id   bigint,
    sender_manager_id   bigint,
    kind                text NOT NULL CHECK (kind IN (
                            'text', 'notice', 'emote', 'image', 'video', 'audio', 'voice',
                            'file', 'sticker', 'location', 'unsupported')),
    body                text,
    html                text,
    media_url           text,
    media_mimetype      text,
    media_size          bigint,
    media_width         integer,
    media_height        integer,
    media_duration_ms   integer,
    media_filename      text,
    thumbnail_url       text,
    thumbnail_mimetype  text,
    thumbnail_width     integer,
    thumbnail_height    integer,
    latitude            double precision,
    longitude           double precision,
    reply_to_event_id   text,
    edited_at           timestamptz,
    deleted_at          timestamptz,
    status              text CHECK (status IN ('pending', 'sent', 'delivered', 'read', 'failed')),
    error               text,
    client_txn_id       text,
    created_at          timestamptz NOT NULL,
    received_at         timestamptz NOT NULL DEFAULT now(),
    CHECK ((direction = 'out') = (status IS NOT NULL)),
    CHECK (latitude IS NULL OR latitude BETWEEN -90 AND 90),
    CHECK (longitude IS NULL OR longitude BETWEEN -180 AND 180)
);
-- A thread page: the messages of one conversation by time, keyset on (created_at, id).
CREATE INDEX messages_conversation_created_idx ON messages (conversation_id, created_at, id);
-- Outgoing messages by status (read receipts move every earlier one; pending ones resume).
-- Partial: incoming messages, the majority, need no entry.
CREATE INDEX messages_conversation_direction_status_idx
    ON messages (conversation_id, direction, status, created_at) WHERE direction = 'out';
CREATE UNIQUE INDEX messages_client_txn_key
    ON messages (conversation_id, client_txn_id) WHERE client_txn_id IS NOT NULL;
CREATE INDEX messages_reply_to_idx ON messages (reply_to_event_id)
    WHERE reply_to_event_id IS NOT NULL;
-- Full-text search over message text (word prefixes); a trigram index would cost every insert
-- several times as many index entries.
CREATE INDEX messages_body_fts_idx ON messages
    USING gin (to_tsvector('simple', coalesce(body, '')));

-- Earlier versions of edited messages (m.replace): nothing a contact wrote is ever lost.
CREATE TABLE message_edits (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id    bigint NOT NULL,
    event_id      text UNIQUE,
    body          text,
    html          text,
    edited_at     timestamptz NOT NULL
);
CREATE INDEX message_edits_message_idx ON message_edits (message_id, edited_at);

-- Reactions (m.annotation) on messages, by contacts or managers.
CREATE TABLE reactions (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id          bigint NOT NULL,
    event_id            text UNIQUE,
    sender_mxid         text NOT NULL,
    sender_manager_id   bigint,
    key                 text NOT NULL,
    created_at          timestamptz NOT NULL,
    deleted_at          timestamptz
);
CREATE INDEX reactions_message_idx ON reactions (message_id) WHERE deleted_at IS NULL;

-- Internal notes on a conversation, visible to managers only.
CREATE TABLE notes (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id  bigint NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    author_id        bigint REFERENCES managers (id) ON DELETE SET NULL,
    body             text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notes_conversation_idx ON notes (conversation_id, created_at);

-- Orders of a contact.
CREATE TABLE orders (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    contact_id   bigint NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    number       text NOT NULL,
    status       text NOT NULL DEFAULT 'new',
    total        numeric(14, 2) NOT NULL DEFAULT 0,
    currency     char(3) NOT NULL DEFAULT 'EUR',
    items        jsonb NOT NULL DEFAULT '[]'::jsonb,
    created_by   bigint REFERENCES managers (id) ON DELETE SET NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (contact_id, number)
);
CREATE INDEX orders_contact_idx ON orders (contact_id, created_at DESC);

-- The outbox: durable work for the senders (Matrix sends, reactions, edits, redactions, mail).
CREATE TABLE outbox (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id       bigint REFERENCES messages (id) ON DELETE CASCADE,
    action           text NOT NULL CHECK (action IN (
                         'send', 'react', 'unreact', 'edit', 'redact', 'email', 'notify')),
    payload          jsonb NOT NULL DEFAULT '{}'::jsonb,
    state            text NOT NULL DEFAULT 'pending'
                     CHECK (state IN ('pending', 'done', 'failed')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX outbox_due_idx ON outbox (next_attempt_at, id) WHERE state = 'pending';
CREATE INDEX outbox_message_idx ON outbox (message_id);

-- Appservice transactions already stored: the durable de-duplication of Synapse's retries.
CREATE TABLE as_transactions (
    txn_id        text PRIMARY KEY,
    event_count   integer NOT NULL,
    processed_at  timestamptz NOT NULL DEFAULT now()
);

-- Invites of the CRM's user: a worker joins (or declines) them, and resumes after a restart.
CREATE TABLE room_invites (
    room_id      text PRIMARY KEY,
    inviter      text NOT NULL,
    accept       boolean NOT NULL,
    state        text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'failed')),
    attempts     integer NOT NULL DEFAULT 0,
    last_error   text,
    invited_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX room_invites_pending_idx ON room_invites (invited_at) WHERE state = 'pending';

-- Every event that arrived, raw, whether or not it could be mapped.
CREATE TABLE raw_events (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id     text,
    room_id      text,
    event_type   text,
    sender       text,
    txn_id       text,
    is_ephemeral boolean NOT NULL DEFAULT false,
    content      jsonb NOT NULL,
    error        text,
    received_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX raw_events_event_id_key ON raw_events (event_id) WHERE event_id IS NOT NULL;
CREATE INDEX raw_events_room_idx ON raw_events (room_id, id);
CREATE INDEX raw_events_error_idx ON raw_events (id) WHERE error IS NOT NULL;

-- The hot tables grow and churn fastest: keep their statistics (and so the plans of the prepared
-- ingest statements, which are made again after each ANALYZE) and their dead rows in check.
ALTER TABLE messages SET (autovacuum_analyze_scale_factor = 0.02, autovacuum_vacuum_scale_factor = 0.05);
ALTER TABLE conversations SET (autovacuum_analyze_scale_factor = 0.02, autovacuum_vacuum_scale_factor = 0.02);
ALTER TABLE raw_events SET (autovacuum_analyze_scale_factor = 0.02, autovacuum_vacuum_scale_factor = 0.05);
