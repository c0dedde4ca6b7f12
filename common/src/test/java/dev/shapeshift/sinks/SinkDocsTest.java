package dev.shapeshift.sinks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.shapeshift.sink.PermanentSinkException;
import dev.shapeshift.sink.Sink;
import dev.shapeshift.sink.SinkColumn;
import dev.shapeshift.sink.SinkContext;
import dev.shapeshift.sink.SinkKey;
import dev.shapeshift.sink.SinkProvider;
import dev.shapeshift.sink.SinkRow;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * docs/sinks.md's complete example is real: its code block is compiled against the SPI, packed as
 * a plugin jar with its services file, loaded from a plugins directory, and behaves as the page says.
 */
class SinkDocsTest {
    private static final Path DOC = Path.of("..", "docs", "sinks.md");

    @Test
    void theCompleteExampleCompilesLoadsAsAPluginAndKeepsTheVersionRule(@TempDir Path tmp) throws Exception {
        Matcher m = Pattern.compile("## A complete example.*?```java\\n(.*?)```", Pattern.DOTALL).matcher(Files.readString(DOC));
        assertThat(m.find()).as("the example's code block").isTrue();
        Path src = Files.createDirectories(tmp.resolve("src/com/example/shapeshift")).resolve("FileCacheSinkProvider.java");
        Files.writeString(src, m.group(1));
        Path classes = Files.createDirectories(tmp.resolve("classes"));
        assertThat(ToolProvider.getSystemJavaCompiler().run(null, null, null, "-d", classes.toString(), "-cp",
                System.getProperty("java.class.path"), src.toString())).as("javac").isZero();
        Path plugins = Files.createDirectories(tmp.resolve("plugins"));
        try (OutputStream out = Files.newOutputStream(plugins.resolve("file-cache.jar")); JarOutputStream jar = new JarOutputStream(out);
             Stream<Path> files = Files.walk(classes)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                jar.putNextEntry(new JarEntry(classes.relativize(f).toString().replace('\\', '/')));
                jar.write(Files.readAllBytes(f));
                jar.closeEntry();
            }
            jar.putNextEntry(new JarEntry("META-INF/services/" + SinkProvider.class.getName()));
            jar.write("com.example.shapeshift.FileCacheSinkProvider\n".getBytes(StandardCharsets.UTF_8));
            jar.closeEntry();
        }

        SinkProvider p = SinkPlugins.load(plugins, getClass().getClassLoader()).require("file-cache");
        assertThat(p.validate(Map.of("dir", "relative/x", "colour", "red"))).extracting(s -> s.setting())
                .containsExactlyInAnyOrder("colour", "dir");
        Path dir = tmp.resolve("cache");
        Map<String, String> settings = Map.of("dir", dir.toString(), "maxValueBytes", "10");
        assertThat(p.validate(settings)).isEmpty();
        SinkContext ctx = new SinkContext("menu", List.of("region", "n"),
                List.of(new SinkColumn("title", ""), new SinkColumn("note", "text")), settings);
        SinkKey a = SinkKey.of("eu/west", "1");
        SinkKey b = SinkKey.of("eu", "2");
        try (Sink sink = p.create(ctx)) {
            sink.apply(List.of(live(a, 5, "five"), live(b, 3, "three")));
            sink.apply(List.of(live(a, 4, "four"), SinkRow.tombstone(b, 7))); // a: late and older; b: deleted
            sink.apply(List.of(live(b, 6, "six"))); // late and older than the tombstone: no resurrection
            Map<SinkKey, SinkRow> held = new HashMap<>();
            sink.read(List.of(a, b, SinkKey.of("x", "9"))).forEach(r -> held.put(r.key(), r));
            assertThat(held).containsOnlyKeys(a, b);
            assertThat(held.get(a).version()).isEqualTo(5);
            assertThat(held.get(a).values()).containsEntry("title", "five").containsEntry("note", null);
            assertThat(held.get(b).isTombstone()).isTrue();
            assertThat(sink.scans()).isTrue();
            assertThat(sink.scan(null, 10).keys()).containsExactly(a);

            assertThatThrownBy(() -> sink.apply(List.of(live(b, 9, "far too long a value"), live(a, 9, "nine"))))
                    .isInstanceOfSatisfying(PermanentSinkException.class, e -> assertThat(e.keys()).containsExactly(b));
            assertThat(sink.read(List.of(a)).get(0).values()).containsEntry("title", "nine");
        }
    }

    private static SinkRow live(SinkKey k, long version, String title) {
        Map<String, String> v = new java.util.LinkedHashMap<>();
        v.put("title", title);
        v.put("note", null);
        return SinkRow.upsert(k, version, v);
    }
}
