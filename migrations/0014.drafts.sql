-- depends: 0013.conversation-history
-- A manager's unsent reply, per conversation: kept with the manager, not in a browser, so it
-- follows them to another device and a colleague signing in on the same browser never sees
-- it. Sending the reply removes it in the same transaction.
CREATE TABLE drafts (
    manager_id       bigint NOT NULL REFERENCES managers (id) ON DELETE CASCADE,
    conversation_id  bigint NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    body             text NOT NULL CHECK (length(body) BETWEEN 1 AND 65536),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (manager_id, conversation_id)
);
