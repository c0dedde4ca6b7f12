-- Contract evidence, issue 17 (docs/contract.md, "Read counter"): in table mode, from the write
-- switch until the contract, every statement of others that reads or writes the old table is
-- counted by identity (role, application_name, client address) and minute, through row-level
-- security policies on the old table whose expression calls count_access below.

-- One row per identity, minute and concurrently counting transaction: count_access updates a row
-- of its identity and minute that no other transaction holds (FOR UPDATE SKIP LOCKED) and inserts
-- one only when all are held, so two sessions of one identity never wait for each other, and a
-- minute of an identity is one row unless its transactions overlap. No unique key: no upsert, no
-- conflict to wait on. Sum over rows per identity to read.
--
-- UNLOGGED: a count then writes no WAL, so the reader's transaction, which it turns into a writing
-- one, commits without waiting for a WAL flush (PostgreSQL flushes at commit only when the
-- transaction wrote WAL before its commit record). Measured (`bench read-counter`): with a logged
-- table every counted read waited for the flush, an order of magnitude slower. The price: a crash
-- or a failover empties the table. read_counter_install keeps what the looks saw (counted_total,
-- counting_since, logged), so a look that finds fewer counts than before, or a server started
-- after counting began, restarts counting_since: the read-counter check then wants a whole quiet
-- period again, and the identities counted before are still in contract_reader.
CREATE UNLOGGED TABLE read_counter (
    id               bigserial   PRIMARY KEY,
    migration        text        NOT NULL REFERENCES migration (name) ON DELETE CASCADE ON UPDATE CASCADE,
    bucket           timestamptz NOT NULL,            -- the minute (date_trunc of the statement's start)
    role_name        text        NOT NULL,            -- current_user of the statement
    application_name text        NOT NULL,
    client_addr      text        NOT NULL,            -- host(inet_client_addr()), 'local' for a Unix socket
    reads            bigint      NOT NULL DEFAULT 0,
    writes           bigint      NOT NULL DEFAULT 0,
    first_at         timestamptz NOT NULL,
    last_at          timestamptz NOT NULL
);
CREATE INDEX read_counter_identity ON read_counter (migration, bucket, role_name, application_name, client_addr);

-- Where a counter is installed, and what the table's row-level security was before (restored on
-- removal). removed_at: null while counting.
CREATE TABLE read_counter_install (
    migration    text        PRIMARY KEY REFERENCES migration (name) ON DELETE CASCADE ON UPDATE CASCADE,
    table_schema text        NOT NULL,
    table_name   text        NOT NULL,
    had_rls      boolean     NOT NULL,
    had_force    boolean     NOT NULL,
    installed_at timestamptz NOT NULL,
    counting_since timestamptz NOT NULL,          -- installed_at, or when counts may have been lost since
    counted_total  bigint      NOT NULL DEFAULT 0, -- reads + writes the latest look saw
    removed_at   timestamptz,
    removed_why  text
);

-- Called once per statement and table reference (the policies wrap it in an uncorrelated
-- subquery, which PostgreSQL evaluates once, as an InitPlan, the first time a row needs it).
-- SECURITY DEFINER: the caller needs EXECUTE and USAGE on the schema (granted at installation to
-- the old table's grantees), nothing on read_counter. Read-only transactions (BEGIN READ ONLY,
-- default_transaction_read_only, a hot standby) cannot write: they are not counted here (their
-- statements are still in pg_stat_statements). Always true: it never hides a row.
CREATE FUNCTION count_access(m text, kind text, who name) RETURNS boolean
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    b timestamptz := date_trunc('minute', statement_timestamp());
    a text := coalesce(current_setting('application_name', true), '');
    c text := coalesce(host(inet_client_addr()), 'local');
    r integer := CASE WHEN kind = 'read' THEN 1 ELSE 0 END;
BEGIN
    IF current_setting('transaction_read_only') = 'on' THEN
        RETURN true;
    END IF;
    UPDATE shapeshift.read_counter SET reads = reads + r, writes = writes + 1 - r, last_at = clock_timestamp()
     WHERE id = (SELECT id FROM shapeshift.read_counter
                  WHERE migration = m AND bucket = b AND role_name = who AND application_name = a AND client_addr = c
                  LIMIT 1 FOR UPDATE SKIP LOCKED);
    IF NOT FOUND THEN
        INSERT INTO shapeshift.read_counter (migration, bucket, role_name, application_name, client_addr, reads,
                                             writes, first_at, last_at)
        VALUES (m, b, who, a, c, r, 1 - r, clock_timestamp(), clock_timestamp());
    END IF;
    RETURN true;
END
$$;
REVOKE ALL ON FUNCTION count_access(text, text, name) FROM PUBLIC;
COMMENT ON FUNCTION count_access(text, text, name) IS
    'Shapeshift read counter of an old table (table mode, after the write switch); see docs/contract.md';
