package dev.shapeshift.coordinator.gate;

import dev.shapeshift.catalog.MigrationRecord;
import dev.shapeshift.db.Sql;
import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.phase.Phase;
import dev.shapeshift.phase.PhasePlan;
import dev.shapeshift.refresh.RefreshSql;
import dev.shapeshift.refresh.Guards;
import dev.shapeshift.refresh.SyncDirection;
import dev.shapeshift.spec.MigrationSpec;
import dev.shapeshift.spec.ResolvedSpec;
import dev.shapeshift.spec.SpecJson;
import dev.shapeshift.spec.SpecValidator;
import dev.shapeshift.spec.TargetColumn;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Reads {@link WriteEvidence} for a migration with a write switch. */
final class WriteEvidenceReader {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(WriteEvidenceReader.class);
    /** Keys named when the round trip fails. */
    static final int ROUND_TRIP_KEYS = 10;
    private static final int MISMATCH_SAMPLE = 5;
    /** How old a round-trip result may be when a gate is only looked at (status, the driver's wait message). */
    static final java.time.Duration ROUND_TRIP_REUSE = java.time.Duration.ofMinutes(1);
    private static final java.util.Map<String, Cached> LAST_ROUND_TRIP = new java.util.concurrent.ConcurrentHashMap<>();

    private record Cached(WriteEvidence.RoundTrip result, long atNanos) {
    }

    private WriteEvidenceReader() {
    }

