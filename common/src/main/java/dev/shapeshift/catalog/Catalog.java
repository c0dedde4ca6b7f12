package dev.shapeshift.catalog;

import dev.shapeshift.db.CatalogPool;
import dev.shapeshift.db.Database;
import dev.shapeshift.db.Sql;
import dev.shapeshift.db.SqlStates;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.phase.Phase;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The migrations' durable state. Every phase change is a compare-and-set on the migration row and
 * is audited in the same transaction; the phase is always read from here, never kept in memory.
 */
public final class Catalog {
    private static final Logger log = LoggerFactory.getLogger(Catalog.class);
    private static final String MIGRATION_COLUMNS = "name, spec::text, spec_source, phase, message, version, "
            + "slot_name, start_lsn::text, created_at, updated_at, phase_changed_at";

    private final Database db;
    private final String role;

    public Catalog(Database db, String role) {
        this.db = db;
        this.role = role;
    }

    /**
     * A new, unpooled session for long statements (a reconcile's range comparisons), named
     * {@code shapeshift-<role>}; the caller closes it.
     */
    public Connection connectUnpooled(String role) {
        return db.connect(role);
    }

    /** A pooled connection for catalog work (closing it returns it to the pool). */
    public Connection connect() {
        return CatalogPool.connect(db, role);
    }

    /**
     * Registers a migration in phase {@code planned}. A name used before may be registered again once
     * that run is finished (contracted or rolled back) and cleaned up: the old run is retired under
     * {@code <name>~<generation>} with everything that belongs to it ({@link NameReuse}). Fails with
     * CONFLICT, saying what to do, while the name's run is active or not cleaned up.
     */
    public MigrationRecord create(String name, String specJson, String specSource, String actor) {
        return inTransaction("creating migration " + name, c -> {
            int generation = 1;
            String retired = null;
            if (find(c, name).isPresent()) {
                NameReuse.Retired r = NameReuse.retire(c, name, actor);
                generation = r.generation() + 1;
                retired = r.retiredName();
            }
            if (Sql.update(c, "INSERT INTO shapeshift.migration (name, spec, spec_source, "
                    + "phase, generation) VALUES (?, ?::jsonb, ?, ?, ?) ON CONFLICT (name) DO NOTHING",
                    name, specJson, specSource, Phase.PLANNED.label(), generation) == 0) {
                throw new ShapeshiftException(ErrorCode.CONFLICT, "a migration named '" + name
                        + "' was registered concurrently; see `shapeshift status " + name + "`");
            }
            audit(c, name, actor, "create", null, Phase.PLANNED,
                    retired == null ? null : "name re-used (generation " + generation + "); the previous run is kept as " + retired);
            return find(c, name).orElseThrow();
        });
    }

    /** Cleanup removed what the migration left in Kafka and the capture path: its name may be re-used. */
    public void markCleanedUp(String name) {
        inTransaction("marking " + name + " cleaned up", c -> {
            return Sql.update(c, "UPDATE shapeshift.migration SET cleaned_up_at = now() WHERE name = ?", name);
        });
    }

    public Optional<MigrationRecord> find(String name) {
        return inTransaction("reading migration " + name, c -> find(c, name));
    }

    public MigrationRecord get(String name) {
        return find(name).orElseThrow(() -> new ShapeshiftException(ErrorCode.NOT_FOUND,
                "no migration named '" + name + "' (see `shapeshift status` for the list)"));
    }

    public List<MigrationRecord> list() {
        return inTransaction("listing migrations", c -> {
            return Sql.list(c, "SELECT " + MIGRATION_COLUMNS + " FROM shapeshift.migration ORDER BY created_at, name",
                    Catalog::migration);
        });
    }

    /**
     * Moves a migration from {@code from} to {@code to}: refused if the phase machine has no such
     * move, or if the migration is no longer in {@code from} (someone else moved it first).
     * Gates are checked by the caller before this; this is only the atomic, audited step.
     */
    public MigrationRecord transition(String name, Phase from, Phase to, String actor, String reason) {
        return transition(name, from, to, actor, reason, c -> { });
    }

    /** Work that commits (or rolls back) together with a phase change, e.g. flipping the read-switch flag. */
    @FunctionalInterface
    public interface WithTransition {
        void run(Connection c) throws SQLException;
    }

    /** {@link #transition(String, Phase, Phase, String, String)}, plus {@code also} in the same transaction. */
    public MigrationRecord transition(String name, Phase from, Phase to, String actor, String reason, WithTransition also) {
        if (!from.canMoveTo(to)) {
            throw new ShapeshiftException(ErrorCode.ILLEGAL_TRANSITION,
                    "migration " + name + " cannot move from " + from + " to " + to + "; from " + from
                            + " it can move to " + from.next());
        }
        return inTransaction("moving " + name + " to " + to, c -> {
            if (Sql.update(c, "UPDATE shapeshift.migration SET phase = ?, message = ?, "
                    + "version = version + 1, updated_at = now(), phase_changed_at = now() WHERE name = ? AND phase = ?",
                    to.label(), reason, name, from.label()) == 0) {
                Phase now = find(c, name).map(MigrationRecord::phase).orElseThrow(() ->
                        new ShapeshiftException(ErrorCode.NOT_FOUND, "no migration named '" + name + "'"));
                throw new ShapeshiftException(ErrorCode.CONFLICT, "migration " + name + " is in phase " + now
                        + ", not " + from + "; it was moved concurrently — re-read its status and retry");
            }
            audit(c, name, actor, "transition", from, to, reason);
            also.run(c);
            log.info("phase changed migration={} from={} to={} actor={}", name, from, to, actor);
            return find(c, name).orElseThrow();
        });
    }

