package dev.shapeshift.coordinator.register;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shapeshift.coordinator.register.SpecDiff.Difference;
import dev.shapeshift.spec.MigrationSpec;
import dev.shapeshift.spec.SpecJson;
import dev.shapeshift.spec.SpecReader;
import java.util.List;
import org.junit.jupiter.api.Test;

class SpecDiffTest {
    private static final String BASE = """
            name: m
            source:
              table: users
            target:
              columns:
                - name: a
                  type: boolean
                  transform: x IS NOT NULL
            """;

    private static MigrationSpec spec(String yaml) {
        return new SpecReader().read("m.yaml", yaml);
    }

    @Test
    void explicitDefaultsAndTheStoredJsonFormCompareEqual() {
        MigrationSpec given = spec(BASE + "mode: in-place\n"
                + "backfill:\n  chunkRows: 50000\n  targetTransaction: 300ms\n");
        assertThat(SpecDiff.between(SpecJson.read(SpecJson.write(spec(BASE))), given)).isEmpty();
    }

    @Test
    void namesEveryDifferingLeafWithBothValues() {
        List<Difference> d = SpecDiff.between(spec(BASE), spec(BASE.replace("x IS NOT NULL", "y")
                + "    - name: b\n      type: int\n      transform: \"1\"\ncontract:\n  dropColumns: [x]\n"));
        assertThat(d).extracting(Difference::describe).containsExactly(
                "contract.dropColumns[0] ((none) → \"x\")",
                "target.columns[0].transform (\"x IS NOT NULL\" → \"y\")",
                "target.columns[1] ((none) → {\"name\":\"b\",\"type\":\"int\",\"transform\":\"1\"})");
        assertThat(SpecDiff.onlyLiveKnobs(d)).isFalse();
    }

    @Test
    void theBackfillRateCapIsALiveKnobAndNothingElseIs() {
        List<Difference> knob = SpecDiff.between(spec(BASE), spec(BASE + "backfill:\n  maxRowsPerSecond: 100\n"));
        assertThat(knob).extracting(Difference::path).containsExactly("backfill.maxRowsPerSecond");
        assertThat(SpecDiff.onlyLiveKnobs(knob)).isTrue();
        List<Difference> mixed = SpecDiff.between(spec(BASE), spec(BASE + "backfill:\n  maxRowsPerSecond: 100\n  chunkRows: 20000\n"));
        assertThat(SpecDiff.onlyLiveKnobs(mixed)).isFalse();
        assertThat(SpecDiff.onlyLiveKnobs(List.of())).isFalse();
    }
}
