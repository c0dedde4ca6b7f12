package dev.shapeshift.coordinator.writes;

import dev.shapeshift.coordinator.gate.Check;
import dev.shapeshift.db.Sql;
import dev.shapeshift.spec.MigrationSpec;
import dev.shapeshift.spec.Mode;
import dev.shapeshift.spec.TargetColumn;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes of the old shape after the write switch — an application instance still running the old
 * code — found two ways (docs/phases.md, "Old-shape writes after the switch"):
 * <ul>
 * <li>from pg_stat_statements: an INSERT or UPDATE on the table that names an old column (one with
 * a reverse transform, or one the contract drops) and no new column (table mode: not the new table),
 * by a role other than the one Shapeshift connects as, whose calls grew after the switch;</li>
 * <li>from the change stream: in table mode a row change of the old table without the workers'
 * echo mark; in place an INSERT or UPDATE without it that writes an old column (the write switch
 * gives the table REPLICA IDENTITY FULL, so the bridge compares each UPDATE's before and after
 * image); committed after the sync turned reverse ({@code shapeshift.old_shape_change}, written by
 * the workers).</li>
 * </ul>
 * The reverse sync overwrites such a write with reverse(new); the contract-ready gate stays closed
 * while one was seen within the quiet period.
 *
 * <p>Why one class of ~350 lines: the two ways of seeing an old-shape write share one definition of
 * an old column and write one kind of evidence; split, they could drift apart.
 */
public final class OldShapeWrites {
    private OldShapeWrites() {
    }

    /** One statement: who, what, how many calls since the write switch, and when they were last seen to grow. */
    public record Statement(String role, String query, long callsSinceSwitch, java.time.Instant lastGrewAt) {
        public Statement(String role, String query, long callsSinceSwitch) {
            this(role, query, callsSinceSwitch, null);
        }

        @Override
        public String toString() {
            return role + ": " + query + " (" + callsSinceSwitch + " call(s) since the write switch"
                    + (lastGrewAt == null ? "" : ", last seen growing at " + lastGrewAt) + ")";
        }
    }

    /**
     * The old table's row changes the change stream showed after the write switch (table mode).
     *
     * @param keys   keys with such a change in the window
     * @param last   the latest commit time among them (null when none)
     * @param sample a few of those keys, newest first, with their latest commit time
     * @param total  keys with such a change since the write switch, window or not
     * @param blind  in place, why the change stream cannot tell old-shape writes (the table's replica
     *               identity is not FULL, so UPDATEs come without a before image); null when it can
     */
    public record Changes(long keys, java.time.Instant last, List<String> sample, long total, String blind) {
        public static final Changes NONE = new Changes(0, null, List.of(), 0);

        public Changes {
            sample = List.copyOf(sample);
        }

        public Changes(long keys, java.time.Instant last, List<String> sample, long total) {
            this(keys, last, sample, total, null);
        }

        public Changes blind(String why) {
            return new Changes(keys, last, sample, total, why);
        }
    }

    /**
     * The contract-ready gate's check {@code no-old-shape-writes} after the write switch (also in
     * {@code shapeshift evidence}): closed while a statement or a change of the old table writing
     * the old shape was seen within the quiet period, naming them.
     *
     * @param writes  from {@link #since}; null when pg_stat_statements is not readable
     * @param changes from {@link #changes}; null when not read
     */
    public static Check check(List<Statement> writes, Changes changes, java.time.Duration quietPeriod) {
        String window = "within the quiet period (" + dev.shapeshift.spec.DurationText.format(quietPeriod) + ")";
        List<String> found = new ArrayList<>();
        if (changes != null && changes.keys() > 0) {
            found.add(changes.keys() + " key(s) of the old shape written by an application after the write switch "
                    + window + ", last at " + changes.last() + ", e.g. " + String.join(", ", changes.sample()));
        }
        if (writes != null && !writes.isEmpty()) {
            found.add(writes.size() + " statement(s) writing only the old shape called since the write switch "
                    + window + ": " + writes.stream().limit(3).map(Object::toString)
                    .collect(java.util.stream.Collectors.joining("; ")));
        }
        if (!found.isEmpty()) {
            return Check.fail("no-old-shape-writes", String.join("; ", found) + "; the reverse sync overwrites what "
                    + "they write with reverse(new) — move that application to the new code (it must honour the write "
                    + "flag), then the gate opens once the quiet period passed without such writes");
        }
        String stream = changes == null ? "" : changes.blind() != null ? "; change stream: " + changes.blind()
                : changes.total() > 0 ? "; change stream: none " + window + " (" + changes.total() + " key(s) earlier)"
                : "; change stream: no application write of the old shape since the write switch";
        if (writes == null) {
            return Check.pass("no-old-shape-writes", "statements not checked: pg_stat_statements is not readable "
                    + "here (the contract evidence still looks at every access to the old shape)" + stream);
        }
        return Check.pass("no-old-shape-writes", "no statement writes only the old shape " + window + stream);
    }

