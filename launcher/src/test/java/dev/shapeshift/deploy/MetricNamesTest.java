package dev.shapeshift.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The naming rules of docs/metrics.md, checked on every meter the code declares: units only where
 * Prometheus has a base unit (so no {@code _rows_copied_rows}), latencies as histograms (buckets
 * aggregate across workers, client-side quantiles do not), one open-drift gauge, and every meter
 * named in docs/metrics.md.
 */
class MetricNamesTest {
    static final Set<String> BASE_UNITS = Set.of("seconds", "bytes");
    static final List<CodeMeters.Meter> DECLARED = CodeMeters.declared(RepoFiles.root());

    static List<String> problems(List<CodeMeters.Meter> meters) {
        List<String> out = new ArrayList<>();
        for (CodeMeters.Meter m : meters) {
            if (m.baseUnit() != null && !BASE_UNITS.contains(m.baseUnit())) {
                out.add(m.name() + " has unit '" + m.baseUnit() + "' (only " + BASE_UNITS + "; a count of things "
                        + "carries the thing in its name)");
            }
            if (!m.type().contains("Counter") && (m.name().endsWith(".total") || m.name().endsWith(".count"))) {
                out.add(m.name() + " ends in a suffix Prometheus keeps for counters; the client drops it from a gauge");
            }
            if (m.percentiles()) {
                out.add(m.name() + " publishes client-side percentiles; publish a histogram instead");
            }
            if ((m.type().equals("Timer") || m.type().equals("DistributionSummary")) && m.name().contains("latency")
                    && !m.histogram()) {
                out.add(m.name() + " is a latency without histogram buckets");
            }
        }
        for (String name : CodeMeters.prometheusNames(meters)) {
            String[] words = name.replaceAll("_(total|count|sum|max|bucket)$", "").split("_");
            String last = words[words.length - 1];
            // <thing>_<verb>_<thing>: Micrometer appended a unit the name already had
            if (words.length > 3 && words[words.length - 3].equals(last)) {
                out.add(name + " repeats its unit");
            }
        }
        return out;
    }

    @Test
    void theRulesCatchTheOldMistakes() {
        // Negative control: the meters as they were before issue 21 break every rule.
        String before = """
                class M {
                    void register() {
                        Gauge.builder("shapeshift.migration.backfill.rows.copied", ref, f).baseUnit("rows").register(registry);
                        Timer.builder("shapeshift.sync.apply.latency").publishPercentiles(0.5, 0.99).register(registry);
                        Gauge.builder("shapeshift.migration.backfill.chunks.total", ref, f).register(registry);
                    }
                }
                """;
        assertThat(problems(CodeMeters.declaredIn(Path.of("M.java"), before))).hasSize(5)
                .anySatisfy(p -> assertThat(p).contains("chunks.total ends in a suffix"))
                .anySatisfy(p -> assertThat(p).contains("unit 'rows'"))
                .anySatisfy(p -> assertThat(p).contains("repeats its unit"))
                .anySatisfy(p -> assertThat(p).contains("client-side percentiles"))
                .anySatisfy(p -> assertThat(p).contains("without histogram buckets"));
    }

    @Test
    void everyMeterFollowsTheNamingRules() {
        assertThat(DECLARED).hasSizeGreaterThan(30);
        assertThat(problems(DECLARED)).isEmpty();
    }

    @Test
    void oneDriftGaugeAndAnInfoStylePhase() {
        List<String> names = DECLARED.stream().map(CodeMeters.Meter::name).toList();
        assertThat(names).contains("shapeshift.migration.drift.open", "shapeshift.migration.phase", "shapeshift.build.info")
                .doesNotContain("shapeshift.drift.open");
        assertThat(DECLARED.stream().filter(m -> m.name().equals("shapeshift.migration.phase")).map(CodeMeters.Meter::type))
                .containsExactly("MultiGauge");
    }

    @Test
    void latenciesExportBuckets() {
        assertThat(CodeMeters.prometheusNames(DECLARED)).contains("shapeshift_sync_apply_latency_seconds_bucket",
                "shapeshift_sync_apply_time_seconds_bucket");
    }

    @Test
    void everyMeterIsDocumented() {
        String doc = RepoFiles.text(RepoFiles.path("docs/metrics.md"));
        Matcher m = Pattern.compile("`(shapeshift\\.[a-z0-9_.]+)`").matcher(doc);
        List<String> documented = new ArrayList<>();
        while (m.find()) {
            documented.add(m.group(1));
        }
        List<String> declared = DECLARED.stream().map(CodeMeters.Meter::name).distinct().toList();
        assertThat(documented).as("docs/metrics.md names every meter").containsAll(declared);
    }
}
