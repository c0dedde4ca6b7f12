package dev.shapeshift.coordinator.contract;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.MigrationRecord;
import dev.shapeshift.coordinator.contract.AccessReport.Statement;
import dev.shapeshift.coordinator.contract.AccessReport.TableCounters;
import dev.shapeshift.db.Database;
import dev.shapeshift.db.Sql;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches who still touches a migration's old shape, from the database itself.
 *
 * <p>Signals: {@code pg_stat_statements} statements of this database whose normalized text touches
 * the old columns (in-place) or the old table (table mode), see {@link ShapeMatcher}; and, in table
 * mode, the old table's write counters in {@code pg_stat_user_tables}. {@code pg_stat_statements}
 * keeps calls but no last-seen time, so every look stores (statement, calls) in
 * {@code shapeshift.contract_statement}; a statement whose calls grew since the previous look was
 * seen at this look. The first look is the baseline: what ran before it does not count.
 *
 * <p>Shapeshift's own statements are excluded by identity, its role first: only a role that may
 * write Shapeshift's catalog ({@link Readers#shapeshiftRoles}) can be Shapeshift's. {@code
 * pg_stat_statements} knows the role ({@code userid}), not the session, so every look also samples
 * {@code pg_stat_activity}: which roles and query ids run in Shapeshift sessions (one of its roles,
 * named {@code shapeshift-*} or as the bridge's Debezium engine names its connections) and which in
 * others. A statement is Shapeshift's when its role is one of Shapeshift's and was only ever seen
 * in Shapeshift sessions; when that role is shared with the application, only when its query id
 * was sampled in Shapeshift sessions or declared by the reconciler or a worker ({@link dev.shapeshift.catalog.OwnQueries}) and
 * never sampled in others. The same sample records the readers of
 * the old shape by identity ({@link Readers}). Everything else counts against the quiet period (the
 * safe side: a false alarm delays the contract, a missed reader loses data). Comments are no way
 * out: {@code pg_stat_statements} ignores them when it identifies a statement and keeps the text of
 * whoever ran it first.
 *
 * <p>Why one class of ~300 lines: one look is one transaction whose every signal (statements,
 * sessions, table counters, the read counter, dependents) moves the same quiet-since and fills the
 * same report, so its steps are read in order in {@code look}; each catalog table's SQL lives in its
 * store ({@link WatchStore}, {@link Sightings}, {@link Readers}, {@link ReadCounter}, {@link ReplicaWatch}).
 */
public final class AccessWatch {
    private static final Logger log = LoggerFactory.getLogger(AccessWatch.class);
    static final String ROLE = "coordinator";

    private final Database db;
    private final Catalog catalog;

    public AccessWatch(Database db) {
        this.db = db;
        this.catalog = new Catalog(db, ROLE);
    }

    /**
     * Looks once: updates the stored snapshot (the first look is the baseline) and reports, with
     * the code search of the spec's {@code contract.codeSearch} directories.
     */
    public AccessReport evaluate(String migration) {
        return evaluate(migration, List.of());
    }

    /** The contract gate's {@code other-migrations} check: no other live migration reads what this one drops. */
    public dev.shapeshift.coordinator.gate.Check otherReaders(String migration) {
        return OtherReaders.check(OldShape.of(catalog.get(migration)), catalog.list());
    }

    /**
     * Every check the contract needs, for people ({@code shapeshift evidence}, the API, the demo):
     * the report's checks, the brownout, and the {@code contracted} gate's {@code other-migrations}.
     */
    public List<dev.shapeshift.coordinator.gate.Check> checks(AccessReport r) {
        List<dev.shapeshift.coordinator.gate.Check> out = new ArrayList<>(AccessGate.evidence(r));
        out.add(otherReaders(r.migration()));
        return out;
    }

    /** Looks once, searching {@code moreCode} besides the spec's {@code contract.codeSearch} directories. */
    public AccessReport evaluate(String migration, List<String> moreCode) {
        MigrationRecord m = catalog.get(migration);
        OldShape shape = OldShape.of(m);
        AccessReport report = Tx.run(db, ROLE, "watching access to the old shape of " + migration, c -> look(c, shape));
        if (report.problem() == null && !report.nothingWatched()) {
            report = replicas(shape, report);
        }
        if (shape.brownout() != null && shape.dropsSomething()) {
            BrownoutReport latest = Tx.run(db, ROLE, "reading the brownout of " + migration, c -> Brownout.latest(c, migration));
            boolean earlier = latest != null && latest.status() != Brownout.Status.RUNNING
                    && m.phase() == dev.shapeshift.phase.Phase.CONTRACT_READY && m.phaseChangedAt() != null
                    && latest.startedAt().isBefore(m.phaseChangedAt());
            report = report.withBrownout(shape.brownout(), earlier ? null : latest);
        }
        List<String> roots = new ArrayList<>(shape.codeSearch());
        roots.addAll(moreCode);
        if (roots.isEmpty() || !shape.dropsSomething()) {
            return report;
        }
        List<CodeEvidence.Ack> acks = Tx.run(db, ROLE, "reading code acknowledgements of " + migration,
                c -> CodeEvidence.acks(c, migration));
        return report.withCode(CodeEvidence.search(shape, roots, acks));
    }

    /**
     * Looks at every configured read replica ({@code shapeshift.replica}); the readers found there
     * are recorded with the primary's ({@link Readers}) and the report is read again to include them.
     */
    private AccessReport replicas(OldShape shape, AccessReport report) {
        List<ReplicaWatch.Replica> configured = Tx.run(db, ROLE, "reading the configured replicas", ReplicaWatch::configured);
        if (configured.isEmpty()) {
            return report;
        }
        ShapeMatcher matcher = ShapeMatcher.of(shape);
        List<AccessReport.ReplicaEvidence> found = new ArrayList<>();
        for (ReplicaWatch.Replica r : configured) {
            found.add(ReplicaWatch.look(db, r, shape, matcher));
        }
        List<AccessReport.Reader> readers = Tx.run(db, ROLE, "reading the readers of " + shape.migration(),
                c -> Readers.read(c, shape.migration()));
        return new AccessReport(report.migration(), report.watched(), report.dropsNothing(), report.baselineAt(),
                report.evaluatedAt(), report.quietSince(), report.quietPeriod(), report.offenders(), report.excluded(),
                report.table(), report.dependents(), readers, report.code(), report.exclusion(), report.notes(),
                report.problem(), found, report.brownoutWindow(), report.brownout(), report.readCounter());
    }

    /** Adds (or re-points) a read replica whose pg_stat_statements the evidence reads; the URL carries no password. */
    public void addReplica(String name, String jdbcUrl, String actor) {
        Tx.run(db, ROLE, "adding replica " + name, c -> {
            ReplicaWatch.add(c, name, jdbcUrl, actor);
            Catalog.audit(c, null, actor, "replica added", null, null, name + " at " + dev.shapeshift.db.Database.redact(jdbcUrl));
            return null;
        });
    }

    /** Removes a read replica; false when there was none of that name. */
    public boolean removeReplica(String name, String actor) {
        return Tx.run(db, ROLE, "removing replica " + name, c -> {
            boolean removed = ReplicaWatch.remove(c, name);
            if (removed) {
                Catalog.audit(c, null, actor, "replica removed", null, null, name);
            }
            return removed;
        });
    }

    /** The configured read replicas: name → JDBC URL. */
    public java.util.Map<String, String> replicas() {
        java.util.Map<String, String> out = new java.util.LinkedHashMap<>();
        Tx.run(db, ROLE, "reading the configured replicas", ReplicaWatch::configured)
                .forEach(r -> out.put(r.name(), r.jdbcUrl()));
        return out;
    }

    /** Starts the watch now if it has not started (e.g. at the read switch); same as a first look. */
    public AccessReport baseline(String migration) {
        return evaluate(migration);
    }

    private AccessReport look(Connection c, OldShape shape) throws SQLException {
        String migration = shape.migration();
        Instant now = Sql.one(c, "SELECT clock_timestamp()", rs -> rs.getTimestamp(1).toInstant());
        if (shape.dropsNothing() != null && shape.inPlace()) {
            return new AccessReport(migration, shape.describe(), shape.dropsNothing(), null, now, null,
                    shape.quietPeriod(), List.of(), List.of(), null, List.of(), List.of(), null, "not needed: nothing is watched", List.of(), null);
        }
        ShapeMatcher matcher = ShapeMatcher.of(shape);
        List<AccessReport.Dependent> dependents = Dependents.find(c, shape, matcher);
        if (!Sql.exists(c, "SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'")) {
            return new AccessReport(migration, shape.describe(), shape.dropsNothing(), null, now, null, shape.quietPeriod(), List.of(),
                    List.of(), null, dependents, List.of(), null, "none", List.of(), "pg_stat_statements is not installed in this database: "
                    + "add it to shared_preload_libraries and run CREATE EXTENSION pg_stat_statements; without "
                    + "it there is no evidence, and the contract stays closed");
        }
        long dbid = databaseOid(c);
        WatchStore.Watch w = WatchStore.read(c, migration);
        boolean first = w == null;
        List<String> notes = new ArrayList<>();
        record Info(long dealloc, Instant statsReset) {
        }
        Info info = Sql.one(c, "SELECT dealloc, stats_reset FROM pg_stat_statements_info",
                rs -> new Info(rs.getLong(1), WatchStore.instant(rs.getTimestamp(2))));
        long dealloc = info.dealloc();
        Instant statsReset = info.statsReset();
        Instant quietBase = first ? now : w.quietSince();
        if (!first && w.statsReset() != null && !w.statsReset().equals(statsReset)) {
            quietBase = now;
            log.warn("pg_stat_statements was reset, quiet period restarts migration={}", migration);
        }
        Set<Long> shapeshiftRoles = Readers.shapeshiftRoles(c);
        Sightings.record(c, migration, dbid, shapeshiftRoles);
        Instant sessionSeen = Readers.fromSessions(c, migration, dbid, matcher, shapeshiftRoles);
        Map<String, boolean[]> sightings = Sightings.read(c, migration);
        Map<String, WatchStore.Row> stored = WatchStore.statements(c, migration);
        List<WatchStore.Row> rows = new ArrayList<>(stored.values());
        Sql.each(c, "SELECT s.userid, max(r.rolname), s.queryid, sum(s.calls)::bigint, "
                + "min(s.query) FROM pg_stat_statements s LEFT JOIN pg_roles r ON r.oid = s.userid "
                + "WHERE s.dbid = ? AND s.queryid IS NOT NULL GROUP BY s.userid, s.queryid", rs -> {
                    String query = rs.getString(5);
                    Optional<String> why = matcher.match(query);
                    if (why.isEmpty()) {
                        return;
                    }
                    long userid = rs.getLong(1);
                    long queryid = rs.getLong(3);
                    long calls = rs.getLong(4);
                    WatchStore.Row prev = stored.get(userid + "/" + queryid);
                    boolean grew = !first && (prev == null ? calls > 0 : calls != prev.calls());
                    long atBaseline = prev != null ? Math.min(prev.callsAtBaseline(), calls) : first ? calls : 0;
                    WatchStore.Row now_ = new WatchStore.Row(userid, queryid, rs.getString(2), query, calls, atBaseline,
                            prev == null ? now : prev.firstSeen(), grew ? now : prev == null ? null : prev.lastSeen(), why.get());
                    WatchStore.saveStatement(c, migration, now_);
                    rows.remove(prev);
                    rows.add(now_);
                }, dbid);
        TableCounters table = shape.inPlace() ? null : WatchStore.tableCounters(c, shape, w, first, now);
        Instant quietSince = quietBase;
        List<Statement> offenders = new ArrayList<>();
        List<Statement> excluded = new ArrayList<>();
        for (WatchStore.Row r : rows) {
            if (r.why() == null) {
                r = r.withWhy(matcher.match(r.query()).orElse("touches the old shape"));
            }
            Statement s = new Statement(r.queryid(), r.role(), r.query(), r.calls(), Math.max(0, r.calls() - r.callsAtBaseline()),
                    r.lastSeen(), r.why());
            if (r.lastSeen() == null) {
                continue;
            }
            if (Sightings.ours(sightings, shapeshiftRoles, r.userid(), r.queryid())) {
                excluded.add(s);
            } else {
                Readers.fromStatement(c, migration, r.role(), r.lastSeen(), r.query());
                if (r.lastSeen().isAfter(quietSince)) {
                    quietSince = r.lastSeen();
                }
                if (!r.lastSeen().isBefore(now.minus(shape.quietPeriod()))) {
                    offenders.add(s);
                }
            }
        }
        Instant baselineAt = first ? now : w.baselineAt();
        if (sessionSeen != null && sessionSeen.isAfter(baselineAt) && sessionSeen.isAfter(quietSince)) {
            quietSince = sessionSeen;
        }
        if (table != null && table.writesSeenAt() != null && table.writesSeenAt().isAfter(quietSince)) {
            quietSince = table.writesSeenAt();
        }
        ReadCounter.Evidence counter = shape.inPlace() ? null : ReadCounter.read(c, migration, shapeshiftRoles);
        if (counter != null) {
            ReadCounter.recordReaders(c, migration, counter, shape.dropsNothing() != null);
            for (ReadCounter.Counted x : ReadCounter.gated(counter, shape.dropsNothing() != null)) {
                if (x.lastAt().isAfter(quietSince)) {
                    quietSince = x.lastAt();
                }
            }
        }
        offenders.sort(Comparator.comparing(Statement::lastSeen).reversed());
        excluded.sort(Comparator.comparing(Statement::lastSeen).reversed());
        long baselineDealloc = first ? dealloc : w.dealloc();
        if (dealloc > baselineDealloc) {
            notes.add((dealloc - baselineDealloc) + " pg_stat_statements eviction(s) since the baseline: a statement "
                    + "evicted between two looks is not seen; raise pg_stat_statements.max or look more often");
        }
        if (quietBase.equals(now) && !first) {
            notes.add("pg_stat_statements was reset since the last look: the quiet period restarted");
        }
        if (shape.inPlace()) {
            notes.add("PostgreSQL counts no per-column access: old columns are seen through statement texts, and "
                    + "views, rules and functions through their definitions (dependents); a view's or function's "
                    + "callers are not named, and SQL built at run time or in other languages is not seen");
        } else if (table != null) {
            notes.add("old-table reads (seq_scan + idx_scan = " + table.reads() + ") include Shapeshift's own sync "
                    + "reads and are shown, not gated; writes to the old table are gated");
        }
        WatchStore.upsert(c, migration, baselineAt, now, quietBase, statsReset, baselineDealloc, dealloc, table);
        String exclusion = Sightings.exclusion(c, sightings, shapeshiftRoles);
        List<AccessReport.Reader> readers = Readers.read(c, migration);
        AccessReport report = new AccessReport(migration, shape.describe(), shape.dropsNothing(), baselineAt, now, quietSince,
                shape.quietPeriod(), offenders, excluded, table, dependents, readers, null, exclusion, notes, null)
                .withReadCounter(counter);
        log.info("access watch migration={} quietFor={} offenders={} excluded={}", migration,
                report.quietFor(), offenders.size(), excluded.size());
        return report;
    }

    private static long databaseOid(Connection c) throws SQLException {
        return Sql.one(c, "SELECT oid FROM pg_database WHERE datname = current_database()", rs -> rs.getLong(1));
    }

}