    /** Sets the migration's status message (e.g. why it stopped) without changing its phase. */
    public void setMessage(String name, String message) {
        inTransaction("updating message of " + name, c -> {
            return Sql.update(c, "UPDATE shapeshift.migration SET message = ?, updated_at = now() WHERE name = ?",
                    message, name);
        });
    }

    /** Records the replication slot and the LSN from which sync covers every write. */
    public void recordSlot(String name, String slotName, String startLsn) {
        inTransaction("recording slot of " + name, c -> {
            return Sql.update(c, "UPDATE shapeshift.migration SET slot_name = ?, "
                    + "start_lsn = ?::pg_lsn, updated_at = now() WHERE name = ?", slotName, startLsn, name);
        });
    }

    /** Sets a live knob (e.g. {@code paused}, {@code max-rows-per-second}), audited. */
    public void putSetting(String migration, String setting, String value, String actor, String reason) {
        inTransaction("changing setting " + setting, c -> {
            Sql.update(c, "INSERT INTO shapeshift.setting (migration, name, value, changed_by) "
                    + "VALUES (?, ?, ?, ?) ON CONFLICT (migration, name) DO UPDATE SET value = EXCLUDED.value, "
                    + "changed_by = EXCLUDED.changed_by, changed_at = now()", migration, setting, value, actor);
            audit(c, migration, actor, "setting " + setting + "=" + value, null, null, reason);
            return null;
        });
    }

    /** The live settings of a migration ({@code shapeshift.setting}), read on the caller's connection. */
    public static Map<String, String> settings(Connection c, String migration) throws SQLException {
        Map<String, String> out = new HashMap<>();
        Sql.each(c, "SELECT name, value FROM shapeshift.setting WHERE migration = ?",
                rs -> out.put(rs.getString(1), rs.getString(2)), migration);
        return out;
    }

    public Optional<String> setting(String migration, String setting) {
        return inTransaction("reading setting " + setting, c -> {
            return Optional.ofNullable(Sql.one(c, "SELECT value FROM shapeshift.setting WHERE migration = ? AND name = ?",
                    rs -> rs.getString(1), migration, setting));
        });
    }

    /** Appends an audit entry on its own (operator actions that change no row). */
    public void audit(String migration, String actor, String action, String reason) {
        inTransaction("auditing " + action, c -> {
            audit(c, migration, actor, action, null, null, reason);
            return null;
        });
    }

    public List<AuditEntry> auditLog(String migration, long afterId, int limit) {
        return inTransaction("reading audit log", c -> {
            return Sql.list(c, "SELECT id, at, migration, actor, action, from_phase, "
                    + "to_phase, reason, details::text FROM shapeshift.audit WHERE (?::text IS NULL OR migration = ?) "
                    + "AND id > ? ORDER BY id LIMIT ?", rs -> new AuditEntry(rs.getLong(1), instant(rs.getTimestamp(2)),
                            rs.getString(3), rs.getString(4), rs.getString(5), rs.getString(6), rs.getString(7),
                            rs.getString(8), rs.getString(9)), migration, migration, afterId, limit);
        });
    }

    /** Appends an audit entry inside the caller's transaction, so it commits with the change it describes. */
    public static void audit(Connection c, String migration, String actor, String action, Phase from, Phase to,
                             String reason) throws SQLException {
        Sql.update(c, "INSERT INTO shapeshift.audit (migration, actor, action, from_phase, to_phase, reason) "
                + "VALUES (?, ?, ?, ?, ?, ?)", migration, actor, action, from == null ? null : from.label(),
                to == null ? null : to.label(), reason);
    }

    private Optional<MigrationRecord> find(Connection c, String name) throws SQLException {
        return Optional.ofNullable(Sql.one(c, "SELECT " + MIGRATION_COLUMNS + " FROM shapeshift.migration WHERE name = ?",
                Catalog::migration, name));
    }

    private static MigrationRecord migration(ResultSet rs) throws SQLException {
        return new MigrationRecord(rs.getString(1), rs.getString(2), rs.getString(3), Phase.fromLabel(rs.getString(4)),
                rs.getString(5), rs.getLong(6), rs.getString(7), rs.getString(8), instant(rs.getTimestamp(9)),
                instant(rs.getTimestamp(10)), instant(rs.getTimestamp(11)));
    }

    private static Instant instant(Timestamp ts) {
        return ts == null ? null : ts.toInstant();
    }

    /** Catalog work inside one transaction. */
    @FunctionalInterface
    public interface SqlWork<T> {
        T run(Connection c) throws SQLException;
    }

    /** Runs catalog work in one short transaction on a pooled connection. */
    public <T> T inTransaction(String doing, SqlWork<T> work) {
        try (Connection c = connect()) {
            return inTransaction(c, doing, work);
        } catch (SQLException e) {
            throw SqlStates.translate(doing, e);
        }
    }

    /** Runs catalog work in one transaction on the caller's connection (autocommit restored after). */
    public static <T> T inTransaction(Connection c, String doing, SqlWork<T> work) {
        return dev.shapeshift.db.Transactions.run(c, doing, work::run);
    }
}
