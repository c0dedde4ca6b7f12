package dev.shapeshift.coordinator.reconcile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.shapeshift.spec.Column;
import dev.shapeshift.spec.MigrationSpec;
import dev.shapeshift.spec.Mode;
import dev.shapeshift.spec.ResolvedSpec;
import dev.shapeshift.spec.SpecBuilder;
import dev.shapeshift.spec.TargetColumn;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Pure rules of reconcile: pacing, progress, LSN order, normalisation in the rendered SQL. */
class ReconcileRulesTest {

    @Test
    void pacerSleepsTheDifferenceToTheCap() {
        Pacer p = new Pacer(1000);
        assertThat(p.pauseAfter(500, Duration.ofMillis(100))).isEqualTo(Duration.ofMillis(400));
        assertThat(p.pauseAfter(500, Duration.ofMillis(700))).isZero();
        assertThat(new Pacer(0).pauseAfter(1_000_000, Duration.ZERO)).as("0 = no cap").isZero();
        assertThatThrownBy(() -> new Pacer(-1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void progressIsCappedUntilFinishedAndEtaFollowsTheRate() {
        Progress half = new Progress(500, 1000, false, Duration.ofSeconds(10));
        assertThat(half.fraction()).isEqualTo(0.5);
        assertThat(half.eta()).isEqualTo(Duration.ofSeconds(10));
        assertThat(new Progress(5000, 1000, false, Duration.ofSeconds(10)).fraction())
                .as("statistics underestimate: never 1 before the end").isEqualTo(0.99);
        assertThat(new Progress(10, 0, false, Duration.ofSeconds(1)).eta()).as("no estimate").isNull();
        assertThat(new Progress(10, 0, true, Duration.ofSeconds(1)).fraction()).isEqualTo(1.0);
    }

    @Test
    void lsnPositionsCompareAsNumbersNotText() {
        assertThat(SyncProgress.position("0/16B3748")).isEqualTo(0x16B3748L);
        assertThat(SyncProgress.position("1/0")).isGreaterThan(SyncProgress.position("0/FFFFFFFF"));
        assertThat(SyncProgress.position("0/A")).isGreaterThan(SyncProgress.position("0/9"));
        assertThatThrownBy(() -> SyncProgress.position("16B3748")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void transformIsCastToTheActualTargetTypeAndJsonComparedAsJsonb() {
        ResolvedSpec resolved = spec(Mode.TABLE);
        DiffSql sql = new DiffSql(resolved, Map.of("price", "numeric(10,2)", "doc", "json"));
        String text = sql.forRange(true, false);
        assertThat(text).contains("((price / 3))::numeric(10,2) AS __v0");
        assertThat(text).contains("((json_build_object('a', a)))::json)::jsonb AS __v1");
        assertThat(text).contains("(\"public\".\"tgt\".\"doc\")::jsonb AS __v1");
        assertThat(text).contains("FULL JOIN (SELECT").contains(") t ON s.__k0 = t.__k0");
        assertThat(text).as("not a CTE: a CTE read twice is materialised").doesNotContain("WITH ");
        assertThat(text).doesNotContain("FOR SHARE").doesNotContain("FOR UPDATE");
    }

    @Test
    void inPlaceComparesNewColumnsWithTheTransformInTheSameRow() {
        DiffSql sql = new DiffSql(spec(Mode.IN_PLACE), Map.of("price", "numeric(10,2)", "doc", "jsonb"));
        String text = sql.forKeys();
        assertThat(text).contains("(\"public\".\"src\".\"price\", \"public\".\"src\".\"doc\", NULL) IS DISTINCT FROM "
                + "(((price / 3))::numeric(10,2), ((json_build_object('a', a)))::jsonb, NULL)");
        assertThat(text).doesNotContain("FULL JOIN");
    }

    private static ResolvedSpec spec(Mode mode) {
        List<TargetColumn> columns = List.of(new TargetColumn("price", null, "price / 3"),
                new TargetColumn("doc", null, "json_build_object('a', a)"));
        MigrationSpec spec = SpecBuilder.spec("m").source("public", "src", "id").mode(mode)
                .target("public", mode == Mode.TABLE ? "tgt" : null, columns).build();
        return new ResolvedSpec(spec, List.of(new Column("id", "bigint")), List.of(new Column("id", "bigint")));
    }
}
