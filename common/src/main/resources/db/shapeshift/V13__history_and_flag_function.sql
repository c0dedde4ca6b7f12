-- V13: what the dashboard charts, kept server-side so a reload (or a second operator) sees the
-- same past. The coordinator's status loop appends one row per active migration at most every
-- 10 s (HistoryRecorder; several coordinators share the guard below, so they do not double the
-- rows) and deletes rows older than 3 days: the table stays bounded at about 26,000 rows per
-- migration that stays active that long.
CREATE TABLE status_history (
    migration               text             NOT NULL REFERENCES migration (name)
                                             ON DELETE CASCADE ON UPDATE CASCADE,
    at                      timestamptz      NOT NULL DEFAULT now(),
    phase                   text             NOT NULL,
    drift_open              bigint           NOT NULL,  -- drift rows unresolved now
    drift_found             bigint           NOT NULL,  -- drift rows ever recorded (open + resolved)
    drift_repaired          bigint           NOT NULL,  -- drift rows resolved
    sync_lag_seconds        double precision,           -- null: unknown (a stream stopped or missing)
    slot_lag_bytes          bigint,                     -- WAL retained by the slot; null: no slot
    rows_copied             bigint           NOT NULL,
    rows_per_second         double precision NOT NULL,
    chunks_done             integer          NOT NULL,
    chunks_total            integer          NOT NULL,
    streams_running         integer          NOT NULL,
    streams_stopped         integer          NOT NULL,
    heartbeat_age_seconds   double precision,           -- the bridge's last heartbeat seen by sync
    PRIMARY KEY (migration, at)
);

-- Read-switch flags for applications in any language: `SELECT shapeshift.flag('users.read-new')`
-- is the flag's value, false when it was never set (as FlagClient answers). One primary-key
-- lookup, STABLE (evaluated once per statement), cheap enough per request; cache it for a second
-- or two where requests are many. SECURITY DEFINER with a fixed search_path: a caller needs
-- EXECUTE on the function and USAGE on the schema, nothing on the catalog's tables. Not granted to
-- PUBLIC: `shapeshift flag grant ROLE` (or the two GRANTs in docs/flags.md) lets a role call it.
CREATE FUNCTION flag(flag_name text) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce((SELECT f.value FROM shapeshift.flag f WHERE f.name = flag_name), false)
$$;
REVOKE ALL ON FUNCTION flag(text) FROM PUBLIC;
COMMENT ON FUNCTION flag(text) IS
    'Shapeshift read-switch flag value (false when never set); see docs/flags.md';
