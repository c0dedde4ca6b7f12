-- An in-place restore refills the old columns in checkpointed chunks and recreates the structure
-- of the old shape the contract archived (docs/contract.md, "Restore and drop").
ALTER TABLE contract_archive
    -- what the old columns had besides type and default, read at the contract: indexes and
    -- constraints on them, each [{"kind","name","definition","indexDefinition"}]
    ADD COLUMN structure          jsonb       NOT NULL DEFAULT '[]',
    ADD COLUMN restore_started_at timestamptz,          -- the columns are back; the refill runs
    ADD COLUMN restore_after      jsonb,                -- the checkpoint: the last archive key refilled
    ADD COLUMN restore_rows       bigint      NOT NULL DEFAULT 0;
