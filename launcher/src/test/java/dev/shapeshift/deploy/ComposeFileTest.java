package dev.shapeshift.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** docker-compose.yml against the repository and the roles' needs; `docker compose config -q` checks the syntax. */
class ComposeFileTest {
    static final JsonNode COMPOSE = RepoFiles.yaml(RepoFiles.path("docker-compose.yml"));
    static final JsonNode SERVICES = COMPOSE.path("services");
    static final JsonNode FRAGMENT = RepoFiles.yaml(RepoFiles.path("deploy/compose/shapeshift-roles.yml"));
    static final Pattern RUN_SECRET = Pattern.compile("/run/secrets/([A-Za-z0-9_.-]+)");

    @Test
    void runsTheWholeStack() {
        assertThat(RepoFiles.fieldNames(SERVICES)).contains("postgres", "kafka", "coordinator", "cdc-bridge",
                "cdc-bridge-standby", "worker", "prometheus", "grafana");
    }

    @Test
    void everyImageIsPinnedToATag() {
        SERVICES.fields().forEachRemaining(s -> {
            String image = s.getValue().path("image").asText();
            String lastSegment = image.substring(image.lastIndexOf('/') + 1);
            assertThat(lastSegment).as("image of service %s: pin a tag", s.getKey()).contains(":");
            String tag = lastSegment.substring(lastSegment.indexOf(':') + 1);
            assertThat(tag).as("image tag of service %s", s.getKey()).isNotBlank().isNotEqualTo("latest");
        });
    }

    @Test
    void postgresIsConfiguredForLogicalReplication() {
        List<String> command = command(SERVICES.path("postgres"));
        assertThat(command).contains("wal_level=logical", "shared_preload_libraries=pg_stat_statements");
        assertThat(command).anySatisfy(c -> assertThat(c).startsWith("max_replication_slots="));
        assertThat(command).anySatisfy(c -> assertThat(c).startsWith("max_wal_senders="));
        assertThat(command).as("bound the WAL a stalled slot retains")
                .anySatisfy(c -> assertThat(c).matches("max_slot_wal_keep_size=[1-9][0-9]*(kB|MB|GB|TB)?"));
        assertThat(SERVICES.path("postgres").path("healthcheck").path("test").toString()).contains("pg_isready");
    }

