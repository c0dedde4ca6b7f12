-- Reconcile bookkeeping beyond V1's reconcile_run and drift tables.

-- Progress of a run: how many source rows it expects (pg_class.reltuples at its start) and what
-- the re-check did with the keys that differed at first sight.
ALTER TABLE reconcile_run
    ADD COLUMN estimated_rows   bigint      NOT NULL DEFAULT 0,
    ADD COLUMN keys_rechecked   bigint      NOT NULL DEFAULT 0,  -- suspects compared again
    ADD COLUMN transient        bigint      NOT NULL DEFAULT 0,  -- suspects that agreed on re-check (sync lag)
    ADD COLUMN heartbeat_at     timestamptz;

-- Keys that differed at a check and wait for their re-check: a key becomes drift only if it still
-- differs after the sync has applied past check_lsn (and recheck_after has passed) while its source
-- row was not written in between (source_xmin unchanged). Paged, never held in memory.
CREATE TABLE reconcile_suspect (
    migration    text        NOT NULL REFERENCES migration (name) ON DELETE CASCADE,
    key          jsonb       NOT NULL,
    kind         text        NOT NULL CHECK (kind IN ('missing', 'extra', 'different')),
    run_id       bigint      REFERENCES reconcile_run (id) ON DELETE SET NULL,
    check_lsn    pg_lsn      NOT NULL,
    source_xmin  text,                  -- xmin of the source row at the check; NULL: no source row
    checked_at   timestamptz NOT NULL DEFAULT now(),
    rounds       integer     NOT NULL DEFAULT 1,
    PRIMARY KEY (migration, key)
);
CREATE INDEX reconcile_suspect_due ON reconcile_suspect (migration, checked_at);
CREATE INDEX reconcile_run_latest ON reconcile_run (migration, id DESC);
