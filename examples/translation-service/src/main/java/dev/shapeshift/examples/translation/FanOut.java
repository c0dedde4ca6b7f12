package dev.shapeshift.examples.translation;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The background job: picks up every source-locale entry some target locale does not hold at its
 * version yet, translates it and writes the result back through {@link EntryStore#apply} at the
 * source entry's version (a tombstone becomes tombstones). A translation written while a newer
 * source version arrives is simply stale: the next pass sees the newer version and writes again;
 * a translation that lost to a newer one is dropped (the store answers stale). Every pass is
 * idempotent, so a killed service resumes where its storage says it stands.
 */
final class FanOut implements Runnable {

    private static final Logger log = LoggerFactory.getLogger(FanOut.class);

    private final EntryStore store;
    private final Translator translator;
    private final String sourceLocale;
    private final List<String> targetLocales;
    private final int batch;
    private final long nanosPerEntry;
    private final AtomicLong written = new AtomicLong();

    FanOut(EntryStore store, Translator translator, String sourceLocale, List<String> targetLocales, int batch,
           double perSecond) {
        this.nanosPerEntry = perSecond <= 0 ? 0 : (long) (1e9 / perSecond);
        this.store = store;
        this.translator = translator;
        this.sourceLocale = sourceLocale;
        this.targetLocales = List.copyOf(targetLocales);
        this.batch = batch;
    }

    /** One pass: batches until nothing is pending. Never throws (a scheduled task that throws stops). */
    @Override
    public void run() {
        try {
            List<Entry> pending;
            do {
                pending = store.pendingFanOut(sourceLocale, targetLocales, batch);
                if (nanosPerEntry == 0) {
                    fanOutAll(pending); // unpaced: the batch's translations in one transaction
                }
                for (Entry source : nanosPerEntry == 0 ? List.<Entry>of() : pending) {
                    long started = System.nanoTime();
                    fanOut(source);
                    long rest = nanosPerEntry - (System.nanoTime() - started);
                    if (rest > 0) {
                        Thread.sleep(rest / 1_000_000, (int) (rest % 1_000_000));
                    }
                }
            } while (pending.size() == batch && !Thread.currentThread().isInterrupted());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ServiceError e) {
            log.warn("fan-out pass stopped code={} message={}; next pass retries", e.code(), e.getMessage());
        } catch (RuntimeException e) {
            log.error("fan-out pass failed; next pass retries", e);
        }
    }

    private void fanOutAll(List<Entry> sources) {
        List<EntryStore.Write> writes = new java.util.ArrayList<>();
        for (Entry source : sources) {
            for (String locale : targetLocales) {
                writes.add(new EntryStore.Write(source.key(), locale, source.deleted() ? null
                        : translator.translate(source.text(), sourceLocale, locale), source.version()));
            }
        }
        written.addAndGet(store.applyEach(writes, "fan-out"));
    }

    private void fanOut(Entry source) {
        for (String locale : targetLocales) {
            String text = source.deleted() ? null : translator.translate(source.text(), sourceLocale, locale);
            try {
                if (store.apply(source.key(), locale, text, source.version(), "fan-out") == EntryStore.Outcome.APPLIED) {
                    written.incrementAndGet();
                }
            } catch (ServiceError e) {
                if (e.code() != ServiceError.Code.STALE_VERSION) {
                    throw e;
                }
                // A newer version of this locale is held already: nothing to write.
            }
        }
    }

    /** Entries this job wrote since the service started. */
    long written() {
        return written.get();
    }
}
