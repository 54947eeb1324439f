-- depends: 0009.message-version
-- Work is claimed with a lease instead of a row lock held across the network call: the worker
-- claims an entry (or invite) in a short transaction, calls the homeserver (or the mail server)
-- outside any transaction, and records the result in another short one. A homeserver that takes
-- seconds to answer then never holds a lock that ingest or the API wait for. A lease is free
-- again when it runs out, or at once when the claiming connection (leased_by, its backend pid)
-- is gone: a crashed instance's work is taken over immediately, as with the row lock before.
ALTER TABLE outbox ADD COLUMN leased_until timestamptz, ADD COLUMN leased_by integer;
ALTER TABLE room_invites ADD COLUMN leased_until timestamptz, ADD COLUMN leased_by integer;
