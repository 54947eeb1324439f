-- depends: 0012.conversation-version
-- What happened to a conversation (assigned, unassigned, a status set, snoozed until, reopened
-- by the customer, archived), by whom and when: the thread shows it in place among the
-- messages, as part of the conversation's history rather than only its present state.
--
-- A trigger writes it, in the transaction of the change, whichever path changed the row (a
-- manager's action, a reply taking the conversation, the customer writing again, a snooze
-- running out): no path can forget it. Who acted comes from `crm.actor`, which the store's
-- manager actions set in the statement that makes the change (store/history.py); without it
-- the change was the customer's when the same update brought a newer message (ingest is the
-- only path that moves last_message_at), else a snooze running out, else the system's.
CREATE TABLE conversation_history (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id  bigint NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    change           text NOT NULL CHECK (change IN ('assignee', 'status', 'archived')),
    cause            text NOT NULL CHECK (cause IN ('manager', 'customer', 'snooze', 'system')),
    actor_id         bigint REFERENCES managers (id) ON DELETE SET NULL,
    -- The new value of what changed (one of these per change).
    assignee_id      bigint REFERENCES managers (id) ON DELETE SET NULL,
    status           text,
    snoozed_until    timestamptz,
    archived         boolean,
    created_at       timestamptz NOT NULL DEFAULT now()
);
-- A thread's page reads the changes between two of its messages' times.
CREATE INDEX conversation_history_thread_idx
    ON conversation_history (conversation_id, created_at, id);

ALTER TABLE live_events DROP CONSTRAINT live_events_type_check;
ALTER TABLE live_events ADD CONSTRAINT live_events_type_check CHECK (type IN (
    'message.created', 'message.updated', 'conversation.created', 'conversation.updated',
    'note.created', 'history.created', 'session.ended', 'manager.changed'));

CREATE FUNCTION conversation_history_record() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    actor bigint := nullif(current_setting('crm.actor', true), '')::bigint;
    why text;
    newest bigint;
BEGIN
    why := CASE
        WHEN actor IS NOT NULL THEN 'manager'
        WHEN NEW.last_message_at IS DISTINCT FROM OLD.last_message_at THEN 'customer'
        WHEN OLD.status = 'snoozed' AND NEW.status = 'open' THEN 'snooze'
        ELSE 'system' END;
    WITH changes AS (
        INSERT INTO conversation_history
               (conversation_id, change, cause, actor_id, assignee_id, status, snoozed_until,
                archived)
        SELECT NEW.id, c.change, why, actor, c.assignee_id, c.status, c.snoozed_until, c.archived
          FROM (VALUES
                ('assignee', NEW.assignee_id IS DISTINCT FROM OLD.assignee_id,
                 NEW.assignee_id, NULL, NULL::timestamptz, NULL::boolean),
                ('status', NEW.status IS DISTINCT FROM OLD.status
                           OR NEW.snoozed_until IS DISTINCT FROM OLD.snoozed_until,
                 NULL, NEW.status, NEW.snoozed_until, NULL),
                ('archived', NEW.is_archived IS DISTINCT FROM OLD.is_archived,
                 NULL, NULL, NULL, NEW.is_archived)
               ) AS c (change, changed, assignee_id, status, snoozed_until, archived)
         WHERE c.changed
        RETURNING id
    ), feed AS (
        -- As store/live.py records any change: the transaction already has its id (it has
        -- just updated the row) before the seq is taken.
        INSERT INTO live_events (seq, type, ref_id)
        OVERRIDING SYSTEM VALUE
        SELECT nextval('live_events_seq_seq'), 'history.created', id FROM changes ORDER BY id
        RETURNING seq
    )
    SELECT max(seq) INTO newest FROM feed;
    IF newest IS NOT NULL THEN
        PERFORM pg_notify('crm_live', newest::text);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER conversations_history AFTER UPDATE ON conversations FOR EACH ROW
    WHEN (NEW.assignee_id IS DISTINCT FROM OLD.assignee_id
          OR NEW.status IS DISTINCT FROM OLD.status
          OR NEW.snoozed_until IS DISTINCT FROM OLD.snoozed_until
          OR NEW.is_archived IS DISTINCT FROM OLD.is_archived)
    EXECUTE FUNCTION conversation_history_record();
