package dev.shapeshift.coordinator.status;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.ChunkStore.Totals;
import dev.shapeshift.catalog.ChunkStore;
import dev.shapeshift.catalog.FlagStore;
import dev.shapeshift.catalog.Knob;
import dev.shapeshift.catalog.MigrationRecord;
import dev.shapeshift.coordinator.gate.Evidence;
import dev.shapeshift.coordinator.gate.EvidenceReader;
import dev.shapeshift.coordinator.gate.GateReport;
import dev.shapeshift.coordinator.gate.Gates;
import dev.shapeshift.coordinator.gate.StoredSpec;
import dev.shapeshift.coordinator.gate.SyncLag;
import dev.shapeshift.coordinator.gate.WriteEvidence;
import dev.shapeshift.coordinator.writes.WriteSwitch;
import dev.shapeshift.db.Sql;
import dev.shapeshift.db.SqlStates;
import dev.shapeshift.phase.Phase;
import dev.shapeshift.phase.PhasePlan;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Builds {@link MigrationStatus} from the catalog. Never blocks on the lag probe (sync lag is known
 * when the slot is caught up, else reported in bytes). The backfill rate is measured between this
 * reader's successive reads of the same migration (else averaged since the first chunk started).
 */
public final class StatusReader {
    public static final String PAUSED = Knob.PAUSED.key();
    public static final String MAX_ROWS_PER_SECOND = Knob.MAX_ROWS_PER_SECOND.key();
    private static final List<String> DRIFT_KINDS = List.of("missing", "extra", "different");

    private record Sample(long rows, Instant at) {
    }

    private final Catalog catalog;
    private final ChunkStore chunks;
    private final FlagStore flags;
    private final EvidenceReader evidence;
    private final Gates gates;
    private final Map<String, Sample> previous = new ConcurrentHashMap<>();

    public StatusReader(Catalog catalog, Gates gates) {
        this.catalog = catalog;
        this.chunks = new ChunkStore(catalog);
        this.flags = new FlagStore(catalog);
        this.evidence = new EvidenceReader(catalog);
        this.gates = gates;
    }

    public List<MigrationStatus> all() {
        return catalog.list().stream().map(this::read).toList();
    }

    public MigrationStatus read(String name) {
        return read(catalog.get(name));
    }

    public MigrationStatus read(MigrationRecord m) {
        StoredSpec spec = StoredSpec.of(m);
        Evidence e = evidence.read(m, spec, Duration.ZERO);
        List<Phase> next = m.phase().next().stream().sorted().toList();
        List<GateReport> reports = next.stream().filter(p -> p != Phase.ROLLED_BACK)
                .map(p -> gates.evaluate(e, p)).toList();
        try (Connection c = catalog.connect()) {
            return new MigrationStatus(m.name(), m.phase(), m.message(), m.phaseChangedAt(), m.updatedAt(), e.now(),
                    next, reports, progress(m.name(), e.now()), sync(e, m), drift(c, m.name()),
                    e.lastFullRun(), settings(c, m.name()), flags.find(spec.flag()).orElse(null),
                    timeline(c, m.name()), dev.shapeshift.catalog.FindingStore.list(c, m.name()),
                    spec.plan().order(), writes(c, m, spec, e.writes()));
        } catch (SQLException ex) {
            throw SqlStates.translate("reading status of " + m.name(), ex);
        }
    }

    /** The write switch's state, from the evidence the gates read and the catalog; null without a write switch. */
    private MigrationStatus.Writes writes(Connection c, MigrationRecord m, StoredSpec spec, WriteEvidence w)
            throws SQLException {
        if (w == null || !spec.plan().switchesWrites()) {
            return null;
        }
        PhasePlan plan = spec.plan();
        Phase p = m.phase();
        WriteSwitch.State st = WriteSwitch.state(c, m.name());
        return new MigrationStatus.Writes(st.direction().label(), spec.writeFlag(),
                flags.find(spec.writeFlag()).orElse(null), plan.readsNew(p), plan.dualWrites(p), plan.writesNew(p),
                w.totalMismatches(), w.recentMismatches(), w.mismatchSample(), st.relaxed(), w.reversible(),
                rollback(m.phase(), plan, w.reversible()), oldShapeWrites(w, spec));
    }

    private static MigrationStatus.OldShapeWrites oldShapeWrites(WriteEvidence w, StoredSpec spec) {
        if (w.oldShapeChanges() == null && w.oldShapeWrites() == null) {
            return null;
        }
        var changes = w.oldShapeChanges() == null ? dev.shapeshift.coordinator.writes.OldShapeWrites.Changes.NONE
                : w.oldShapeChanges();
        var check = dev.shapeshift.coordinator.writes.OldShapeWrites.check(w.oldShapeWrites(), w.oldShapeChanges(),
                spec.contract().quietPeriod());
        return new MigrationStatus.OldShapeWrites(changes.keys(), changes.total(),
                changes.last() == null ? null : changes.last().toString(), changes.sample(),
                w.oldShapeWrites() == null ? List.of() : w.oldShapeWrites().stream().map(Object::toString).toList(),
                check.passed(), check.evidence());
    }

