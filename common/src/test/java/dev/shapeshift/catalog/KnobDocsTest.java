package dev.shapeshift.catalog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** docs/throttling.md's table of live knobs is exactly the registry: names, defaults, meanings. */
class KnobDocsTest {
    private static final Path DOC = Path.of("..", "docs", "throttling.md");

    @Test
    void theDocsListEveryKnobAndNoOther() throws IOException {
        String doc = Files.readString(DOC);
        for (Knob k : Knob.values()) {
            assertThat(doc).as("docs/throttling.md row of %s", k.key())
                    .contains("| `" + k.key() + "` | " + k.defaultText() + " | " + k.meaning() + " |");
        }
        String table = doc.substring(doc.indexOf("| knob | default | meaning |"));
        table = table.substring(0, table.indexOf("\n\n"));
        Matcher m = Pattern.compile("(?m)^\\| `([a-z-]+)` \\|").matcher(table);
        List<String> documented = m.results().map(r -> r.group(1)).toList();
        assertThat(documented).containsExactlyElementsOf(List.of(Knob.values()).stream().map(Knob::key).toList());
    }

    @Test
    void valuesAreCheckedWithTheKnobNamedInTheError() {
        assertThat(Knob.MAX_ACTIVE_BACKENDS.normalise(" 30 ")).isEqualTo("30");
        assertThat(Knob.PAUSED.normalise("TRUE")).isEqualTo("true");
        assertThatThrownBy(() -> Knob.MAX_APP_LATENCY_MS.normalise("-1"))
                .hasMessage("max-app-latency-ms=-1: write a whole number ≥ 0 (0 = off)");
        assertThatThrownBy(() -> Knob.PAUSED.normalise("yes")).hasMessage("paused=yes: write true or false");
        assertThat(Knob.values()).extracting(Knob::jsonName)
                .containsExactly("paused", "maxRowsPerSecond", "maxActiveBackends", "maxAppLatencyMs",
                        "maxAppLatencyPct", "appLatencyBaselineUs", "reindexAbovePct");
        assertThat(Knob.settable()).extracting(Knob::key)
                .containsExactly("max-rows-per-second", "max-active-backends", "max-app-latency-ms",
                        "max-app-latency-pct", "app-latency-baseline-us", "reindex-above-pct");
    }
}
