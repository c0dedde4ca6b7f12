-- In place, the write switch gives the table REPLICA IDENTITY FULL, so pgoutput sends the whole
-- before image of every UPDATE and the bridge can tell an application's write of the old columns
-- from a write of the new ones (docs/phases.md, "Old-shape writes after the switch"). The identity
-- the table had before, as the clause that restores it (DEFAULT, NOTHING or USING INDEX "name"),
-- restored when the write switch is undone (the drain), at rollback and at the contract; NULL when
-- there is nothing to restore (not set, already restored, or the table was FULL already).
ALTER TABLE migration ADD COLUMN replica_identity_before text;
