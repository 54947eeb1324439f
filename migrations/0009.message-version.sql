-- depends: 0008.own-chats
-- Every change of a message row makes its version grow: a browser that holds two copies of a
-- message (an API answer and a live frame, in either order) keeps the one with the higher
-- version, instead of re-deriving which status is "later" (see crm_appservice/delivery.py).
ALTER TABLE messages ADD COLUMN version bigint NOT NULL DEFAULT 1;

CREATE FUNCTION messages_next_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.version := OLD.version + 1;
    RETURN NEW;
END
$$;

CREATE TRIGGER messages_version BEFORE UPDATE ON messages
    FOR EACH ROW EXECUTE FUNCTION messages_next_version();
