package dev.shapeshift.coordinator.register;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.MigrationRecord;
import dev.shapeshift.coordinator.register.Registration.Outcome;
import dev.shapeshift.coordinator.register.SpecDiff.Difference;
import dev.shapeshift.db.Database;
import dev.shapeshift.db.Sql;
import dev.shapeshift.db.SqlStates;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.spec.MigrationSpec;
import dev.shapeshift.spec.PrivilegeFinding;
import dev.shapeshift.spec.Privileges;
import dev.shapeshift.spec.SpecJson;
import dev.shapeshift.spec.SpecProblem;
import dev.shapeshift.spec.SpecReader;
import dev.shapeshift.spec.SpecValidator;
import dev.shapeshift.spec.Validation;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Registers migrations: the one way every entry point ({@code shapeshift start} and {@code apply},
 * {@code POST /api/migrations}, the coordinator's specs directory) turns a spec into a catalog row
 * in phase {@code planned}, which the coordinator's driver then walks. JDBC only: the topics are
 * the driver's business.
 *
 * <p>Idempotent: the same spec again changes nothing and says so. A different spec under a
 * registered name is refused naming the differing fields — except the live knobs
 * ({@link SpecDiff#LIVE_KNOBS}), which become the catalog settings the workers re-read.
 */
public final class Registrar {
    private static final Logger log = LoggerFactory.getLogger(Registrar.class);
    private static final Map<String, Function<MigrationSpec, String>> KNOB_VALUES =
            Map.of("backfill.maxRowsPerSecond", s -> Long.toString(s.backfill().maxRowsPerSecond()));

    private final Database db;
    private final Catalog catalog;
    private final String actor;
    private final boolean again;

    /** @param actor who registers, for the audit log: {@code cli:alice}, {@code api}, {@code specs-dir} */
    public Registrar(Database db, String actor) {
        this(db, actor, false);
    }

    private Registrar(Database db, String actor, boolean again) {
        this.db = db;
        this.catalog = new Catalog(db, "coordinator");
        this.actor = actor;
        this.again = again;
    }

    /** The same registrar acting for someone else (e.g. {@code api:alice}). */
    public Registrar withActor(String who) {
        return new Registrar(db, who, again);
    }

    /**
     * The same registrar, allowed to start a finished (contracted or rolled-back) migration again
     * under its name ({@code shapeshift start --again}): the finished run is retired with its
     * history as {@code <name>~<generation>} ({@code Catalog.create}), or refused, naming the
     * command, while its clean-up has not finished. Never used by the specs directory, whose files
     * stay in place after a migration finished.
     */
    public Registrar again() {
        return new Registrar(db, actor, true);
    }

    /** Reads YAML text named {@code origin} (a file name) and registers it; unreadable YAML is {@link Outcome#INVALID}. */
    public Registration register(String origin, String yamlText) {
        MigrationSpec spec;
        try {
            spec = new SpecReader().read(origin, yamlText);
        } catch (ShapeshiftException e) {
            if (e.code() != ErrorCode.SPEC_MALFORMED) {
                throw e;
            }
            return new Registration(origin, null, Outcome.INVALID, null, e.getMessage(), List.of(), List.of(), List.of());
        }
        return register(origin, spec, yamlText);
    }

    /**
     * Registers a parsed spec. Database failures other than the spec's own problems are thrown
     * ({@link ErrorCode#UNREACHABLE}, {@link ErrorCode#INTERNAL}).
     */
    public Registration register(String origin, MigrationSpec spec, String yamlText) {
        List<SpecProblem> staticProblems = SpecValidator.checkStatic(spec);
        if (!staticProblems.isEmpty()) {
            return invalid(origin, spec, staticProblems, List.of());
        }
        MigrationRecord existing = catalog.find(spec.name()).orElse(null);
        if (existing != null && !(again && existing.phase().terminal())) {
            return compare(origin, existing, spec, yamlText);
        }
        Validation v;
        List<PrivilegeFinding> privileges;
        try (Connection c = db.connect("coordinator")) {
            v = SpecValidator.check(spec, c);
            privileges = v.valid() ? Privileges.check(spec, c) : List.of();
        } catch (SQLException e) {
            throw SqlStates.translate("validating " + origin, e);
        }
        v = Privileges.withErrors(v, privileges);
        List<String> warnings = privileges.stream().filter(p -> p.severity() == PrivilegeFinding.Severity.WARNING)
                .map(p -> p.describe(origin)).toList();
        if (!v.valid()) {
            return invalid(origin, spec, v.problems(), warnings);
        }
        try {
            MigrationRecord created = catalog.create(spec.name(), SpecJson.write(spec), yamlText, actor);
            // Catalog.create audits the creation; this second entry names the origin. Not atomic with
            // the row: if it fails, the migration is registered with only the "create" entry.
            catalog.audit(spec.name(), actor, "register", "spec from " + origin);
            log.info("migration registered migration={} origin={} mode={} actor={}", spec.name(), origin, spec.mode().label(), actor);
            return new Registration(origin, spec.name(), Outcome.CREATED, created.phase(), "migration " + spec.name()
                    + " registered from " + origin + " in phase planned; the coordinator's driver takes it from here",
                    List.of(), List.of(), warnings);
        } catch (ShapeshiftException e) {
            if (e.code() != ErrorCode.CONFLICT) {
                throw e;
            }
            if (existing != null) {
                // --again, but the finished run cannot be retired yet: the message names what to run.
                return new Registration(origin, spec.name(), Outcome.CONFLICT, existing.phase(), origin + ": "
                        + e.getMessage(), List.of(), List.of(), warnings);
            }
            // Registered concurrently by another entry point: judge against what won.
            return compare(origin, catalog.get(spec.name()), spec, yamlText);
        }
    }

    private Registration compare(String origin, MigrationRecord existing, MigrationSpec spec, String yamlText) {
        MigrationSpec stored;
        try {
            stored = SpecJson.read(existing.specJson());
        } catch (ShapeshiftException e) {
            return conflict(origin, existing, List.of(), "its stored spec is not readable (" + e.getMessage() + ")");
        }
        List<Difference> diffs = SpecDiff.between(stored, spec);
        String name = existing.name();
        String runAgain = "to run it again under this name, `shapeshift start " + origin + " --again` (the finished "
                + "run keeps its history as " + name + "~<generation>)";
        if (diffs.isEmpty()) {
            return new Registration(origin, name, Outcome.UNCHANGED, existing.phase(), "migration " + name
                    + " is already registered with this spec (phase " + existing.phase() + "); nothing changed"
                    + (existing.phase().terminal() ? "; it is finished: " + runAgain : ""),
                    List.of(), List.of(), List.of());
        }
        if (existing.phase().terminal()) {
            return conflict(origin, existing, diffs, "it is " + existing.phase() + " and its spec can no longer change;"
                    + " give the new spec a new name, or " + runAgain);
        }
        if (!SpecDiff.onlyLiveKnobs(diffs)) {
            List<Difference> structural = diffs.stream().filter(d -> !d.liveKnob()).toList();
            return conflict(origin, existing, structural, "the spec of a running migration cannot change — restore "
                    + origin + " to the registered spec, or roll the migration back (shapeshift rollback " + name
                    + ") and register the new spec under a new name; live knobs change with shapeshift backfill set");
        }
        changeKnobs(origin, existing, spec, yamlText, diffs);
        String changed = diffs.stream().map(Difference::describe).collect(Collectors.joining(", "));
        log.info("live knobs changed by spec migration={} origin={} changed={} actor={}", name, origin, changed, actor);
        return new Registration(origin, name, Outcome.KNOBS_CHANGED, existing.phase(), "migration " + name
                + ": live knob(s) changed: " + changed + "; nothing else changed",
                List.of(), diffs.stream().map(Difference::describe).toList(), List.of());
    }

    /** Stores the new spec and the new settings in one transaction, so re-applying the same file is a no-op. */
    private void changeKnobs(String origin, MigrationRecord existing, MigrationSpec spec, String yamlText, List<Difference> diffs) {
        catalog.inTransaction("changing live knobs of " + existing.name(), c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE shapeshift.migration SET spec = ?::jsonb, "
                    + "spec_source = ?, updated_at = now() WHERE name = ? AND spec = ?::jsonb")) {
                ps.setString(1, SpecJson.write(spec));
                ps.setString(2, yamlText);
                ps.setString(3, existing.name());
                ps.setString(4, existing.specJson());
                if (ps.executeUpdate() == 0) {
                    throw new ShapeshiftException(ErrorCode.CONFLICT, "migration " + existing.name()
                            + ": its spec changed concurrently; apply " + origin + " again");
                }
            }
            for (Difference d : diffs) {
                String setting = SpecDiff.LIVE_KNOBS.get(d.path());
                String value = KNOB_VALUES.get(d.path()).apply(spec);
                Sql.update(c, "INSERT INTO shapeshift.setting (migration, name, value, "
                        + "changed_by) VALUES (?, ?, ?, ?) ON CONFLICT (migration, name) DO UPDATE SET value = EXCLUDED.value, "
                        + "changed_by = EXCLUDED.changed_by, changed_at = now()",
                        existing.name(), setting, value, actor);
                Catalog.audit(c, existing.name(), actor, "setting " + setting + "=" + value, null, null,
                        "spec " + origin + " changed " + d.describe());
            }
            return null;
        });
    }

    private static Registration invalid(String origin, MigrationSpec spec, List<SpecProblem> problems, List<String> warnings) {
        return new Registration(origin, spec.name(), Outcome.INVALID, null,
                SpecValidator.invalid(origin, problems).getMessage(), problems, List.of(), warnings);
    }

    private static Registration conflict(String origin, MigrationRecord existing, List<Difference> diffs, String why) {
        String fields = diffs.isEmpty() ? "" : " (differing fields: "
                + diffs.stream().map(Difference::describe).collect(Collectors.joining(", ")) + ")";
        return new Registration(origin, existing.name(), Outcome.CONFLICT, existing.phase(), origin + ": migration "
                + existing.name() + " (phase " + existing.phase() + ") is registered with a different spec" + fields
                + "; refused, nothing changed: " + why, List.of(), diffs.stream().map(Difference::describe).toList(), List.of());
    }
}
