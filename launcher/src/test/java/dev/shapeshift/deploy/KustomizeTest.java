package dev.shapeshift.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The Kustomize base and example overlay, checked as files (`kubectl kustomize` renders them;
 * docs/deployment.md). Files named kustomization.yaml are Kustomizations, files under specs/
 * are migration specs, every other YAML under k8s/ holds Kubernetes objects.
 */
class KustomizeTest {
    static final Path K8S = RepoFiles.path("k8s");
    static final Path BASE = K8S.resolve("base");
    static final Path OVERLAY = K8S.resolve("overlays/example");
    static final JsonNode BASE_KUSTOMIZATION = RepoFiles.yaml(BASE.resolve("kustomization.yaml"));
    static final JsonNode OVERLAY_KUSTOMIZATION = RepoFiles.yaml(OVERLAY.resolve("kustomization.yaml"));
    static final List<String> STANDARD_LABELS = List.of("app.kubernetes.io/name", "app.kubernetes.io/component",
            "app.kubernetes.io/part-of");
    static final Pattern XMX = Pattern.compile("-Xmx(\\d+)([kKmMgG])");

    record K8sObject(Path file, JsonNode node) {
        String kind() {
            return node.path("kind").asText();
        }

        String name() {
            return node.path("metadata").path("name").asText();
        }

        @Override
        public String toString() {
            return kind() + "/" + name() + " (" + RepoFiles.root().relativize(file) + ")";
        }
    }

    static List<K8sObject> objects(Path dir) {
        List<K8sObject> out = new ArrayList<>();
        for (Path f : RepoFiles.walk(dir, ".yaml")) {
            if (f.getFileName().toString().equals("kustomization.yaml") || dir.relativize(f).toString().contains("specs/")) {
                continue;
            }
            RepoFiles.yamlDocuments(f).forEach(n -> out.add(new K8sObject(f, n)));
        }
        return out;
    }

    static List<K8sObject> baseOfKind(String kind) {
        return objects(BASE).stream().filter(o -> o.kind().equals(kind)).toList();
    }

    static K8sObject deployment(String component) {
        return baseOfKind("Deployment").stream()
                .filter(d -> d.node().path("metadata").path("labels").path("app.kubernetes.io/component").asText().equals(component))
                .findFirst().orElseThrow(() -> new AssertionError("no Deployment for component " + component));
    }

    @Test
    void baseResourcesExistAndNoneIsForgotten() {
        List<String> resources = RepoFiles.texts(BASE_KUSTOMIZATION.path("resources"));
        for (String r : resources) {
            assertThat(BASE.resolve(r)).as("base resource %s", r).isRegularFile();
        }
        Set<String> objectFiles = objects(BASE).stream().map(o -> BASE.relativize(o.file()).toString()).collect(Collectors.toSet());
        assertThat(resources).as("every manifest in k8s/base is listed in its kustomization").containsAll(objectFiles);
        BASE_KUSTOMIZATION.path("configMapGenerator").forEach(g -> RepoFiles.texts(g.path("files"))
                .forEach(f -> assertThat(BASE.resolve(f.contains("=") ? f.substring(f.indexOf('=') + 1) : f)).isRegularFile()));
    }

    @Test
    void overlayResourcesExist() {
        for (String r : RepoFiles.texts(OVERLAY_KUSTOMIZATION.path("resources"))) {
            Path p = OVERLAY.resolve(r).normalize();
            assertThat(Files.isRegularFile(p) || Files.isRegularFile(p.resolve("kustomization.yaml")))
                    .as("overlay resource %s", r).isTrue();
        }
    }

    @Test
    void exampleOverlayPinsTheImageTheBaseUsesToAnImmutableReference() {
        List<JsonNode> pins = new ArrayList<>();
        OVERLAY_KUSTOMIZATION.path("images").forEach(pins::add);
        assertThat(pins).as("images: in the example overlay").hasSize(1);
        JsonNode pin = pins.get(0);
        for (K8sObject d : baseOfKind("Deployment")) {
            for (JsonNode c : d.node().path("spec").path("template").path("spec").path("containers")) {
                String image = c.path("image").asText();
                assertThat(image.replaceFirst("[:@].*", "")).as("image of %s is the one the overlay pins", d)
                        .isEqualTo(pin.path("name").asText());
            }
        }
        assertThat(whyMutable(pin)).as("the example overlay's image reference").isEmpty();
    }

