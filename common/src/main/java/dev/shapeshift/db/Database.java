package dev.shapeshift.db;

import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.flag.FlagClient;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Properties;

/**
 * Where a PostgreSQL database is and how to log in. Every connection Shapeshift opens names its
 * role in {@code application_name} ({@code shapeshift-<role>}), so its own statements can be told
 * apart from the application's by identity (the contract gate relies on that).
 */
public record Database(String jdbcUrl, String user, String password) implements FlagClient.Connector {

    public static final String APPLICATION_PREFIX = "shapeshift-";

    /**
     * The JDBC driver's {@code assumeMinServerVersion} Shapeshift sets on every connection (its
     * oldest supported server is far newer). With the driver's default it does not put
     * {@code application_name} in the start-up packet but sends {@code SET application_name}
     * after connecting, so each new session is visible in {@code pg_stat_activity} for a moment
     * without its name — and the contract gate, sampling there, took Shapeshift's role for one
     * shared with an application (seen on PostgreSQL 15 with the coordinator, ~1 new session a second).
     */
    public static final String ASSUME_MIN_SERVER_VERSION = "10";

    public Database {
        if (jdbcUrl == null || !jdbcUrl.startsWith("jdbc:postgresql:")) {
            throw new ShapeshiftException(ErrorCode.CONFIG_INVALID,
                    "database URL must start with jdbc:postgresql: (got " + redact(jdbcUrl) + ")");
        }
    }

    /** The flag client's connection ({@code shapeshift-flag-client}), for the coordinator, the demo and tests. */
    @Override
    public Connection connectForFlags() {
        return connect("flag-client");
    }

    /** Opens a connection for the given role (e.g. {@code worker}); autocommit on. */
    public Connection connect(String role) {
        return connect(role, new Properties());
    }

    /**
     * Like {@link #connect(String)}, for a worker session whose transactions must never be left
     * open: the server ends the session after {@code idleInTransaction} idle inside a transaction
     * (a worker frozen by a GC pause or SIGSTOP), which releases its locks. Set as a startup option,
     * so the session has it from its first statement.
     */
    public Connection connect(String role, Duration idleInTransaction) {
        Properties props = new Properties();
        props.setProperty("options", "-c idle_in_transaction_session_timeout=" + idleInTransaction.toMillis());
        props.setProperty("socketTimeout", Long.toString(WORKER_SOCKET_TIMEOUT.toSeconds()));
        return connect(role, props);
    }

    /**
     * A session whose every statement is short (a lock attempt, {@code SELECT 1}) and that must
     * notice a silent partition: it gives the connection up after {@code socketTimeout} without an
     * answer (pgjdbc {@code socketTimeout}; one in the JDBC URL wins). {@code serverOptions} go to
     * the server in the start-up packet ({@code -c name=value …}). The leader-lock sessions
     * ({@link Leadership}).
     */
    public Connection connectWithSocketTimeout(String role, Duration socketTimeout, String serverOptions) {
        Properties props = new Properties();
        props.setProperty("socketTimeout", Long.toString(Math.max(1, socketTimeout.toSeconds())));
        if (serverOptions != null && !serverOptions.isBlank()) {
            props.setProperty("options", serverOptions);
        }
        return connect(role, props);
    }

    /**
     * How long a worker session waits for the server to answer before it gives the connection up
     * (pgjdbc {@code socketTimeout}): a silent network partition or a half-open connection would
     * otherwise hold a worker in a read until the kernel's TCP retransmissions give up (about 15
     * minutes on Linux), keepalives being no help to a session waiting for a reply. Every
     * statement on these sessions is bounded well below it: a sub-batch, a refresh within its
     * {@code lock_timeout}, the 10 s fence wait. A {@code socketTimeout} in the JDBC URL wins
     * (docs/compatibility.md). The catalog pool's connections (short statements) have it too
     * ({@link CatalogPool}), and the leader-lock sessions a shorter one ({@link Leadership#SOCKET_TIMEOUT}).
     * Sessions that run long statements (DDL, VACUUM, reconcile scans, index builds) are opened
     * with {@link #connect(String)} and have no such bound.
     */
    public static final Duration WORKER_SOCKET_TIMEOUT = Duration.ofSeconds(60);

    /**
     * pgjdbc {@code loginTimeout}: the whole connection set-up (TCP, TLS, start-up, authentication),
     * which {@code connectTimeout} (the TCP connect alone) does not bound. A server behind a silent
     * partition accepts nothing and answers nothing: without it a new connection waits forever.
     */
    public static final int LOGIN_TIMEOUT_SECONDS = 20;

    private Connection connect(String role, Properties props) {
        if (user != null) {
            props.setProperty("user", user);
        }
        if (password != null) {
            props.setProperty("password", password);
        }
        props.setProperty("ApplicationName", APPLICATION_PREFIX + role);
        props.setProperty("assumeMinServerVersion", ASSUME_MIN_SERVER_VERSION);
        props.setProperty("connectTimeout", "10");
        props.setProperty("loginTimeout", Integer.toString(LOGIN_TIMEOUT_SECONDS));
        props.setProperty("tcpKeepAlive", "true");
        try {
            return DriverManager.getConnection(jdbcUrl, props);
        } catch (SQLException e) {
            throw SqlStates.translate("connecting to " + redact(jdbcUrl), e);
        }
    }

    /** The URL without any password parameter, for messages and logs. */
    public String safeUrl() {
        return redact(jdbcUrl);
    }

    public static String redact(String url) {
        if (url == null) {
            return "null";
        }
        return url.replaceAll("(?i)(password=)[^&]*", "$1***");
    }

    @Override
    public String toString() {
        return "Database[" + safeUrl() + ", user=" + user + "]";
    }
}
