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
