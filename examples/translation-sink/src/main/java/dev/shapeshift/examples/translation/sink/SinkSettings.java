package dev.shapeshift.examples.translation.sink;

import dev.shapeshift.sink.RetryPolicy;
import dev.shapeshift.sink.SettingProblem;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code target.sink.settings} of the translation sink, validated without connecting:
 *
 * <ul>
 * <li>{@code url} (required): the service's base URL, e.g. {@code http://translate:8090}</li>
 * <li>{@code locale} (default {@code en}): the source locale the rows seed</li>
 * <li>{@code keyColumn} (default {@code translate_key}): the column holding the translation key</li>
 * <li>{@code textColumn} (default {@code label}): the column holding the source-locale text</li>
 * <li>{@code timeoutMs} (default 5000): one HTTP call's limit; a slower answer is a retryable failure</li>
 * <li>{@code maxRowsPerSecond} (default 500; 0 = no limit): the rate one worker may send</li>
 * <li>{@code maxAttempts} (default 5): attempts before the sink counts as degraded</li>
 * <li>{@code batch} (default true): one {@code POST /refs} per batch of rows; false: one call per row</li>
 * </ul>
 */
record SinkSettings(URI url, String locale, String keyColumn, String textColumn, Duration timeout, double maxRowsPerSecond,
                    int maxAttempts, boolean batch) {

    static final Set<String> NAMES = Set.of("url", "locale", "keyColumn", "textColumn", "timeoutMs", "maxRowsPerSecond",
            "maxAttempts", "batch");

    static List<SettingProblem> problems(Map<String, String> s) {
        List<SettingProblem> out = new ArrayList<>();
        for (String name : s.keySet()) {
            if (!NAMES.contains(name)) {
                out.add(new SettingProblem(name, "unknown setting", "use one of " + NAMES.stream().sorted().toList()));
            }
        }
        String url = s.get("url");
        if (url == null || url.isBlank()) {
            out.add(new SettingProblem("url", "missing", "give the service's base URL, e.g. http://translate:8090"));
        } else {
            try {
                URI u = URI.create(url.strip());
                if (!("http".equals(u.getScheme()) || "https".equals(u.getScheme())) || u.getHost() == null) {
                    out.add(new SettingProblem("url", "not an http(s) URL with a host: " + url, "e.g. http://translate:8090"));
                }
            } catch (IllegalArgumentException e) {
                out.add(new SettingProblem("url", "not a URL: " + e.getMessage(), "e.g. http://translate:8090"));
            }
        }
        String locale = s.getOrDefault("locale", "en");
        if (!locale.matches("[a-z]{2,3}(-[A-Z]{2})?")) {
            out.add(new SettingProblem("locale", "not a locale: " + locale, "e.g. en or en-GB"));
        }
        positive(s, "timeoutMs", out, false);
        positive(s, "maxRowsPerSecond", out, true);
        positive(s, "maxAttempts", out, false);
        String batch = s.get("batch");
        if (batch != null && !batch.strip().equals("true") && !batch.strip().equals("false")) {
            out.add(new SettingProblem("batch", "not true or false: " + batch, "true (one call per batch of rows) or false "
                    + "(one call per row)"));
        }
        return out;
    }

    private static void positive(Map<String, String> s, String name, List<SettingProblem> out, boolean zeroOk) {
        String v = s.get(name);
        if (v == null) {
            return;
        }
        try {
            double d = Double.parseDouble(v.strip());
            if (d < 0 || (!zeroOk && d == 0) || (!name.equals("maxRowsPerSecond") && d != Math.rint(d))) {
                throw new NumberFormatException();
            }
        } catch (NumberFormatException e) {
            out.add(new SettingProblem(name, "not a " + (zeroOk ? "non-negative" : "positive") + " number: " + v,
                    name.equals("maxRowsPerSecond") ? "e.g. 500, or 0 for no limit" : "e.g. 5000"));
        }
    }

    /** Settings {@link #problems} accepted. */
    static SinkSettings of(Map<String, String> s) {
        List<SettingProblem> p = problems(s);
        if (!p.isEmpty()) {
            throw new IllegalArgumentException("invalid translation sink settings: " + p);
        }
        String url = s.get("url").strip();
        return new SinkSettings(URI.create(url.endsWith("/") ? url.substring(0, url.length() - 1) : url),
                s.getOrDefault("locale", "en"), s.getOrDefault("keyColumn", "translate_key"),
                s.getOrDefault("textColumn", "label"), Duration.ofMillis(Long.parseLong(s.getOrDefault("timeoutMs", "5000").strip())),
                Double.parseDouble(s.getOrDefault("maxRowsPerSecond", "500").strip()),
                Integer.parseInt(s.getOrDefault("maxAttempts", "5").strip()),
                Boolean.parseBoolean(s.getOrDefault("batch", "true").strip()));
    }

    RetryPolicy retryPolicy() {
        return new RetryPolicy(maxAttempts, Duration.ofMillis(200), Duration.ofSeconds(5), 2.0);
    }
}