    @Test
    void sampleTableIsSeeded() {
        Path init = RepoFiles.path("deploy/postgres/init");
        String sql = RepoFiles.walk(init, ".sql").stream().map(RepoFiles::text).reduce("", String::concat);
        assertThat(sql).containsPattern("(?i)CREATE TABLE\\s+(public\\.)?users")
                .containsPattern("(?i)id\\s+bigint\\s+PRIMARY KEY")
                .containsPattern("(?i)email\\s+text")
                .containsPattern("(?i)legacy_verified_at\\s+timestamptz")
                .containsPattern("(?i)INSERT INTO\\s+(public\\.)?users");
        assertThat(RepoFiles.text(RepoFiles.path("deploy/postgres/init/01-roles.sh"))).contains("REPLICATION")
                .contains("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
    }

    @Test
    void kafkaIsASingleKraftNodeWithReplicationFactorOne() {
        Map<String, String> env = RepoFiles.strings(SERVICES.path("kafka").path("environment"));
        assertThat(env.get("KAFKA_PROCESS_ROLES")).contains("broker").contains("controller");
        assertThat(env).containsEntry("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "1")
                .containsEntry("KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR", "1");
        // The bridge creates its offsets and change topics with --replication (default 3): one broker can hold only 1.
        for (String bridge : List.of("cdc-bridge", "cdc-bridge-standby")) {
            assertThat(option(command(SERVICES.path(bridge)), "--replication")).as(bridge).isEqualTo("1");
        }
    }

    @Test
    void rolesRunTheOneImageWithTheirSubcommand() {
        String image = SERVICES.path("coordinator").path("image").asText();
        assertThat(image).startsWith("shapeshift/shapeshift:");
        Map<String, String> roleOf = Map.of("coordinator", "coordinator", "cdc-bridge", "cdc-bridge",
                "cdc-bridge-standby", "cdc-bridge", "worker", "worker");
        roleOf.forEach((service, role) -> {
            assertThat(SERVICES.path(service).path("image").asText()).as(service).isEqualTo(image);
            assertThat(command(SERVICES.path(service)).get(0)).as(service).isEqualTo(role);
        });
        List<String> coordinator = command(SERVICES.path("coordinator"));
        assertThat(option(coordinator, "--bind")).isEqualTo("0.0.0.0");
        assertThat(option(coordinator, "--port")).isEqualTo("8080");
        assertThat(SERVICES.path("coordinator").path("healthcheck").path("test").toString()).contains("/readyz");
        assertThat(SERVICES.path("worker").path("deploy").path("replicas").asInt()).isEqualTo(3);
    }

    @Test
    void everySecretIsAFileAndEveryUseIsMounted() {
        JsonNode secrets = COMPOSE.path("secrets");
        secrets.fields().forEachRemaining(s -> {
            Path file = RepoFiles.root().resolve(s.getValue().path("file").asText());
            assertThat(file).as("secret %s", s.getKey()).isRegularFile();
            assertThat(RepoFiles.text(file)).as("secret %s is a placeholder", s.getKey()).contains("dev-only");
        });
        SERVICES.fields().forEachRemaining(s -> {
            List<String> mounted = secretNames(s.getValue().path("secrets"));
            assertThat(RepoFiles.fieldNames(secrets)).as("secrets of service %s", s.getKey()).containsAll(mounted);
            // Every /run/secrets/x a service names (command, environment) must be mounted into it.
            Matcher m = RUN_SECRET.matcher(s.getValue().path("command").toString() + s.getValue().path("environment"));
            while (m.find()) {
                assertThat(mounted).as("service %s reads /run/secrets/%s", s.getKey(), m.group(1)).contains(m.group(1));
            }
        });
        assertThat(RepoFiles.path("deploy/secrets/README.md")).isRegularFile();
    }

    @Test
    void everyBindMountedPathExists() {
        SERVICES.fields().forEachRemaining(s -> s.getValue().path("volumes").forEach(v -> {
            String source = v.isTextual() ? v.asText().split(":")[0] : v.path("source").asText();
            if (source.startsWith(".")) {
                assertThat(RepoFiles.root().resolve(source).normalize()).as("volume of service %s", s.getKey()).exists();
            }
        }));
        List<String> mounts = RepoFiles.texts(SERVICES.path("coordinator").path("volumes"));
        assertThat(mounts).anySatisfy(m -> assertThat(m).startsWith("./examples/users-email-verified.yaml:"));
    }

    @Test
    void coordinatorRegistersTheMountedSpecs() {
        String specsDir = option(command(SERVICES.path("coordinator")), "--specs-dir");
        assertThat(specsDir).as("coordinator --specs-dir").isEqualTo("/etc/shapeshift/specs");
        List<String> mounts = RepoFiles.texts(SERVICES.path("coordinator").path("volumes"));
        assertThat(mounts).anySatisfy(m -> assertThat(m.split(":")[1]).startsWith(specsDir + "/"));
    }

    @Test
    void dependenciesNameExistingServices() {
        SERVICES.fields().forEachRemaining(s -> {
            JsonNode deps = s.getValue().path("depends_on");
            List<String> targets = deps.isArray() ? RepoFiles.texts(deps) : RepoFiles.fieldNames(deps);
            assertThat(RepoFiles.fieldNames(SERVICES)).as("depends_on of %s", s.getKey()).containsAll(targets);
            if (deps.isObject()) {
                deps.fields().forEachRemaining(d -> {
                    if (d.getValue().path("condition").asText().equals("service_healthy")) {
                        assertThat(SERVICES.path(d.getKey()).has("healthcheck"))
                                .as("%s waits for %s to be healthy: it needs a healthcheck", s.getKey(), d.getKey()).isTrue();
                    }
                });
            }
        });
    }

    @Test
    void prometheusScrapesServicesOfTheStack() {
        JsonNode prometheus = RepoFiles.yaml(RepoFiles.path("deploy/prometheus/prometheus.yml"));
        List<String> targets = new ArrayList<>();
        prometheus.path("scrape_configs").forEach(job -> {
            job.path("static_configs").forEach(sc -> targets.addAll(RepoFiles.texts(sc.path("targets"))));
            job.path("dns_sd_configs").forEach(sd -> RepoFiles.texts(sd.path("names"))
                    .forEach(n -> targets.add(n + ":" + sd.path("port").asText())));
        });
        assertThat(targets).contains("coordinator:8080");
        // every role that serves /metrics is scraped on the port it serves
        for (String service : List.of("cdc-bridge", "cdc-bridge-standby", "worker")) {
            List<String> command = RepoFiles.texts(SERVICES.path(service).path("command"));
            assertThat(command).as(service).contains("--metrics-port");
            assertThat(targets).contains(service + ":" + command.get(command.indexOf("--metrics-port") + 1));
            assertThat(SERVICES.path(service).path("healthcheck").path("test").toString()).as(service).contains("/livez");
        }
        prometheus.path("scrape_configs").forEach(job -> assertThat(job.path("metrics_path").asText())
                .as(job.path("job_name").asText()).isEqualTo("/metrics"));
        for (String target : targets) {
            assertThat(RepoFiles.fieldNames(SERVICES)).as("scrape target %s", target).contains(target.split(":")[0]);
        }
        assertThat(prometheus.path("scrape_configs").get(0).path("metrics_path").asText()).isEqualTo("/metrics");
    }

    @Test
    void grafanaIsProvisionedFromTheRepository() {
        JsonNode datasources = RepoFiles.yaml(RepoFiles.path("deploy/grafana/provisioning/datasources/prometheus.yml"));
        String url = datasources.path("datasources").get(0).path("url").asText();
        assertThat(url).isEqualTo("http://prometheus:9090");
        JsonNode providers = RepoFiles.yaml(RepoFiles.path("deploy/grafana/provisioning/dashboards/shapeshift.yml"));
        String dashboardsIn = providers.path("providers").get(0).path("options").path("path").asText();
        assertThat(RepoFiles.texts(SERVICES.path("grafana").path("volumes")))
                .contains("./deploy/grafana/dashboards:" + dashboardsIn + ":ro");
        assertThat(Files.isRegularFile(RepoFiles.path("deploy/grafana/dashboards/shapeshift.json"))).isTrue();
    }

    /**
     * Every credential is a Docker secret read from a file: no environment value named like a
     * password, token or secret (only the images' {@code *_FILE} variants naming /run/secrets/…),
     * no option that takes a credential itself, no password in a JDBC URL. For the whole stack and
     * for the fragment teams merge into their own (deploy/compose/shapeshift-roles.yml).
     */
    @Test
    void noCredentialIsAnEnvironmentValueOrAnOption() {
        for (JsonNode services : List.of(SERVICES, FRAGMENT.path("services"))) {
            services.fields().forEachRemaining(s -> {
                s.getValue().path("environment").fields().forEachRemaining(e -> {
                    if (e.getKey().matches("(?i).*(PASSWORD|TOKEN|SECRET|CREDENTIAL).*")) {
                        assertThat(e.getKey()).as("%s: %s must name a file", s.getKey(), e.getKey()).endsWith("_FILE");
                        assertThat(e.getValue().asText()).as("%s: %s", s.getKey(), e.getKey()).startsWith("/run/secrets/");
                    }
                });
                List<String> command = s.getValue().has("command") ? command(s.getValue()) : List.of();
                for (String arg : command) {
                    assertThat(arg).as("%s: a credential option takes a file", s.getKey())
                            .doesNotMatch("--(password|admin-token|read-token)(=.*)?");
                    assertThat(arg.toLowerCase(java.util.Locale.ROOT)).as("%s: no password in a URL", s.getKey())
                            .doesNotContain("password=");
                }
            });
        }
    }

    /** The fragment's roles are the CLI's commands, and every secret they read is declared and mounted. */
    @Test
    void theFragmentRunsTheThreeRolesWithMountedSecrets() {
        JsonNode services = FRAGMENT.path("services");
        assertThat(RepoFiles.fieldNames(services)).containsExactlyInAnyOrder("shapeshift-coordinator",
                "shapeshift-cdc-bridge", "shapeshift-worker");
        services.fields().forEachRemaining(s -> {
            // ${VAR:-default} as compose expands it with nothing set
            List<String> command = command(s.getValue()).stream()
                    .map(a -> a.replaceAll("\\$\\{[A-Z_]+:-([^}]*)}", "$1")).toList();
            picocli.CommandLine.ParseResult parsed = dev.shapeshift.launcher.Main.commandLine()
                    .parseArgs(command.toArray(String[]::new));
            assertThat(parsed.subcommand().commandSpec().name()).as(s.getKey()).isEqualTo(s.getKey().replace("shapeshift-", ""));
            List<String> mounted = secretNames(s.getValue().path("secrets"));
            assertThat(RepoFiles.fieldNames(FRAGMENT.path("secrets"))).as(s.getKey()).containsAll(mounted);
            Matcher m = RUN_SECRET.matcher(s.getValue().path("command").toString());
            while (m.find()) {
                assertThat(mounted).as("%s reads /run/secrets/%s", s.getKey(), m.group(1)).contains(m.group(1));
            }
            assertThat(s.getValue().path("image").asText()).contains(SERVICES.path("coordinator").path("image").asText());
        });
    }

    static List<String> command(JsonNode service) {
        JsonNode c = service.path("command");
        return c.isArray() ? RepoFiles.texts(c) : List.of(c.asText().trim().split("\\s+"));
    }

    static String option(List<String> command, String name) {
        int i = command.indexOf(name);
        return i < 0 || i + 1 >= command.size() ? null : command.get(i + 1);
    }

    static List<String> secretNames(JsonNode secrets) {
        List<String> names = new ArrayList<>();
        secrets.forEach(s -> names.add(s.isTextual() ? s.asText() : s.path("source").asText()));
        return names;
    }
}
