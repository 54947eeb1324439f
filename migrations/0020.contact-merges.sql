-- depends: 0019.contacts-list
-- A manager's merge of two contacts, kept so that it can be undone: what moved from the merged
-- contact (its ghosts, conversations, numbers, orders, and the contacts merged into it before)
-- and what the kept contact had before it took the merged one's name, number or e-mail.
CREATE TABLE contact_merges (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kept_id      bigint NOT NULL REFERENCES contacts (id),
    gone_id      bigint NOT NULL REFERENCES contacts (id),
    merged_by    bigint REFERENCES managers (id) ON DELETE SET NULL,
    merged_at    timestamptz NOT NULL DEFAULT now(),
    moved        jsonb NOT NULL,
    kept_before  jsonb NOT NULL,
    undone_by    bigint REFERENCES managers (id) ON DELETE SET NULL,
    undone_at    timestamptz,
    CHECK (kept_id <> gone_id)
);
CREATE INDEX contact_merges_kept_idx ON contact_merges (kept_id, merged_at DESC);
CREATE INDEX contact_merges_gone_idx ON contact_merges (gone_id);
