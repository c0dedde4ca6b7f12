package dev.shapeshift.bridge.capture;

import dev.shapeshift.db.Sql;
import dev.shapeshift.db.SqlStates;
import dev.shapeshift.sql.Ident;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The bridge manages its publication itself (Debezium runs with
 * {@code publication.autocreate.mode=disabled}): exactly the captured source tables plus
 * {@code shapeshift.heartbeat}. It must exist before the slot is created, so that pgoutput never
 * decodes WAL from before the publication existed.
 */
public final class Publication {
    private static final Logger log = LoggerFactory.getLogger(Publication.class);
    public static final TableId HEARTBEAT = new TableId("shapeshift", "heartbeat");

    private Publication() {
    }

    /**
     * Makes the publication hold exactly {@code tables} + heartbeat. The heartbeat table is a catalog
     * table ({@code CatalogSchema.migrate}, run at the bridge's start), never created here.
     */
    public static void ensure(Connection c, String publication, Collection<TableId> tables) {
        Set<TableId> wanted = new LinkedHashSet<>();
        wanted.add(HEARTBEAT);
        wanted.addAll(tables);
        String list = wanted.stream().map(TableId::sql).collect(Collectors.joining(", "));
        try (Statement s = c.createStatement()) {
            Set<TableId> current = current(c, publication);
            if (current == null) {
                s.execute("CREATE PUBLICATION " + Ident.quote(publication) + " FOR TABLE " + list);
                log.info("publication created publication={} tables={}", publication, wanted);
            } else if (!current.equals(wanted)) {
                s.execute("ALTER PUBLICATION " + Ident.quote(publication) + " SET TABLE " + list);
                log.info("publication changed publication={} tables={}", publication, wanted);
            }
        } catch (SQLException e) {
            throw SqlStates.translate("preparing publication " + publication
                    + " (the bridge's role must own the published tables)", e);
        }
    }

    /** The heartbeat statement Debezium runs every heartbeat interval; slot names are [a-z0-9_]. */
    public static String heartbeatQuery(String slot) {
        return "INSERT INTO shapeshift.heartbeat (slot_name, beat_at) VALUES ('" + slot + "', now()) "
                + "ON CONFLICT (slot_name) DO UPDATE SET beat_at = now()";
    }

    private static Set<TableId> current(Connection c, String publication) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM pg_publication WHERE pubname = ?")) {
            ps.setString(1, publication);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
            }
        }
        Set<TableId> out = new LinkedHashSet<>();
        out.addAll(Sql.list(c,
                "SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = ?",
                rs -> new TableId(rs.getString(1), rs.getString(2)), publication));
        return out;
    }
}
