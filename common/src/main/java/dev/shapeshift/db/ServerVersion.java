package dev.shapeshift.db;

import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * The source server's PostgreSQL version ({@code server_version_num}, e.g. 170005) and what
 * Shapeshift needs of it. The oldest supported major is 14: below it {@code pg_stat_statements_info}
 * (the contract gate's reset and eviction check) does not exist, and 14 is the oldest major the
 * version matrix runs (docs/compatibility.md). Every feature Shapeshift uses exists in 14
 * ({@code pg_current_snapshot}, 13; {@code wal_status}/{@code safe_wal_size}, 13), so nothing
 * falls back on a supported server; newer features it does not rely on (failover slots, 17) are
 * named in the docs, not used.
 */
public record ServerVersion(int number) {

    /** {@code server_version_num} of the oldest supported release. */
    public static final int MINIMUM = 140000;

    public int major() {
        return number / 10000;
    }

    /** Reads the server's version on an open connection. */
    public static ServerVersion of(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SHOW server_version_num")) {
            rs.next();
            return new ServerVersion(Integer.parseInt(rs.getString(1).strip()));
        }
    }

    /** Reads the version and refuses a server older than {@link #MINIMUM}, naming it. */
    public static ServerVersion require(Connection c, String where) throws SQLException {
        return of(c).requireSupported(where);
    }

    /** This version, or a {@link ErrorCode#UNSUPPORTED_SERVER} failure that says what to do. */
    public ServerVersion requireSupported(String where) {
        if (number < MINIMUM) {
            throw new ShapeshiftException(ErrorCode.UNSUPPORTED_SERVER, "the PostgreSQL server at " + where + " is version "
                    + major() + " (server_version_num " + number + "); Shapeshift needs PostgreSQL 14 or newer "
                    + "(docs/compatibility.md) — upgrade the server, or run the migration by hand");
        }
        return this;
    }
}
