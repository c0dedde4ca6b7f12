package dev.shapeshift.deploy;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.LongTaskTimer;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The meters the main code registers, found by reading its sources ({@code Counter.builder("shapeshift.…")}
 * and friends, with the builder chain's {@code baseUnit} and percentiles), and the Prometheus
 * names they become: each is registered in a real {@link PrometheusMeterRegistry} and the scrape
 * is read back, so the naming rules are Micrometer's own, not a copy of them.
 */
final class CodeMeters {
    /** One meter as declared in the code. */
    record Meter(String type, String name, String baseUnit, boolean percentiles, boolean histogram, Path file) {
        Meter(String type, String name, String baseUnit, boolean percentiles, Path file) {
            this(type, name, baseUnit, percentiles, false, file);
        }
    }

    private static final Pattern BUILDER = Pattern.compile(
            "\\b(Counter|FunctionCounter|Gauge|MultiGauge|TimeGauge|Timer|FunctionTimer|LongTaskTimer|DistributionSummary)"
                    + "\\.builder\\(\\s*(\"shapeshift\\.[a-z0-9_.]+\"|[A-Za-z_][A-Za-z0-9_]*)");
    private static final Pattern SHORTHAND = Pattern.compile(
            "\\.(counter|gauge|timer|summary)\\(\\s*(\"shapeshift\\.[a-z0-9_.]+\")");
    private static final Pattern BASE_UNIT = Pattern.compile("\\.baseUnit\\(\\s*\"([a-z]+)\"");
    private static final Pattern PERCENTILES = Pattern.compile("\\.publishPercentiles\\(");
    private static final Pattern HISTOGRAM = Pattern.compile("\\.publishPercentileHistogram\\(");
    private static final Pattern REGISTER = Pattern.compile("\\.register\\(");
    /** A call of a local helper with a meter name first, e.g. {@code gauge("shapeshift.x", migration, ref, f, "rows", "…")}. */
    private static final Pattern HELPER_CALL = Pattern.compile("(?<![.\\w])([a-z][A-Za-z0-9]*)\\(\\s*\"shapeshift\\.[a-z0-9_.]+\"");

    private CodeMeters() {
    }

    /** Every meter declared under {@code <module>/src/main/java} of the repository. */
    static List<Meter> declared(Path root) {
        List<Meter> meters = new ArrayList<>();
        try (Stream<Path> modules = Files.list(root)) {
            for (Path module : modules.filter(m -> Files.isDirectory(m.resolve("src/main/java"))).toList()) {
                for (Path f : RepoFiles.walk(module.resolve("src/main/java"), ".java")) {
                    meters.addAll(declaredIn(f, RepoFiles.text(f)));
                }
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return meters;
    }

    static List<Meter> declaredIn(Path file, String source) {
        List<Meter> meters = new ArrayList<>();
        Matcher m = BUILDER.matcher(source);
        while (m.find()) {
            String name = literalOrConstant(m.group(2), source);
            if (name == null) {
                continue;
            }
            Matcher end = REGISTER.matcher(source);
            String chain = source.substring(m.end(), end.find(m.end()) ? end.start() : source.length());
            Matcher unit = BASE_UNIT.matcher(chain);
            meters.add(new Meter(m.group(1), name, unit.find() ? unit.group(1) : null,
                    PERCENTILES.matcher(chain).find(), HISTOGRAM.matcher(chain).find(), file));
        }
        Matcher h = HELPER_CALL.matcher(source);
        while (h.find()) {
            Meter viaHelper = throughHelper(file, source, h.group(1), h.end(1));
            if (viaHelper != null) {
                meters.add(viaHelper);
            }
        }
        Matcher s = SHORTHAND.matcher(source);
        while (s.find()) {
            String type = switch (s.group(1)) {
                case "counter" -> "Counter";
                case "gauge" -> "Gauge";
                case "timer" -> "Timer";
                default -> "DistributionSummary";
            };
            meters.add(new Meter(type, unquote(s.group(2)), null, false, file));
        }
        return meters;
    }

    /**
     * A meter registered by a helper method of the same file: the helper's body builds the meter
     * from one of its parameters, and its {@code baseUnit} is a literal or another parameter,
     * whose value is then read from the call's arguments. Null when the helper builds no meter.
     */
    private static Meter throughHelper(Path file, String source, String helper, int openParen) {
        Matcher decl = Pattern.compile("\\s" + helper + "\\s*\\(([^)]*)\\)\\s*\\{").matcher(source);
        while (decl.find()) {
            List<String> params = new ArrayList<>();
            for (String p : arguments(decl.group(1))) {
                String[] words = p.trim().split("\\s+");
                params.add(words[words.length - 1]);
            }
            String body = source.substring(decl.end(), closing(source, decl.end() - 1));
            Matcher b = BUILDER.matcher(body);
            while (b.find()) {
                int nameParam = params.indexOf(b.group(2));
                if (nameParam < 0) {
                    continue;
                }
                Matcher end = REGISTER.matcher(body);
                String chain = body.substring(b.end(), end.find(b.end()) ? end.start() : body.length());
                List<String> args = arguments(source.substring(openParen + 1, closing(source, openParen)));
                String unit = null;
                Matcher u = Pattern.compile("\\.baseUnit\\(\\s*(\"[a-z]+\"|[A-Za-z_][A-Za-z0-9_]*)\\s*\\)").matcher(chain);
                if (u.find()) {
                    String value = u.group(1).startsWith("\"") ? u.group(1) : args.get(params.indexOf(u.group(1))).trim();
                    unit = value.startsWith("\"") ? unquote(value) : null;
                }
                return new Meter(b.group(1), unquote(args.get(nameParam).trim()), unit, PERCENTILES.matcher(chain).find(), file);
            }
        }
        return null;
    }

    /** The index of the bracket closing the one at {@code open}, skipping string and char literals. */
    private static int closing(String s, int open) {
        int depth = 0;
        for (int i = open; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\'') {
                for (i++; i < s.length() && s.charAt(i) != c; i++) {
                    if (s.charAt(i) == '\\') {
                        i++;
                    }
                }
            } else if (c == '(' || c == '{') {
                depth++;
            } else if ((c == ')' || c == '}') && --depth == 0) {
                return i;
            }
        }
        throw new IllegalStateException("unbalanced brackets from offset " + open);
    }

    /** Top-level comma-separated parts of an argument or parameter list. */
    private static List<String> arguments(String list) {
        List<String> out = new ArrayList<>();
        int depth = 0;
        int start = 0;
        for (int i = 0; i < list.length(); i++) {
            char c = list.charAt(i);
            if (c == '"') {
                for (i++; i < list.length() && list.charAt(i) != '"'; i++) {
                    if (list.charAt(i) == '\\') {
                        i++;
                    }
                }
            } else if (c == '(' || c == '<' || c == '{' || c == '[') {
                depth++;
            } else if (c == ')' || c == '>' && list.charAt(i - 1) != '-' || c == '}' || c == ']') {
                depth--;
            } else if (c == ',' && depth == 0) {
                out.add(list.substring(start, i));
                start = i + 1;
            }
        }
        out.add(list.substring(start));
        return out;
    }

    private static String literalOrConstant(String arg, String source) {
        if (arg.startsWith("\"")) {
            return unquote(arg);
        }
        Matcher c = Pattern.compile("String\\s+" + Pattern.quote(arg) + "\\s*=\\s*\"(shapeshift\\.[a-z0-9_.]+)\"").matcher(source);
        return c.find() ? c.group(1) : null;
    }

    private static String unquote(String s) {
        return s.substring(1, s.length() - 1);
    }

    /** The metric names a Prometheus scrape of these meters shows (samples, not just families). */
    static Set<String> prometheusNames(List<Meter> meters) {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        for (Meter m : meters) {
            switch (m.type()) {
                case "Counter", "FunctionCounter" -> Counter.builder(m.name()).baseUnit(m.baseUnit()).register(registry).increment();
                case "Gauge", "MultiGauge", "TimeGauge" -> Gauge.builder(m.name(), () -> 1).baseUnit(m.baseUnit()).register(registry);
                case "Timer", "FunctionTimer" -> {
                    Timer.Builder b = Timer.builder(m.name());
                    if (m.percentiles()) {
                        b.publishPercentiles(0.5, 0.99);
                    }
                    if (m.histogram()) {
                        b.publishPercentileHistogram();
                    }
                    b.register(registry).record(java.time.Duration.ofMillis(5));
                }
                case "LongTaskTimer" -> LongTaskTimer.builder(m.name()).register(registry);
                default -> {
                    DistributionSummary.Builder b = DistributionSummary.builder(m.name()).baseUnit(m.baseUnit());
                    if (m.percentiles()) {
                        b.publishPercentiles(0.5, 0.99);
                    }
                    if (m.histogram()) {
                        b.publishPercentileHistogram();
                    }
                    b.register(registry).record(1);
                }
            }
        }
        Set<String> names = new TreeSet<>();
        for (String line : registry.scrape().split("\n")) {
            if (!line.isBlank() && !line.startsWith("#")) {
                names.add(line.split("[{ ]", 2)[0]);
            }
        }
        registry.close();
        return names;
    }
}
