-- The write switch (issue 14, docs/phases.md): which shape the sync writes, and what the sync saw
-- the application write.

-- forward: the sync makes new = transform(old) (the old shape is authoritative);
-- reverse: the sync makes old = reverse(new, old) (after the write switch).
-- Workers read it in every sync transaction under a shared advisory lock that a flip takes
-- exclusively (SyncDirection), so no refresh runs in the old direction after a flip commits.
ALTER TABLE migration
    ADD COLUMN sync_direction        text        NOT NULL DEFAULT 'forward'
        CHECK (sync_direction IN ('forward', 'reverse')),
    ADD COLUMN direction_changed_at  timestamptz,
    -- old-shape NOT NULL constraints the write switch relaxed (restored on undo, validated)
    ADD COLUMN relaxed_not_null      text[]      NOT NULL DEFAULT '{}';

-- What the sync found the application wrote, recorded before it corrected the row:
--   dual-write-mismatch: in dual-writes, the new shape differed from transform(old) (the application's
--   new code computes it differently, or an instance still writes only the old shape).
CREATE TABLE write_mismatch (
    migration     text        NOT NULL REFERENCES migration (name) ON DELETE CASCADE,
    key           jsonb       NOT NULL,
    kind          text        NOT NULL CHECK (kind IN ('dual-write-mismatch')),
    written       text        NOT NULL,  -- md5 of the values the application left
    expected      text        NOT NULL,  -- md5 of the values the migration computes
    first_seen    timestamptz NOT NULL DEFAULT now(),
    last_seen     timestamptz NOT NULL DEFAULT now(),
    times         bigint      NOT NULL DEFAULT 1,
    PRIMARY KEY (migration, kind, key)
);
CREATE INDEX write_mismatch_recent ON write_mismatch (migration, last_seen);

-- At the write switch, the application's statements that write the old shape without the new one
-- (an INSERT or UPDATE on the table naming an old column and no new column, by a role other than
-- Shapeshift's), as pg_stat_statements counted them then. A call beyond this count after the switch
-- is an instance still writing only the old shape: the contract-ready gate names it.
CREATE TABLE old_shape_write (
    migration        text        NOT NULL REFERENCES migration (name) ON DELETE CASCADE,
    queryid          bigint      NOT NULL,
    role             text        NOT NULL,
    query            text        NOT NULL,
    calls_at_switch  bigint      NOT NULL,
    PRIMARY KEY (migration, queryid, role)
);
