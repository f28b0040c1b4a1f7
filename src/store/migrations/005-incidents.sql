-- Incidents: declared by people, opened by Alertmanager or by an automatic release rollback, with
-- a timeline of typed entries. Every change is also an event in the audit chain. Expand only: the
-- previous release reads none of these tables.

CREATE SEQUENCE incident_numbers;

CREATE TABLE incidents (
  id              text PRIMARY KEY,            -- INC-7: short enough to type at 3am
  title           text NOT NULL,
  priority        text NOT NULL CHECK (priority IN ('P1', 'P2', 'P3', 'P4')),
  status          text NOT NULL CHECK (status IN ('investigating', 'identified', 'monitoring', 'resolved', 'reviewed')),
  citizen_message text,                        -- shown on the public status page
  benefits        jsonb NOT NULL DEFAULT '[]',
  journeys        jsonb NOT NULL DEFAULT '[]', -- SLO ids of the citizen journeys affected
  roles           jsonb NOT NULL DEFAULT '[]', -- [{role, person, assignedAt}]
  source          text NOT NULL,               -- manual | alertmanager | release-rollback
  release_ids     jsonb NOT NULL DEFAULT '[]',
  runbook         text,
  dedup_key       text,                        -- an alert group, or a rolled-back release
  started_at      text NOT NULL,               -- ISO 8601 UTC: the impact window opens here
  declared_at     text NOT NULL,
  declared_by     text NOT NULL,
  acknowledged_at text,
  acknowledged_by text,
  last_update_at  text NOT NULL,
  resolved_at     text,
  reviewed_at     text,
  review_due_at   text,
  reminded_at     text,                        -- the last reminder that an update is due
  escalated_at    text,
  notified_at     text,                        -- responders told of the declaration
  resolution_notified_at text,
  pending_notice  text                         -- news for responders not yet sent: a higher priority, an alert firing again
);
-- One open incident per alert group: the webhook adds to it rather than opening another, even
-- when two instances receive the same notification at once.
CREATE UNIQUE INDEX incidents_open_dedup ON incidents (dedup_key)
  WHERE dedup_key IS NOT NULL AND status IN ('investigating', 'identified', 'monitoring');
CREATE INDEX incidents_status ON incidents (status);

CREATE TABLE incident_entries (
  id          bigserial PRIMARY KEY,
  incident_id text NOT NULL REFERENCES incidents (id),
  at          text NOT NULL,
  kind        text NOT NULL,
  actor       text NOT NULL,
  text        text NOT NULL,
  data        jsonb NOT NULL DEFAULT '{}',
  alert_key   text                           -- an alert's fingerprint, start and status: resent alerts add nothing
);
CREATE INDEX incident_entries_incident ON incident_entries (incident_id, id);
CREATE UNIQUE INDEX incident_entries_alert ON incident_entries (incident_id, alert_key) WHERE alert_key IS NOT NULL;

-- Assessments the service could not complete (its fault, not the input's): the reference and the
-- error code only, never the inputs. With the decisions they give the per-minute counts and the
-- citizens to recontact.
CREATE TABLE assessment_failures (
  id             bigserial PRIMARY KEY,
  at             text NOT NULL,
  benefit        text NOT NULL,
  application_id text,
  code           text NOT NULL
);
CREATE INDEX assessment_failures_at ON assessment_failures (at);
