package dev.shapeshift.launcher.bench;

import static dev.shapeshift.launcher.bench.SyncBench.MIGRATION;
import static dev.shapeshift.launcher.bench.SyncBench.TARGET;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.MigrationRecord;
import dev.shapeshift.db.Database;
import dev.shapeshift.spec.ResolvedSpec;
import dev.shapeshift.worker.Worker;
import dev.shapeshift.worker.sync.SyncConfig;
import dev.shapeshift.worker.sync.SyncConsumer;
import dev.shapeshift.worker.sync.SyncMetrics;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.Statement;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The migration {@link SyncBench} measures: its specs (to a new table, in place, in place with a
 * write switch), the reverse direction's pgbench script, the target as a finished backfill leaves
 * it, and the sync consumers of a run (a product worker, or the consumer without its visibility
 * barrier).
 */
final class SyncMigration {
    private SyncMigration() {
    }

    static final String IN_PLACE_SPEC = Pgbench.inPlaceCentsSpec("bench-sync-accounts");
    /** In place with a write switch: the reverse sync's lag is measured after the forward sync's, same load. */
    static final String REVERSE_SPEC = IN_PLACE_SPEC + """
            writes:
              switch: true
              reverse:
                abalance: (abalance_cents / 100)::integer
            """;
    /** pgbench's TPC-B-like transaction writing the new column instead of the old one. */
    static final String NEW_SHAPE_SCRIPT = """
            \\set aid random(1, 100000 * :scale)
            \\set bid random(1, 1 * :scale)
            \\set tid random(1, 10 * :scale)
            \\set delta random(-5000, 5000)
            BEGIN;
            UPDATE pgbench_accounts SET abalance_cents = abalance_cents + :delta * 100 WHERE aid = :aid;
            SELECT abalance_cents FROM pgbench_accounts WHERE aid = :aid;
            UPDATE pgbench_tellers SET tbalance = tbalance + :delta WHERE tid = :tid;
            UPDATE pgbench_branches SET bbalance = bbalance + :delta WHERE bid = :bid;
            INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (:tid, :bid, :aid, :delta, CURRENT_TIMESTAMP);
            END;
            """;
    static final String SPEC = """
            name: bench-sync-accounts
            source:
              table: pgbench_accounts
            mode: table
            target:
              table: accounts_v2
              columns:
                - name: balance_cents
                  type: bigint
                  transform: abalance::bigint * 100
                - name: bid
                  type: integer
                  transform: bid
            """;

    /** Waits until the coordinator's driver moved the bench's migration to {@code phase} or past it. */
    static void awaitPhase(Catalog catalog, dev.shapeshift.phase.Phase phase) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
        while (true) {
            MigrationRecord m = catalog.get(MIGRATION);
            if (m.phase() != dev.shapeshift.phase.Phase.ROLLED_BACK && m.phase().compareTo(phase) >= 0) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("bench: migration " + MIGRATION + " not " + phase + " within 3 minutes; phase "
                        + m.phase() + ", message: " + m.message());
            }
            Thread.sleep(200);
        }
    }

    /** A random admin token for the bench's coordinator API (which nobody calls). */
    static String adminToken() {
        byte[] bytes = new byte[24];
        new SecureRandom().nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }

    /** The target as a finished backfill leaves it: the sync then updates rows, as in steady state. */
    static void backfill(Database db, boolean inPlace) throws Exception {
        try (Connection c = db.connect("bench"); Statement s = c.createStatement()) {
            if (inPlace) {
                s.execute("UPDATE pgbench_accounts SET abalance_cents = abalance::bigint * 100 "
                        + "WHERE abalance_cents IS DISTINCT FROM abalance::bigint * 100");
                s.execute("VACUUM ANALYZE pgbench_accounts");
            } else {
                s.execute("INSERT INTO " + TARGET + " (aid, balance_cents, bid) SELECT aid, abalance::bigint * 100, bid "
                        + "FROM pgbench_accounts ON CONFLICT (aid) DO UPDATE SET balance_cents = EXCLUDED.balance_cents, "
                        + "bid = EXCLUDED.bid WHERE (" + TARGET + ".balance_cents, " + TARGET + ".bid) IS DISTINCT FROM "
                        + "(EXCLUDED.balance_cents, EXCLUDED.bid)");
                s.execute("VACUUM ANALYZE " + TARGET);
            }
            s.execute("CHECKPOINT");
        }
    }

    static AutoCloseable worker(Database db, String bootstrap, PrometheusMeterRegistry registry) {
        Worker worker = new Worker(db, bootstrap,
                Worker.Config.of("bench-sync-worker", List.of(MIGRATION))
                        .withBackfill(false), registry);
        worker.start();
        return worker;
    }

    /** The sync as it was before issue 12: the same consumer with its visibility barrier removed. */
    static AutoCloseable unguardedSync(Database db, String bootstrap, ResolvedSpec resolved,
                                               PrometheusMeterRegistry registry) {
        SyncConsumer consumer = new SyncConsumer(SyncConfig.defaults(bootstrap, "bench-sync-unguarded")
                .withoutVisibilityBarrier(), db, new Catalog(db, "bench"), resolved, new SyncMetrics(registry, MIGRATION, "bench"));
        Thread t = new Thread(consumer, "bench-sync-unguarded");
        t.setDaemon(true);
        t.start();
        return consumer;
    }
}
