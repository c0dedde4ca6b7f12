package dev.shapeshift.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.platform.engine.discovery.DiscoverySelectors;
import org.junit.platform.testkit.engine.EngineExecutionResults;
import org.junit.platform.testkit.engine.EngineTestKit;

/**
 * The integration tests' backend selection. Only the selection can be tested on this machine: it
 * has no Docker engine, so the containers backend itself never starts here (docs/ci.md).
 */
class TestBackendTest {
    private final AtomicInteger dockerAsked = new AtomicInteger();

    private BooleanSupplier docker(boolean available) {
        return () -> {
            dockerAsked.incrementAndGet();
            return available;
        };
    }

    @Test
    void embeddedByDefaultWithoutAskingDocker() {
        assertThat(TestBackend.choose(Optional.empty(), Optional.empty(), docker(false)))
                .isEqualTo(new TestBackend.Choice(TestBackend.EMBEDDED, null));
        assertThat(TestBackend.choose(Optional.of(" Embedded "), Optional.empty(), docker(false)).backend())
                .isEqualTo(TestBackend.EMBEDDED);
        assertThat(dockerAsked).as("Docker is asked only for the containers backend").hasValue(0);
    }

    @Test
    void anExternalAddressSelectsTheExternalBackend() {
        assertThat(TestBackend.choose(Optional.empty(), Optional.of("jdbc:postgresql://db:5432/x"), docker(true)))
                .isEqualTo(new TestBackend.Choice(TestBackend.EXTERNAL, null));
        assertThat(TestBackend.choose(Optional.of("external"), Optional.of("kafka:9092"), docker(true)).backend())
                .isEqualTo(TestBackend.EXTERNAL);
        assertThatThrownBy(() -> TestBackend.choose(Optional.of("external"), Optional.empty(), docker(true)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("needs the server's address");
        assertThat(dockerAsked).hasValue(0);
    }

    @Test
    void containersWhereDockerAnswers() {
        assertThat(TestBackend.choose(Optional.of("containers"), Optional.empty(), docker(true)))
                .isEqualTo(new TestBackend.Choice(TestBackend.CONTAINERS, null));
        assertThat(dockerAsked).hasValue(1);
    }

    @Test
    void containersWithoutDockerSkipWithTheReason() {
        TestBackend.Choice choice = TestBackend.choose(Optional.of("CONTAINERS"), Optional.empty(), docker(false));
        assertThat(choice.skipped()).isTrue();
        assertThat(choice.skipReason()).contains("no Docker engine").contains("skipped");
    }

    @Test
    void contradictionsAndTyposAreErrorsNotSilentFallbacks() {
        assertThatThrownBy(() -> TestBackend.choose(Optional.of("containers"), Optional.of("localhost:9092"), docker(true)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("remove one");
        assertThatThrownBy(() -> TestBackend.choose(Optional.of("docker"), Optional.empty(), docker(true)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("use embedded, external or containers");
    }

    /**
     * The wiring, through the JUnit engine: under {@code containers} a test asking for a server is
     * skipped with the reason where Docker is absent (as on this machine), and never failed; and a
     * test that needs the embedded server is skipped on the external backend. The probes only ask
     * for their parameters, so nothing starts when they are skipped.
     */
    @Test
    void theExtensionsSkipWhatTheirBackendCannotServe() {
        org.junit.jupiter.api.Assumptions.assumeFalse(ContainerBackend.dockerAvailable(),
                "a Docker engine is reachable here: the probe would start containers");
        withProperty(TestBackend.PROPERTY, "containers", () -> {
            EngineExecutionResults results = EngineTestKit.engine("junit-jupiter")
                    .selectors(DiscoverySelectors.selectClass(ContainersProbe.class)).execute();
            results.testEvents().assertStatistics(stats -> stats.started(0).failed(0));
            results.containerEvents().assertStatistics(stats -> stats.skipped(1).failed(0));
            assertThat(results.containerEvents().skipped().stream().map(e -> e.getPayload(String.class).orElse("")))
                    .singleElement().asString().contains("no Docker engine");
        });
        withProperty(PostgresExtension.JDBC_URL_PROPERTY, "jdbc:postgresql://localhost:1/none", () -> EngineTestKit
                .engine("junit-jupiter").selectors(DiscoverySelectors.selectClass(EmbeddedOnlyProbe.class)).execute()
                .testEvents().assertStatistics(stats -> stats.skipped(1).started(0).failed(0)));
    }

    private static void withProperty(String name, String value, Runnable body) {
        String before = System.getProperty(name);
        System.setProperty(name, value);
        try {
            body.run();
        } finally {
            if (before == null) {
                System.clearProperty(name);
            } else {
                System.setProperty(name, before);
            }
        }
    }

    @org.junit.jupiter.api.extension.ExtendWith({PostgresExtension.class, KafkaExtension.class})
    static class ContainersProbe {
        @Test
        void asksForPostgres(PostgresServer pg) {
            throw new AssertionError("must not run without Docker: " + pg);
        }

        @Test
        void asksForKafka(KafkaBroker kafka) {
            throw new AssertionError("must not run without Docker: " + kafka);
        }
    }

    @org.junit.jupiter.api.extension.ExtendWith(PostgresExtension.class)
    static class EmbeddedOnlyProbe {
        @Test
        void controlsTheServer(EmbeddedPostgres pg) {
            throw new AssertionError("must not run on an external server: " + pg);
        }
    }
}
