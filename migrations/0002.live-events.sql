-- depends: 0001.initial-schema
-- The live feed: what changed, in commit order, for the WebSocket. Rows are written in the same
-- database transaction as the change (so no change is ever committed without its event) and hold
-- only what changed and its id: the payload is read when the event is pushed, so a client always
-- gets the resource as it is now. `seq` is what clients resume from (`?since=`); old rows are
-- deleted after a while and a client that asks for those gets a `resync` instead.
CREATE TABLE live_events (
    seq          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    type         text NOT NULL CHECK (type IN ('message.created', 'message.updated',
                     'conversation.created', 'conversation.updated', 'note.created')),
    ref_id       bigint NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX live_events_created_idx ON live_events (created_at);
