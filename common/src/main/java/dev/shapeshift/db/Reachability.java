package dev.shapeshift.db;

import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.postgresql.Driver;

/**
 * Whether the server of a JDBC URL accepts TCP connections, checked with one plain socket before
 * a connection pool would wait its whole time-out: a refused connection is reported at once as
 * {@code connection refused to host:port}, not as a pool time-out ten seconds later. Only the
 * socket is tried (no authentication); a URL the driver cannot parse is left to the driver.
 */
public final class Reachability {
    /** How long one host may take to accept the socket; a server that answers at all answers well within it. */
    static final int CONNECT_TIMEOUT_MS = 3_000;

    private Reachability() {
    }

    /** Throws {@link ErrorCode#UNREACHABLE} naming each host:port when none of the URL's hosts accepts a connection. */
    public static void require(String jdbcUrl) {
        List<InetSocketAddress> hosts = hosts(jdbcUrl);
        if (hosts.isEmpty()) {
            return;
        }
        List<String> failures = new ArrayList<>();
        for (InetSocketAddress host : hosts) {
            String failure = probe(host);
            if (failure == null) {
                return;
            }
            failures.add(failure);
        }
        throw new ShapeshiftException(ErrorCode.UNREACHABLE, String.join("; ", failures) + " (" + Database.redact(jdbcUrl)
                + ") — check the host and port in the URL and that PostgreSQL is running and listening there");
    }

    /** The hosts of a PostgreSQL JDBC URL (several for a multi-host URL); empty when it cannot be parsed. */
    static List<InetSocketAddress> hosts(String jdbcUrl) {
        Properties p = Driver.parseURL(jdbcUrl, null);
        if (p == null || p.getProperty("PGHOST") == null || p.getProperty("socketFactory") != null) {
            return List.of();
        }
        String[] names = p.getProperty("PGHOST").split(",");
        String[] ports = p.getProperty("PGPORT", "5432").split(",");
        List<InetSocketAddress> hosts = new ArrayList<>();
        for (int i = 0; i < names.length; i++) {
            String port = i < ports.length && !ports[i].isBlank() ? ports[i] : "5432";
            try {
                hosts.add(InetSocketAddress.createUnresolved(names[i], Integer.parseInt(port)));
            } catch (IllegalArgumentException e) {
                return List.of(); // the driver names a bad port better
            }
        }
        return hosts;
    }

    /** Null when the host accepts a connection, else what went wrong, in a few words. */
    private static String probe(InetSocketAddress host) {
        String where = host.getHostString() + ":" + host.getPort();
        InetSocketAddress resolved = new InetSocketAddress(host.getHostString(), host.getPort());
        if (resolved.isUnresolved()) {
            return "unknown host " + host.getHostString();
        }
        try (Socket s = new Socket()) {
            s.connect(resolved, CONNECT_TIMEOUT_MS);
            return null;
        } catch (ConnectException e) {
            return "connection refused to " + where;
        } catch (SocketTimeoutException e) {
            return "no answer from " + where + " within " + CONNECT_TIMEOUT_MS / 1000 + " s";
        } catch (UnknownHostException e) {
            return "unknown host " + host.getHostString();
        } catch (IOException e) {
            return "cannot reach " + where + ": " + e.getMessage();
        }
    }
}
