-- depends: 0021.contact-attributes
-- Quick replies: texts (with variables such as {{contact.first_name}}) and files a manager
-- sends with a few keys instead of typing them again. The team's (owner_id NULL, kept by
-- admins) and each manager's own; a shortcut names one within its set.
CREATE TABLE quick_replies (
    id bigserial PRIMARY KEY,
    owner_id bigint REFERENCES managers (id) ON DELETE CASCADE,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    shortcut text NOT NULL CHECK (shortcut ~ '^[a-z0-9][a-z0-9_-]{0,31}$'),
    body text NOT NULL CHECK (length(body) <= 4096),
    created_by bigint REFERENCES managers (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX quick_replies_team_shortcut_key ON quick_replies (shortcut)
    WHERE owner_id IS NULL;
CREATE UNIQUE INDEX quick_replies_own_shortcut_key ON quick_replies (owner_id, shortcut)
    WHERE owner_id IS NOT NULL;

-- A quick reply's files, in the database rather than on one instance's disk: every instance
-- sends them (each copies the bytes into its own outbox spool when a manager sends one).
CREATE TABLE quick_reply_files (
    id bigserial PRIMARY KEY,
    quick_reply_id bigint NOT NULL REFERENCES quick_replies (id) ON DELETE CASCADE,
    filename text NOT NULL CHECK (length(filename) BETWEEN 1 AND 255),
    mimetype text NOT NULL,
    size integer NOT NULL CHECK (size > 0),
    width integer,
    height integer,
    data bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX quick_reply_files_reply_idx ON quick_reply_files (quick_reply_id, id);
