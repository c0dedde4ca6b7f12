package dev.shapeshift.coordinator.contract;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.coordinator.Seed;
import dev.shapeshift.coordinator.contract.AwaitingContract.Awaiting;
import dev.shapeshift.db.Database;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.phase.Phase;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Migrations awaiting their contract, from the catalog: the read switch time from the audited
 * transition (backdated here by two days), the deadline from the spec, and the gauges.
 */
@ExtendWith(PostgresExtension.class)
class AwaitingContractIT {
    @Test
    void pastDeadlineIsCountedFromTheReadSwitch(PostgresServer pg) throws Exception {
        Database db = Seed.database(pg, "awaiting");
        Catalog catalog = new Catalog(db, "test");
        register(catalog, "late", "\"deadline\":\"1d\"", Phase.READS_SWITCHED);
        register(catalog, "in-time", "\"deadline\":\"7d\"", Phase.CONTRACT_READY);
        register(catalog, "no-deadline", "\"quietPeriod\":\"1h\"", Phase.READS_SWITCHED);
        register(catalog, "still-syncing", "\"deadline\":\"1s\"", Phase.SYNCING);
        // The read switch happened two days ago (the audit entry is the record of it).
        Seed.sql(db, "UPDATE shapeshift.audit SET at = now() - interval '2 days' WHERE to_phase = 'reads-switched'");

        List<Awaiting> all = AwaitingContract.read(db);
        assertThat(all).extracting(Awaiting::migration).containsExactly("in-time", "late", "no-deadline");
        Awaiting late = all.get(1);
        assertThat(late.phase()).isEqualTo("reads-switched");
        assertThat(late.awaiting()).isBetween(Duration.ofDays(2), Duration.ofDays(2).plusMinutes(10));
        assertThat(late.dueAt()).isEqualTo(late.readsSwitchedAt().plus(Duration.ofDays(1)));
        assertThat(late.pastDeadline()).isTrue();
        assertThat(all.get(0).phase()).isEqualTo("contract-ready");
        assertThat(all.get(0).awaiting()).as("counted from the read switch, not from contract-ready")
                .isGreaterThanOrEqualTo(Duration.ofDays(2));
        assertThat(all.get(0).pastDeadline()).isFalse();
        assertThat(all.get(2).dueAt()).isNull();
        assertThat(all.get(2).pastDeadline()).isFalse();

        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        ContractMetrics metrics = new ContractMetrics(registry);
        metrics.update(all);
        assertThat(registry.get("shapeshift.contract.past.deadline").tag("migration", "late").gauge().value()).isEqualTo(1.0);
        assertThat(registry.get("shapeshift.contract.past.deadline").tag("migration", "in-time").gauge().value()).isZero();
        assertThat(registry.get("shapeshift.contract.awaiting.seconds").tag("migration", "late").gauge().value())
                .isGreaterThanOrEqualTo(2 * 86400.0);

        catalog.transition("late", Phase.READS_SWITCHED, Phase.ROLLED_BACK, "test", "gave up");
        metrics.update(AwaitingContract.read(db));
        assertThat(registry.get("shapeshift.contract.past.deadline").tag("migration", "late").gauge().value()).isZero();
        assertThat(registry.get("shapeshift.contract.awaiting.seconds").tag("migration", "late").gauge().value()).isNaN();
    }

    /** A migration moved through the audited transitions up to {@code to}. */
    static void register(Catalog catalog, String name, String contract, Phase to) {
        catalog.create(name, "{\"name\":\"" + name + "\",\"contract\":{" + contract + "}}", "test", "test");
        Phase p = Phase.PLANNED;
        for (Phase next : List.of(Phase.EXPANDED, Phase.SYNCING, Phase.BACKFILLING, Phase.BACKFILLED, Phase.VERIFIED,
                Phase.READS_SWITCHED, Phase.CONTRACT_READY)) {
            if (p == to) {
                return;
            }
            catalog.transition(name, p, next, "test", "seeding");
            p = next;
        }
    }
}
