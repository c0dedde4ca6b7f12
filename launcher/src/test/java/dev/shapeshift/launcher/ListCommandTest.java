package dev.shapeshift.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shapeshift.catalog.MigrationRecord;
import dev.shapeshift.phase.Phase;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What `shapeshift list` derives from the phase alone. */
class ListCommandTest {
    @Test
    void onlyTheReadSwitchAndTheContractWaitForApproval() {
        List<Phase> approvals = Arrays.stream(Phase.values()).filter(ListCommand::approval).toList();
        assertThat(approvals).containsExactly(Phase.VERIFIED, Phase.CONTRACT_READY);
        assertThat(ListCommand.waitingFor(Phase.VERIFIED, "m")).startsWith("read switch (unless switch.approval: auto)")
                .contains("shapeshift phase advance m --to reads-switched");
        assertThat(ListCommand.waitingFor(Phase.CONTRACT_READY, "m")).contains("shapeshift contract m");
        assertThat(ListCommand.waitingFor(Phase.READS_SWITCHED, "m")).startsWith("contract evidence");
        assertThat(ListCommand.waitingFor(Phase.ROLLED_BACK, "m")).isEqualTo("nothing (finished)");
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
