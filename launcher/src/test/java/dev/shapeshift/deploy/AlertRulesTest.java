package dev.shapeshift.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The alert rules (deploy/prometheus/alerts.yml and its PrometheusRule twin): every metric and
 * label value they use is one the code exports, every alert the operator needs is there, and the
 * two files hold the same rules.
 */
class AlertRulesTest {
    static final JsonNode RULES = RepoFiles.yaml(RepoFiles.path("deploy/prometheus/alerts.yml"));
    static final JsonNode OPERATOR_RULE = RepoFiles.yaml(RepoFiles.path("k8s/monitoring/prometheus-rule.yaml"));
    static final Set<String> PRODUCED = GrafanaDashboardTest.PRODUCED;
    static final Pattern PHASE_MATCHER = Pattern.compile("phase\\s*=~?\\s*\"([^\"]+)\"");
    static final Set<String> PHASES = phases();

    static Set<String> phases() {
        Set<String> out = new TreeSet<>();
        for (dev.shapeshift.phase.Phase p : dev.shapeshift.phase.Phase.values()) {
            out.add(p.label());
        }
        return out;
    }

    static Map<String, JsonNode> rules(JsonNode groups) {
        Map<String, JsonNode> out = new TreeMap<>();
        groups.forEach(g -> g.path("rules").forEach(r -> out.put(r.path("alert").asText(), r)));
        return out;
    }

    /** What is wrong with one rule: unknown metrics, unknown phases, missing labels or annotations. */
    static List<String> problems(String alert, JsonNode rule, Set<String> produced) {
        List<String> out = new ArrayList<>();
        String expr = rule.path("expr").asText();
        Set<String> metrics = GrafanaDashboardTest.metricsIn(expr);
        if (metrics.isEmpty()) {
            out.add(alert + ": queries no shapeshift metric");
        }
        for (String m : metrics) {
            if (!produced.contains(m)) {
                out.add(alert + ": " + m + " is not exported by the code");
            }
        }
        Matcher p = PHASE_MATCHER.matcher(expr);
        while (p.find()) {
            for (String phase : p.group(1).split("\\|")) {
                if (!PHASES.contains(phase)) {
                    out.add(alert + ": no phase '" + phase + "'");
                }
            }
        }
        if (!Set.of("critical", "warning").contains(rule.path("labels").path("severity").asText())) {
            out.add(alert + ": severity must be critical or warning");
        }
        if (rule.path("annotations").path("summary").asText().isBlank()) {
            out.add(alert + ": no summary");
        }
        long open = expr.chars().filter(c -> c == '(').count();
        long close = expr.chars().filter(c -> c == ')').count();
        if (open != close) {
            out.add(alert + ": unbalanced parentheses");
        }
        return out;
    }

    @Test
    void everyRuleUsesExportedMetricsAndRealPhases() {
        Map<String, JsonNode> rules = rules(RULES.path("groups"));
        List<String> problems = new ArrayList<>();
        rules.forEach((alert, rule) -> problems.addAll(problems(alert, rule, PRODUCED)));
        assertThat(problems).isEmpty();
    }

    @Test
    void theCheckCatchesAMetricTheCodeDoesNotExport() {
        // Negative control: the names before issue 21 (units doubled, the second drift gauge) and a bad phase.
        JsonNode bad = RepoFiles.YAML.valueToTree(Map.of("expr",
                "shapeshift_migration_drift_open_rows > 0 and shapeshift_drift_open > 0 "
                        + "and shapeshift_migration_phase{phase=\"switched\"} == 1",
                "labels", Map.of("severity", "page")));
        assertThat(problems("Bad", bad, PRODUCED)).containsExactlyInAnyOrder(
                "Bad: shapeshift_migration_drift_open_rows is not exported by the code",
                "Bad: shapeshift_drift_open is not exported by the code",
                "Bad: no phase 'switched'",
                "Bad: severity must be critical or warning",
                "Bad: no summary");
    }

    @Test
    void theOperatorsAlertsAreAllThere() {
        assertThat(rules(RULES.path("groups")).keySet()).contains("ShapeshiftSlotWalNearBudget",
                "ShapeshiftSyncLagOverSwitchBound", "ShapeshiftSyncStreamStopped", "ShapeshiftDriftOpenAfterVerified",
                "ShapeshiftBackfillStalled", "ShapeshiftNoBridgeLeader", "ShapeshiftContractPastDeadline");
    }

    @Test
    void thePrometheusRuleHoldsTheSameRules() {
        assertThat(OPERATOR_RULE.path("kind").asText()).isEqualTo("PrometheusRule");
        assertThat(OPERATOR_RULE.path("apiVersion").asText()).isEqualTo("monitoring.coreos.com/v1");
        assertThat(OPERATOR_RULE.path("spec").path("groups")).isEqualTo(RULES.path("groups"));
        JsonNode kustomization = RepoFiles.yaml(RepoFiles.path("k8s/monitoring/kustomization.yaml"));
        assertThat(RepoFiles.texts(kustomization.path("resources"))).containsExactly("prometheus-rule.yaml");
    }

    @Test
    void composePrometheusLoadsTheRules() {
        JsonNode prometheus = RepoFiles.yaml(RepoFiles.path("deploy/prometheus/prometheus.yml"));
        assertThat(RepoFiles.texts(prometheus.path("rule_files"))).containsExactly("/etc/prometheus/alerts.yml");
        JsonNode compose = RepoFiles.yaml(RepoFiles.path("docker-compose.yml"));
        assertThat(RepoFiles.texts(compose.path("services").path("prometheus").path("volumes")))
                .contains("./deploy/prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro");
    }
}
