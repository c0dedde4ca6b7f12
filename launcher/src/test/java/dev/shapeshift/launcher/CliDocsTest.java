package dev.shapeshift.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shapeshift.error.ErrorCode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** docs/cli.md says what the command line does: its exit-code table is {@link ErrorCode}. */
class CliDocsTest {
    static final Path DOCS = Path.of("..", "docs");

    @Test
    void everyErrorCodeIsInTheExitCodeTableWithItsExitCode() throws IOException {
        String cli = Files.readString(DOCS.resolve("cli.md"));
        String table = cli.substring(cli.indexOf("## Exit codes"), cli.indexOf("\n## ", cli.indexOf("## Exit codes") + 1));
        Map<String, Integer> documented = new LinkedHashMap<>();
        for (String row : table.lines().filter(l -> l.matches("\\| \\d+ \\|.*")).toList()) {
            String[] cells = row.split("\\|");
            int code = Integer.parseInt(cells[1].strip());
            for (String name : cells[2].split(",")) {
                if (!name.isBlank()) {
                    documented.put(name.strip().replace("`", ""), code);
                }
            }
        }
        Map<String, Integer> actual = new LinkedHashMap<>();
        Arrays.stream(ErrorCode.values()).forEach(c -> actual.put(c.name(), c.exitCode()));
        assertThat(documented).isEqualTo(actual);
        List<Integer> rows = table.lines().filter(l -> l.matches("\\| \\d+ \\|.*"))
                .map(l -> Integer.parseInt(l.split("\\|")[1].strip())).toList();
        assertThat(rows).as("every exit code once, in order").isSorted().doesNotHaveDuplicates();
    }
}
