package dev.shapeshift.coordinator.drive;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shapeshift.catalog.AuditEntry;
import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.CatalogSchema;
import dev.shapeshift.coordinator.Coordinator;
import dev.shapeshift.coordinator.GateWiring;
import dev.shapeshift.coordinator.Seed;
import dev.shapeshift.coordinator.gate.GateClosedException;
import dev.shapeshift.db.Database;
import dev.shapeshift.embedded.KafkaBroker;
import dev.shapeshift.embedded.KafkaExtension;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.embedded.UsersSpec;
import dev.shapeshift.phase.Phase;
import dev.shapeshift.spec.MigrationSpec;
import dev.shapeshift.spec.SpecJson;
import dev.shapeshift.spec.SpecReader;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The driver's expand, run by a coordinator whose database user may not alter the source table:
 * the phase stays {@code planned}, the database's own message, its SQLState and the fix are the
 * migration's message and in the audit log, and the step is retried — once the grant is fixed the
 * next try expands and moves on. The {@code expanded} gate refuses a move that claims the expand
 * without the new shape (negative control for the gate's new-shape check).
 */
@ExtendWith({PostgresExtension.class, KafkaExtension.class})
class ExpandFailureIT {
    private static final String ADMIN = "expand-failure-admin-token-0123";

    @Test
    void aFailedExpandIsRecordedWithTheFixRetriedAndTheGateRefusesToClaimIt(PostgresServer pg, KafkaBroker kafka)
            throws Exception {
        String dbName = pg.createDatabase("expand_fail");
        Database owner = new Database(pg.jdbcUrl(dbName), pg.user(), pg.password());
        String role = "coord_" + dbName;
        CatalogSchema.migrate(owner);
        Seed.sql(owner, "CREATE TABLE public.users (id bigint PRIMARY KEY, legacy_verified_at timestamptz)",
                "INSERT INTO public.users SELECT g, CASE WHEN g % 2 = 0 THEN now() END FROM generate_series(1, 100) g",
                "CREATE ROLE " + role + " LOGIN PASSWORD 'coord'",
                "GRANT USAGE ON SCHEMA shapeshift TO " + role,
                "GRANT ALL ON ALL TABLES IN SCHEMA shapeshift TO " + role,
                "GRANT ALL ON ALL SEQUENCES IN SCHEMA shapeshift TO " + role,
                "GRANT SELECT ON public.users TO " + role);
        Database coordinatorUser = new Database(pg.jdbcUrl(dbName), role, "coord");
        String yaml = UsersSpec.yaml("users-verified");
        MigrationSpec spec = new SpecReader().read("users-verified.yaml", yaml);
        Catalog catalog = new Catalog(owner, "test");
        catalog.create(spec.name(), SpecJson.write(spec), yaml, "test");

        // Negative control: without the expand, the expanded gate refuses the move and says why.
        GateClosedException refused = org.junit.jupiter.api.Assertions.assertThrows(GateClosedException.class,
                () -> GateWiring.transitions(owner, "operator").advance(spec.name(), Phase.EXPANDED, "operator", "claim"));
        assertThat(refused.getMessage()).contains("new-shape").contains("expand DDL has not run");

        DriveConfig drive = DriveConfig.on(kafka.bootstrapServers(), 2)
                .withTick(Duration.ofMillis(300));
        try (Coordinator coordinator = Coordinator.start(new Coordinator.Config("127.0.0.1", 0, coordinatorUser, ADMIN,
                null, Duration.ofSeconds(1)).withDrive(drive), new PrometheusMeterRegistry(PrometheusConfig.DEFAULT))) {
            await().atMost(Duration.ofSeconds(60)).until(() -> catalog.get(spec.name()).message(),
                    m -> m != null && m.contains("expand failed") && m.contains("attempt 3"));
            String message = catalog.get(spec.name()).message();
            assertThat(message).contains("must be owner of table users").contains("SQLState 42501")
                    .contains("fix: give the coordinator's database user the right to run the expand DDL")
                    .contains("retrying in");
            assertThat(catalog.get(spec.name()).phase()).isEqualTo(Phase.PLANNED);
            List<AuditEntry> failures = catalog.auditLog(spec.name(), 0, 100).stream()
                    .filter(a -> a.action().equals("driver step failed: expand")).toList();
            assertThat(failures).as("audited once per distinct error, not per attempt").hasSize(1);
            assertThat(failures.get(0).reason()).contains("must be owner of table users");
            assertThat(columnExists(owner)).isFalse();

            Seed.sql(owner, "ALTER TABLE public.users OWNER TO " + role);
            await().atMost(Duration.ofSeconds(90)).until(() -> catalog.get(spec.name()).phase(),
                    p -> p.compareTo(Phase.EXPANDED) >= 0);
            assertThat(columnExists(owner)).isTrue();
        }
    }

    private static boolean columnExists(Database db) throws SQLException {
        try (Connection c = db.connect("test"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM information_schema.columns WHERE table_name = 'users' "
                     + "AND column_name = 'email_verified'")) {
            rs.next();
            return rs.getInt(1) == 1;
        }
    }
}
