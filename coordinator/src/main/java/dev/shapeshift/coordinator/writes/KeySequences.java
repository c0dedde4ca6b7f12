package dev.shapeshift.coordinator.writes;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.db.Sql;
import dev.shapeshift.spec.MigrationSpec;
import dev.shapeshift.spec.Mode;
import dev.shapeshift.sql.Ident;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Key sequences in table mode (docs/phases.md, "Key sequences"). The expand gives the new table its
 * own identity for every key column whose source column draws from a sequence; until the write
 * switch every key comes from the old table's sequence (the application inserts there, the
 * backfill and the sync copy the keys). So:
 * <ul>
 *   <li>at the write switch the new table's sequence is set above the old table's keys and the old
 *       sequence ({@link #atSwitch}): the application's first insert without a key does not collide;</li>
 *   <li>when the write switch is undone the old table's sequence is set above what the new table
 *       used ({@link #atUndo}), and again once the reverse sync drained;</li>
 *   <li>before the contract the gate checks that no sequence fell behind its keys ({@link #behind}).</li>
 * </ul>
 * {@code setval} takes no table lock; the {@code max()} reads take ACCESS SHARE under a short
 * {@code lock_timeout}, so they never queue the application.
 */
public final class KeySequences {
    private static final Logger log = LoggerFactory.getLogger(KeySequences.class);
    static final String LOCK_TIMEOUT = "2s";
    /**
     * Keys left free between the two sequences at a switch or an undo: while applications see the
     * write flag (writes.flagPropagation) instances on either side still insert, one side from the
     * old sequence, the other from the new; with this gap their keys stay apart for that many inserts.
     */
    public static final long GAP = 10_000;

    /** A key column with the sequences of both tables (either may be null) and the tables' maxima (null when empty or gone). */
    public record Seq(String column, String sourceSequence, String targetSequence, Long sourceMax, Long targetMax,
                      Long sourceLast, Long targetLast) {
    }

    private KeySequences() {
    }

    /** The key columns with a sequence on either side (table mode only; empty otherwise). */
    public static List<Seq> read(Connection c, MigrationSpec spec) throws SQLException {
        if (spec.mode() != Mode.TABLE) {
            return List.of();
        }
        String source = Ident.qualified(spec.source().schema(), spec.source().table());
        String target = Ident.qualified(spec.targetSchema(), spec.targetTable());
        List<Seq> out = new ArrayList<>();
        for (String col : keyColumns(c, spec)) {
            String srcSeq = sequenceOf(c, source, col);
            String tgtSeq = sequenceOf(c, target, col);
            if (srcSeq == null && tgtSeq == null) {
                continue;
            }
            out.add(new Seq(col, srcSeq, tgtSeq, max(c, source, col), max(c, target, col), last(c, srcSeq), last(c, tgtSeq)));
        }
        return out;
    }

    /**
     * In the transaction of the move to {@code writes-switched}: sets each of the new table's key
     * sequences {@link #GAP} above the largest of both tables' keys and the old sequence's last value. Returns what it
     * set ({@code "public.users_v2_id_seq = 2417"}).
     */
    public static List<String> atSwitch(Connection c, String migration, MigrationSpec spec) throws SQLException {
        return raise(c, migration, spec, true, "write switch set key sequence(s) ",
                "the application inserts into " + spec.targetSchema() + "." + spec.targetTable() + " from now on; "
                        + "its keys must come after every key of " + spec.source().table(),
                "write switch set key sequences");
    }

    /**
     * When the write switch is undone (and again after the drain): sets each of the old table's key
     * sequences {@link #GAP} above what the new table used, so that the old code's next inserts do not collide
     * with rows the new code inserted meanwhile (carried to the old table by the reverse sync).
     */
    public static List<String> atUndo(Connection c, String migration, MigrationSpec spec) throws SQLException {
        return raise(c, migration, spec, false, "write switch undone: set key sequence(s) ",
                "the application inserts into " + spec.source().schema() + "." + spec.source().table()
                        + " again; its keys must come after every key the new table used",
                "write switch undone, key sequences set");
    }

    /**
     * Sets each key sequence of one table ({@code newTable}: the new one, else the old one) {@link #GAP}
     * above the largest of both tables' keys and the other table's sequence, where it is not there yet;
     * audits and logs what it set ({@code action} + the list; {@code logMessage} + migration and list).
     */
    private static List<String> raise(Connection c, String migration, MigrationSpec spec, boolean newTable,
                                      String action, String why, String logMessage) throws SQLException {
        List<String> done = new ArrayList<>();
        for (Seq s : read(c, spec)) {
            String sequence = newTable ? s.targetSequence() : s.sourceSequence();
            Long last = newTable ? s.targetLast() : s.sourceLast();
            Long above = greatest(s.sourceMax(), s.targetMax(), newTable ? s.sourceLast() : s.targetLast());
            if (sequence != null && above != null && (last == null || last < above)) {
                done.add(setval(c, sequence, Math.max(1, above + GAP)));
            }
        }
        if (!done.isEmpty()) {
            Catalog.audit(c, migration, "coordinator", action + done, null, null, why);
            log.info(logMessage + " migration={} set={}", migration, done);
        }
        return done;
    }

    /**
     * The new table's key sequences that fell behind a key of either table (the next insert without a
     * key would collide), each as a sentence naming the sequence and the fix; empty when none.
     */
    public static List<String> behind(Connection c, MigrationSpec spec) throws SQLException {
        List<String> out = new ArrayList<>();
        for (Seq s : read(c, spec)) {
            if (s.targetSequence() == null) {
                continue;
            }
            Long max = greatest(s.sourceMax(), s.targetMax());
            long at = s.targetLast() == null ? 0 : s.targetLast();
            if (max != null && at < max) {
                out.add("sequence " + s.targetSequence() + " is at " + (s.targetLast() == null ? "its start" : at)
                        + ", below max(" + s.column() + ") = " + max + " of " + (s.targetMax() != null
                        && s.targetMax().equals(max) ? spec.targetTable() : spec.source().table())
                        + ": the next insert without a key collides (SELECT setval('" + s.targetSequence() + "', " + max + "))");
            }
        }
        return out;
    }

    private static String setval(Connection c, String sequence, long value) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT setval(?::regclass, ?, true)")) {
            ps.setString(1, sequence);
            ps.setLong(2, value);
            ps.executeQuery().close();
        }
        return sequence + " = " + value;
    }

    private static List<String> keyColumns(Connection c, MigrationSpec spec) throws SQLException {
        if (!spec.source().key().isEmpty()) {
            return spec.source().key();
        }
        List<String> out = new ArrayList<>();
        out.addAll(Sql.list(c, "SELECT a.attname FROM pg_index i JOIN pg_attribute a "
                + "ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey) WHERE i.indrelid = to_regclass(?) "
                + "AND i.indisprimary ORDER BY array_position(i.indkey::int2[], a.attnum)", rs -> rs.getString(1),
                Ident.qualified(spec.targetSchema(), spec.targetTable())));
        return out;
    }

    /** The sequence a column draws from: its own (serial, identity) or the one its {@code nextval} default names. */
    static String sequenceOf(Connection c, String table, String column) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT coalesce(pg_get_serial_sequence(?, ?), "
                + "(SELECT (regexp_match(pg_get_expr(d.adbin, d.adrelid), '^nextval\\(''(.+)''::regclass\\)$'))[1]::regclass::text "
                + "FROM pg_attrdef d JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum "
                + "WHERE d.adrelid = to_regclass(?) AND a.attname = ?)) WHERE to_regclass(?) IS NOT NULL")) {
            ps.setString(1, table);
            ps.setString(2, column); // taken literally, case preserved
            ps.setString(3, table);
            ps.setString(4, column);
            ps.setString(5, table);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    private static Long max(Connection c, String table, String column) throws SQLException {
        try (Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("SELECT to_regclass('" + table.replace("'", "''") + "') IS NOT NULL")) {
                rs.next();
                if (!rs.getBoolean(1)) {
                    return null;
                }
            }
            lockTimeout(c);
            try (ResultSet rs = s.executeQuery("SELECT max(" + Ident.quote(column) + ")::bigint FROM " + table)) {
                rs.next();
                long v = rs.getLong(1);
                return rs.wasNull() ? null : v;
            }
        }
    }

    private static Long last(Connection c, String sequence) throws SQLException {
        if (sequence == null) {
            return null;
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_sequence_last_value(?::regclass)")) {
            ps.setString(1, sequence);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                long v = rs.getLong(1);
                return rs.wasNull() ? null : v;
            }
        }
    }

    private static void lockTimeout(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute((c.getAutoCommit() ? "SET" : "SET LOCAL") + " lock_timeout = '" + LOCK_TIMEOUT + "'");
        }
    }

    private static Long greatest(Long... values) {
        Long out = null;
        for (Long v : values) {
            if (v != null && (out == null || v > out)) {
                out = v;
            }
        }
        return out;
    }
}
