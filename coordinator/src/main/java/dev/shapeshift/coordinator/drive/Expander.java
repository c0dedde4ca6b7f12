package dev.shapeshift.coordinator.drive;

import dev.shapeshift.db.ConcurrentIndex;
import dev.shapeshift.db.Database;
import dev.shapeshift.db.LockSafeDdl;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.spec.ExpandPlan;
import dev.shapeshift.spec.MigrationSpec;
import dev.shapeshift.spec.SpecValidator;
import dev.shapeshift.spec.Validation;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The expand step: applies the spec's additive DDL through {@link LockSafeDdl} (short
 * {@code lock_timeout}, bounded retries, the blocker named), unless the new shape already exists (a
 * coordinator that died between the DDL's commit and the phase move, or an operator who ran the DDL
 * by hand). Consecutive statements that may run in a transaction run in one; a statement that
 * cannot ({@code CREATE INDEX CONCURRENTLY}) runs on its own, and a named concurrent index build
 * goes through {@link ConcurrentIndex} (an INVALID index left by a failed build is dropped and
 * built again). Those statements are re-run when the shape exists (they are idempotent: the spec
 * check requires {@code IF NOT EXISTS}), so a crash between them and the phase move loses none.
 * A failure carries the database's own message and the fix, by SQLState.
 */
final class Expander {
    private static final Logger log = LoggerFactory.getLogger(Expander.class);

    private final Database db;
    private final LockSafeDdl ddl;

    Expander(Database db) {
        this(db, LockSafeDdl.of(db, "coordinator"));
    }

    Expander(Database db, LockSafeDdl ddl) {
        this.db = db;
        this.ddl = ddl;
    }

    /** Returns the statements applied (empty when the new shape was already there). */
    List<String> expand(MigrationSpec spec) {
        String name = spec.name();
        try (Connection c = db.connect("coordinator")) {
            if (shapeExists(spec, c)) {
                ExpandPlan known = ExpandPlan.withoutDatabase(spec);
                List<String> own = known == null ? List.of()
                        : known.statements().stream().filter(LockSafeDdl::cannotRunInTransaction).toList();
                apply(name, spec, own);
                log.info("new shape already present, no DDL but {} statement(s) outside a transaction migration={}",
                        own.size(), name);
                return List.of();
            }
            Validation v = SpecValidator.check(spec, c);
            if (!v.valid()) {
                throw new ShapeshiftException(ErrorCode.SPEC_INVALID, "expand of " + name + " refused: the spec does "
                        + "not fit the database now: " + SpecValidator.invalid(name, v.problems()).getMessage()
                        + " — fix: change the database to fit the spec, or roll the migration back (`shapeshift phase "
                        + "advance " + name + " --to rolled-back --reason …`) and register a corrected spec");
            }
            ExpandPlan plan = v.expand();
            if (spec.expand().unsafe() != null) {
                log.warn("expand.ddl runs past the DDL safety check migration={} reason={}", name,
                        spec.expand().unsafe().reason());
            }
            apply(name, spec, plan.statements());
            log.info("expand applied migration={} statements={} origin={}", name, plan.statements().size(), plan.origin());
            return plan.statements();
        } catch (SQLException e) {
            throw failure(name, spec, e);
        }
    }

    private static boolean shapeExists(MigrationSpec spec, Connection c) {
        try {
            SpecValidator.resolveExpanded(spec.name(), spec, c);
            return true;
        } catch (ShapeshiftException e) {
            if (e.code() == ErrorCode.SPEC_INVALID) {
                return false;
            }
            throw e;
        }
    }

    /** Runs the statements in order: runs of transactional ones in one transaction each, the others alone. */
    private void apply(String name, MigrationSpec spec, List<String> statements) {
        List<String> batch = new ArrayList<>();
        for (String sql : statements) {
            if (!LockSafeDdl.cannotRunInTransaction(sql)) {
                batch.add(sql);
                continue;
            }
            inTransaction(name, spec, batch);
            batch.clear();
            guarded(name, spec, () -> {
                Optional<ConcurrentIndex.Target> index = ConcurrentIndex.parse(sql);
                if (index.isPresent()) {
                    ConcurrentIndex.Outcome o = ConcurrentIndex.build(ddl, index.get().table(), index.get().index(), sql);
                    log.info("expand index migration={} index={} outcome={}", name, index.get().index(), o);
                } else {
                    ddl.outsideTransaction("expanding " + name, sql);
                }
            });
        }
        inTransaction(name, spec, batch);
    }

    private void inTransaction(String name, MigrationSpec spec, List<String> statements) {
        if (statements.isEmpty()) {
            return;
        }
        guarded(name, spec, () -> ddl.inTransaction("expanding " + name, c -> {
            try (Statement s = c.createStatement()) {
                for (String sql : statements) {
                    s.execute(sql);
                }
            }
            return null;
        }));
    }

    /** A database error other than a busy lock gets the expand's own message and fix. */
    private static void guarded(String name, MigrationSpec spec, Runnable work) {
        try {
            work.run();
        } catch (ShapeshiftException e) {
            if (e.getCause() instanceof SQLException sql && !LockSafeDdl.lockBusy(sql)) {
                throw failure(name, spec, sql);
            }
            throw e;
        }
    }

    /** The database's message, its SQLState, and what the operator does about it. */
    static ShapeshiftException failure(String name, MigrationSpec spec, SQLException e) {
        String state = e.getSQLState();
        String message = "expand of " + name + " failed: " + firstLine(e.getMessage()) + " (SQLState " + state
                + ") — fix: " + fix(state, spec);
        return new ShapeshiftException(dev.shapeshift.db.SqlStates.classify(e), message, e);
    }

    static String fix(String sqlState, MigrationSpec spec) {
        String table = spec.source().schema() + "." + spec.source().table();
        if (sqlState == null) {
            return "check the database connection; the driver retries with back-off";
        }
        return switch (sqlState) {
            case "42501" -> "give the coordinator's database user the right to run the expand DDL (`shapeshift plan "
                    + spec.name() + "` prints it): ownership of " + table + " for ALTER TABLE, CREATE on the target "
                    + "schema for a new table (GRANT CREATE ON SCHEMA " + spec.targetSchema() + " TO <user>) — or run "
                    + "the DDL yourself as the owner; the driver retries with back-off and finds the new shape";
            case "55P03", "57014" -> "a transaction holds a lock on " + table + " longer than the DDL lock_timeout ("
                    + LockSafeDdl.Policy.TIMEOUT_VARIABLE + "); the driver retries with back-off (find the blocker in "
                    + "pg_stat_activity / pg_locks)";
            case "42701", "42P07" -> "part of the new shape exists with another definition; compare it with "
                    + "`shapeshift plan " + spec.name() + "` and fix or drop it, then the driver retries";
            default -> sqlState.startsWith("08") || sqlState.startsWith("57P")
                    ? "the database is unreachable or restarting; the driver retries with back-off"
                    : "correct what the database reports (or run the DDL yourself); the driver retries with back-off";
        };
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
