package dev.shapeshift.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shapeshift.catalog.FlagStore.Flag;
import dev.shapeshift.coordinator.status.MigrationStatus;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The write-switch lines of `shapeshift status NAME`. */
class StatusCommandTest {
    @Test
    void printsDirectionFlagsMismatchesRelaxedColumnsAndWhatRollbackCanDo() {
        MigrationStatus.Writes w = new MigrationStatus.Writes("reverse", "menu.write-new",
                new Flag("menu.write-new", "menu", true, 3, "cli:ops", Instant.EPOCH), true, false, true, 7, 0,
                List.of("[\"12\"]", "[\"15\"]"), List.of("label"), false, MigrationStatus.NO_REVERSE
                + " (writes are switched: the old shape is stale)");
        assertThat(print(w)).isEqualTo("""
                  writes sync=reverse (old = reverse(new)); applications read the new shape, write only the new shape
                    write flag menu.write-new=true v3
                    dual-write mismatches 7 key(s), 0 within writes.cleanFor; latest keys ["12"] ["15"]
                    NOT NULL relaxed on label (restored, validated, if the write switch is undone)
                    no writes.reverse: rollback after the write switch is impossible (writes are switched: the old shape is stale)
                """);
    }

    @Test
    void aFlagNeverSetIsTheOldShapeAndNothingIsPrintedWithoutAWriteSwitch() {
        MigrationStatus.Writes w = new MigrationStatus.Writes("forward", "users.write-new", null, false, false, false, 0,
                0, List.of(), List.of(), true, "rollback: flags off; the old shape is authoritative");
        assertThat(print(w)).contains("write flag users.write-new not set (writes the old shape)")
                .contains("sync=forward (new = transform(old)); applications read the old shape, write the old shape")
                .doesNotContain("NOT NULL").doesNotContain("latest keys");
        assertThat(print(null)).isEmpty();
    }

    private static String print(MigrationStatus.Writes w) {
        StringWriter s = new StringWriter();
        try (PrintWriter out = new PrintWriter(s)) {
            StatusCommand.writes(out, w);
        }
        return s.toString().replace(System.lineSeparator(), "\n");
    }
}
