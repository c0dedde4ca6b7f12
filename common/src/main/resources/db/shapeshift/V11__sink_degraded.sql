-- Sinks (docs/sinks.md): a sync stream whose sink keeps failing with retryable errors past its
-- retry policy is DEGRADED (message: the sink's last error); it keeps retrying and goes back to
-- RUNNING by itself when the sink answers again.
ALTER TABLE sync_stream DROP CONSTRAINT sync_stream_state_check;
ALTER TABLE sync_stream ADD CONSTRAINT sync_stream_state_check
    CHECK (state IN ('CATCHING_UP', 'RUNNING', 'STOPPED_POISON', 'STOPPED_ERROR', 'DEGRADED'));
