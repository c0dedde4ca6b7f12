-- Shapeshift's catalog: everything a migration is, does and did, queryable with SQL.
-- Keys of source rows are stored as JSON arrays of the key columns' text forms, in key order
-- (e.g. ["42"] or ["eu", "7"]), so every key type fits one representation.

CREATE TABLE migration (
    name              text PRIMARY KEY,
    spec              jsonb       NOT NULL,
    spec_source       text        NOT NULL,
    phase             text        NOT NULL,
    message           text,
    version           bigint      NOT NULL DEFAULT 0,
    slot_name         text,
    start_lsn         pg_lsn,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    phase_changed_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE chunk (
    migration     text        NOT NULL REFERENCES migration (name) ON DELETE CASCADE,
    chunk_no      integer     NOT NULL,
    lower_key     jsonb,                 -- exclusive; NULL = from the first key
    upper_key     jsonb,                 -- inclusive; NULL = to the last key
    status        text        NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'running', 'done', 'failed')),
    last_key      jsonb,                 -- checkpoint: every key up to here is copied
    rows_copied   bigint      NOT NULL DEFAULT 0,
    attempts      integer     NOT NULL DEFAULT 0,
    owner         text,
    epoch         bigint      NOT NULL DEFAULT 0,   -- lease: a higher epoch fences older owners
    heartbeat_at  timestamptz,
    started_at    timestamptz,
    finished_at   timestamptz,
    error         text,
    PRIMARY KEY (migration, chunk_no)
);

CREATE TABLE setting (
    migration   text        NOT NULL REFERENCES migration (name) ON DELETE CASCADE,
    name        text        NOT NULL,
    value       text        NOT NULL,
    changed_by  text        NOT NULL,
    changed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (migration, name)
);

CREATE TABLE reconcile_run (
    id            bigserial   PRIMARY KEY,
    migration     text        NOT NULL REFERENCES migration (name) ON DELETE CASCADE,
    status        text        NOT NULL DEFAULT 'running'
                  CHECK (status IN ('running', 'done', 'stopped', 'failed')),
    started_at    timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz,
    last_key      jsonb,                 -- resumable: ranges up to here are compared
    ranges_done   bigint      NOT NULL DEFAULT 0,
    rows_checked  bigint      NOT NULL DEFAULT 0,
    drift_found   bigint      NOT NULL DEFAULT 0,
    message       text
);

CREATE TABLE drift (
    migration    text        NOT NULL REFERENCES migration (name) ON DELETE CASCADE,
    key          jsonb       NOT NULL,
    kind         text        NOT NULL CHECK (kind IN ('missing', 'extra', 'different')),
    run_id       bigint      REFERENCES reconcile_run (id) ON DELETE SET NULL,
    first_seen   timestamptz NOT NULL DEFAULT now(),
    last_seen    timestamptz NOT NULL DEFAULT now(),
    resolved_at  timestamptz,
    PRIMARY KEY (migration, key)
);
CREATE INDEX drift_open ON drift (migration) WHERE resolved_at IS NULL;

CREATE TABLE flag (
    name        text        PRIMARY KEY,
    migration   text        REFERENCES migration (name) ON DELETE SET NULL,
    value       boolean     NOT NULL DEFAULT false,
    version     bigint      NOT NULL DEFAULT 1,
    changed_by  text        NOT NULL,
    changed_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE audit (
    id          bigserial   PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    migration   text,
    actor       text        NOT NULL,
    action      text        NOT NULL,
    from_phase  text,
    to_phase    text,
    reason      text,
    details     jsonb
);
CREATE INDEX audit_by_migration ON audit (migration, id);
