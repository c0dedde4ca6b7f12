package dev.shapeshift.coordinator.drive;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.phase.Phase;
import org.junit.jupiter.api.Test;

class HaltPointTest {
    @Test
    void offUnlessSet() {
        assertThat(HaltPoint.NONE.armed()).isFalse();
        assertThat(System.getProperty(HaltPoint.PROPERTY)).isNull();
        assertThat(HaltPoint.fromEnvironment(null, "test").armed()).isFalse();
    }

    @Test
    void parsesEveryPointWithAnOptionalCount() {
        assertThat(parse("expand-ddl").describe()).isEqualTo("expand-ddl");
        assertThat(parse(" Plan-Stored ").describe()).isEqualTo("plan-stored");
        assertThat(parse("reconcile-range:2").describe()).isEqualTo("reconcile-range:2");
        assertThat(parse("phase-reads-switched").describe()).isEqualTo("phase-reads-switched");
        assertThat(parse("expand-ddl, plan-stored,reconcile-range:2,phase-contract-ready:3").describe())
                .isEqualTo("expand-ddl,plan-stored,reconcile-range:2,phase-contract-ready:3");
    }

    @Test
    void aBadValueNamesTheSettingAndTheValidPoints() {
        assertThatThrownBy(() -> HaltPoint.parse(HaltPoint.PROPERTY, "after-expand", null, "test"))
                .isInstanceOf(ShapeshiftException.class)
                .hasMessageContaining("shapeshift.fault.haltAt=after-expand: unknown point 'after-expand'")
                .hasMessageContaining("expand-ddl, plan-stored, reconcile-range, phase-<phase>")
                .satisfies(e -> assertThat(((dev.shapeshift.error.ShapeshiftException) e).code())
                        .isEqualTo(dev.shapeshift.error.ErrorCode.CONFIG_INVALID));
        assertThatThrownBy(() -> parse("phase-nowhere")).hasMessageContaining("unknown phase 'nowhere'");
        assertThatThrownBy(() -> parse("plan-stored:0")).hasMessageContaining("at least 1");
        assertThatThrownBy(() -> parse("plan-stored:x")).hasMessageContaining("whole number");
        assertThatThrownBy(() -> parse("expand-ddl,,plan-stored")).hasMessageContaining("unknown point ''");
    }

    @Test
    void otherPointsOtherPhasesAndEarlierCountsDoNotHalt() {
        // A halt would end this JVM (and the catalog, null here, would be touched first): returning is the check.
        HaltPoint p = parse("phase-reads-switched,plan-stored:2");
        p.reached(HaltPoint.Kind.EXPAND_DDL, "m");
        p.reached(HaltPoint.Kind.PHASE, "m");
        p.inPhase(Phase.VERIFIED, "m");
        p.inPhase(Phase.SYNCING, "m");
        p.reached(HaltPoint.Kind.PLAN_STORED, "m"); // the first time of two
        assertThat(p.armed()).isTrue();
    }

    private static HaltPoint parse(String value) {
        return HaltPoint.parse("p", value, null, "test");
    }
}
