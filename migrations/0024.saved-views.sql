-- depends: 0023.labels
-- Saved views: a named set of the inbox list's filters, a manager's own (owner_id) or the
-- team's (owner_id NULL, kept by admins), shown beside the tabs with their counts. `filters`
-- holds the list's query as the API validated it (api/view_models.ConversationFilters).
CREATE TABLE saved_views (
    id bigserial PRIMARY KEY,
    owner_id bigint REFERENCES managers (id) ON DELETE CASCADE,
    name text NOT NULL CHECK (name = btrim(name) AND char_length(name) BETWEEN 1 AND 40),
    filters jsonb NOT NULL CHECK (jsonb_typeof(filters) = 'object'),
    created_by bigint REFERENCES managers (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
-- One name per set, whatever its case: the team's, and each manager's own.
CREATE UNIQUE INDEX saved_views_name_key ON saved_views (coalesce(owner_id, 0), lower(name));

-- "Waiting for us" (the customer wrote last) and "no reply for more than N hours", in list
-- order: a view of them walks this index from the newest (or from the cut-off) on.
CREATE INDEX conversations_waiting_idx
    ON conversations (last_message_at DESC NULLS LAST, id DESC)
    WHERE NOT last_message_out AND last_message_at IS NOT NULL AND NOT is_archived
      AND merged_into IS NULL;

-- "My customers" (the contact's owner) as a list in order: the owner kept on the conversation
-- too, by triggers, so such a list or count is one index range instead of a walk through the
-- owner's contacts' conversations. Whatever changes a contact's owner (a manager, an import, a
-- merge, a manager removed) or a conversation's contact moves it along.
ALTER TABLE conversations ADD COLUMN contact_owner_id bigint;
UPDATE conversations c SET contact_owner_id = ct.owner_id
  FROM contacts ct WHERE ct.id = c.contact_id AND ct.owner_id IS NOT NULL;
CREATE INDEX conversations_owner_idx
    ON conversations (contact_owner_id, last_message_at DESC NULLS LAST, id DESC)
    WHERE contact_owner_id IS NOT NULL;

CREATE FUNCTION conversations_contact_owner() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Held (FOR SHARE) so a change of the owner being made now waits for this row to commit,
    -- and its own trigger then sees the conversation; unheld, both could miss each other.
    NEW.contact_owner_id := (SELECT owner_id FROM contacts WHERE id = NEW.contact_id FOR SHARE);
    RETURN NEW;
END $$;
CREATE TRIGGER conversations_contact_owner BEFORE INSERT OR UPDATE OF contact_id
    ON conversations FOR EACH ROW EXECUTE FUNCTION conversations_contact_owner();

CREATE FUNCTION contacts_owner_to_conversations() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE conversations SET contact_owner_id = NEW.owner_id WHERE contact_id = NEW.id;
    RETURN NULL;
END $$;
CREATE TRIGGER contacts_owner_to_conversations AFTER UPDATE OF owner_id ON contacts
    FOR EACH ROW WHEN (OLD.owner_id IS DISTINCT FROM NEW.owner_id)
    EXECUTE FUNCTION contacts_owner_to_conversations();

ALTER TABLE live_events DROP CONSTRAINT live_events_type_check;
ALTER TABLE live_events ADD CONSTRAINT live_events_type_check CHECK (type IN (
    'message.created', 'message.updated', 'conversation.created', 'conversation.updated',
    'note.created', 'note.updated', 'history.created', 'session.ended', 'manager.changed',
    'label.updated', 'label.deleted', 'view.updated', 'view.deleted'));
