package dev.shapeshift.flag;

import java.sql.Array;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What an application embeds to decide which shape to read. Reads flags straight from the catalog
 * ({@code shapeshift.flag} in the source database the application already talks to), so it works
 * while the coordinator is down; the coordinator's {@code GET /api/flags/{name}} serves the same
 * row for non-JVM clients.
 *
 * <p>Staleness bound: every watched flag is re-read every {@code refreshEvery} (default 1s) in one
 * query, so a flip — on or back off — is seen within {@code refreshEvery} plus one query.
 * {@link #value} never blocks on the database except the first time a name is asked for.
 *
 * <p>On failure (database unreachable, permission lost) the client keeps the last value it read
 * and keeps retrying; {@link FlagValue#stale()} turns true once the last successful read is older
 * than {@code staleAfter} (default 5s), and a warning is logged once per outage. A flag never read
 * successfully (or absent from the catalog) is {@code false}: the old shape, which stays complete
 * until the contract.
 *
 * <p>This class is its own artifact ({@code dev.shapeshift:shapeshift-flag-client}: the PostgreSQL
 * JDBC driver and SLF4J, nothing else) so an application can embed it without Shapeshift's
 * runtime; see docs/flags.md and the module's README.
 */
public final class FlagClient implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(FlagClient.class);

    /** Opens the connection the client reads {@code shapeshift.flag} through (one at a time, re-opened after a failure). */
    @FunctionalInterface
    public interface Connector {
        Connection connectForFlags() throws SQLException;
    }

    /**
     * A connector over the PostgreSQL JDBC driver: the database the application already talks to
     * (the one with Shapeshift's catalog schema), a role that may {@code SELECT} from
     * {@code shapeshift.flag}. Sessions are named {@code shapeshift-flag-client} (in the start-up
     * packet), login times out after 10 s and a read after 10 s.
     */
    public static Connector jdbc(String jdbcUrl, String user, String password) {
        if (jdbcUrl == null || !jdbcUrl.startsWith("jdbc:postgresql:")) {
            throw new IllegalArgumentException("a PostgreSQL JDBC URL (jdbc:postgresql://host:port/database), got " + jdbcUrl);
        }
        return () -> {
            Properties p = new Properties();
            if (user != null) {
                p.setProperty("user", user);
            }
            if (password != null) {
                p.setProperty("password", password);
            }
            p.setProperty("ApplicationName", "shapeshift-flag-client");
            p.setProperty("assumeMinServerVersion", "9.0");
            p.setProperty("loginTimeout", "10");
            p.setProperty("socketTimeout", "10");
            return DriverManager.getConnection(jdbcUrl, p);
        };
    }

    /**
     * @param refreshEvery how often watched flags are re-read (the staleness bound while healthy)
     * @param staleAfter   how old the last successful read may get before values report stale
     */
    public record Options(Duration refreshEvery, Duration staleAfter) {
        public Options {
            if (refreshEvery == null || refreshEvery.isNegative() || refreshEvery.isZero()) {
                throw new IllegalArgumentException("refreshEvery must be positive (got " + refreshEvery + ")");
            }
            if (staleAfter == null || staleAfter.compareTo(refreshEvery) < 0) {
                throw new IllegalArgumentException("staleAfter must be at least refreshEvery (got " + staleAfter + ")");
            }
        }

        public static Options defaults() {
            return new Options(Duration.ofSeconds(1), Duration.ofSeconds(5));
        }
    }

    /**
     * A flag as this client knows it.
     *
     * @param version 0 if the flag was never read or does not exist
     * @param readAt  when the catalog last answered for this flag, present or absent (null: it never
     *                did, e.g. the first read failed)
     * @param stale   {@code readAt} is null or older than {@code staleAfter}
     */
    public record FlagValue(String name, boolean value, long version, Instant readAt, boolean stale) {

        /** The catalog answered for this flag and it has no row: never set (version 0). */
        public boolean absent() {
            return readAt != null && version == 0;
        }
    }

    private record Known(boolean value, long version, Instant readAt) {
    }

    private final Connector db;
    private final Options options;
    private final Clock clock;
    private final Map<String, Known> known = new ConcurrentHashMap<>();
    private final ScheduledExecutorService refresher;
    private volatile boolean warned;
    private Connection connection;

    public FlagClient(Connector db, Options options) {
        this(db, options, Clock.systemUTC());
    }

    FlagClient(Connector db, Options options, Clock clock) {
        this.db = db;
        this.options = options;
        this.clock = clock;
        this.refresher = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "shapeshift-flag-client");
            t.setDaemon(true);
            return t;
        });
        long every = options.refreshEvery().toMillis();
        refresher.scheduleWithFixedDelay(this::refresh, every, every, TimeUnit.MILLISECONDS);
    }

    /** Whether reads should use the new shape. */
    public boolean isOn(String flag) {
        return value(flag).value();
    }

    /** The flag's last known value; the first call for a name reads it from the catalog. */
    public FlagValue value(String flag) {
        if (!known.containsKey(flag)) {
            known.putIfAbsent(flag, new Known(false, 0, null));
            refresh();
        }
        Known k = known.get(flag);
        Instant at = k.readAt();
        boolean stale = at == null || Duration.between(at, clock.instant()).compareTo(options.staleAfter()) > 0;
        return new FlagValue(flag, k.value(), k.version(), at, stale);
    }

    /** Re-reads every watched flag now; false (and values kept) if the catalog cannot be read. */
    public synchronized boolean refresh() {
        List<String> names = List.copyOf(known.keySet());
        if (names.isEmpty()) {
            return true;
        }
        try {
            Instant now = clock.instant();
            Map<String, Known> read = read(names, now);
            for (String name : names) {
                known.put(name, read.getOrDefault(name, new Known(false, 0, now)));
            }
            if (warned) {
                log.info("flag catalog readable again flags={}", names.size());
                warned = false;
            }
            return true;
        } catch (SQLException | RuntimeException e) {
            closeConnection();
            if (!warned) {
                log.warn("cannot read flags, keeping last known values flags={} error={}",
                        names.size(), e.toString());
                warned = true;
            }
            return false;
        }
    }

    private Map<String, Known> read(List<String> names, Instant now) throws SQLException {
        if (connection == null || connection.isClosed()) {
            connection = db.connectForFlags();
        }
        Map<String, Known> out = new HashMap<>();
        try (PreparedStatement ps = connection.prepareStatement(
                "SELECT name, value, version FROM shapeshift.flag WHERE name = ANY (?)")) {
            Array array = connection.createArrayOf("text", names.toArray());
            ps.setArray(1, array);
            ps.setQueryTimeout((int) Math.max(1, options.refreshEvery().toSeconds()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.put(rs.getString(1), new Known(rs.getBoolean(2), rs.getLong(3), now));
                }
            }
        }
        return out;
    }

    private void closeConnection() {
        if (connection != null) {
            try {
                connection.close();
            } catch (SQLException e) {
                // the connection is broken already; a new one is opened on the next refresh
            }
            connection = null;
        }
    }

    @Override
    public synchronized void close() {
        refresher.shutdownNow();
        closeConnection();
    }
}
