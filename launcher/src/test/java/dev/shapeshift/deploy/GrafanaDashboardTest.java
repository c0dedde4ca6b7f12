package dev.shapeshift.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Every metric the dashboard queries is one the code produces, under its Prometheus name. */
class GrafanaDashboardTest {
    static final JsonNode DASHBOARD = RepoFiles.json(RepoFiles.path("deploy/grafana/dashboards/shapeshift.json"));
    static final Pattern METRIC = Pattern.compile("\\b(shapeshift_[a-zA-Z0-9_:]*)");
    static final Pattern QUOTED = Pattern.compile("\"(?:[^\"\\\\]|\\\\.)*\"");
    static final Set<String> PRODUCED = CodeMeters.prometheusNames(CodeMeters.declared(RepoFiles.root()));

    /** Every PromQL string of the dashboard: panel targets and template variable queries. */
    static List<String> queries() {
        List<String> out = new ArrayList<>();
        DASHBOARD.findValues("expr").forEach(e -> out.add(e.asText()));
        DASHBOARD.path("templating").path("list").forEach(v -> {
            JsonNode q = v.path("query");
            out.add(q.isTextual() ? q.asText() : q.path("query").asText());
            out.add(v.path("definition").asText());
        });
        return out;
    }

    static Set<String> metricsIn(String promql) {
        Set<String> names = new TreeSet<>();
        Matcher m = METRIC.matcher(QUOTED.matcher(promql).replaceAll("\"\""));
        while (m.find()) {
            names.add(m.group(1));
        }
        return names;
    }

    @Test
    void theCodeScanFindsTheKnownMeters() {
        // Guards the scan itself: if these vanish the scan is broken, not the dashboard.
        assertThat(PRODUCED).contains("shapeshift_bridge_events_published_total", "shapeshift_bridge_slot_lag_bytes");
        assertThat(PRODUCED).doesNotContain("shapeshift_bridge_slot_lag_bytes_total", "shapeshift_bridge_events_published");
    }

    @Test
    void theCodeScanFollowsLocalHelpersAndTheirUnits() {
        String source = """
                class M {
                    void register() {
                        gauge("shapeshift.x.rows.copied", migration, ref, s -> s.progress().rowsCopied(), "rows", "copied, rows");
                        gauge("shapeshift.x.phase", migration, ref, s -> s.phase().ordinal(), null, "phase");
                        Timer.builder("shapeshift.x.latency").publishPercentiles(0.5, 0.99).tags(tags).register(registry);
                    }
                    private void gauge(String name, String migration, AtomicReference<S> ref, ToDoubleFunction<S> f,
                                       String unit, String description) {
                        Gauge.builder(name, ref, r -> value(r, f)).tag("migration", migration).baseUnit(unit).register(registry);
                    }
                }
                """;
        assertThat(CodeMeters.prometheusNames(CodeMeters.declaredIn(java.nio.file.Path.of("M.java"), source)))
                .contains("shapeshift_x_rows_copied_rows", "shapeshift_x_phase", "shapeshift_x_latency_seconds",
                        "shapeshift_x_latency_seconds_count")
                .doesNotContain("shapeshift_x_rows_copied", "shapeshift_x_phase_rows");
    }

    @Test
    void everyQueriedMetricIsProducedByTheCode() {
        Set<String> used = new TreeSet<>();
        queries().forEach(q -> used.addAll(metricsIn(q)));
        assertThat(used).isNotEmpty();
        assertThat(PRODUCED).as("metrics produced by meters in the code (grep '\"shapeshift\\.' in */src/main/java)")
                .containsAll(used);
    }

    @Test
    void everyTargetQueriesAShapeshiftMetric() {
        for (JsonNode panel : panels()) {
            for (JsonNode t : panel.path("targets")) {
                assertThat(metricsIn(t.path("expr").asText())).as("panel %s, target %s", panel.path("title").asText(),
                        t.path("refId").asText()).isNotEmpty();
            }
        }
    }

    @Test
    void theExtractionSeesThroughLabelsAndFunctions() {
        assertThat(metricsIn("sum by (migration) (rate(shapeshift_sync_events_total{migration=~\"shapeshift_x\"}[5m]))"))
                .containsExactly("shapeshift_sync_events_total");
    }

    @Test
    void panelsUseTheDatasourceVariableAndUniqueIds() {
        // No datasource uid is written into the dashboard: it works in any Grafana, whatever its
        // Prometheus datasource is called; the compose stack's provisioned one is picked by type.
        JsonNode variable = null;
        for (JsonNode v : DASHBOARD.path("templating").path("list")) {
            if (v.path("type").asText().equals("datasource")) {
                variable = v;
            }
        }
        assertThat(variable).as("a datasource variable").isNotNull();
        assertThat(variable.path("query").asText()).isEqualTo("prometheus");
        String ref = "${" + variable.path("name").asText() + "}";
        Set<Integer> ids = new HashSet<>();
        for (JsonNode panel : panels()) {
            assertThat(ids.add(panel.path("id").asInt())).as("unique panel id %s", panel.path("id")).isTrue();
            if (panel.has("targets")) {
                assertThat(panel.path("datasource").path("uid").asText()).as("datasource of %s", panel.path("title")).isEqualTo(ref);
                for (JsonNode t : panel.path("targets")) {
                    assertThat(t.path("datasource").path("uid").asText()).as("target datasource of %s", panel.path("title"))
                            .isEqualTo(ref);
                }
            }
        }
        String provisionedUid = RepoFiles.yaml(RepoFiles.path("deploy/grafana/provisioning/datasources/prometheus.yml"))
                .path("datasources").get(0).path("uid").asText();
        assertThat(DASHBOARD.findValuesAsText("uid")).as("no hard-coded datasource uid").doesNotContain(provisionedUid);
        assertThat(DASHBOARD.path("uid").asText()).isEqualTo("shapeshift");
    }

    @Test
    void panelsDoNotOverlap() {
        List<JsonNode> placed = panels();
        for (int i = 0; i < placed.size(); i++) {
            for (int j = i + 1; j < placed.size(); j++) {
                JsonNode a = placed.get(i).path("gridPos");
                JsonNode b = placed.get(j).path("gridPos");
                boolean overlap = a.path("x").asInt() < b.path("x").asInt() + b.path("w").asInt()
                        && b.path("x").asInt() < a.path("x").asInt() + a.path("w").asInt()
                        && a.path("y").asInt() < b.path("y").asInt() + b.path("h").asInt()
                        && b.path("y").asInt() < a.path("y").asInt() + a.path("h").asInt();
                assertThat(overlap).as("%s overlaps %s", placed.get(i).path("title"), placed.get(j).path("title")).isFalse();
            }
        }
    }

    static List<JsonNode> panels() {
        List<JsonNode> out = new ArrayList<>();
        DASHBOARD.path("panels").forEach(p -> {
            out.add(p);
            p.path("panels").forEach(out::add);
        });
        return out;
    }
}
