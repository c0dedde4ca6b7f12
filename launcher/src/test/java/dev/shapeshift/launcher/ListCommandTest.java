package dev.shapeshift.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shapeshift.catalog.MigrationRecord;
import dev.shapeshift.phase.Phase;
import dev.shapeshift.phase.PhasePlan;
import dev.shapeshift.spec.WriteOrder;
import dev.shapeshift.spec.Writes;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What `shapeshift list` derives from the phase alone. */
class ListCommandTest {
    private static final PhasePlan PLAIN = PhasePlan.of(Writes.none());
    private static final PhasePlan DUAL_FIRST = PhasePlan.of(new Writes(true, null, null, null, null, null, null, null));
    private static final PhasePlan READS_FIRST = PhasePlan.of(new Writes(true, WriteOrder.READS_FIRST, null, null, null,
            null, null, null));

    @Test
    void onlyTheReadSwitchAndTheContractWaitForApproval() {
        List<Phase> approvals = Arrays.stream(Phase.values()).filter(p -> ListCommand.approval(p, PLAIN)).toList();
        assertThat(approvals).containsExactly(Phase.VERIFIED, Phase.CONTRACT_READY);
        assertThat(ListCommand.waitingFor(Phase.VERIFIED, "m", PLAIN)).startsWith("read switch (unless switch.approval: auto)")
                .contains("shapeshift phase advance m --to reads-switched");
        assertThat(ListCommand.waitingFor(Phase.CONTRACT_READY, "m", PLAIN)).contains("shapeshift contract m");
        assertThat(ListCommand.waitingFor(Phase.READS_SWITCHED, "m", PLAIN)).startsWith("contract evidence");
        assertThat(ListCommand.waitingFor(Phase.ROLLED_BACK, "m", PLAIN)).isEqualTo("nothing (finished)");
    }

    @Test
    void withAWriteSwitchEveryMoveTheApplicationMustFollowWaitsForApproval() {
        assertThat(Arrays.stream(Phase.values()).filter(p -> ListCommand.approval(p, DUAL_FIRST)).toList())
                .containsExactly(Phase.VERIFIED, Phase.DUAL_WRITES, Phase.READS_SWITCHED, Phase.CONTRACT_READY);
        assertThat(ListCommand.waitingFor(Phase.VERIFIED, "m", DUAL_FIRST)).startsWith("dual writes (deploy the application")
                .endsWith("shapeshift phase advance m --to dual-writes --reason …");
        assertThat(ListCommand.waitingFor(Phase.DUAL_WRITES, "m", DUAL_FIRST)).startsWith("read switch")
                .contains("writes.cleanFor without a dual-write mismatch").contains("--to reads-switched");
        assertThat(ListCommand.waitingFor(Phase.READS_SWITCHED, "m", DUAL_FIRST)).startsWith("write switch")
                .contains("--to writes-switched");
        assertThat(ListCommand.waitingFor(Phase.WRITES_SWITCHED, "m", DUAL_FIRST)).startsWith("contract evidence");
        // reads first: verified -> reads-switched -> dual-writes -> writes-switched
        assertThat(ListCommand.waitingFor(Phase.VERIFIED, "m", READS_FIRST)).contains("--to reads-switched");
        assertThat(ListCommand.waitingFor(Phase.READS_SWITCHED, "m", READS_FIRST)).contains("--to dual-writes");
        assertThat(ListCommand.waitingFor(Phase.DUAL_WRITES, "m", READS_FIRST)).startsWith("write switch")
                .contains("--to writes-switched");
    }

    @Test
    void timeInPhaseIsCountedFromTheLastPhaseChange() {
        Instant now = Instant.parse("2026-01-02T10:00:00Z");
        MigrationRecord m = new MigrationRecord("m", "{}", "", Phase.BACKFILLING, null, 3, null, null,
                now.minusSeconds(90_000), now, now.minusSeconds(3 * 3600 + 125));
        ListCommand.Row row = ListCommand.rows(List.of(m), now).get(0);
        assertThat(row.secondsInPhase()).isEqualTo(3 * 3600 + 125);
        assertThat(ListCommand.age(row.secondsInPhase())).isEqualTo("3h 2m");
        assertThat(ListCommand.age(59)).isEqualTo("59s");
        assertThat(ListCommand.age(61)).isEqualTo("1m");
        assertThat(ListCommand.age(2 * 86400 + 5 * 3600)).isEqualTo("2d 5h");
    }
}
