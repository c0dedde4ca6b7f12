package dev.shapeshift.scenarios;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shapeshift.db.Database;
import dev.shapeshift.db.ServerVersion;
import dev.shapeshift.embedded.EmbeddedPostgres;
import dev.shapeshift.embedded.KafkaBroker;
import dev.shapeshift.embedded.KafkaExtension;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The PostgreSQL version matrix: {@link DriverIT}'s migration (registered → expand, sync,
 * backfill, reconcile, verified, read switch, contract, clean-up, under an application's writes)
 * on each other major the zonky binaries ship, one embedded server per major. The build's default
 * major (17) runs every other IT; this one runs with {@code -Ppg-matrix} (README's test command,
 * {@code .ci/run}), which copies the other majors' jars into {@code target/pg-matrix}.
 */
@ExtendWith(KafkaExtension.class)
@EnabledIfSystemProperty(named = PostgresVersionsIT.PROPERTY, matches = ".+",
        disabledReason = "the version matrix runs with -Ppg-matrix (README's test command)")
class PostgresVersionsIT {
    static final String PROPERTY = "shapeshift.test.pgMatrix";
    private static final Pattern MAJOR = Pattern.compile("linux-amd64-(\\d+)\\.");

    static Stream<Path> majors() throws IOException {
        Path dir = Path.of(System.getProperty(PROPERTY));
        try (Stream<Path> jars = Files.list(dir)) {
            List<Path> found = jars.filter(p -> p.getFileName().toString().endsWith(".jar")).sorted().toList();
            assertThat(found).as("zonky binaries jars in %s", dir).isNotEmpty();
            return found.stream();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("majors")
    void theSmokeMigrationRunsOnEveryMajor(Path jar, KafkaBroker kafka) throws Exception {
        Matcher m = MAJOR.matcher(jar.getFileName().toString());
        assertThat(m.find()).as("a zonky binaries jar name: %s", jar).isTrue();
        int major = Integer.parseInt(m.group(1));
        long t0 = System.nanoTime();
        try (EmbeddedPostgres pg = EmbeddedPostgres.start(EmbeddedPostgres.Options.forTests().withBinariesJar(jar))) {
            Database db = new Database(pg.jdbcUrl("postgres"), pg.user(), pg.password());
            try (Connection c = db.connect("test-version")) {
                assertThat(ServerVersion.of(c).major()).as("the server runs the jar's major").isEqualTo(major);
            }
            DriverIT.driveToContracted(pg, kafka);
        }
        System.out.printf("PG-MATRIX PostgreSQL %s (%s): registered to contracted in %d s%n", major,
                jar.getFileName(), (System.nanoTime() - t0) / 1_000_000_000);
    }
}
