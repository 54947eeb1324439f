-- depends: 0018.business-numbers
-- The Contacts page: every customer, found by what a manager remembers of them, in an order
-- that pages by keyset at any depth, and whose customer each one is.
--
-- owner_id: the manager whose customer this is ("My customers"; a new conversation of the
-- contact goes to them while they are active).
ALTER TABLE contacts ADD COLUMN owner_id bigint REFERENCES managers (id) ON DELETE SET NULL;

-- sort_name: what the list is ordered by (a contact without a name by its number);
-- search_text: everything a search looks in, one trigram index for all of it (the name, the
-- number, the e-mail address and the attributes' values).
ALTER TABLE contacts ADD COLUMN sort_name text GENERATED ALWAYS AS
    (lower(coalesce(display_name, phone, remote_id))) STORED;
ALTER TABLE contacts ADD COLUMN search_text text GENERATED ALWAYS AS
    (coalesce(display_name, '') || ' ' || coalesce(phone, '') || ' ' || coalesce(email, '')
     || ' ' || attributes::text) STORED;

-- A merged contact is in no list: every index of the page leaves it out.
CREATE INDEX contacts_sort_name_idx ON contacts (sort_name, id) WHERE merged_into IS NULL;
CREATE INDEX contacts_created_idx ON contacts (created_at DESC, id DESC)
    WHERE merged_into IS NULL;
CREATE INDEX contacts_owner_idx ON contacts (owner_id, sort_name, id)
    WHERE merged_into IS NULL;
CREATE INDEX contacts_search_trgm_idx ON contacts USING gin (search_text gin_trgm_ops)
    WHERE merged_into IS NULL;
CREATE INDEX contacts_email_idx ON contacts (lower(email)) WHERE email IS NOT NULL;
-- Every number a person has had, found by a part of it.
CREATE INDEX contact_phones_phone_trgm_idx ON contact_phones USING gin (phone gin_trgm_ops);
-- A contact's conversations on one number (the list's number filter).
CREATE INDEX conversations_contact_receiver_idx ON conversations (contact_id, receiver)
    WHERE merged_into IS NULL;
