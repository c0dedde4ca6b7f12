-- V5: the bridge's tables join the catalog's history, durable sync stream state, re-usable names.

-- The cdc-bridge created these two itself before V5, outside Flyway's history (so a bridge
-- started first made every later role refuse the schema). IF NOT EXISTS: a database that already
-- has them is baselined at version 0 by CatalogSchema and keeps their rows.
CREATE TABLE IF NOT EXISTS bridge_capture (
    migration     text        PRIMARY KEY,
    source_table  text        NOT NULL,
    columns       jsonb       NOT NULL,
    captured_at   timestamptz NOT NULL DEFAULT now(),
    stopped_at    timestamptz,
    stop_reason   text
);
-- Rows written by Debezium's heartbeat query (one per slot) and by the coordinator's lag probe
-- (slot_name '<slot>.probe'); the table is in the bridge's publication, so each write reaches
-- every partition of every captured migration as a heartbeat event.
CREATE TABLE IF NOT EXISTS heartbeat (
    slot_name  text        PRIMARY KEY,
    beat_at    timestamptz NOT NULL DEFAULT now()
);

-- One row per migration and Kafka partition of its changes topic: the sync stream as its current
-- owner (a worker) last wrote it. State changes are written at once; progress after the batch's
-- database commit, at most once a second per partition. A worker writes only rows it owns.
CREATE TABLE sync_stream (
    migration          text        NOT NULL REFERENCES migration (name) ON DELETE CASCADE,
    partition          integer     NOT NULL,
    owner              text        NOT NULL,
    partitions         integer     NOT NULL,   -- the changes topic's partition count, as the owner saw it
    state              text        NOT NULL
                       CHECK (state IN ('CATCHING_UP', 'RUNNING', 'STOPPED_POISON', 'STOPPED_ERROR')),
    applied_offset     bigint,      -- last Kafka offset applied (the committed offset - 1)
    applied_lsn        pg_lsn,      -- source LSN of the newest change or heartbeat applied
    applied_commit_at  timestamptz, -- its source commit time
    applied_at         timestamptz, -- when that batch committed in the target
    stop_offset        bigint,      -- STOPPED_POISON: the offset of the record sync waits at
    message            text,
    updated_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (migration, partition)
);

-- Re-usable names: a finished migration is retired under '<name>~<generation>' when its name is
-- registered again (Catalog.create), and every row that belongs to it follows the rename.
ALTER TABLE migration ADD COLUMN generation integer NOT NULL DEFAULT 1;
ALTER TABLE migration ADD COLUMN retired_from text;   -- set on a retired row: the name it ran under
-- set by cleanup once the migration's Kafka topics and consumer groups are gone: only then may its
-- name be registered again (a new run must never read the old run's change or chunk records)
ALTER TABLE migration ADD COLUMN cleaned_up_at timestamptz;

DO $$
DECLARE
    fk record;
BEGIN
    FOR fk IN
        SELECT con.conname, con.conrelid::regclass AS tbl, pg_get_constraintdef(con.oid) AS def
        FROM pg_constraint con
        WHERE con.contype = 'f' AND con.confrelid = 'migration'::regclass
    LOOP
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', fk.tbl, fk.conname);
        EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I %s ON UPDATE CASCADE', fk.tbl, fk.conname, fk.def);
    END LOOP;
END $$;
