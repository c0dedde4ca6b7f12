-- Direct writes to the old shape after the write switch, seen in the change stream (issue 14,
-- docs/phases.md "Old-shape writes after the switch"): in table mode with a write switch, a row
-- change of the source (old) table that does not carry the workers' echo mark, applied by the
-- reverse sync after the flip, can only come from an application instance still writing the old
-- shape. One row per key; the workers write it in the transaction of the reverse refresh that
-- overwrites that write with reverse(new).
CREATE TABLE old_shape_change (
    migration     text        NOT NULL REFERENCES migration (name) ON DELETE CASCADE,
    key           jsonb       NOT NULL,   -- the key's text values, as in write_mismatch
    first_commit  timestamptz NOT NULL,   -- commit time of the first such change of the key
    last_commit   timestamptz NOT NULL,   -- commit time of the latest one
    last_tx       bigint      NOT NULL,   -- its transaction id (0 if unknown)
    last_lsn      bigint      NOT NULL,   -- its WAL position
    times         bigint      NOT NULL DEFAULT 1,  -- changes counted (a redelivered one is not counted twice)
    PRIMARY KEY (migration, key)
);
CREATE INDEX old_shape_change_recent ON old_shape_change (migration, last_commit);

-- The statements of old_shape_write (V9): the calls the coordinator last saw, and when it last saw
-- them grow after the switch. The contract-ready gate stays closed while one grew within the quiet
-- period, and opens once they stop.
ALTER TABLE old_shape_write
    ADD COLUMN calls_seen     bigint,
    ADD COLUMN last_grew_at   timestamptz;
