-- Rows that violate the structure a migration's new shape ends with (a unique index's duplicates,
-- NULLs of a NOT NULL column, rows failing a CHECK, orphans of a foreign key), found before that
-- structure is enforced. The enforcement waits while an item has findings; each pass over an item
-- replaces its findings with what it finds now. Keys as in V1: JSON arrays of the key columns' text
-- forms; a duplicate group's key is the array of its rows' keys.
CREATE TABLE finding (
    migration  text        NOT NULL REFERENCES migration (name) ON DELETE CASCADE,
    item       text        NOT NULL,      -- e.g. 'unique index menu_items_translate_key_key'
    kind       text        NOT NULL CHECK (kind IN ('duplicate', 'null', 'check', 'orphan')),
    key        jsonb       NOT NULL,
    detail     text,
    total      bigint      NOT NULL,      -- violating rows (or groups) the pass found; at most 100 are stored
    found_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (migration, item, key)
);
