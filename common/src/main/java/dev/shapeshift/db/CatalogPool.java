package dev.shapeshift.db;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Pooled connections for catalog work (leases, checkpoints, settings, phase changes): one small
 * HikariCP pool per database, user and role in this process. Opening a connection per catalog
 * call (a handshake and a backend fork) left workers idle between chunks (docs/performance.md,
 * "Where the time goes"). Idle connections close after 10 s, so short-lived commands and tests do
 * not hold server slots.
 */
public final class CatalogPool {
    private static final Map<String, HikariDataSource> POOLS = new ConcurrentHashMap<>();

    private CatalogPool() {
    }

    public static Connection connect(Database db, String role) {
        HikariDataSource pool = POOLS.computeIfAbsent(db.jdbcUrl() + "\u0000" + db.user() + "\u0000" + role,
                k -> create(db, role));
        try {
            return pool.getConnection();
        } catch (SQLTransientConnectionException e) {
            throw new dev.shapeshift.error.ShapeshiftException(dev.shapeshift.error.ErrorCode.UNREACHABLE,
                    "no connection to " + db.safeUrl() + " within 10 s: " + e.getMessage(), e);
        } catch (SQLException e) {
            throw SqlStates.translate("connecting to " + db.safeUrl(), e);
        }
    }

    private static HikariDataSource create(Database db, String role) {
        Reachability.require(db.jdbcUrl()); // a refused connection is said at once, not after the pool's 10 s
        HikariConfig c = new HikariConfig();
        c.setJdbcUrl(db.jdbcUrl());
        c.setUsername(db.user());
        c.setPassword(db.password());
        c.setPoolName("shapeshift-" + role);
        c.setMaximumPoolSize(8);
        c.setMinimumIdle(0);
        c.setIdleTimeout(10_000);
        c.setConnectionTimeout(10_000);
        c.setInitializationFailTimeout(-1);
        c.addDataSourceProperty("ApplicationName", Database.APPLICATION_PREFIX + role);
        c.addDataSourceProperty("assumeMinServerVersion", Database.ASSUME_MIN_SERVER_VERSION);
        c.addDataSourceProperty("tcpKeepAlive", "true");
        // Catalog statements are short: a silent partition must not hold a pooled connection (which
        // the pool cannot reclaim while it is in use) until TCP gives up. The URL's settings win.
        c.addDataSourceProperty("socketTimeout", Long.toString(Database.WORKER_SOCKET_TIMEOUT.toSeconds()));
        c.addDataSourceProperty("loginTimeout", Integer.toString(Database.LOGIN_TIMEOUT_SECONDS));
        return new HikariDataSource(c);
    }
}
