package dev.shapeshift.coordinator.reconcile;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.DriftStore;
import dev.shapeshift.catalog.DriftStore.Drift;
import dev.shapeshift.catalog.OwnQueries;
import dev.shapeshift.coordinator.reconcile.Differ.Comparison;
import dev.shapeshift.coordinator.reconcile.Differ.Difference;
import dev.shapeshift.db.SqlStates;
import dev.shapeshift.refresh.Key;
import dev.shapeshift.refresh.RefreshResult;
import dev.shapeshift.refresh.Refresher;
import dev.shapeshift.refresh.WorkerTransactions;
import dev.shapeshift.sink.SinkRow;
import dev.shapeshift.sinks.SinkApplier;
import dev.shapeshift.sinks.SinkRefresh;
import dev.shapeshift.spec.Mode;
import dev.shapeshift.spec.ResolvedSpec;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Repairs drift on an operator's request: pages the open drift rows, refreshes their keys with
 * the one primitive ({@link Refresher#refresh}, FOR SHARE + upsert-if-distinct, deletes for
 * extras; for a sink, versioned rows and tombstones re-applied through the sink) in worker transactions, compares them again and resolves those that now agree. Audited
 * before and after with the actor and the reason.
 */
public record Repairer(Catalog catalog, ResolvedSpec resolved, WorkerTransactions transactions, Refresher refresher,
                       SinkRefresh sinkRefresh, DriftStore drift) {
    private static final Logger log = LoggerFactory.getLogger(Repairer.class);
    private static final int PAGE = 500;

    /**
     * @param refreshed     keys refreshed
     * @param written       target rows (or in-place rows) written or deleted by the refresh
     * @param resolved      drift rows resolved after the verification
     * @param stillDifferent keys that differ even right after their refresh (a concurrent write, or a
     *                       transform that cannot produce the target value); they stay open
     */
    public record RepairReport(long refreshed, long written, long resolved, long stillDifferent) {
    }

    /** The refresh primitives and the drift rows of {@code resolved}'s migration. */
    public Repairer(Catalog catalog, ResolvedSpec resolved, WorkerTransactions transactions) {
        this(catalog, resolved, transactions, new Refresher(resolved), new SinkRefresh(resolved), new DriftStore(catalog));
    }

    /**
     * Sink mode: the keys' rows (live or tombstones) computed under the row lock with a version
     * newer than anything the sync sent before, then applied through the sink after the read
     * commits. A key the sink refuses for good stays open (its verification still differs).
     */
    private RefreshResult sinkRepair(Connection c, SinkDiffer sink, List<Key> keys) {
        List<SinkRow> rows = transactions.run(c, null, conn -> sinkRefresh.forKeys(conn, keys));
        SinkApplier.Outcome applied = sink.applier().apply(rows);
        if (!applied.refused().isEmpty()) {
            log.warn("sink refused repaired rows migration={} keys={}", resolved.spec().name(), applied.refused().size());
        }
        return new RefreshResult(rows.size(), applied.applied(), 0, keys.get(keys.size() - 1));
    }

    public RepairReport repair(String migration, String actor, String reason) {
        catalog.audit(migration, actor, "reconcile repair requested", reason);
        String echoMark = WorkerTransactions.echoMark(resolved);
        long refreshed = 0;
        long written = 0;
        long resolvedRows = 0;
        long stillDifferent = 0;
        try (Connection c = catalog.connect(); Comparer differ = Comparer.open(c, resolved)) {
            Key after = null;
            while (true) {
                List<Drift> page = drift.page(migration, after, PAGE);
                if (page.isEmpty()) {
                    break;
                }
                List<Key> keys = page.stream().map(Drift::key).toList();
                RefreshResult r = differ instanceof SinkDiffer sink ? sinkRepair(c, sink, keys)
                        : transactions.run(c, echoMark, conn -> refresher.repair(conn, keys));
                Comparison verify = differ.compare(c, keys);
                Set<Key> differing = new HashSet<>();
                for (Difference d : verify.differences()) {
                    differing.add(d.key());
                }
                List<Key> agree = new ArrayList<>(keys.stream().filter(k -> !differing.contains(k)).toList());
                resolvedRows += drift.resolve(migration, agree);
                refreshed += keys.size();
                written += r.written() + r.deleted();
                stillDifferent += differing.size();
                after = keys.get(keys.size() - 1);
            }
            // The repair's refreshes and re-checks touch the old shape: the access watch knows them as Shapeshift's.
            Set<Long> own = new HashSet<>(refresher.ownQueryIds());
            own.addAll(differ.ownQueryIds());
            own.addAll(sinkRefresh.ownQueryIds());
            new OwnQueries(migration).declare(c, own);
        } catch (SQLException e) {
            throw SqlStates.translate("repairing drift of " + migration, e);
        }
        RepairReport report = new RepairReport(refreshed, written, resolvedRows, stillDifferent);
        catalog.audit(migration, actor, "reconcile repair: refreshed " + refreshed + " keys, wrote " + written
                + ", resolved " + resolvedRows + ", still different " + stillDifferent, reason);
        log.info("reconcile repair done migration={} refreshed={} written={} resolved={} still_different={}",
                migration, refreshed, written, resolvedRows, stillDifferent);
        return report;
    }
}
