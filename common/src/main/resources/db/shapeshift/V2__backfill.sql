-- Backfill bookkeeping beyond V1's chunk table.

-- rows_written: rows the chunk actually inserted/changed (rows_copied counts rows covered, i.e.
-- read under lock; the two differ when sync got there first). resumed_from: the checkpoint the
-- latest lease started from (NULL on a first attempt), so a resume is visible in SQL.
ALTER TABLE chunk
    ADD COLUMN rows_written bigint NOT NULL DEFAULT 0,
    ADD COLUMN resumed_from jsonb;

-- One row per planned migration: how the plan was made and what the table looked like then.
CREATE TABLE backfill_plan (
    migration       text        PRIMARY KEY REFERENCES migration (name) ON DELETE CASCADE,
    method          text        NOT NULL,   -- 'histogram', 'sample' or 'empty'
    estimated_rows  bigint      NOT NULL,
    chunk_rows      integer     NOT NULL,
    table_bytes     bigint      NOT NULL,   -- pg_table_size at planning
    index_bytes     bigint      NOT NULL,   -- pg_indexes_size at planning
    planned_at      timestamptz NOT NULL DEFAULT now()
);

-- In-place mode: one row per VACUUM run between batches; the worker that inserts the row for a
-- mark (every ~10% of the table copied) runs the VACUUM, so concurrent workers run it once.
CREATE TABLE backfill_vacuum (
    migration            text        NOT NULL REFERENCES migration (name) ON DELETE CASCADE,
    mark                 integer     NOT NULL,
    runner               text        NOT NULL,
    started_at           timestamptz NOT NULL DEFAULT now(),
    finished_at          timestamptz,
    table_bytes_before   bigint,
    index_bytes_before   bigint,
    table_bytes_after    bigint,
    index_bytes_after    bigint,
    PRIMARY KEY (migration, mark)
);