    @Test
    void mutableImageReferencesAreRecognised() {
        assertThat(whyMutable(RepoFiles.YAML.createObjectNode().put("newTag", "latest"))).isPresent();
        assertThat(whyMutable(RepoFiles.YAML.createObjectNode().put("newTag", "0.1.0-SNAPSHOT"))).isPresent();
        assertThat(whyMutable(RepoFiles.YAML.createObjectNode().put("newTag", "main"))).isPresent();
        assertThat(whyMutable(RepoFiles.YAML.createObjectNode())).isPresent();
        assertThat(whyMutable(RepoFiles.YAML.createObjectNode().put("newTag", "0.1.0").put("digest", "sha256:abc")))
                .as("a malformed digest").isPresent();
        assertThat(whyMutable(RepoFiles.YAML.createObjectNode().put("newTag", "0.1.0"))).isEmpty();
        assertThat(whyMutable(RepoFiles.YAML.createObjectNode().put("digest", "sha256:" + "0a".repeat(32)))).isEmpty();
    }

    /**
     * Why a Kustomize {@code images:} entry can move, if it can: a digest is immutable; a tag
     * counts only as a release version (x.y.z), never latest, a -SNAPSHOT or a branch name.
     */
    static Optional<String> whyMutable(JsonNode pin) {
        String tag = pin.path("newTag").asText("");
        if (pin.has("digest")) {
            String digest = pin.path("digest").asText();
            return digest.matches("sha256:[0-9a-f]{64}") ? Optional.empty()
                    : Optional.of("digest " + digest + " is not sha256:<64 hex digits>");
        }
        if (tag.isEmpty()) {
            return Optional.of("neither newTag nor digest: the base's tag is used");
        }
        if (!tag.matches("\\d+\\.\\d+\\.\\d+")) {
            return Optional.of("newTag " + tag + " is not a release version (x.y.z) and no digest pins it");
        }
        return Optional.empty();
    }

    @Test
    void specInTheBaseIsTheExample() {
        assertThat(RepoFiles.text(BASE.resolve("specs/users-email-verified.yaml")))
                .as("k8s/base/specs/users-email-verified.yaml must be a copy of examples/users-email-verified.yaml")
                .isEqualTo(RepoFiles.text(RepoFiles.path("examples/users-email-verified.yaml")));
    }

    @Test
    void everyObjectHasIdentityAndStandardLabels() {
        List<K8sObject> all = objects(K8S);
        assertThat(all).hasSizeGreaterThanOrEqualTo(6);
        for (K8sObject o : all) {
            assertThat(o.node().path("apiVersion").asText()).as("apiVersion of %s", o).isNotBlank();
            assertThat(o.kind()).as("kind in %s", o.file()).isNotBlank();
            assertThat(o.name()).as("metadata.name of %s", o).isNotBlank();
            Map<String, String> labels = RepoFiles.strings(o.node().path("metadata").path("labels"));
            assertThat(labels).as("labels of %s", o).containsKeys(STANDARD_LABELS.toArray(String[]::new))
                    .containsEntry("app.kubernetes.io/part-of", "shapeshift");
        }
    }

    @Test
    void deploymentsHaveTheReplicasTheRolesNeed() {
        assertThat(deployment("coordinator").node().path("spec").path("replicas").asInt()).isEqualTo(1);
        assertThat(deployment("cdc-bridge").node().path("spec").path("replicas").asInt()).isEqualTo(2);
        assertThat(deployment("worker").node().path("spec").path("replicas").asInt()).isEqualTo(3);
    }

