package dev.shapeshift.coordinator.contract;

import dev.shapeshift.coordinator.gate.StoredSpec;
import dev.shapeshift.coordinator.writes.ReplicaIdentity;
import dev.shapeshift.coordinator.writes.WriteSwitch;
import dev.shapeshift.db.Sql;
import dev.shapeshift.phase.PhasePlan;
import dev.shapeshift.refresh.SyncDirection;
import java.time.Duration;

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
import java.sql.Connection;
import java.sql.SQLException;
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
public record Rollback(Database db, Catalog catalog, Transitions transitions, Cleanup cleanup) {
    private static final Logger log = LoggerFactory.getLogger(Rollback.class);

    /** What the rollback did and left, one line each. */
    public record Result(String migration, List<String> done, List<String> left) {
    }

    /** @param cleanup the capture-path clean-up to run after the undo, or null to leave it for {@code shapeshift cleanup} */
    public Rollback(Database db, Transitions transitions, Cleanup cleanup) {
        this(db, new Catalog(db, Contractor.ROLE), transitions, cleanup);
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
        BrownoutReport brownout = new Brownout(db).report(migration);
        if (brownout != null && brownout.status() == Brownout.Status.RUNNING) {
            new Brownout(db).end(migration, actor, "rolled back: " + reason, false);
            done.add("brownout #" + brownout.id() + " ended, access to the old shape restored");
        }
        if (m.phase() != Phase.ROLLED_BACK) {
            m = undoWriteSwitch(m, actor, reason, done);
        }
        if (m.phase() != Phase.ROLLED_BACK) {
            transitions.rollback(migration, actor, reason);
            done.add("phase " + m.phase() + " -> rolled-back, flag off (applications read the old shape)");
        }
        String counter = ReadCounter.remove(db, migration, "rolled back");
        if (counter != null) {
            done.add(counter);
        }
        String identity = ReplicaIdentity.restore(db, migration);
        if (identity != null) {
            done.add(identity);
        }
        OldShape shape = OldShape.of(m);
        if (keepNewShape) {
            left.add("new shape kept (--keep-new-shape)");
        } else {
            if (shape.inPlace()) {
                done.addAll(undoStructure(m));
            }
            dropNewShape(shape, actor, reason, done, left);
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

    /** How long a rollback waits for the reverse sync to drain after the write switch is undone. */
    static final Duration DRAIN_TIMEOUT = Duration.ofMinutes(5);

    /**
     * After the write switch the new shape is authoritative: before the rollback drops it, the write
     * flag goes off (one move back per step of the plan), applications get {@code
     * writes.flagPropagation} to see it, and the reverse sync catches up, so the old shape holds
     * every write the application made while it wrote only the new shape; then the sync runs
     * forward again ({@link WriteSwitch#drain}). Waits at most {@link #DRAIN_TIMEOUT}; past it
     * the rollback stops with the write flag off and says so (run it again).
     */
    private MigrationRecord undoWriteSwitch(MigrationRecord m, String actor, String reason, List<String> done) {
        StoredSpec stored = StoredSpec.of(m);
        PhasePlan plan = stored.plan();
        if (!plan.switchesWrites()) {
            return m;
        }
        while (plan.writesNew(m.phase())) {
            Phase back = plan.order().get(plan.order().indexOf(m.phase()) - 1);
            transitions.advance(m.name(), back, actor, "rollback: " + reason);
            done.add("phase " + m.phase() + " -> " + back + ", write flag off (applications write both shapes again)");
            m = catalog.get(m.name());
        }
        boolean wasReverse = direction(m) == SyncDirection.REVERSE;
        long deadline = System.nanoTime() + DRAIN_TIMEOUT.toNanos();
        while (true) {
            java.util.Optional<String> drained = WriteSwitch.drain(db, m, Duration.ofSeconds(5));
            MigrationRecord now = catalog.get(m.name());
            if (direction(m) == SyncDirection.FORWARD) {
                // The coordinator's driver drains too; when it got there first this drain found nothing to do.
                drained.or(() -> wasReverse ? java.util.Optional.of("the reverse sync caught up after the write switch "
                        + "was undone; the sync runs forward again (drained by the coordinator's driver)")
                        : java.util.Optional.empty()).ifPresent(done::add);
                return now;
            }
            if (System.nanoTime() > deadline) {
                throw new ShapeshiftException(ErrorCode.TIMED_OUT, "rollback of " + m.name() + " stopped before dropping "
                        + "anything: " + drained.orElse("the reverse sync has not drained") + " (waited "
                        + dev.shapeshift.spec.DurationText.format(DRAIN_TIMEOUT) + "). The write flag is off. Check the "
                        + "sync (`shapeshift status " + m.name() + "`) and run the rollback again");
            }
            log.info("rollback waiting for the reverse sync to drain migration={} state={}", m.name(), drained.orElse(""));
            try {
                Thread.sleep(500);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ShapeshiftException(ErrorCode.TIMED_OUT, "rollback of " + m.name() + " interrupted while the "
                        + "reverse sync drained; the write flag is off; run it again");
            }
            m = now;
        }
    }

    private SyncDirection direction(MigrationRecord m) {
        try (java.sql.Connection c = db.connect(Contractor.ROLE)) {
            return WriteSwitch.state(c, m.name()).direction();
        } catch (java.sql.SQLException e) {
            throw dev.shapeshift.db.SqlStates.translate("reading the sync direction of " + m.name(), e);
        }
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

    /**
     * Drops what the expand created and says only that: a column or table that does not exist (the
     * expand failed or never ran) is reported as left, not as dropped. Existence is read in the
     * same transaction as the drop.
     */
    private void dropNewShape(OldShape shape, String actor, String reason, List<String> done, List<String> left) {
        if (shape.mode() == dev.shapeshift.spec.Mode.SINK) {
            // targetTable() of a sink-mode spec is the source table: never drop anything here.
            left.add("sink mode: the expand added nothing to the database; the rows in the sink are left to its owners");
            return;
        }
        if (!shape.inPlace() && shape.targetSchema().equals(shape.schema()) && shape.targetTable().equals(shape.table())) {
            throw new ShapeshiftException(ErrorCode.SPEC_INVALID, "table-mode target is the source table; not dropping it");
        }
        Tx.ddl(db, Contractor.ROLE, "undoing the expand of " + shape.migration(), c -> {
            String what;
            String sql;
            if (shape.inPlace()) {
                List<String> protectedCols = new ArrayList<>(shape.dropColumns());
                protectedCols.addAll(shape.key());
                List<String> mine = shape.newColumns().stream().filter(col -> !protectedCols.contains(col)).toList();
                if (mine.isEmpty()) {
                    left.add("no new columns to drop");
                    return null;
                }
                List<String> existing = existingColumns(c, shape.schema(), shape.table(), mine);
                List<String> missing = mine.stream().filter(col -> !existing.contains(col)).toList();
                if (!missing.isEmpty()) {
                    left.add("new column(s) " + missing + " of " + shape.schema() + "." + shape.table()
                            + " did not exist (the expand did not create them)");
                }
                if (existing.isEmpty()) {
                    return null;
                }
                sql = "ALTER TABLE " + Ident.qualified(shape.schema(), shape.table()) + " " + existing.stream()
                        .map(col -> "DROP COLUMN IF EXISTS " + Ident.quote(col)).collect(Collectors.joining(", "));
                what = "dropped new column(s) " + existing + " of " + shape.schema() + "." + shape.table();
            } else {
                String target = shape.targetSchema() + "." + shape.targetTable();
                if (!tableExists(c, shape.targetSchema(), shape.targetTable())) {
                    left.add("new table " + target + " did not exist (the expand did not create it)");
                    return null;
                }
                sql = "DROP TABLE IF EXISTS " + Ident.qualified(shape.targetSchema(), shape.targetTable());
                what = "dropped new table " + target;
            }
            try (Statement s = c.createStatement()) {
                s.execute(sql);
            }
            Contractor.audit(c, shape.migration(), actor, "rollback: " + what, null, null, reason);
            done.add(what);
            return null;
        });
    }

    private static List<String> existingColumns(Connection c, String schema, String table, List<String> columns)
            throws SQLException {
        List<String> existing = new ArrayList<>();
        existing.addAll(Sql.list(c, "SELECT a.attname FROM pg_attribute a JOIN pg_class t ON t.oid = a.attrelid "
                + "JOIN pg_namespace n ON n.oid = t.relnamespace WHERE n.nspname = ? AND t.relname = ? AND a.attnum > 0 "
                + "AND NOT a.attisdropped AND a.attname = ANY (?)", rs -> rs.getString(1),
                schema, table, c.createArrayOf("text", columns.toArray())));
        return columns.stream().filter(existing::contains).toList();
    }

    private static boolean tableExists(Connection c, String schema, String table) throws SQLException {
        return Sql.exists(c, "SELECT 1 FROM pg_class t JOIN pg_namespace n ON n.oid = t.relnamespace "
                + "WHERE n.nspname = ? AND t.relname = ?", schema, table);
    }
}