    /** @param roundTrip whether to evaluate the round trip on live rows (the write switch's gate only: it scans) */
    static WriteEvidence read(Connection c, MigrationRecord m, StoredSpec spec, boolean roundTrip, boolean fresh)
            throws SQLException {
        PhasePlan plan = spec.plan();
        SyncDirection direction = SyncDirection.read(c, m.name());
        Instant since = null;
        try (PreparedStatement ps = c.prepareStatement("SELECT max(at) FROM shapeshift.audit WHERE migration = ? "
                + "AND action = 'transition' AND to_phase = ?")) {
            ps.setString(1, m.name());
            ps.setString(2, Phase.DUAL_WRITES.label());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                Timestamp t = rs.getTimestamp(1);
                since = t == null ? null : t.toInstant();
            }
        }
        long recent;
        long total;
        try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FILTER (WHERE last_seen > now() - ?::interval), "
                + "count(*) FROM shapeshift.write_mismatch WHERE migration = ? AND kind = 'dual-write-mismatch'")) {
            ps.setString(1, spec.writes().cleanFor().toMillis() + " milliseconds");
            ps.setString(2, m.name());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                recent = rs.getLong(1);
                total = rs.getLong(2);
            }
        }
        List<String> sample = new ArrayList<>();
        sample.addAll(Sql.list(c, "SELECT key::text FROM shapeshift.write_mismatch WHERE migration = ? "
                + "ORDER BY last_seen DESC LIMIT " + MISMATCH_SAMPLE, rs -> rs.getString(1), m.name()));
        WriteEvidence.RoundTrip rt = roundTrip && spec.writes().reversible() ? roundTrip(c, m, spec, fresh) : null;
        boolean after = plan.writesNew(m.phase());
        java.time.Duration quiet = spec.contract() == null ? null : spec.contract().quietPeriod();
        List<dev.shapeshift.coordinator.writes.OldShapeWrites.Statement> oldWrites = after
                ? dev.shapeshift.coordinator.writes.OldShapeWrites.since(c, m.name(), SpecJson.read(m.specJson()), quiet)
                : null;
        // Both modes mark old-shape writes in the change stream (docs/phases.md); in place only with the
        // before images of REPLICA IDENTITY FULL, which the check says when they are missing.
        dev.shapeshift.coordinator.writes.OldShapeWrites.Changes oldChanges = after
                ? dev.shapeshift.coordinator.writes.OldShapeWrites.changes(c, m.name(), SpecJson.read(m.specJson()),
                        spec.writes().flagPropagation(), quiet) : null;
        MigrationSpec stored = SpecJson.read(m.specJson());
        List<String> behind = after && stored.mode() == dev.shapeshift.spec.Mode.TABLE
                ? dev.shapeshift.coordinator.writes.KeySequences.behind(c, stored) : null;
        return new WriteEvidence(plan, spec.writes().reversible(), direction, since, spec.writes().cleanFor(), recent,
                total, sample, rt, spec.writes().statementEvidence() ? statements(c, m) : null, oldWrites, oldChanges,
                behind);
    }

    /** Round trips running in this process now, by migration: how far each is (status shows it instead of starting another). */
    private static final java.util.Map<String, WriteEvidence.RoundTrip> RUNNING = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * The round trip, reusing this process's last result for the migration when not {@code fresh} and
     * young enough; when not {@code fresh} and one is running in this process, how far it is.
     */
    static WriteEvidence.RoundTrip roundTrip(Connection c, MigrationRecord m, StoredSpec stored, boolean fresh)
            throws SQLException {
        String id = c.getMetaData().getURL() + "#" + m.name() + "#" + m.phaseChangedAt();
        Cached last = LAST_ROUND_TRIP.get(id);
        long now = System.nanoTime();
        if (!fresh && last != null && now - last.atNanos() < ROUND_TRIP_REUSE.toNanos()) {
            long ago = (now - last.atNanos()) / 1_000_000_000L;
            WriteEvidence.RoundTrip r = last.result();
            return new WriteEvidence.RoundTrip(r.rows() + " (checked " + ago + "s ago; the move checks again)",
                    r.failures(), r.error());
        }
        WriteEvidence.RoundTrip running = RUNNING.get(id);
        if (!fresh && running != null) {
            return running;
        }
        WriteEvidence.RoundTrip r = roundTrip(c, m, stored, p -> RUNNING.put(id, p));
        RUNNING.remove(id);
        LAST_ROUND_TRIP.put(id, new Cached(r, System.nanoTime()));
        return r;
    }

    /** transform(reverse(new, old)) = new on the live rows (all, or spec writes.roundTripSample), by the database. */
    static WriteEvidence.RoundTrip roundTrip(Connection c, MigrationRecord m, StoredSpec stored) throws SQLException {
        return roundTrip(c, m, stored, p -> { });
    }

    /**
     * The round trip in chunks of {@code reconcile.rangeRows} rows by key range, each chunk its own
     * statement ({@link RefreshSql#roundTripChunk}), reporting progress after each chunk; stops at
     * the first {@link #ROUND_TRIP_KEYS} offending keys.
     */
    static WriteEvidence.RoundTrip roundTrip(Connection c, MigrationRecord m, StoredSpec stored,
                                             java.util.function.Consumer<WriteEvidence.RoundTrip> progress)
            throws SQLException {
        MigrationSpec spec = SpecJson.read(m.specJson());
        Integer sample = spec.writes().roundTripSample();
        String scope = sample == null ? "all rows" : "the first " + sample + " rows in key order";
        int chunkRows = Math.max(1, spec.reconcile().rangeRows());
        // Resolved before the savepoint: the live checks run in a transaction of their own and roll it
        // back, which would take a savepoint set before them along (3B001 on the rollback to it).
        ResolvedSpec resolved;
        try {
            resolved = SpecValidator.resolveExpanded(m.name(), spec, c);
        } catch (ShapeshiftException e) {
            return new WriteEvidence.RoundTrip(scope, List.of(), e.getMessage());
        }
        Savepoint sp = c.getAutoCommit() ? null : c.setSavepoint();
        long checked = 0;
        int chunks = 0;
        List<String> failures = new ArrayList<>();
        try {
            List<String> columns = new ArrayList<>();
            columns.addAll(Sql.list(c, "SELECT attname FROM pg_attribute WHERE attrelid = "
                    + "to_regclass(?) AND attnum > 0 AND NOT attisdropped ORDER BY attnum", rs -> rs.getString(1),
                    dev.shapeshift.sql.Ident.qualified(spec.source().schema(), spec.source().table())));
            RefreshSql sql = new RefreshSql(resolved, Guards.SYNC);
            String first = sql.roundTripChunk(columns, false);
            String next = sql.roundTripChunk(columns, true);
            String[] after = null;
            boolean stopped = false;
            while (true) {
                int limit = sample == null ? chunkRows : (int) Math.min(chunkRows, sample - checked);
                if (limit <= 0) {
                    break;
                }
                long rows;
                try (PreparedStatement ps = c.prepareStatement(after == null ? first : next)) {
                    int p = 1;
                    if (after != null) {
                        for (String v : after) {
                            ps.setString(p++, v);
                        }
                    }
                    ps.setInt(p++, limit);
                    ps.setInt(p, ROUND_TRIP_KEYS - failures.size());
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        rows = rs.getLong(1);
                        Array lastKey = rs.getArray(2);
                        after = lastKey == null ? null : (String[]) lastKey.getArray();
                        failures.addAll(Arrays.asList((String[]) rs.getArray(3).getArray()));
                    }
                }
                if (rows == 0) {
                    break;
                }
                checked += rows;
                chunks++;
                if (failures.size() >= ROUND_TRIP_KEYS) {
                    stopped = true;
                    break;
                }
                progress.accept(new WriteEvidence.RoundTrip(scope + ": " + checked + " rows in " + chunks + " chunk(s) of "
                        + chunkRows + " so far", failures, null, true));
                log.info("round trip progress migration={} rows={} chunks={} offending={}", m.name(), checked, chunks,
                        failures.size());
                if (rows < limit) {
                    break;
                }
            }
            return new WriteEvidence.RoundTrip(scope + " (" + checked + " rows in " + chunks + " chunk(s) of " + chunkRows
                    + (stopped ? "; stopped at the first " + ROUND_TRIP_KEYS + " offending keys" : "") + ")",
                    failures, null);
        } catch (SQLException | ShapeshiftException e) {
            if (sp != null) {
                c.rollback(sp);
            }
            if (e instanceof SQLException s && s.getSQLState() != null && s.getSQLState().startsWith("08")) {
                throw s;
            }
            return new WriteEvidence.RoundTrip(scope, List.of(), e.getMessage());
        }
    }

    /**
     * The application's INSERT and UPDATE statements on the table that name a new column, from
     * pg_stat_statements (statements of the role Shapeshift itself connects as are not the
     * application's and are left out).
     */
    static WriteEvidence.Statements statements(Connection c, MigrationRecord m) throws SQLException {
        MigrationSpec spec = SpecJson.read(m.specJson());
        boolean installed;
        try (PreparedStatement ps = c.prepareStatement("SELECT to_regclass('pg_stat_statements') IS NOT NULL "
                + "OR EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements')")) {
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                installed = rs.getBoolean(1);
            }
        }
        if (!installed) {
            return new WriteEvidence.Statements(false, List.of(), "pg_stat_statements is not installed in this database "
                    + "(CREATE EXTENSION pg_stat_statements, with shared_preload_libraries); or set "
                    + "writes.statementEvidence: false to leave dual-writes on the mismatch evidence alone");
        }
        // In table mode the application writes the new shape into the target table.
        String table = spec.targetTable();
        List<dev.shapeshift.coordinator.writes.AppWrites.Statement> writes =
                dev.shapeshift.coordinator.writes.AppWrites.on(c, table);
        if (writes == null) {
            return new WriteEvidence.Statements(false, List.of(), "pg_stat_statements could not be read (no privilege: "
                    + "grant pg_read_all_stats to Shapeshift's role)");
        }
        List<String> newColumns = spec.target().columns().stream().map(TargetColumn::name).toList();
        List<String> out = new ArrayList<>();
        for (var w : writes) {
            if (newColumns.stream().anyMatch(w::names)) {
                out.add(w.query() + " (" + w.calls() + " calls)");
            }
        }
        return new WriteEvidence.Statements(true, out, out.isEmpty() ? "no INSERT or UPDATE on " + table
                + " naming a new column (" + String.join(", ", spec.target().columns().stream().map(TargetColumn::name).toList())
                + ") by a role other than Shapeshift's" : out.size() + " statement(s)");
    }
}
