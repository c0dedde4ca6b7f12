package dev.shapeshift.bridge.capture;

import dev.shapeshift.db.ServerVersion;
import dev.shapeshift.refresh.BackfillOrigin;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Whether the bridge streams with pgoutput's {@code origin = 'none'}: then PostgreSQL never decodes
 * or sends a change written under a replication origin, so the backfill's own rows (its sessions
 * carry a {@link BackfillOrigin}) cost the sync nothing, where the echo mark drops them only after
 * decoding. {@code origin = 'none'} drops every change with any origin, so it is used only when
 * nothing else could write under one:
 * <ul>
 * <li>PostgreSQL 16 or later (the option does not exist before);</li>
 * <li>no replication origin but the backfill's own exists on the server (a subscription applies
 * under its own origin {@code pg_<oid>}; its writes into a captured table must be published);</li>
 * <li>no captured table is captured for two migrations (the echo is per migration: another
 * migration on the same table must still see the backfill's rows).</li>
 * </ul>
 * Otherwise the stream takes every change and the workers' echo mark drops their own, as before.
 * The bridge checks this at every engine start and every watch round, and restarts the engine when
 * the answer changes.
 */
public final class OriginFilter {

    /** The answer and why, for the log. */
    public record Decision(boolean on, String reason) {
    }

    private OriginFilter() {
    }

    /** Reads the server's version and replication origins; a failure to read them means off. */
    public static Decision decide(boolean enabled, Connection c, Map<TableId, List<SyncTarget>> byTable) {
        if (!enabled) {
            return new Decision(false, "originFilter off in the bridge's configuration");
        }
        try (Statement s = c.createStatement()) {
            int version = ServerVersion.of(c).number();
            List<String> foreign = new ArrayList<>();
            try (ResultSet rs = s.executeQuery("SELECT roname FROM pg_replication_origin WHERE left(roname, "
                    + BackfillOrigin.PREFIX.length() + ") <> '" + BackfillOrigin.PREFIX + "' ORDER BY roname LIMIT 5")) {
                while (rs.next()) {
                    foreign.add(rs.getString(1));
                }
            }
            return decide(true, version, foreign, byTable);
        } catch (SQLException e) {
            return new Decision(false, "could not read the server's replication origins: " + e.getMessage());
        }
    }

    /** The rule itself, on what {@link #decide(boolean, Connection, Map)} read. */
    static Decision decide(boolean enabled, int serverVersion, List<String> foreignOrigins,
                           Map<TableId, List<SyncTarget>> byTable) {
        if (!enabled) {
            return new Decision(false, "originFilter off in the bridge's configuration");
        }
        if (serverVersion < BackfillOrigin.MIN_SERVER_VERSION) {
            return new Decision(false, "PostgreSQL " + serverVersion / 10000 + " has no origin filter (16+)");
        }
        if (!foreignOrigins.isEmpty()) {
            return new Decision(false, "other replication origins exist " + foreignOrigins
                    + " (a subscription's writes must be published)");
        }
        for (var e : byTable.entrySet()) {
            long migrations = e.getValue().stream().map(SyncTarget::migration).distinct().count();
            if (migrations > 1) {
                return new Decision(false, "table " + e.getKey() + " is captured for " + migrations
                        + " migrations (each must see the others' backfill)");
            }
        }
        return new Decision(true, "no other replication origin, one migration per captured table");
    }
}
