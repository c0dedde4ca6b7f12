package dev.shapeshift.sinks;

import dev.shapeshift.sink.RetryPolicy;
import dev.shapeshift.sink.SettingProblem;
import dev.shapeshift.sink.Sink;
import dev.shapeshift.sink.SinkContext;
import dev.shapeshift.sink.SinkProvider;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The {@code memory} sink plugin (tests only), found by {@link java.util.ServiceLoader} through
 * {@code META-INF/services/dev.shapeshift.sink.SinkProvider} in the test resources.
 *
 * <p>Settings: {@code store} (required: the {@link MemorySink.Store} name), {@code checkVersions}
 * ({@code true}), {@code applyDelay} (milliseconds, {@code 0}), {@code maxAttempts} ({@code 3}),
 * {@code backoff} (milliseconds of the first back-off, {@code 20}; at most 10 times that),
 * {@code maxBatchRows} ({@code 100}).
 */
public final class MemorySinkProvider implements SinkProvider {
    private static final Set<String> KNOWN = Set.of("store", "checkVersions", "applyDelay", "maxAttempts", "backoff",
            "maxBatchRows");

    @Override
    public String name() {
        return "memory";
    }

    @Override
    public String description() {
        return "an in-memory map with versions (tests)";
    }

    @Override
    public List<SettingProblem> validate(Map<String, String> settings) {
        List<SettingProblem> problems = new ArrayList<>();
        for (String k : settings.keySet()) {
            if (!KNOWN.contains(k)) {
                problems.add(new SettingProblem(k, "unknown setting", "the memory sink's settings are: "
                        + String.join(", ", KNOWN.stream().sorted().toList())));
            }
        }
        String store = settings.get("store");
        if (store == null || store.isBlank()) {
            problems.add(new SettingProblem("store", "missing", "name the store, e.g. 'store: orders'"));
        }
        String check = settings.getOrDefault("checkVersions", "true");
        if (!check.equals("true") && !check.equals("false")) {
            problems.add(new SettingProblem("checkVersions", "'" + check + "' is not true or false", "write true or false"));
        }
        for (String n : List.of("applyDelay", "maxAttempts", "backoff", "maxBatchRows")) {
            String v = settings.get(n);
            if (v != null && !v.matches("\\d{1,9}")) {
                problems.add(new SettingProblem(n, "'" + v + "' is not a whole number", "write a whole number"));
            }
        }
        return problems;
    }

    @Override
    public Sink create(SinkContext context) {
        Map<String, String> s = context.settings();
        return new MemorySink(MemorySink.store(s.get("store")), !"false".equals(s.get("checkVersions")),
                Long.parseLong(s.getOrDefault("applyDelay", "0")));
    }

    @Override
    public RetryPolicy retryPolicy(Map<String, String> settings) {
        long backoff = Long.parseLong(settings.getOrDefault("backoff", "20"));
        return new RetryPolicy(Integer.parseInt(settings.getOrDefault("maxAttempts", "3")), Duration.ofMillis(backoff),
                Duration.ofMillis(backoff * 10), 2.0);
    }

    @Override
    public int maxBatchRows(Map<String, String> settings) {
        return Integer.parseInt(settings.getOrDefault("maxBatchRows", "100"));
    }
}