    @Test
    void deploymentsAreHardenedAndSized() {
        for (K8sObject d : baseOfKind("Deployment")) {
            JsonNode spec = d.node().path("spec");
            Map<String, String> podLabels = RepoFiles.strings(spec.path("template").path("metadata").path("labels"));
            assertThat(podLabels).as("pod labels of %s", d)
                    .containsAllEntriesOf(RepoFiles.strings(spec.path("selector").path("matchLabels")))
                    .containsKeys(STANDARD_LABELS.toArray(String[]::new));
            JsonNode pod = spec.path("template").path("spec");
            assertThat(pod.path("securityContext").path("runAsNonRoot").asBoolean()).as("runAsNonRoot in %s", d).isTrue();
            for (JsonNode c : pod.path("containers")) {
                String what = d + " container " + c.path("name").asText();
                JsonNode sc = c.path("securityContext");
                assertThat(sc.path("readOnlyRootFilesystem").asBoolean()).as("readOnlyRootFilesystem in %s", what).isTrue();
                assertThat(sc.path("allowPrivilegeEscalation").isBoolean() && !sc.path("allowPrivilegeEscalation").asBoolean())
                        .as("allowPrivilegeEscalation: false in %s", what).isTrue();
                for (String kind : List.of("requests", "limits")) {
                    assertThat(c.path("resources").path(kind).has("cpu")).as("cpu %s in %s", kind, what).isTrue();
                    assertThat(c.path("resources").path(kind).has("memory")).as("memory %s in %s", kind, what).isTrue();
                }
                long limit = bytes(c.path("resources").path("limits").path("memory").asText());
                long heap = heap(c).orElseThrow(() -> new AssertionError("no -Xmx in JAVA_TOOL_OPTIONS of " + what));
                assertThat(heap).as("-Xmx of %s leaves room for metaspace, threads and buffers under the %d-byte limit", what, limit)
                        .isLessThanOrEqualTo(limit * 3 / 4);
                if (c.has("ports")) {
                    assertThat(c.has("livenessProbe") && c.has("readinessProbe"))
                            .as("%s serves a port, so it needs liveness and readiness probes", what).isTrue();
                    Set<String> ports = new HashSet<>();
                    c.path("ports").forEach(p -> ports.add(p.path("name").asText()));
                    for (String probe : List.of("livenessProbe", "readinessProbe")) {
                        assertThat(ports).as("%s port of %s", probe, what).contains(c.path(probe).path("httpGet").path("port").asText());
                    }
                }
                // A read-only root needs a writable /tmp (Kafka clients unpack native compression libraries there).
                List<String> mounts = new ArrayList<>();
                c.path("volumeMounts").forEach(v -> mounts.add(v.path("mountPath").asText()));
                assertThat(mounts).as("mounts of %s", what).contains("/tmp");
            }
        }
    }

    @Test
    void coordinatorProbesAndIsScraped() {
        K8sObject d = deployment("coordinator");
        JsonNode template = d.node().path("spec").path("template");
        JsonNode c = template.path("spec").path("containers").get(0);
        assertThat(c.path("livenessProbe").path("httpGet").path("path").asText()).isEqualTo("/livez");
        assertThat(c.path("readinessProbe").path("httpGet").path("path").asText()).isEqualTo("/readyz");
        Map<String, String> annotations = RepoFiles.strings(template.path("metadata").path("annotations"));
        assertThat(annotations).containsEntry("prometheus.io/scrape", "true").containsEntry("prometheus.io/path", "/metrics");
        assertThat(c.path("ports").findValuesAsText("containerPort")).contains(annotations.get("prometheus.io/port"));
        List<String> args = RepoFiles.texts(c.path("args"));
        assertThat(args.get(0)).isEqualTo("coordinator");
        assertThat(args.get(args.indexOf("--port") + 1)).isEqualTo(annotations.get("prometheus.io/port"));
        // The coordinator registers the mounted specs: --specs-dir names the mount of the specs ConfigMap.
        assertThat(args).contains("--specs-dir");
        String specsDir = args.get(args.indexOf("--specs-dir") + 1);
        assertThat(c.path("volumeMounts").findValuesAsText("mountPath")).contains(specsDir);
        String volume = null;
        for (JsonNode m : c.path("volumeMounts")) {
            if (m.path("mountPath").asText().equals(specsDir)) {
                volume = m.path("name").asText();
            }
        }
        boolean fromSpecsConfigMap = false;
        for (JsonNode v : template.path("spec").path("volumes")) {
            if (v.path("name").asText().equals(volume)) {
                fromSpecsConfigMap = v.path("configMap").path("name").asText().equals("shapeshift-specs");
            }
        }
        assertThat(fromSpecsConfigMap).as("%s is the shapeshift-specs ConfigMap", specsDir).isTrue();
    }

    @Test
    void workerHeapIsTheDesignedOne() {
        JsonNode c = deployment("worker").node().path("spec").path("template").path("spec").path("containers").get(0);
        assertThat(heap(c)).hasValue(256L << 20);
    }

