-- Contract evidence, issue 17 part 2 (docs/contract.md): brownouts and read replicas.

-- A brownout: for a window before the drop, the application roles lose their access to the old
-- shape (REVOKE, undone by the stored GRANTs in one transaction). The lockout and this row commit
-- together, and so do the undo and ended_at: a coordinator killed mid-window leaves a 'running'
-- row whose undo the next driver runs.
CREATE TABLE brownout (
    id          bigserial   PRIMARY KEY,
    migration   text        NOT NULL REFERENCES migration (name) ON DELETE CASCADE,
    status      text        NOT NULL CHECK (status IN ('running', 'passed', 'failed', 'aborted')),
    started_at  timestamptz NOT NULL,
    ends_at     timestamptz NOT NULL,       -- the end of the window
    ended_at    timestamptz,                -- when access was restored
    end_reason  text,
    locked_out  text[]      NOT NULL,       -- the grantees whose access was revoked
    untouched   text,                       -- roles with access the lockout cannot reach, for people
    undo_sql    text[]      NOT NULL,       -- the GRANTs (and REVOKEs of added column grants) that restore access
    undo_ms     double precision,           -- how long the undo transaction took
    log_file    text,                       -- the server's CSV log being read, and how far
    log_offset  bigint,
    log_problem text                        -- why failures cannot be collected (log not readable); null when they can
);
CREATE UNIQUE INDEX brownout_one_running ON brownout (migration) WHERE status = 'running';

-- Statements of others that failed on the missing access during a brownout, by role and statement.
CREATE TABLE brownout_failure (
    brownout_id      bigint      NOT NULL REFERENCES brownout (id) ON DELETE CASCADE,
    role_name        text        NOT NULL,
    application_name text        NOT NULL DEFAULT '',
    client           text        NOT NULL DEFAULT '',
    sql_state        text        NOT NULL,
    message          text        NOT NULL,
    statement        text        NOT NULL DEFAULT '',
    failures         integer     NOT NULL,
    first_at         timestamptz NOT NULL,
    last_at          timestamptz NOT NULL,
    PRIMARY KEY (brownout_id, role_name, application_name, client, sql_state, statement)
);

-- Read replicas whose pg_stat_statements the contract evidence reads (read-only connections
-- there, with the primary's credentials: a physical replica has the same roles). No secrets here.
CREATE TABLE replica (
    name      text        PRIMARY KEY,
    jdbc_url  text        NOT NULL,
    added_by  text        NOT NULL,
    added_at  timestamptz NOT NULL DEFAULT now()
);

-- Per migration and replica: when its watch started (the baseline) and the stats reset seen last.
CREATE TABLE contract_replica_watch (
    migration    text        NOT NULL REFERENCES migration (name) ON DELETE CASCADE,
    replica      text        NOT NULL,
    baseline_at  timestamptz NOT NULL,
    evaluated_at timestamptz NOT NULL,
    stats_reset  timestamptz,
    PRIMARY KEY (migration, replica)
);

-- pg_stat_statements calls per statement on a replica, as for the primary (contract_statement).
CREATE TABLE contract_replica_statement (
    migration   text        NOT NULL REFERENCES migration (name) ON DELETE CASCADE,
    replica     text        NOT NULL,
    userid      oid         NOT NULL,
    queryid     bigint      NOT NULL,
    role_name   text,
    query       text        NOT NULL,
    calls       bigint      NOT NULL,
    calls_at_baseline bigint NOT NULL,
    last_seen   timestamptz,              -- NULL: not executed since the replica's baseline
    PRIMARY KEY (migration, replica, userid, queryid)
);
