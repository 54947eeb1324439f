-- depends: 0007.who-speaks
-- Which rooms are the CRM's. The homeserver pushes every event a bridge ghost sends, so the
-- portals of the bridge's other Matrix users reach the CRM too (an employee's private chats).
-- A room is the CRM's when the bridge invited the CRM's user to it, or when its receiver is one
-- of the CRM's own logins: the receivers of the rooms it was invited to, and the logins the
-- bridge's provisioning API lists. Other rooms are never mapped, and their raw events are
-- deleted after a grace period (in which an invite may still come).
CREATE TABLE own_logins (
    platform   text NOT NULL,
    login_id   text NOT NULL,
    learned_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (platform, login_id)
);
INSERT INTO own_logins (platform, login_id)
SELECT DISTINCT platform, receiver FROM conversations WHERE receiver IS NOT NULL
ON CONFLICT DO NOTHING;

-- How far the removal of other rooms' raw events has looked (raw_events.id); one row.
CREATE TABLE raw_events_sweep (
    id        boolean PRIMARY KEY DEFAULT true CHECK (id),
    last_id   bigint NOT NULL DEFAULT 0
);
INSERT INTO raw_events_sweep DEFAULT VALUES;
