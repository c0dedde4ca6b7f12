package dev.shapeshift.coordinator.contract;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shapeshift.catalog.MigrationRecord;
import dev.shapeshift.coordinator.gate.Check;
import dev.shapeshift.phase.Phase;
import dev.shapeshift.spec.MigrationSpec;
import dev.shapeshift.spec.SpecJson;
import dev.shapeshift.spec.SpecReader;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The contract gate's other-migrations check: a drop that another live migration still reads stays closed. */
class OtherReadersTest {
    private static MigrationRecord record(String yaml, Phase phase) {
        MigrationSpec spec = new SpecReader().read("x.yaml", yaml);
        return new MigrationRecord(spec.name(), SpecJson.write(spec), yaml, phase, null, 1, null, null,
                Instant.EPOCH, Instant.EPOCH, Instant.EPOCH);
    }

    private static final String DROPS_LABEL = """
            name: menu-key
            source: {table: menu_items}
            target:
              columns:
                - {name: translate_key, type: text, transform: "lower(label)"}
            contract: {dropColumns: [label]}
            """;

    private static String reader(String name, String transform) {
        return """
                name: %s
                source: {table: menu_items}
                target:
                  columns:
                    - {name: other, type: text, transform: "%s"}
                """.formatted(name, transform);
    }

    @Test
    void aLiveMigrationWhoseTransformReadsTheDroppedColumnKeepsTheGateClosed() {
        MigrationRecord mine = record(DROPS_LABEL, Phase.CONTRACT_READY);
        MigrationRecord sinkLike = record(reader("menu-seed", "upper(\\\"label\\\")"), Phase.BACKFILLING);
        Check c = OtherReaders.check(OldShape.of(mine), List.of(mine, sinkLike));
        assertThat(c.passed()).isFalse();
        assertThat(c.evidence()).contains("migration menu-seed (backfilling) reads menu_items.label in the transform of other")
                .contains("contract or roll back that migration first");
    }

    @Test
    void finishedMigrationsOtherTablesAndLookalikeNamesDoNotCount() {
        MigrationRecord mine = record(DROPS_LABEL, Phase.CONTRACT_READY);
        List<MigrationRecord> all = List.of(mine,
                record(reader("done", "label"), Phase.CONTRACTED),
                record(reader("gone", "label"), Phase.ROLLED_BACK),
                record(reader("lookalike", "label_key || labels"), Phase.SYNCING),
                record("""
                        name: elsewhere
                        source: {table: orders}
                        target:
                          columns:
                            - {name: other, type: text, transform: "label"}
                        """, Phase.SYNCING));
        assertThat(OtherReaders.check(OldShape.of(mine), all).passed()).isTrue();
    }

    @Test
    void aContractThatDropsNothingPasses() {
        MigrationRecord mine = record(reader("keeps", "lower(label)"), Phase.CONTRACT_READY);
        assertThat(OtherReaders.check(OldShape.of(mine), List.of(mine, record(reader("r", "label"), Phase.SYNCING))))
                .matches(Check::passed);
    }
}
