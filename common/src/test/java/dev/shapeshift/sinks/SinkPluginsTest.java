package dev.shapeshift.sinks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.sink.SinkProvider;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Plugins come from the class path and from the jars of the plugins directory, found with ServiceLoader. */
class SinkPluginsTest {

    @Test
    void aPluginJarInThePluginsDirectoryIsFoundBesidesTheClassPath(@TempDir Path tmp) throws Exception {
        Path plugins = Files.createDirectories(tmp.resolve("plugins"));
        writePluginJar(tmp, plugins.resolve("echo-sink.jar"));
        SinkPlugins found = SinkPlugins.load(plugins, getClass().getClassLoader());
        assertThat(found.names()).isEqualTo("echo, memory");
        SinkProvider echo = found.require("echo");
        assertThat(echo.getClass().getClassLoader()).isNotSameAs(getClass().getClassLoader());
        assertThat(echo.validate(java.util.Map.of("x", "1"))).singleElement()
                .satisfies(p -> assertThat(p.setting()).isEqualTo("x"));
        assertThatThrownBy(() -> found.require("elastic")).isInstanceOfSatisfying(ShapeshiftException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.SPEC_INVALID);
            assertThat(e.getMessage()).contains("no sink plugin named 'elastic'").contains("(found: echo, memory)");
        });
    }

    @Test
    void aMissingPluginsDirectoryIsAConfigurationError(@TempDir Path tmp) {
        assertThatThrownBy(() -> SinkPlugins.load(tmp.resolve("nope"), getClass().getClassLoader()))
                .isInstanceOfSatisfying(ShapeshiftException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.CONFIG_INVALID);
                    assertThat(e.getMessage()).contains("does not exist").contains("SHAPESHIFT_PLUGINS");
                });
    }

    /** Compiles a one-class provider against the SPI and packs it as a plugin jar with its services file. */
    private static void writePluginJar(Path work, Path jar) throws Exception {
        Path src = Files.createDirectories(work.resolve("src/echo"));
        Files.writeString(src.resolve("EchoProvider.java"), """
                package echo;
                import dev.shapeshift.sink.*;
                import java.util.*;
                public final class EchoProvider implements SinkProvider {
                    public String name() { return "echo"; }
                    public List<SettingProblem> validate(Map<String, String> s) {
                        List<SettingProblem> out = new ArrayList<>();
                        s.keySet().forEach(k -> out.add(new SettingProblem(k, "unknown setting", "remove it")));
                        return out;
                    }
                    public Sink create(SinkContext c) { throw new UnsupportedOperationException(); }
                }
                """);
        Path classes = Files.createDirectories(work.resolve("classes"));
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        int rc = javac.run(null, null, null, "-d", classes.toString(), "-cp", System.getProperty("java.class.path"),
                src.resolve("EchoProvider.java").toString());
        assertThat(rc).as("javac").isZero();
        try (OutputStream out = Files.newOutputStream(jar); JarOutputStream j = new JarOutputStream(out)) {
            j.putNextEntry(new JarEntry("echo/EchoProvider.class"));
            j.write(Files.readAllBytes(classes.resolve("echo/EchoProvider.class")));
            j.closeEntry();
            j.putNextEntry(new JarEntry("META-INF/services/" + SinkProvider.class.getName()));
            j.write("echo.EchoProvider\n".getBytes(StandardCharsets.UTF_8));
            j.closeEntry();
        }
    }
}
