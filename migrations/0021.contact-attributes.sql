-- depends: 0020.contact-merges
-- The attributes a team keeps about its customers, defined by its admins: each with a type its
-- values are checked against, shown and edited on a contact, and filtered by on the list.
--
-- key: how the value is stored in contacts.attributes (and a CSV column is mapped to);
-- kind: text, number, date (YYYY-MM-DD), boolean (yes/no) or choice (one of `choices`).
CREATE TABLE contact_attributes (
    id bigserial PRIMARY KEY,
    key text NOT NULL UNIQUE CHECK (key ~ '^[a-z][a-z0-9_]{0,39}$'),
    label text NOT NULL CHECK (length(label) BETWEEN 1 AND 80),
    kind text NOT NULL CHECK (kind IN ('text', 'number', 'date', 'boolean', 'choice')),
    choices text[] NOT NULL DEFAULT '{}',
    position integer NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((kind = 'choice') = (cardinality(choices) > 0))
);

-- Every contact's every attribute value, one row each, kept by the triggers below from
-- contacts.attributes (whoever writes it: a manager, an import, a merge, an undo): a filter on
-- a value or a range of values (a budget above 1,000, a birthday in May) reads an index here
-- instead of every contact's jsonb. Numbers in `num`; text, dates (YYYY-MM-DD, ordered as
-- text in the "C" collation) and yes/no in `txt`, its first 200 characters (the filter
-- checks the whole value on the contact).
CREATE TABLE contact_attribute_values (
    contact_id bigint NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    key text NOT NULL,
    num numeric,
    txt text COLLATE "C",
    PRIMARY KEY (contact_id, key)
);
CREATE INDEX contact_attribute_values_num_idx ON contact_attribute_values (key, num)
    WHERE num IS NOT NULL;
CREATE INDEX contact_attribute_values_txt_idx ON contact_attribute_values (key, txt)
    WHERE txt IS NOT NULL;

CREATE FUNCTION contact_attribute_values_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        DELETE FROM contact_attribute_values WHERE contact_id = NEW.id;
    END IF;
    INSERT INTO contact_attribute_values (contact_id, key, num, txt)
    SELECT NEW.id, e.key,
           CASE WHEN jsonb_typeof(e.value) = 'number' THEN e.value::text::numeric END,
           CASE WHEN jsonb_typeof(e.value) IN ('string', 'boolean')
                THEN left(e.value #>> '{}', 200) END
      FROM jsonb_each(NEW.attributes) e
     WHERE jsonb_typeof(e.value) IN ('number', 'string', 'boolean');
    RETURN NULL;
END
$$;
CREATE TRIGGER contacts_attributes_inserted AFTER INSERT ON contacts FOR EACH ROW
    WHEN (NEW.attributes <> '{}'::jsonb) EXECUTE FUNCTION contact_attribute_values_kept();
CREATE TRIGGER contacts_attributes_updated AFTER UPDATE OF attributes ON contacts FOR EACH ROW
    WHEN (OLD.attributes IS DISTINCT FROM NEW.attributes)
    EXECUTE FUNCTION contact_attribute_values_kept();

INSERT INTO contact_attribute_values (contact_id, key, num, txt)
SELECT ct.id, e.key,
       CASE WHEN jsonb_typeof(e.value) = 'number' THEN e.value::text::numeric END,
       CASE WHEN jsonb_typeof(e.value) IN ('string', 'boolean')
            THEN left(e.value #>> '{}', 200) END
  FROM contacts ct, jsonb_each(ct.attributes) e
 WHERE jsonb_typeof(e.value) IN ('number', 'string', 'boolean');
