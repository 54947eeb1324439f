-- depends: 0024.saved-views
-- Deals: what a customer may buy, moved through a pipeline's stages on a board. Admins keep the
-- pipelines, their stages (the open ones in order, then one won and one lost stage, where a
-- deal is closed) and the reasons a deal is lost. A deal's status (open, won, lost) is its
-- stage's kind, kept on the deal by a trigger so the board, a contact's open deals and the
-- reports read it from indexes, never from a join per row.
CREATE TABLE pipelines (
    id bigserial PRIMARY KEY,
    name text NOT NULL CHECK (name = btrim(name) AND char_length(name) BETWEEN 1 AND 60),
    currency text NOT NULL DEFAULT 'EUR' CHECK (currency ~ '^[A-Z]{3}$'),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX pipelines_name_key ON pipelines (lower(name));

CREATE TABLE deal_stages (
    id bigserial PRIMARY KEY,
    pipeline_id bigint NOT NULL REFERENCES pipelines (id) ON DELETE CASCADE,
    name text NOT NULL CHECK (name = btrim(name) AND char_length(name) BETWEEN 1 AND 40),
    kind text NOT NULL CHECK (kind IN ('open', 'won', 'lost')),
    position int NOT NULL,
    -- A deal names its pipeline and stage together, so its stage is always of its pipeline.
    UNIQUE (pipeline_id, id)
);
CREATE INDEX deal_stages_pipeline_idx ON deal_stages (pipeline_id, position);

CREATE TABLE lost_reasons (
    id bigserial PRIMARY KEY,
    pipeline_id bigint NOT NULL REFERENCES pipelines (id) ON DELETE CASCADE,
    name text NOT NULL CHECK (name = btrim(name) AND char_length(name) BETWEEN 1 AND 60),
    position int NOT NULL
);
CREATE INDEX lost_reasons_pipeline_idx ON lost_reasons (pipeline_id, position);

CREATE TABLE deals (
    id bigserial PRIMARY KEY,
    pipeline_id bigint NOT NULL REFERENCES pipelines (id),
    stage_id bigint NOT NULL,
    -- The card's place in its column: smaller is higher. Gaps let a card go between two others
    -- without moving them (store/deals.py spreads a column out again when a gap closes).
    position bigint NOT NULL,
    title text NOT NULL CHECK (title = btrim(title) AND char_length(title) BETWEEN 1 AND 200),
    value numeric(14, 2) NOT NULL DEFAULT 0 CHECK (value >= 0),
    currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    contact_id bigint REFERENCES contacts (id) ON DELETE SET NULL,
    owner_id bigint REFERENCES managers (id) ON DELETE SET NULL,
    expected_close date,
    status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'won', 'lost')),
    lost_reason_id bigint REFERENCES lost_reasons (id) ON DELETE SET NULL,
    lost_note text CHECK (char_length(lost_note) <= 500),
    closed_at timestamptz,
    label_ids bigint[] NOT NULL DEFAULT '{}' CHECK (cardinality(label_ids) <= 50),
    version int NOT NULL DEFAULT 1,
    created_by bigint REFERENCES managers (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (pipeline_id, stage_id) REFERENCES deal_stages (pipeline_id, id)
);
-- A column of the board in order, and its count and total read from the index alone.
CREATE INDEX deals_stage_idx ON deals (stage_id, position, id) INCLUDE (value, currency, owner_id);
-- A column filtered by owner (the board's "mine"), in order.
CREATE INDEX deals_owner_idx ON deals (owner_id, stage_id, position, id) WHERE owner_id IS NOT NULL;
-- A board filtered by labels: the labelled deals by the index, then in order.
CREATE INDEX deals_labels_idx ON deals USING gin (label_ids) WHERE label_ids <> '{}';
-- A contact's deals (the conversation's side panel, the contact's page), open ones first.
CREATE INDEX deals_contact_idx ON deals (contact_id, status, id) WHERE contact_id IS NOT NULL;

-- Every move between stages, with who made it: what the deal went through, for the deal's page
-- and for the conversion between stages in reports.
CREATE TABLE deal_stage_history (
    id bigserial PRIMARY KEY,
    deal_id bigint NOT NULL REFERENCES deals (id) ON DELETE CASCADE,
    from_stage_id bigint REFERENCES deal_stages (id) ON DELETE SET NULL,
    to_stage_id bigint REFERENCES deal_stages (id) ON DELETE SET NULL,
    manager_id bigint REFERENCES managers (id) ON DELETE SET NULL,
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX deal_stage_history_deal_idx ON deal_stage_history (deal_id, id);

-- The deal's status is its stage's kind: set with the stage, whoever sets it. Closing sets
-- closed_at; reopening clears it with the reason it was lost for.
CREATE FUNCTION deals_status() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    stage_kind text := (SELECT kind FROM deal_stages WHERE id = NEW.stage_id);
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.status = stage_kind THEN
        RETURN NEW;
    END IF;
    NEW.status := stage_kind;
    IF stage_kind = 'open' THEN
        NEW.closed_at := NULL;
        NEW.lost_reason_id := NULL;
        NEW.lost_note := NULL;
    ELSE
        NEW.closed_at := now();
        IF stage_kind = 'won' THEN
            NEW.lost_reason_id := NULL;
            NEW.lost_note := NULL;
        END IF;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER deals_status BEFORE INSERT OR UPDATE OF stage_id ON deals
    FOR EACH ROW EXECUTE FUNCTION deals_status();

-- A team starts with one pipeline, as sales teams' tools do: renamed or rebuilt by an admin.
WITH p AS (
    INSERT INTO pipelines (name) VALUES ('Sales') RETURNING id
), s AS (
    INSERT INTO deal_stages (pipeline_id, name, kind, position)
    SELECT p.id, x.name, x.kind, x.position FROM p, (VALUES
        ('New', 'open', 1), ('Qualified', 'open', 2), ('Offer sent', 'open', 3),
        ('Won', 'won', 4), ('Lost', 'lost', 5)) AS x(name, kind, position)
)
INSERT INTO lost_reasons (pipeline_id, name, position)
SELECT p.id, x.name, x.position FROM p, (VALUES
    ('Price', 1), ('Chose a competitor', 2), ('No answer', 3), ('Not needed now', 4))
    AS x(name, position);

ALTER TABLE live_events DROP CONSTRAINT live_events_type_check;
ALTER TABLE live_events ADD CONSTRAINT live_events_type_check CHECK (type IN (
    'message.created', 'message.updated', 'conversation.created', 'conversation.updated',
    'note.created', 'note.updated', 'history.created', 'session.ended', 'manager.changed',
    'label.updated', 'label.deleted', 'view.updated', 'view.deleted',
    'pipeline.updated', 'pipeline.deleted', 'deal.updated', 'deal.deleted'));