    /**
     * The check for a migration as it stands (for {@code shapeshift evidence}); empty before the write
     * switch or without one.
     */
    public static java.util.Optional<Check> checkNow(dev.shapeshift.db.Database db, String migration) {
        dev.shapeshift.catalog.Catalog catalog = new dev.shapeshift.catalog.Catalog(db, "coordinator");
        var m = catalog.find(migration);
        if (m.isEmpty()) {
            return java.util.Optional.empty();
        }
        dev.shapeshift.coordinator.gate.StoredSpec stored = dev.shapeshift.coordinator.gate.StoredSpec.of(m.get());
        if (!stored.plan().switchesWrites() || !stored.plan().writesNew(m.get().phase())) {
            return java.util.Optional.empty();
        }
        try (Connection c = catalog.connect()) {
            MigrationSpec spec = dev.shapeshift.spec.SpecJson.read(m.get().specJson());
            java.time.Duration quiet = stored.contract().quietPeriod();
            Changes changes = changes(c, migration, spec, stored.writes().flagPropagation(), quiet);
            return java.util.Optional.of(check(since(c, migration, spec, quiet), changes, quiet));
        } catch (SQLException e) {
            throw dev.shapeshift.db.SqlStates.translate("reading the old-shape writes of " + migration, e);
        }
    }

    /** At the write switch (in its transaction): stores the counts of the matching statements now. */
    static void snapshot(Connection c, String migration, MigrationSpec spec) throws SQLException {
        Map<String, Row> rows = matching(c, spec);
        if (rows == null) {
            return;
        }
        try (PreparedStatement del = c.prepareStatement("DELETE FROM shapeshift.old_shape_write WHERE migration = ?")) {
            del.setString(1, migration);
            del.executeUpdate();
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO shapeshift.old_shape_write (migration, queryid, "
                + "role, query, calls_at_switch) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING")) {
            for (Row r : rows.values()) {
                ps.setString(1, migration);
                ps.setLong(2, r.queryid);
                ps.setString(3, r.role);
                ps.setString(4, r.query);
                ps.setLong(5, r.calls);
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    /**
     * The matching statements called since the write switch (more calls than at the switch, or not
     * there then); null when pg_stat_statements cannot be read. Same as {@link #since(Connection,
     * String, MigrationSpec, java.time.Duration)} with no window.
     */
    public static List<Statement> since(Connection c, String migration, MigrationSpec spec) throws SQLException {
        return since(c, migration, spec, null);
    }

    /**
     * The matching statements called since the write switch whose calls were last seen to grow
     * within {@code window} (null: any time); null when pg_stat_statements cannot be read. Notes,
     * per statement, the calls seen now and when they last grew ({@code old_shape_write.calls_seen},
     * {@code last_grew_at}): pg_stat_statements keeps no times, so a statement's last call is known
     * only to have happened before the first look that saw the count grow. A window measured from
     * that look closes no earlier than one measured from the call.
     */
    public static List<Statement> since(Connection c, String migration, MigrationSpec spec, java.time.Duration window)
            throws SQLException {
        Map<String, Row> now = matching(c, spec);
        if (now == null) {
            return null;
        }
        record Seen(long atSwitch, Long seen, java.sql.Timestamp grew) {
        }
        Map<String, Seen> before = new HashMap<>();
        Sql.each(c, "SELECT queryid, role, calls_at_switch, calls_seen, last_grew_at "
                + "FROM shapeshift.old_shape_write WHERE migration = ?", rs -> {
                long seen = rs.getLong(4);
                before.put(rs.getLong(1) + "/" + rs.getString(2), new Seen(rs.getLong(3),
                        rs.wasNull() ? null : seen, rs.getTimestamp(5)));
            }, migration);
        java.time.Instant at = dbNow(c);
        List<Statement> out = new ArrayList<>();
        for (Map.Entry<String, Row> e : now.entrySet()) {
            Row r = e.getValue();
            Seen b = before.get(e.getKey());
            long atSwitch = b == null ? 0L : b.atSwitch();
            long since = r.calls - atSwitch;
            if (since <= 0) {
                continue;
            }
            long seenBefore = b == null || b.seen() == null ? atSwitch : b.seen();
            java.time.Instant grew = b == null || b.grew() == null ? null : b.grew().toInstant();
            if (r.calls > seenBefore || grew == null) {
                grew = at;
                Sql.update(c, "INSERT INTO shapeshift.old_shape_write (migration, "
                        + "queryid, role, query, calls_at_switch, calls_seen, last_grew_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
                        + "ON CONFLICT (migration, queryid, role) DO UPDATE SET calls_seen = EXCLUDED.calls_seen, "
                        + "last_grew_at = EXCLUDED.last_grew_at",
                        migration, r.queryid, r.role, r.query, atSwitch, r.calls, java.sql.Timestamp.from(at));
            }
            if (window == null || !grew.isBefore(at.minus(window))) {
                out.add(new Statement(r.role, r.query, since, grew));
            }
        }
        return out;
    }

    /**
     * The old table's row changes recorded after the write switch ({@code shapeshift.old_shape_change}):
     * those committed later than {@code flagPropagation} after the sync turned reverse (before that,
     * applications may not have seen the write flag yet and still write both shapes) and within
     * {@code window} of now.
     */
    public static Changes changes(Connection c, String migration, java.time.Duration flagPropagation,
                                  java.time.Duration window) throws SQLException {
        String from = "FROM shapeshift.old_shape_change o JOIN shapeshift.migration m ON m.name = o.migration "
                + "WHERE o.migration = ? AND m.sync_direction = 'reverse' "
                + "AND o.last_commit > m.direction_changed_at + ?::interval";
        long keys;
        long total;
        java.sql.Timestamp last;
        try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FILTER (WHERE o.last_commit > now() - ?::interval), "
                + "max(o.last_commit) FILTER (WHERE o.last_commit > now() - ?::interval), count(*) " + from)) {
            ps.setString(1, millis(window));
            ps.setString(2, millis(window));
            ps.setString(3, migration);
            ps.setString(4, millis(flagPropagation));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                keys = rs.getLong(1);
                last = rs.getTimestamp(2);
                total = rs.getLong(3);
            }
        }
        List<String> sample = new ArrayList<>();
        if (keys > 0) {
            sample.addAll(Sql.list(c, "SELECT o.key::text, o.last_commit, o.times " + from
                    + " AND o.last_commit > now() - ?::interval ORDER BY o.last_commit DESC LIMIT 5",
                    rs -> rs.getString(1) + " at " + rs.getTimestamp(2).toInstant() + " (" + rs.getLong(3)
                            + " change(s))", migration, millis(flagPropagation), millis(window)));
        }
        return new Changes(keys, last == null ? null : last.toInstant(), sample, total);
    }

