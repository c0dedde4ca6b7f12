package dev.shapeshift.catalog;

import dev.shapeshift.db.Sql;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.phase.Phase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Read-switch flags ({@code shapeshift.flag}). Every change increments the flag's version and is
 * audited with who and why in the same transaction. Applications read flags with
 * {@link dev.shapeshift.flag.FlagClient}; see docs/flags.md.
 */
public final class FlagStore {
    private static final Logger log = LoggerFactory.getLogger(FlagStore.class);
    private static final String COLUMNS = "name, migration, value, version, changed_by, changed_at";

    /** One row of {@code shapeshift.flag}. */
    public record Flag(String name, String migration, boolean value, long version, String changedBy,
                       Instant changedAt) {
    }

    private final Catalog catalog;

    public FlagStore(Catalog catalog) {
        this.catalog = catalog;
    }

    public Optional<Flag> find(String name) {
        return catalog.inTransaction("reading flag " + name, c -> find(c, name));
    }

    public Flag get(String name) {
        return find(name).orElseThrow(() -> new ShapeshiftException(ErrorCode.NOT_FOUND, "no flag named '" + name
                + "' (a migration's flag exists once it has been set or its reads switched)"));
    }

    public List<Flag> list() {
        return catalog.inTransaction("listing flags", c -> {
            List<Flag> out = new ArrayList<>();
            out.addAll(Sql.list(c, "SELECT " + COLUMNS + " FROM shapeshift.flag ORDER BY name", rs -> flag(rs)));
            return out;
        });
    }

    /**
     * Sets a flag (creating it at version 1), audited. Setting a flag to the value it already has
     * still bumps its version, so the audit trail and the version agree.
     *
     * @param migration the migration the flag belongs to, or null (kept if the flag exists)
     */
    public Flag set(String name, String migration, boolean value, String actor, String reason) {
        return catalog.inTransaction("setting flag " + name, c -> set(c, name, migration, value, actor, reason));
    }

    /**
     * Lets a database role read flags with {@code SELECT shapeshift.flag('<name>')} (catalog V13):
     * USAGE on the schema and EXECUTE on the function, nothing on the tables (the function runs as
     * the catalog's owner). Audited; granting twice is harmless.
     *
     * @throws ShapeshiftException NOT_FOUND when no such role exists
     */
    public void grantReader(String role, String actor, String reason) {
        catalog.inTransaction("granting flag reads to " + role, c -> {
            try (java.sql.PreparedStatement ps = c.prepareStatement("SELECT 1 FROM pg_roles WHERE rolname = ?")) {
                ps.setString(1, role);
                try (java.sql.ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        throw new dev.shapeshift.error.ShapeshiftException(dev.shapeshift.error.ErrorCode.NOT_FOUND,
                                "no database role '" + role + "': give the role your application logs in as "
                                        + "(SELECT rolname FROM pg_roles lists them)");
                    }
                }
            }
            String quoted = dev.shapeshift.sql.Ident.quote(role);
            try (java.sql.Statement st = c.createStatement()) {
                st.execute("GRANT USAGE ON SCHEMA shapeshift TO " + quoted);
                st.execute("GRANT EXECUTE ON FUNCTION shapeshift.flag(text) TO " + quoted);
            }
            Catalog.audit(c, null, actor, "flag reads granted to role " + role, null, null, reason);
            return null;
        });
    }

    /**
     * Moves a migration's phase and sets its flag in one transaction: the reads switch if and only
     * if the phase says so. Same compare-and-set as {@link Catalog#transition}, plus the flag row.
     */
    public MigrationRecord transitionWithFlag(String migration, Phase from, Phase to, String flag, boolean value,
                                              String actor, String reason) {
        MigrationRecord moved = catalog.transition(migration, from, to, actor, reason, c ->
                set(c, flag, migration, value, actor, "phase " + from + " -> " + to + (reason == null ? "" : ": " + reason)));
        log.info("read-switch flag set with the phase migration={} flag={} value={}", migration, flag, value);
        return moved;
    }

    /** Sets a flag inside the caller's transaction (e.g. the one that moves the phase), audited there. */
    public Flag setIn(Connection c, String name, String migration, boolean value, String actor, String reason)
            throws SQLException {
        return set(c, name, migration, value, actor, reason);
    }

    private static Flag set(Connection c, String name, String migration, boolean value, String actor, String reason)
            throws SQLException {
        Flag flag;
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO shapeshift.flag (name, migration, value, changed_by) "
                + "VALUES (?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value, "
                + "migration = coalesce(EXCLUDED.migration, shapeshift.flag.migration), "
                + "version = shapeshift.flag.version + 1, changed_by = EXCLUDED.changed_by, changed_at = now() "
                + "RETURNING " + COLUMNS)) {
            ps.setString(1, name);
            ps.setString(2, migration);
            ps.setBoolean(3, value);
            ps.setString(4, actor);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                flag = flag(rs);
            }
        }
        Catalog.audit(c, flag.migration(), actor, "flag " + name + "=" + value + " (version " + flag.version() + ")",
                null, null, reason);
        log.info("flag set flag={} value={} version={} actor={}", name, value, flag.version(), actor);
        return flag;
    }

    private static Optional<Flag> find(Connection c, String name) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM shapeshift.flag WHERE name = ?")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(flag(rs)) : Optional.empty();
            }
        }
    }

    private static Flag flag(ResultSet rs) throws SQLException {
        return new Flag(rs.getString(1), rs.getString(2), rs.getBoolean(3), rs.getLong(4), rs.getString(5),
                rs.getTimestamp(6).toInstant());
    }
}
