-- depends: 0014.drafts
-- A note's author can change it or take it back: when it was last changed, and when it was
-- deleted (kept, so the live feed can tell every open inbox to drop it).
ALTER TABLE notes ADD COLUMN edited_at timestamptz;
ALTER TABLE notes ADD COLUMN deleted_at timestamptz;

ALTER TABLE live_events DROP CONSTRAINT live_events_type_check;
ALTER TABLE live_events ADD CONSTRAINT live_events_type_check CHECK (type IN (
    'message.created', 'message.updated', 'conversation.created', 'conversation.updated',
    'note.created', 'note.updated', 'history.created', 'session.ended', 'manager.changed'));
