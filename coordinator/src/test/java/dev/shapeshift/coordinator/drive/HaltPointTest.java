package dev.shapeshift.coordinator.drive;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.shapeshift.error.ShapeshiftException;
import org.junit.jupiter.api.Test;

class HaltPointTest {
    @Test
    void offUnlessSet() {
        assertThat(HaltPoint.NONE.armed()).isFalse();
        assertThat(System.getProperty(HaltPoint.PROPERTY)).isNull();
        assertThat(HaltPoint.fromEnvironment().armed()).isFalse();
    }

    @Test
    void parsesEveryPointWithAnOptionalCount() {
        assertThat(HaltPoint.parse("p", "expand-ddl").describe()).isEqualTo("expand-ddl");
        assertThat(HaltPoint.parse("p", " Plan-Stored ").describe()).isEqualTo("plan-stored");
        assertThat(HaltPoint.parse("p", "reconcile-range:2").describe()).isEqualTo("reconcile-range");
        assertThat(HaltPoint.parse("p", "phase-reads-switched").describe()).isEqualTo("phase-reads-switched");
        assertThat(HaltPoint.parse("p", "phase-contract-ready:3").armed()).isTrue();
    }

    @Test
    void aBadValueNamesTheSettingAndTheValidPoints() {
        assertThatThrownBy(() -> HaltPoint.parse(HaltPoint.PROPERTY, "after-expand")).isInstanceOf(ShapeshiftException.class)
                .hasMessageContaining("shapeshift.fault.haltAt=after-expand: unknown point")
                .hasMessageContaining("expand-ddl, plan-stored, reconcile-range, phase-<phase>");
        assertThatThrownBy(() -> HaltPoint.parse("p", "phase-nowhere")).hasMessageContaining("unknown phase 'nowhere'");
        assertThatThrownBy(() -> HaltPoint.parse("p", "plan-stored:0")).hasMessageContaining("at least 1");
        assertThatThrownBy(() -> HaltPoint.parse("p", "plan-stored:x")).hasMessageContaining("whole number");
    }

    @Test
    void otherPointsAndOtherPhasesDoNotHalt() {
        // Reaching a point that is not the configured one returns (a halt would end this test JVM).
        HaltPoint p = HaltPoint.parse("p", "phase-reads-switched");
        p.reached(HaltPoint.Kind.EXPAND_DDL, "m");
        p.reached(HaltPoint.Kind.PHASE, "m");
        p.inPhase(dev.shapeshift.phase.Phase.VERIFIED, "m");
        HaltPoint second = HaltPoint.parse("p", "plan-stored:2");
        second.inPhase(dev.shapeshift.phase.Phase.SYNCING, "m");
        second.reached(HaltPoint.Kind.PLAN_STORED, "m"); // the first time: not yet
        assertThat(second.armed()).isTrue();
    }
}
