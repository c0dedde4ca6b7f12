package dev.shapeshift.coordinator.contract;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shapeshift.coordinator.api.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The evidence JSON is a contract with its readers (the API, {@code shapeshift evidence --output json}):
 * {@code evidence-golden.json} holds what the hand-written maps of e68f696 wrote for a report with every
 * part filled and for a bare one, absent instants as {@code "null"} included. (Dependents and checks are
 * left empty: they are written as {@code Map.of}, whose key order changes from one JVM to the next.)
 */
class EvidenceJsonTest {
    private static final Instant T = Instant.parse("2026-12-07T04:00:00.123456Z");

    @Test
    void writesEveryPartOfTheReportAsTheGoldenFileHasIt() throws Exception {
        List<String> golden = Files.readAllLines(Path.of(getClass().getResource("/contract/evidence-golden.json").toURI()));
        assertThat(new ObjectMapper().writeValueAsString(EvidenceJson.of(full(), List.of()))).isEqualTo(golden.get(0));
        assertThat(Json.write(EvidenceJson.of(full(), List.of()))).as("the API's mapper").isEqualTo(golden.get(0));
        assertThat(new ObjectMapper().writeValueAsString(EvidenceJson.of(bare(), List.of()))).isEqualTo(golden.get(1));
    }

    private static AccessReport full() {
        var st = new AccessReport.Statement(42L, "app", "SELECT legacy", 7, 3, T, "reads legacy");
        var st2 = new AccessReport.Statement(43L, "app2", "SELECT x", 1, 0, null, "why");
        var reader = new AccessReport.Reader("r", "appname", "10.0.0.1", T, T.plusSeconds(5), "SELECT 1");
        var reader2 = new AccessReport.Reader("r2", null, null, T, T, null);
        var hit = new CodeSearch.Hit("/src", "a/B.java", 12, "legacy", "legacy = 1;");
        var code = new CodeEvidence(List.of("/src"), List.of("legacy"), List.of(hit),
                List.of(new CodeEvidence.Acknowledged(hit, "test", "bob")), List.of("p1"));
        var rep = new AccessReport.ReplicaEvidence("rep1", "jdbc:x", true, T, List.of(st, st2), null);
        var rep2 = new AccessReport.ReplicaEvidence("rep2", "jdbc:y", null, null, List.of(), "down");
        var fail = new BrownoutReport.Failure("role", "app", "local", "42501", "denied", "SELECT", 3, T, null);
        var brownout = new BrownoutReport(5, Brownout.Status.FAILED, T, T.plusSeconds(60), null, "reason",
                List.of("a", "b"), "untouched", List.of("undo"), 1.5, "log.csv", 10L, null, T, List.of(fail));
        var counted = new ReadCounter.Counted("role", "", "local", 5, 6, T, null, true);
        var counter = new ReadCounter.Evidence("public.users", T, T, null, null, "lost", List.of(counted));
        return new AccessReport("users", "watched", "drops", T, T.plusSeconds(100), null, Duration.ofSeconds(300),
                List.of(st), List.of(st2), new AccessReport.TableCounters(1, 2, null), List.of(), List.of(reader, reader2),
                code, "excl", List.of("note"), "problem", List.of(rep, rep2), Duration.ofMillis(1500), brownout, counter);
    }

    private static AccessReport bare() {
        return new AccessReport("users", "watched", "drops", null, T, T, Duration.ofSeconds(300), List.of(), List.of(),
                null, List.of(), List.of(), null, null, List.of(), null);
    }
}
