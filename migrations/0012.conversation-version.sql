-- depends: 0011.sessions
-- Every change of a conversation row makes its version grow, as messages' do (0009, whose
-- trigger function is table-agnostic): a browser holding two answers about one conversation (a
-- read's answer arriving after a resolve's, a live frame and an action's answer) keeps the
-- newer, instead of putting back an older state.
ALTER TABLE conversations ADD COLUMN version bigint NOT NULL DEFAULT 1;

CREATE TRIGGER conversations_version BEFORE UPDATE ON conversations
    FOR EACH ROW EXECUTE FUNCTION messages_next_version();
