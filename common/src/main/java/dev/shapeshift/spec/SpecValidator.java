package dev.shapeshift.spec;

import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides whether a spec makes sense: on its own ({@link #checkStatic}) and against the live
 * source database ({@link #check}). Every problem is collected, none stops the others; a spec is
 * only used once it resolved without any ({@link #resolve}).
 *
 * <p>The live checks never change the database: they read the catalog with bind parameters and let
 * PostgreSQL parse (never execute) each transform inside a transaction that is rolled back.
 */
public final class SpecValidator {
    private static final Logger log = LoggerFactory.getLogger(SpecValidator.class);

    private SpecValidator() {
    }

    /** The checks that need no database. */
    public static List<SpecProblem> checkStatic(MigrationSpec spec) {
        return StaticChecks.check(spec);
    }

    /** Static checks only, as a {@link Validation} (for callers without a database). */
    public static Validation checkWithoutDatabase(MigrationSpec spec) {
        List<SpecProblem> problems = checkStatic(spec);
        return new Validation(spec, problems, false, null, problems.isEmpty() ? ExpandPlan.withoutDatabase(spec) : null);
    }

    /**
     * Static and live checks. Spec problems are returned, not thrown; a database that fails for
     * other reasons raises {@link ErrorCode#UNREACHABLE} (connection lost) or {@link ErrorCode#INTERNAL}.
     */
    public static Validation check(MigrationSpec spec, Connection connection) {
        List<SpecProblem> problems = checkStatic(spec);
        if (!liveCheckable(spec)) {
            return new Validation(spec, problems, false, null, null);
        }
        Validation v = live(spec, connection, false, problems);
        log.debug("spec checked migration={} problems={}", spec.name(), v.problems().size());
        return v;
    }

    private static Validation live(MigrationSpec spec, Connection connection, boolean expanded, List<SpecProblem> problems) {
        try {
            return new LiveChecks(spec, connection, expanded).run(problems);
        } catch (SQLException e) {
            ErrorCode code = e.getSQLState() != null && e.getSQLState().startsWith("08") ? ErrorCode.UNREACHABLE : ErrorCode.INTERNAL;
            throw new ShapeshiftException(code, "checking the spec against the database failed: " + e.getMessage()
                    + " (SQLState " + e.getSQLState() + ")", e);
        }
    }

    /** Static and live checks; the resolved spec, or {@link ErrorCode#SPEC_INVALID} listing every problem. */
    public static ResolvedSpec resolve(String origin, MigrationSpec spec, Connection connection) {
        Validation v = check(spec, connection);
        if (!v.valid()) {
            throw invalid(origin, v.problems());
        }
        return v.resolved();
    }

    /**
     * Resolves the spec of a migration whose expand already ran (workers, reconcile, coordinator
     * after restart): the new shape must exist as a whole, custom expand DDL or not.
     */
    public static ResolvedSpec resolveExpanded(String origin, MigrationSpec spec, Connection connection) {
        List<SpecProblem> problems = checkStatic(spec);
        Validation v = liveCheckable(spec) ? live(spec, connection, true, problems) : new Validation(spec, problems, false, null, null);
        if (!v.valid()) {
            throw invalid(origin, v.problems());
        }
        return v.resolved();
    }

    /** Throws {@link ErrorCode#SPEC_INVALID} listing every static problem, if there are any. */
    public static void requireStaticallyValid(String origin, MigrationSpec spec) {
        List<SpecProblem> problems = checkStatic(spec);
        if (!problems.isEmpty()) {
            throw invalid(origin, problems);
        }
    }

    /** One exception for all problems, one line each: {@code users.yaml: path: what — fix}. */
    public static ShapeshiftException invalid(String origin, List<SpecProblem> problems) {
        String lines = problems.stream().map(p -> p.describe(origin)).collect(Collectors.joining("\n"));
        String head = problems.size() == 1 ? "" : origin + ": " + problems.size() + " problems\n";
        return new ShapeshiftException(ErrorCode.SPEC_INVALID, head + lines);
    }

    /** Live checks need at least a source table and target columns to look at. */
    private static boolean liveCheckable(MigrationSpec spec) {
        return spec.source() != null && spec.source().table() != null && !spec.source().table().isBlank()
                && spec.target() != null
                && StaticChecks.check(new MigrationSpec("x", spec.source(), null, null, null, null, null, null, null))
                        .stream().noneMatch(p -> p.path().startsWith("source."));
    }
}
