package dev.shapeshift.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** shapeshift-all.jar's CLI: the runtime commands plus demo and bench, found as {@link ExtraCommand} services. */
class AllInOneCliTest {
    @TempDir
    Path home;

    private static void collect(CommandLine c, List<String> cut) {
        String[] description = c.getCommandSpec().usageMessage().description();
        String shown = description.length == 0 ? "" : description[0].strip();
        if (!shown.matches(".*[.)]$")) {
            cut.add(c.getCommandSpec().qualifiedName() + ": '" + shown + "'");
        }
        c.getSubcommands().values().forEach(sub -> collect(sub, cut));
    }

    @Test
    void theCommandListShowsTheDemoInWholeSentences() {
        CommandLine cli = Main.commandLine(Map.of(), home);
        assertThat(cli.getSubcommands()).containsKeys("demo", "bench", "coordinator", "run");
        List<String> cut = new ArrayList<>();
        collect(cli, cut);
        assertThat(cut).as("the first description line, which the command list shows, ends a sentence").isEmpty();
        StringWriter out = new StringWriter();
        cli.setOut(new PrintWriter(out));
        assertThat(cli.execute("--help")).isZero();
        assertThat(out.toString().replaceAll("\\s+", " ")).contains("while an application writes:")
                .contains("exits 0 only if target = transform(source).");
    }
}