    /** What a rollback does from {@code p}, in words (docs/phases.md). */
    static String rollback(Phase p, PhasePlan plan, boolean reversible) {
        if (p.terminal()) {
            return "no rollback: the migration is " + p.label();
        }
        boolean switched = plan.writesNew(p);
        if (!reversible) {
            return switched ? MigrationStatus.NO_REVERSE + " (writes are switched: the old shape is stale)"
                    : MigrationStatus.NO_REVERSE + " (possible until then)";
        }
        return switched ? "rollback: the write flag goes off, the reverse sync drains, then the old shape is authoritative again"
                : "rollback: flags off; the old shape is authoritative";
    }

    private MigrationStatus.Progress progress(String name, Instant now) {
        Totals t = chunks.totals(name);
        Sample before = previous.put(name, new Sample(t.rowsCopied(), now));
        double rate = 0;
        if (before != null && now.isAfter(before.at()) && t.rowsCopied() > before.rows()) {
            rate = (t.rowsCopied() - before.rows()) * 1000.0 / Duration.between(before.at(), now).toMillis();
        } else if (before == null && t.firstStart() != null && now.isAfter(t.firstStart()) && t.done() < t.chunks()) {
            rate = t.rowsCopied() * 1000.0 / Duration.between(t.firstStart(), now).toMillis();
        }
        Long eta;
        if (t.chunks() > 0 && t.done() == t.chunks()) {
            eta = 0L;
        } else if (rate > 0) {
            eta = (long) Math.ceil(Math.max(0, t.estimatedRows() - t.rowsCopied()) / rate);
        } else {
            eta = null;
        }
        return new MigrationStatus.Progress(t.chunks(), t.done(), t.running(), t.failed(), t.rowsCopied(),
                t.estimatedRows(), rate, eta, t.running() == 0 ? List.of() : chunks.throttled(name));
    }

    private static MigrationStatus.Sync sync(Evidence e, MigrationRecord m) {
        SyncLag lag = e.lag();
        if (m.phase().terminal()) {
            // Nothing syncs any more: a lag growing since the end, or a slot the clean-up dropped, is no news.
            return new MigrationStatus.Sync(m.slotName(), m.startLsn(), null, null, null,
                    "sync ended: the migration is " + m.phase().label() + " (the streams below as they last reported)",
                    e.streams());
        }
        return new MigrationStatus.Sync(m.slotName(), m.startLsn(), lag.bytes(), seconds(lag.lag()),
                seconds(lag.heartbeatAge()), lag.detail(), e.streams());
    }

    private static Double seconds(Duration d) {
        return d == null ? null : d.toMillis() / 1000.0;
    }

    private static MigrationStatus.Drift drift(Connection c, String name) throws SQLException {
        Map<String, Long> open = new LinkedHashMap<>();
        DRIFT_KINDS.forEach(k -> open.put(k, 0L));
        long[] counts = new long[2];
        Sql.each(c, "SELECT kind, count(*) FILTER (WHERE resolved_at IS NULL), count(*) FILTER (WHERE resolved_at "
                + "IS NOT NULL) FROM shapeshift.drift WHERE migration = ? GROUP BY kind", rs -> {
                    open.put(rs.getString(1), rs.getLong(2));
                    counts[0] += rs.getLong(2);
                    counts[1] += rs.getLong(3);
                }, name);
        long total = counts[0];
        long resolved = counts[1];
        return new MigrationStatus.Drift(open, total, resolved);
    }

    private static MigrationStatus.Settings settings(Connection c, String name) throws SQLException {
        Map<String, String> set = Catalog.settings(c, name);
        return new MigrationStatus.Settings(Boolean.parseBoolean(set.get(PAUSED)), whole(set, Knob.MAX_ROWS_PER_SECOND),
                whole(set, Knob.MAX_ACTIVE_BACKENDS), whole(set, Knob.MAX_APP_LATENCY_MS),
                whole(set, Knob.MAX_APP_LATENCY_PCT), whole(set, Knob.APP_LATENCY_BASELINE_US));
    }

    private static Long whole(Map<String, String> settings, Knob knob) {
        long v = knob.whole(settings, -1);
        return v < 0 ? null : v;
    }

    private static List<MigrationStatus.PhaseChange> timeline(Connection c, String name) throws SQLException {
        List<MigrationStatus.PhaseChange> out = new ArrayList<>();
        out.addAll(Sql.list(c, "SELECT from_phase, to_phase, at, actor, reason FROM shapeshift.audit "
                + "WHERE migration = ? AND to_phase IS NOT NULL ORDER BY id",
                rs -> new MigrationStatus.PhaseChange(rs.getString(1) == null ? null : Phase.fromLabel(rs.getString(1)),
                        Phase.fromLabel(rs.getString(2)), rs.getTimestamp(3).toInstant(), rs.getString(4),
                        rs.getString(5)), name));
        return out;
    }
}
