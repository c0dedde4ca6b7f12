package dev.shapeshift.sinks;

import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.sink.PermanentSinkException;
import dev.shapeshift.sink.RetryPolicy;
import dev.shapeshift.sink.RetryableSinkException;
import dev.shapeshift.sink.Sink;
import dev.shapeshift.sink.SinkContext;
import dev.shapeshift.sink.SinkException;
import dev.shapeshift.sink.SinkKey;
import dev.shapeshift.sink.SinkColumn;
import dev.shapeshift.sink.SinkProvider;
import dev.shapeshift.spec.MigrationSpec;
import dev.shapeshift.spec.Mode;
import dev.shapeshift.spec.ResolvedSpec;
import dev.shapeshift.sink.SinkRow;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Calls one migration's sink with what its plugin declared: batches of at most
 * {@link SinkProvider#maxBatchRows}, paced to {@link SinkProvider#maxRowsPerSecond}, retryable
 * failures retried per {@link SinkProvider#retryPolicy}, permanent failures narrowed down to the
 * rows at fault (bisecting when the sink cannot tell which).
 *
 * <p>After the policy's attempts it throws {@link ErrorCode#SINK_UNAVAILABLE} with the last error:
 * the caller holds its position (commits nothing past the rows) and reports the sink degraded;
 * the next call retries from the first attempt. A sink that cannot even be opened counts the same.
 */
public final class SinkApplier implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SinkApplier.class);

    /** What happened, for metrics. Implementations must be cheap and never throw. */
    public interface Listener {
        default void failedAttempt(String reason) {
        }

        default void applied(int rows) {
        }

        Listener NONE = new Listener() {
        };
    }

    /** The rows applied and the keys refused for good, with why. */
    public record Outcome(int applied, Map<SinkKey, String> refused) {
    }

    private final SinkProvider provider;
    private final SinkContext context;
    private final RetryPolicy policy;
    private final double maxRowsPerSecond;
    private final int maxBatchRows;
    private final Listener listener;
    private final BooleanSupplier closing;
    private Sink sink;
    private long nextSendNanos;

    public SinkApplier(SinkProvider provider, SinkContext context, Listener listener, BooleanSupplier closing) {
        this.provider = provider;
        this.context = context;
        this.policy = provider.retryPolicy(context.settings());
        this.maxRowsPerSecond = provider.maxRowsPerSecond(context.settings());
        this.maxBatchRows = provider.maxBatchRows(context.settings());
        if (maxBatchRows < 1) {
            throw new ShapeshiftException(ErrorCode.CONFIG_INVALID, "sink plugin '" + provider.name()
                    + "' declares maxBatchRows " + maxBatchRows + "; it must be positive");
        }
        this.listener = listener;
        this.closing = closing;
    }

    /** The applier of a sink-mode migration, its plugin found in {@link SinkPlugins#installed()}. */
    public static SinkApplier forMigration(ResolvedSpec resolved, Listener listener, BooleanSupplier closing) {
        MigrationSpec spec = resolved.spec();
        if (spec.mode() != Mode.SINK || spec.target().sink() == null) {
            throw new IllegalArgumentException("migration " + spec.name() + " is not in sink mode");
        }
        SinkProvider provider = SinkPlugins.installed().require(spec.target().sink().name());
        List<SinkColumn> columns = spec.target().columns().stream()
                .map(c -> new SinkColumn(c.name(), c.type() == null ? "" : c.type().strip())).toList();
        SinkContext context = new SinkContext(spec.name(), resolved.keyNames(), columns, spec.target().sink().settings());
        return new SinkApplier(provider, context, listener, closing);
    }

    public RetryPolicy policy() {
        return policy;
    }

    public String sinkName() {
        return provider.name();
    }

    /**
     * Applies the rows (at most one per key). Returns when every row was applied or refused for
     * good; throws {@link ErrorCode#SINK_UNAVAILABLE} after the retry policy's attempts, or
     * {@link ErrorCode#INTERNAL} when closing interrupts the retries.
     */
    public Outcome apply(List<SinkRow> rows) {
        Map<SinkKey, String> refused = new LinkedHashMap<>();
        int applied = 0;
        for (int from = 0; from < rows.size(); from += maxBatchRows) {
            List<SinkRow> batch = rows.subList(from, Math.min(rows.size(), from + maxBatchRows));
            applied += applyNarrowing(batch, refused);
        }
        return new Outcome(applied, refused);
    }

    /** Reads back what the sink holds for the keys, with the same retries. */
    public List<SinkRow> read(List<SinkKey> keys) {
        List<SinkRow> out = new ArrayList<>();
        for (int from = 0; from < keys.size(); from += maxBatchRows) {
            List<SinkKey> batch = keys.subList(from, Math.min(keys.size(), from + maxBatchRows));
            out.addAll(withRetries("read", () -> sink().read(batch)));
        }
        return out;
    }

    /** Whether the sink lists its keys ({@link Sink#scans()}). */
    public boolean scans() {
        return withRetries("open", () -> sink().scans());
    }

    public dev.shapeshift.sink.SinkPage scan(String cursor, int limit) {
        return withRetries("scan", () -> sink().scan(cursor, limit));
    }

    private int applyNarrowing(List<SinkRow> rows, Map<SinkKey, String> refused) {
        try {
            pace(rows.size());
            withRetries("apply", () -> {
                sink().apply(rows);
                return null;
            });
            listener.applied(rows.size());
            return rows.size();
        } catch (Permanent p) {
            List<SinkKey> named = p.cause.keys();
            if (!named.isEmpty()) {
                Set<SinkKey> bad = Set.copyOf(named);
                for (SinkKey k : named) {
                    refused.put(k, p.cause.getMessage());
                }
                List<SinkRow> rest = rows.stream().filter(r -> !bad.contains(r.key())).toList();
                // The sink may have applied some of the others; applying them again is a no-op.
                return rest.isEmpty() || rest.size() == rows.size() ? 0 : applyNarrowing(rest, refused);
            }
            if (rows.size() == 1) {
                refused.put(rows.get(0).key(), p.cause.getMessage());
                return 0;
            }
            int half = rows.size() / 2;
            return applyNarrowing(rows.subList(0, half), refused) + applyNarrowing(rows.subList(half, rows.size()), refused);
        }
    }

    /** A permanent failure, carried out of {@link #withRetries}. */
    private static final class Permanent extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final transient PermanentSinkException cause;

        Permanent(PermanentSinkException cause) {
            super(cause.getMessage(), cause, false, false);
            this.cause = cause;
        }
    }

    private interface Call<T> {
        T run() throws SinkException;
    }

    private <T> T withRetries(String what, Call<T> call) {
        String last = null;
        for (int attempt = 1; attempt <= policy.maxAttempts(); attempt++) {
            try {
                return call.run();
            } catch (RetryableSinkException e) {
                last = e.getMessage();
            } catch (PermanentSinkException e) {
                if ("apply".equals(what)) {
                    throw new Permanent(e);
                }
                last = "permanent error: " + e.getMessage();
            } catch (SinkException e) { // not reached: the two kinds above are the only ones (sealed)
                last = e.getMessage();
            } catch (RuntimeException e) {
                // A plugin bug or an unexpected client failure: drop the connection, open it again.
                last = e.toString();
                closeSink();
            }
            listener.failedAttempt(last);
            log.warn("sink call failed migration={} sink={} call={} attempt={} of={} error={}", context.migration(),
                    provider.name(), what, attempt, policy.maxAttempts(), last);
            if (attempt < policy.maxAttempts()) {
                sleep(policy.backoff(attempt));
            }
        }
        throw new ShapeshiftException(ErrorCode.SINK_UNAVAILABLE, "sink '" + provider.name() + "' failed "
                + policy.maxAttempts() + " attempts to " + what + ": " + last);
    }

    private Sink sink() throws SinkException {
        if (sink == null) {
            sink = provider.create(context);
        }
        return sink;
    }

    private void pace(int rows) {
        if (maxRowsPerSecond <= 0) {
            return;
        }
        long now = System.nanoTime();
        if (nextSendNanos > now) {
            sleep(Duration.ofNanos(nextSendNanos - now));
            now = nextSendNanos;
        }
        nextSendNanos = now + (long) (rows * 1e9 / maxRowsPerSecond);
    }

    private void sleep(Duration d) {
        long until = System.nanoTime() + d.toNanos();
        while (System.nanoTime() < until) {
            if (closing.getAsBoolean()) {
                throw new ShapeshiftException(ErrorCode.INTERNAL, "closing while the sink call waits");
            }
            try {
                Thread.sleep(Math.max(1, Math.min(50, (until - System.nanoTime()) / 1_000_000)));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ShapeshiftException(ErrorCode.INTERNAL, "interrupted while the sink call waits");
            }
        }
    }

    private void closeSink() {
        if (sink != null) {
            try {
                sink.close();
            } catch (RuntimeException e) {
                log.debug("closing sink failed migration={} error={}", context.migration(), e.toString());
            }
            sink = null;
        }
    }

    @Override
    public void close() {
        closeSink();
    }

    /** One line per refused key, for messages (keys only, never row contents). */
    public static String describe(Map<SinkKey, String> refused) {
        return refused.entrySet().stream().map(e -> "key " + e.getKey() + ": " + e.getValue())
                .collect(Collectors.joining("; "));
    }
}
