package dev.shapeshift.coordinator.contract;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.MigrationRecord;
import dev.shapeshift.coordinator.gate.Transitions;
import dev.shapeshift.db.Database;
import dev.shapeshift.db.LockSafeDdl;
import dev.shapeshift.spec.MigrationSpec;
import dev.shapeshift.spec.SpecJson;
import dev.shapeshift.spec.Structure;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.phase.Phase;
import dev.shapeshift.sql.Ident;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rolls a migration back from any phase before {@code contracted} and undoes the expand: the
 * phase moves to {@code rolled-back} with the flag off in one transaction (so applications read
 * the old shape at once; {@link Transitions#rollback}), then the new shape is dropped (in-place:
 * the spec's target columns; table mode: the target table), then {@link Cleanup} removes the
 * table from the publication, the slot if nothing else uses it, and the topics. The old shape is
 * never touched: it was complete and written by the application all along. Re-running finishes
 * an interrupted rollback.
 *
 * <p>Workers and the bridge stop on their own when they see {@code rolled-back}; a refresh still
 * in flight when the new columns go fails and is not retried (the phase says stop).
 */
public final class Rollback {
    private static final Logger log = LoggerFactory.getLogger(Rollback.class);

    /** What the rollback did and left, one line each. */
    public record Result(String migration, List<String> done, List<String> left) {
    }

    private final Database db;
    private final Catalog catalog;
    private final Transitions transitions;
    private final Cleanup cleanup;

    /** @param cleanup the capture-path clean-up to run after the undo, or null to leave it for {@code shapeshift cleanup} */
    public Rollback(Database db, Transitions transitions, Cleanup cleanup) {
        this.db = db;
        this.catalog = new Catalog(db, Contractor.ROLE);
        this.transitions = transitions;
        this.cleanup = cleanup;
    }

    /**
     * @param keepNewShape leave the new columns or table in place (e.g. they existed before the
     *                     migration, when the expand found them already applied)
     */
    public Result rollback(String migration, String actor, String reason, boolean keepNewShape) {
        Contractor.requireReason(reason);
        MigrationRecord m = catalog.get(migration);
        if (m.phase() == Phase.CONTRACTED) {
            throw new ShapeshiftException(ErrorCode.ILLEGAL_TRANSITION, "migration " + migration + " is contracted: "
                    + "it cannot be rolled back; `shapeshift restore " + migration + "` puts the old shape back "
                    + "from its archive");
        }
        List<String> done = new ArrayList<>();
        List<String> left = new ArrayList<>();
        if (m.phase() != Phase.ROLLED_BACK) {
            transitions.rollback(migration, actor, reason);
            done.add("phase " + m.phase() + " -> rolled-back, flag off (applications read the old shape)");
        }
        OldShape shape = OldShape.of(m);
        if (keepNewShape) {
            left.add("new shape kept (--keep-new-shape)");
        } else {
            if (shape.inPlace()) {
                done.addAll(undoStructure(m));
            }
            done.add(dropNewShape(shape, actor, reason));
        }
        if (cleanup != null) {
            Cleanup.Result r = cleanup.run(migration, actor, reason);
            done.addAll(r.done());
            left.addAll(r.left());
        } else {
            left.add("publication, slot and topics left for `shapeshift cleanup " + migration + "`");
        }
        log.warn("migration rolled back migration={} actor={} done={}", migration, actor, done);
        return new Result(migration, done, left);
    }

    /**
     * In place, the staged structure (docs/constraints.md) in the reverse order of its enforcement,
     * each statement lock-safe: constraints dropped, indexes dropped {@code CONCURRENTLY} (an index
     * of {@code target.indexes} on old columns only would outlive the new columns otherwise).
     */
    private List<String> undoStructure(MigrationRecord m) {
        MigrationSpec spec = SpecJson.read(m.specJson());
        List<Structure.Item> items = new ArrayList<>(Structure.items(spec));
        java.util.Collections.reverse(items);
        List<String> out = new ArrayList<>();
        LockSafeDdl ddl = LockSafeDdl.of(db, Contractor.ROLE);
        String table = Ident.qualified(spec.targetSchema(), spec.targetTable());
        for (Structure.Item i : items) {
            String doing = "undoing " + i.label() + " of " + m.name();
            switch (i.kind()) {
                case INDEX, UNIQUE_INDEX -> ddl.outsideTransaction(doing, "DROP INDEX CONCURRENTLY IF EXISTS "
                        + Ident.qualified(spec.targetSchema(), i.name()));
                default -> ddl.inTransaction(doing, c -> {
                    try (Statement s = c.createStatement()) {
                        s.execute("ALTER TABLE IF EXISTS " + table + " DROP CONSTRAINT IF EXISTS " + Ident.quote(i.name()));
                    }
                    return null;
                });
            }
            out.add("dropped " + i.label() + " (if present)");
        }
        return out;
    }

    private String dropNewShape(OldShape shape, String actor, String reason) {
        String what;
        String sql;
        if (shape.inPlace()) {
            List<String> protectedCols = new ArrayList<>(shape.dropColumns());
            protectedCols.addAll(shape.key());
            List<String> drop = shape.newColumns().stream().filter(c -> !protectedCols.contains(c)).toList();
            if (drop.isEmpty()) {
                return "no new columns to drop";
            }
            String src = Ident.qualified(shape.schema(), shape.table());
            sql = "ALTER TABLE " + src + " " + drop.stream().map(c -> "DROP COLUMN IF EXISTS " + Ident.quote(c))
                    .collect(Collectors.joining(", "));
            what = "dropped new column(s) " + drop + " of " + shape.schema() + "." + shape.table();
        } else {
            if (shape.targetSchema().equals(shape.schema()) && shape.targetTable().equals(shape.table())) {
                throw new ShapeshiftException(ErrorCode.SPEC_INVALID, "table-mode target is the source table; not dropping it");
            }
            sql = "DROP TABLE IF EXISTS " + Ident.qualified(shape.targetSchema(), shape.targetTable());
            what = "dropped new table " + shape.targetSchema() + "." + shape.targetTable();
        }
        Tx.ddl(db, Contractor.ROLE, "undoing the expand of " + shape.migration(), c -> {
            try (Statement s = c.createStatement()) {
                s.execute(sql);
            }
            Contractor.audit(c, shape.migration(), actor, "rollback: " + what, null, null, reason);
            return null;
        });
        return what;
    }
}
