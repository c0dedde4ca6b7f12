package dev.shapeshift.spec;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Objects;

/**
 * One migration, as written by its author in YAML. The records of this package are the spec's
 * whole vocabulary; {@code docs/spec.md} documents every field and a test keeps the two equal.
 *
 * <p>Defaults are applied in the compact constructors, so a spec that parsed is complete. Whether
 * it makes sense (and fits the live database) is {@link SpecValidator}'s business.
 */
public record MigrationSpec(
        String name,
        Source source,
        Mode mode,
        Target target,
        Expand expand,
        Backfill backfill,
        Reconcile reconcile,
        @JsonProperty("switch") Switch readSwitch,
        Writes writes,
        Contract contract) {

    public MigrationSpec {
        mode = Objects.requireNonNullElse(mode, Mode.IN_PLACE);
        expand = Objects.requireNonNullElseGet(expand, () -> new Expand(null, null));
        backfill = Objects.requireNonNullElseGet(backfill, () -> new Backfill(null, null, null, null, null, null));
        reconcile = Objects.requireNonNullElseGet(reconcile, () -> new Reconcile(null, null, null, null));
        readSwitch = Objects.requireNonNullElseGet(readSwitch, () -> new Switch(null, null, null));
        writes = Objects.requireNonNullElseGet(writes, Writes::none);
        contract = Objects.requireNonNullElseGet(contract, () -> new Contract(null, null, null, null));
    }

    /** A migration without a write switch (the application writes the old shape until the contract). */
    public MigrationSpec(String name, Source source, Mode mode, Target target, Expand expand, Backfill backfill,
                         Reconcile reconcile, Switch readSwitch, Contract contract) {
        this(name, source, mode, target, expand, backfill, reconcile, readSwitch, null, contract);
    }

    /** The flag that tells applications to stop writing the old shape; defaults to {@code <name>.write-new}. */
    public String writeFlagName() {
        return writes.flag() != null ? writes.flag() : name + ".write-new";
    }

    /** The flag applications read to decide which shape to read; defaults to {@code <name>.read-new}. */
    public String flagName() {
        return readSwitch.flag() != null ? readSwitch.flag() : name + ".read-new";
    }

    /** The table that receives the new shape: the source itself in in-place mode. */
    public String targetSchema() {
        if (target != null && target.schema() != null) {
            return target.schema();
        }
        return source.schema();
    }

    public String targetTable() {
        if (mode == Mode.IN_PLACE || target == null || target.table() == null) {
            return source.table();
        }
        return target.table();
    }
}