    /**
     * {@link #changes(Connection, String, java.time.Duration, java.time.Duration)}, and in place whether
     * the change stream can tell at all ({@link #blindInPlace}); null for a sink migration.
     */
    public static Changes changes(Connection c, String migration, MigrationSpec spec,
                                  java.time.Duration flagPropagation, java.time.Duration window) throws SQLException {
        if (spec.mode() == Mode.SINK) {
            return null;
        }
        Changes out = changes(c, migration, flagPropagation, window);
        String blind = blindInPlace(c, spec);
        return blind == null ? out : out.blind(blind);
    }

    /**
     * In place: why the change stream cannot tell old-shape writes, or null when it can. It needs the
     * whole before image of every UPDATE, which pgoutput sends only with {@code REPLICA IDENTITY FULL}
     * (set by the write switch, {@link ReplicaIdentity#setFull}); with another identity an
     * UPDATE that writes the old columns looks like one that writes the new ones.
     */
    static String blindInPlace(Connection c, MigrationSpec spec) throws SQLException {
        if (spec.mode() != Mode.IN_PLACE || WriteSwitch.oldColumnsNewCodeStopsWriting(spec).isEmpty()) {
            return null;
        }
        String table = dev.shapeshift.sql.Ident.qualified(spec.source().schema(), spec.source().table());
        String identity = ReplicaIdentity.of(c, table);
        return "FULL".equals(identity) ? null : "not checked: " + table + " has REPLICA IDENTITY " + identity
                + ", not FULL, so its UPDATEs come without the before image that tells an old-shape write from a "
                + "new-shape one (the write switch sets FULL; something set it back: ALTER TABLE " + table
                + " REPLICA IDENTITY FULL restores the check)";
    }

    private static String millis(java.time.Duration d) {
        return (d == null ? 0 : d.toMillis()) + " milliseconds";
    }

    private static java.time.Instant dbNow(Connection c) throws SQLException {
        try (java.sql.Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT now()")) {
            rs.next();
            return rs.getTimestamp(1).toInstant();
        }
    }

    private record Row(long queryid, String role, String query, long calls) {
    }

    private static Map<String, Row> matching(Connection c, MigrationSpec spec) throws SQLException {
        Set<String> oldColumns = WriteSwitch.oldColumnsNewCodeStopsWriting(spec);
        if (oldColumns.isEmpty()) {
            return Map.of();
        }
        List<AppWrites.Statement> writes = AppWrites.on(c, spec.source().table());
        if (writes == null) {
            return null; // pg_stat_statements is not installed or not readable
        }
        List<String> news = spec.target().columns().stream().map(TargetColumn::name).toList();
        // Table mode: a statement that names the old table and an old column but not the new table
        // (new column names may repeat old ones there, so the table tells the shapes apart).
        boolean table = spec.mode() == Mode.TABLE;
        java.util.regex.Pattern newTable = AppWrites.word(spec.targetTable());
        Map<String, Row> out = new HashMap<>();
        for (AppWrites.Statement w : writes) {
            boolean oldOnly = table ? !newTable.matcher(w.query().toLowerCase(java.util.Locale.ROOT)).find()
                    : news.stream().noneMatch(w::names);
            if (oldColumns.stream().anyMatch(w::names) && oldOnly) {
                Row r = new Row(w.queryid(), w.role(), w.query(), w.calls());
                out.merge(r.queryid + "/" + r.role, r, (a, b) -> new Row(a.queryid, a.role, a.query, a.calls + b.calls));
            }
        }
        return out;
    }
}