    @Test
    void disruptionBudgetsCoverTheWorkersAndTheBridges() {
        List<K8sObject> pdbs = baseOfKind("PodDisruptionBudget");
        assertThat(pdbs).hasSize(2);
        Set<String> covered = new HashSet<>();
        for (K8sObject pdbObject : pdbs) {
            JsonNode pdb = pdbObject.node().path("spec");
            assertThat(pdb.path("maxUnavailable").asInt()).as("%s lets one pod go at a time", pdbObject).isEqualTo(1);
            Map<String, String> selector = RepoFiles.strings(pdb.path("selector").path("matchLabels"));
            for (K8sObject d : baseOfKind("Deployment")) {
                Map<String, String> podLabels = RepoFiles.strings(d.node().path("spec").path("template").path("metadata").path("labels"));
                if (podLabels.entrySet().containsAll(selector.entrySet())) {
                    assertThat(covered.add(d.name())).as("%s covered by one PDB only", d).isTrue();
                }
            }
        }
        assertThat(covered).containsExactlyInAnyOrder(deployment("worker").name(), deployment("cdc-bridge").name());
    }

    @Test
    void workersAndBridgesServeMetricsProbedAndScraped() {
        for (String role : List.of("worker", "cdc-bridge")) {
            JsonNode template = deployment(role).node().path("spec").path("template");
            JsonNode c = template.path("spec").path("containers").get(0);
            List<String> args = RepoFiles.texts(c.path("args"));
            assertThat(args.get(0)).isEqualTo(role);
            String port = args.get(args.indexOf("--metrics-port") + 1);
            Map<String, String> annotations = RepoFiles.strings(template.path("metadata").path("annotations"));
            assertThat(annotations).as(role).containsEntry("prometheus.io/scrape", "true")
                    .containsEntry("prometheus.io/path", "/metrics").containsEntry("prometheus.io/port", port);
            assertThat(c.path("ports").findValuesAsText("containerPort")).as(role).contains(port);
            for (String probe : List.of("livenessProbe", "readinessProbe")) {
                assertThat(c.path(probe).path("httpGet").path("path").asText()).as(probe + " of " + role).isEqualTo("/livez");
                assertThat(c.path(probe).path("httpGet").path("port").asText()).isEqualTo("metrics");
            }
        }
    }

    @Test
    void servicesSelectPodsAndTheirPorts() {
        List<K8sObject> services = baseOfKind("Service");
        assertThat(services).isNotEmpty();
        for (K8sObject s : services) {
            Map<String, String> selector = RepoFiles.strings(s.node().path("spec").path("selector"));
            assertThat(selector).as("selector of %s", s).isNotEmpty();
            List<JsonNode> pods = baseOfKind("Deployment").stream()
                    .map(d -> d.node().path("spec").path("template"))
                    .filter(t -> RepoFiles.strings(t.path("metadata").path("labels")).entrySet().containsAll(selector.entrySet()))
                    .toList();
            assertThat(pods).as("pods selected by %s", s).isNotEmpty();
            for (JsonNode port : s.node().path("spec").path("ports")) {
                String target = port.path("targetPort").asText();
                List<String> containerPorts = new ArrayList<>();
                pods.get(0).path("spec").path("containers").forEach(c -> c.path("ports").forEach(p -> {
                    containerPorts.add(p.path("name").asText());
                    containerPorts.add(p.path("containerPort").asText());
                }));
                assertThat(containerPorts).as("targetPort of %s is a container port", s).contains(target);
            }
        }
    }

    @Test
    void secretsAreReferencedInTheBaseAndSuppliedByTheOverlay() {
        assertThat(baseOfKind("Secret")).as("the base inlines no Secret").isEmpty();
        assertThat(BASE_KUSTOMIZATION.has("secretGenerator")).as("the base generates no Secret").isFalse();
        Set<String> referenced = new HashSet<>();
        for (K8sObject d : baseOfKind("Deployment")) {
            JsonNode pod = d.node().path("spec").path("template").path("spec");
            pod.path("volumes").forEach(v -> {
                if (v.has("secret")) {
                    referenced.add(v.path("secret").path("secretName").asText());
                }
            });
            assertThat(pod.path("containers").findValues("secretKeyRef")).as("secrets are files, not env, in %s", d).isEmpty();
            assertThat(pod.path("containers").toString()).as("no password in the args of %s", d).doesNotContain("--password ");
        }
        assertThat(referenced).contains("shapeshift-db", "shapeshift-api");
        Set<String> generated = new HashSet<>();
        OVERLAY_KUSTOMIZATION.path("secretGenerator").forEach(g -> {
            generated.add(g.path("name").asText());
            RepoFiles.texts(g.path("literals")).forEach(l -> assertThat(l).as("overlay secret literal").contains("CHANGE-ME"));
        });
        assertThat(generated).as("the example overlay supplies every Secret the base mounts").containsAll(referenced);
    }

