package dev.shapeshift.spec;

import java.util.List;

/**
 * Builds a {@link MigrationSpec} for a test by naming what the test cares about; every section
 * left out gets the record's own default (as a spec file that leaves it out does). Shared through
 * common's test-jar, so no test builds the record positionally with a row of nulls.
 *
 * <pre>
 * MigrationSpec spec = SpecBuilder.spec("users").source("public", "src", "id").mode(Mode.TABLE)
 *         .target("public", "tgt", columns).build();
 * </pre>
 */
public final class SpecBuilder {
    private String name;
    private Source source;
    private Mode mode;
    private Target target;
    private Expand expand;
    private Backfill backfill;
    private Reconcile reconcile;
    private Switch readSwitch;
    private Writes writes;
    private Contract contract;

    private SpecBuilder(String name) {
        this.name = name;
    }

    public static SpecBuilder spec(String name) {
        return new SpecBuilder(name);
    }

    /** Every section of {@code spec}, to change one or two. */
    public static SpecBuilder from(MigrationSpec spec) {
        SpecBuilder b = new SpecBuilder(spec.name());
        b.source = spec.source();
        b.mode = spec.mode();
        b.target = spec.target();
        b.expand = spec.expand();
        b.backfill = spec.backfill();
        b.reconcile = spec.reconcile();
        b.readSwitch = spec.readSwitch();
        b.writes = spec.writes();
        b.contract = spec.contract();
        return b;
    }

    public SpecBuilder source(String schema, String table, List<String> key) {
        this.source = new Source(schema, table, key);
        return this;
    }

    public SpecBuilder source(String schema, String table, String... key) {
        return source(schema, table, List.of(key));
    }

    public SpecBuilder mode(Mode mode) {
        this.mode = mode;
        return this;
    }

    /** The target's schema and table (null: the source's, as in place) and its columns. */
    public SpecBuilder target(String schema, String table, List<TargetColumn> columns) {
        this.target = new Target(schema, table, columns);
        return this;
    }

    public SpecBuilder target(Target target) {
        this.target = target;
        return this;
    }

    public SpecBuilder backfill(Backfill backfill) {
        this.backfill = backfill;
        return this;
    }

    public SpecBuilder reconcile(Reconcile reconcile) {
        this.reconcile = reconcile;
        return this;
    }

    public SpecBuilder writes(Writes writes) {
        this.writes = writes;
        return this;
    }

    public SpecBuilder contract(Contract contract) {
        this.contract = contract;
        return this;
    }

    public MigrationSpec build() {
        return new MigrationSpec(name, source, mode, target, expand, backfill, reconcile, readSwitch, writes, contract);
    }
}
