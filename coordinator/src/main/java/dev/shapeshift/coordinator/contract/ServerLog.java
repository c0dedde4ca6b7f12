package dev.shapeshift.coordinator.contract;

import dev.shapeshift.db.Sql;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * The server's CSV log ({@code log_destination} with {@code csvlog}, {@code logging_collector =
 * on}), read through the database ({@code pg_current_logfile}, {@code pg_read_binary_file}), so it
 * works wherever the coordinator runs. Needs a superuser, or a role granted {@code pg_monitor}
 * and {@code pg_read_server_files}; {@link #position} says why when it cannot.
 *
 * <p>The log is read from a stored position onwards, whole records only (a record may span lines:
 * a quoted statement keeps its newlines); a rotated file is read to its end before the new one.
 */
final class ServerLog {
    /** Reads at most this much per call: a busy log is caught up over several looks. */
    private static final int CHUNK = 4 << 20;

    /** Where reading stands: a file (relative to the data directory, as the server names it) and a byte offset. */
    record Position(String file, long offset) {
    }

    /** The current log file and its size, or the reason it cannot be read. */
    record Start(Position position, String problem) {
    }

    /** One CSV log record, the fields the brownout needs. */
    record Entry(String logTime, String user, String database, String client, String severity, String sqlState,
                 String message, String statement, String applicationName) {
    }

    /** The records read and where the next read starts. */
    record Read(List<Entry> entries, Position next) {
    }

    private ServerLog() {
    }

    /** The end of the current CSV log, where a brownout starts reading. */
    static Start position(Connection c) {
        try {
            String file = currentFile(c);
            if (file == null) {
                return new Start(null, "the server writes no CSV log (set log_destination to include csvlog and "
                        + "logging_collector = on)");
            }
            return new Start(new Position(file, size(c, file)), null);
        } catch (SQLException e) {
            return new Start(null, "the server's CSV log is not readable by this role (" + e.getMessage().strip()
                    + "): grant it pg_monitor and pg_read_server_files, or run the coordinator as a superuser");
        }
    }

    /** Reads the whole records after {@code from}, following a rotation to the current file. */
    static Read since(Connection c, Position from) throws SQLException {
        List<Entry> out = new ArrayList<>();
        Position at = readFile(c, from, out);
        String current = currentFile(c);
        if (current != null && !current.equals(at.file())) {
            at = readFile(c, new Position(current, 0), out);
        }
        return new Read(out, at);
    }

    private static Position readFile(Connection c, Position from, List<Entry> out) throws SQLException {
        long size = size(c, from.file());
        long offset = from.offset();
        while (offset < size) {
            byte[] bytes;
            try (PreparedStatement ps = c.prepareStatement("SELECT pg_read_binary_file(?, ?, ?, true)")) {
                ps.setString(1, from.file());
                ps.setLong(2, offset);
                ps.setLong(3, Math.min(CHUNK, size - offset));
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    bytes = rs.getBytes(1);
                }
            }
            if (bytes == null || bytes.length == 0) {
                break;
            }
            int used = parse(bytes, out);
            if (used == 0) {
                break;
            }
            offset += used;
        }
        return new Position(from.file(), offset);
    }

    /** Parses the complete records at the start of {@code bytes} into {@code out}; returns the bytes used. */
    static int parse(byte[] bytes, List<Entry> out) {
        int start = 0;
        boolean quoted = false;
        for (int i = 0; i < bytes.length; i++) {
            byte b = bytes[i];
            if (b == '"') {
                quoted = !quoted;
            } else if (b == '\n' && !quoted) {
                List<String> fields = fields(new String(bytes, start, i - start, StandardCharsets.UTF_8));
                if (fields.size() >= 23) {
                    out.add(new Entry(fields.get(0), fields.get(1), fields.get(2), fields.get(4), fields.get(11),
                            fields.get(12), fields.get(13), fields.get(19), fields.get(22)));
                }
                start = i + 1;
            }
        }
        return start;
    }

    /** RFC 4180 fields of one record: quoted with {@code ""} for a quote inside, empty when absent. */
    static List<String> fields(String record) {
        List<String> out = new ArrayList<>();
        StringBuilder f = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < record.length(); i++) {
            char ch = record.charAt(i);
            if (quoted) {
                if (ch == '"' && i + 1 < record.length() && record.charAt(i + 1) == '"') {
                    f.append('"');
                    i++;
                } else if (ch == '"') {
                    quoted = false;
                } else {
                    f.append(ch);
                }
            } else if (ch == '"') {
                quoted = true;
            } else if (ch == ',') {
                out.add(f.toString());
                f.setLength(0);
            } else {
                f.append(ch);
            }
        }
        out.add(f.toString());
        return out;
    }

    private static String currentFile(Connection c) throws SQLException {
        return Sql.one(c, "SELECT pg_current_logfile('csvlog')", rs -> rs.getString(1));
    }

    private static long size(Connection c, String file) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT (pg_stat_file(?, true)).size")) {
            ps.setString(1, file);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                long size = rs.getLong(1);
                return rs.wasNull() ? 0 : size;
            }
        }
    }
}
