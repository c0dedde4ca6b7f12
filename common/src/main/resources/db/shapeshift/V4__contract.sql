-- Contract evidence and archives (coordinator.contract, docs/contract.md).

-- The access watch of one migration: when it started (baseline), when it last looked, and the
-- moment from which the old shape counts as quiet.
CREATE TABLE contract_watch (
    migration       text        PRIMARY KEY REFERENCES migration (name) ON DELETE CASCADE,
    baseline_at     timestamptz NOT NULL,
    evaluated_at    timestamptz NOT NULL,
    quiet_since     timestamptz NOT NULL,   -- restarted by a pg_stat_statements reset
    stats_reset     timestamptz,            -- pg_stat_statements_info.stats_reset at the last look
    dealloc         bigint,                 -- pg_stat_statements_info.dealloc at the baseline
    dealloc_now     bigint,
    table_writes    bigint,                 -- table mode: n_tup_ins + n_tup_upd + n_tup_del of the old table
    table_reads     bigint,                 -- table mode: seq_scan + idx_scan (includes Shapeshift's own sync reads)
    writes_seen_at  timestamptz            -- table mode: the look at which table_writes grew
);

-- pg_stat_statements has no last-seen time: each look stores calls per statement, and a statement
-- whose calls grew since the previous look was seen at that look.
CREATE TABLE contract_statement (
    migration   text        NOT NULL REFERENCES migration (name) ON DELETE CASCADE,
    userid      oid         NOT NULL,
    queryid     bigint      NOT NULL,
    role_name   text,
    query       text        NOT NULL,
    calls       bigint      NOT NULL,
    calls_at_baseline bigint NOT NULL,
    first_seen  timestamptz NOT NULL,
    last_seen   timestamptz,             -- NULL: not executed since the baseline
    PRIMARY KEY (migration, userid, queryid)
);

-- Who was seen running what (pg_stat_activity samples): roles and query ids seen in Shapeshift
-- sessions (application_name shapeshift-*) and in other sessions.
CREATE TABLE contract_sighting (
    migration       text    NOT NULL REFERENCES migration (name) ON DELETE CASCADE,
    kind            text    NOT NULL CHECK (kind IN ('role', 'query')),
    id              bigint  NOT NULL,
    by_shapeshift   boolean NOT NULL DEFAULT false,
    by_other        boolean NOT NULL DEFAULT false,
    PRIMARY KEY (migration, kind, id)
);

-- The old shape kept restorable after the contract.
CREATE TABLE contract_archive (
    migration      text        PRIMARY KEY REFERENCES migration (name) ON DELETE CASCADE,
    mode           text        NOT NULL CHECK (mode IN ('in-place', 'table')),
    archive_table  text        NOT NULL,   -- always in schema shapeshift_archive
    source_schema  text        NOT NULL,
    source_table   text        NOT NULL,
    key_columns    jsonb       NOT NULL,
    columns        jsonb       NOT NULL,   -- in-place: [{"name","type","default"}] of the dropped columns
    archived_at    timestamptz NOT NULL DEFAULT now(),
    retain_until   timestamptz NOT NULL,
    restored_at    timestamptz,
    dropped_at     timestamptz,
    dropped_by     text
);
