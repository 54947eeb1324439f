-- depends: 0010.leases
-- Failed logins (and failed password checks before minting an API token), counted in the
-- database so that every instance behind a load balancer shares one count, and reserved before
-- the password is checked so that concurrent attempts cannot get past it (store/attempts.py).
CREATE TABLE login_failures (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key       text NOT NULL,
    at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_key_idx ON login_failures (key, at);
CREATE INDEX login_failures_at_idx ON login_failures (at);

-- The live feed also tells every instance of an ended session and of a manager's changed rights,
-- whose live connections then close (live/guard.py).
ALTER TABLE live_events DROP CONSTRAINT live_events_type_check;
ALTER TABLE live_events ADD CONSTRAINT live_events_type_check CHECK (type IN (
    'message.created', 'message.updated', 'conversation.created', 'conversation.updated',
    'note.created', 'session.ended', 'manager.changed'));
