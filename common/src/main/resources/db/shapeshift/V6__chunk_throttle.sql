-- Why a running chunk is waiting, and since when: the throttle decision of the worker that holds
-- it (e.g. "lag_s=8.1 > 5"), written when the reason changes and cleared by the next checkpoint.
-- Status, the driver's stall detection, `backfill status` and the API read it (docs/throttling.md).
ALTER TABLE chunk ADD COLUMN throttle_reason text;
ALTER TABLE chunk ADD COLUMN throttled_since timestamptz;