    @Test
    void secretFilesTheArgsNameAreKeysTheOverlaySupplies() {
        Map<String, Set<String>> keysBySecret = new java.util.HashMap<>();
        OVERLAY_KUSTOMIZATION.path("secretGenerator").forEach(g -> keysBySecret.put(g.path("name").asText(),
                RepoFiles.texts(g.path("literals")).stream().map(l -> l.substring(0, l.indexOf('='))).collect(Collectors.toSet())));
        for (K8sObject d : baseOfKind("Deployment")) {
            JsonNode pod = d.node().path("spec").path("template").path("spec");
            Map<String, String> secretOfVolume = new java.util.HashMap<>();
            pod.path("volumes").forEach(v -> {
                if (v.has("secret")) {
                    secretOfVolume.put(v.path("name").asText(), v.path("secret").path("secretName").asText());
                }
            });
            for (JsonNode c : pod.path("containers")) {
                List<String> args = RepoFiles.texts(c.path("args"));
                c.path("volumeMounts").forEach(m -> {
                    String secret = secretOfVolume.get(m.path("name").asText());
                    String dir = m.path("mountPath").asText() + "/";
                    for (String arg : args) {
                        if (secret != null && arg.startsWith(dir)) {
                            assertThat(keysBySecret.getOrDefault(secret, Set.of())).as("%s reads %s: a key of Secret %s", d, arg, secret)
                                    .contains(arg.substring(dir.length()));
                        }
                    }
                });
            }
        }
    }

    @Test
    void containersGetTheVariablesTheirArgsUse() {
        Set<String> configKeys = new HashSet<>();
        BASE_KUSTOMIZATION.path("configMapGenerator").forEach(g -> RepoFiles.texts(g.path("literals"))
                .forEach(l -> configKeys.add(l.substring(0, l.indexOf('=')))));
        Pattern var = Pattern.compile("\\$\\(([A-Z_][A-Z0-9_]*)\\)");
        for (K8sObject d : baseOfKind("Deployment")) {
            for (JsonNode c : d.node().path("spec").path("template").path("spec").path("containers")) {
                Set<String> available = new HashSet<>();
                c.path("env").forEach(e -> available.add(e.path("name").asText()));
                c.path("envFrom").forEach(e -> available.addAll(configKeys));
                Matcher m = var.matcher(c.path("args").toString());
                while (m.find()) {
                    assertThat(available).as("$(%s) in the args of %s", m.group(1), d).contains(m.group(1));
                }
            }
        }
    }

    static Optional<Long> heap(JsonNode container) {
        for (JsonNode e : container.path("env")) {
            if (e.path("name").asText().equals("JAVA_TOOL_OPTIONS")) {
                Matcher m = XMX.matcher(e.path("value").asText());
                if (m.find()) {
                    return Optional.of(Long.parseLong(m.group(1)) << shift(m.group(2)));
                }
            }
        }
        return Optional.empty();
    }

    private static int shift(String unit) {
        return switch (unit.toLowerCase()) {
            case "k" -> 10;
            case "m" -> 20;
            default -> 30;
        };
    }

    /** Kubernetes binary memory quantities (Ki, Mi, Gi); decimal suffixes are refused to keep the arithmetic honest. */
    static long bytes(String quantity) {
        Matcher m = Pattern.compile("(\\d+)(Ki|Mi|Gi)").matcher(quantity);
        if (!m.matches()) {
            throw new AssertionError("memory quantity " + quantity + ": use Ki, Mi or Gi");
        }
        int shift = switch (m.group(2)) {
            case "Ki" -> 10;
            case "Mi" -> 20;
            default -> 30;
        };
        return Long.parseLong(m.group(1)) << shift;
    }
}
