package dev.shapeshift.worker.backfill;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.ChunkStore;
import dev.shapeshift.db.Database;
import dev.shapeshift.spec.ResolvedSpec;
import dev.shapeshift.worker.CatalogSpec;
import dev.shapeshift.worker.throttle.SyncBacklog;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;

/**
 * {@link BackfillCrashIT}'s child JVM: one backfill consumer for one migration, whatever its phase,
 * until it is killed. Arguments, in order: JDBC URL, user, password, Kafka bootstrap, migration,
 * worker id, lease timeout ms, Kafka session timeout ms. (Operators start workers with
 * {@code shapeshift worker --no-sync}; this is test code and takes the password on its command line.)
 */
public final class BackfillChild {
    private BackfillChild() {
    }

    public static void main(String[] a) throws InterruptedException {
        Database db = new Database(a[0], a[1], a[2]);
        String migration = a[4];
        BackfillConfig defaults = BackfillConfig.defaults(a[5]);
        BackfillConfig config = new BackfillConfig(defaults.workerId(), Duration.ofMillis(Long.parseLong(a[6])),
                defaults.limits(), defaults.signalRefresh(), Duration.ofMillis(Long.parseLong(a[7])),
                defaults.statusInterval());
        ResolvedSpec resolved = CatalogSpec.resolve(db, migration);
        ChunkConsumer consumer = new ChunkConsumer(db, a[3], resolved, config, SyncBacklog.NONE);
        CountDownLatch stopped = new CountDownLatch(1);
        Thread worker = new Thread(() -> {
            try {
                consumer.run();
            } finally {
                stopped.countDown();
            }
        }, "backfill-" + config.workerId());
        try (ProgressReporter reporter = new ProgressReporter(new ChunkStore(new Catalog(db, "worker")), migration,
                consumer::throttleReason, config.statusInterval())) {
            worker.start();
            stopped.await();
        }
    }
}
