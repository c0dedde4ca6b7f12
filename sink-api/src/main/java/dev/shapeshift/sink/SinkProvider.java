package dev.shapeshift.sink;

import java.util.List;
import java.util.Map;

/**
 * The entry point of a sink plugin, found with {@link java.util.ServiceLoader}: a plugin jar lists
 * its implementation in {@code META-INF/services/dev.shapeshift.sink.SinkProvider}. A spec names
 * it by {@link #name()} in {@code target.sink.name}.
 *
 * <p>Implementations need a public no-argument constructor and must be cheap to construct:
 * validation constructs them to list the plugins found.
 */
public interface SinkProvider {

    /** The name a spec uses: {@code [a-z0-9][a-z0-9-]*}, unique among the plugins loaded. */
    String name();

    /** One line saying what the sink writes to, shown when plugins are listed. */
    default String description() {
        return name();
    }

    /**
     * Checks {@code target.sink.settings} without connecting anywhere: unknown settings, missing
     * required ones, values of the wrong form. An empty list means they are valid.
     */
    List<SettingProblem> validate(Map<String, String> settings);

    /**
     * Opens a sink for one migration. Called only with settings {@link #validate} accepted. May
     * connect; a system that is down may throw {@link RetryableSinkException} (opening is retried
     * like an apply).
     */
    Sink create(SinkContext context) throws SinkException;

    /** How long and how often a failing call is retried before the sink counts as degraded. */
    default RetryPolicy retryPolicy(Map<String, String> settings) {
        return RetryPolicy.DEFAULT;
    }

    /** The most rows per second the system accepts from one worker; 0 for no limit. */
    default double maxRowsPerSecond(Map<String, String> settings) {
        return 0;
    }

    /** The most rows in one {@link Sink#apply} or {@link Sink#read} call. Positive. */
    default int maxBatchRows(Map<String, String> settings) {
        return 500;
    }
}
