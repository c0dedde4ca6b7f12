package dev.shapeshift.sinks;

import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.sink.SinkProvider;
import java.io.IOException;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sink plugins this process can use: every {@link SinkProvider} found with
 * {@link ServiceLoader} on the class path and in the jars of the plugins directory.
 *
 * <p>The directory is {@code --plugins DIR}, else the environment variable
 * {@code SHAPESHIFT_PLUGINS}, else none. Its {@code *.jar} files share one class loader whose
 * parent is Shapeshift's, so a plugin sees the SPI (and must not bundle its own copy of it).
 * Loaded once per process ({@link #installed()}); two plugins with the same name are a
 * configuration error, not a silent choice.
 */
public final class SinkPlugins {
    private static final Logger log = LoggerFactory.getLogger(SinkPlugins.class);
    public static final String ENV = "SHAPESHIFT_PLUGINS";

    private static volatile SinkPlugins installed;
    private static volatile Path directory;

    private final Map<String, SinkProvider> byName;
    private final String from;

    private SinkPlugins(Map<String, SinkProvider> byName, String from) {
        this.byName = Collections.unmodifiableMap(byName);
        this.from = from;
    }

    /** Sets the plugins directory ({@code --plugins}) before the first use; later calls reload. */
    public static synchronized void useDirectory(Path dir) {
        directory = dir;
        installed = null;
    }

    /** The plugins of this process, loaded at the first call. */
    public static SinkPlugins installed() {
        SinkPlugins p = installed;
        if (p == null) {
            synchronized (SinkPlugins.class) {
                if (installed == null) {
                    Path dir = directory;
                    if (dir == null && System.getenv(ENV) != null && !System.getenv(ENV).isBlank()) {
                        dir = Path.of(System.getenv(ENV));
                    }
                    installed = load(dir, SinkPlugins.class.getClassLoader());
                }
                p = installed;
            }
        }
        return p;
    }

    /** Loads the providers visible to {@code parent} plus those in {@code dir}'s jars (dir may be null). */
    public static SinkPlugins load(Path dir, ClassLoader parent) {
        ClassLoader loader = parent;
        String from = "the class path";
        if (dir != null) {
            if (!Files.isDirectory(dir)) {
                throw new ShapeshiftException(ErrorCode.CONFIG_INVALID, "plugins directory " + dir.toAbsolutePath()
                        + " does not exist — create it and put sink plugin jars in it, or fix --plugins / " + ENV);
            }
            loader = new URLClassLoader("shapeshift-plugins", jars(dir), parent);
            from = "the class path and " + dir.toAbsolutePath();
        }
        Map<String, SinkProvider> byName = new TreeMap<>();
        try {
            for (SinkProvider p : ServiceLoader.load(SinkProvider.class, loader)) {
                SinkProvider before = byName.putIfAbsent(p.name(), p);
                if (before != null && before.getClass() != p.getClass()) {
                    throw new ShapeshiftException(ErrorCode.CONFIG_INVALID, "two sink plugins are named '" + p.name()
                            + "': " + before.getClass().getName() + " and " + p.getClass().getName()
                            + " — remove one of the jars from " + from);
                }
            }
        } catch (ServiceConfigurationError e) {
            throw new ShapeshiftException(ErrorCode.CONFIG_INVALID, "a sink plugin in " + from + " cannot be loaded: "
                    + e.getMessage() + " — check the jar's META-INF/services/" + SinkProvider.class.getName(), e);
        }
        log.info("sink plugins loaded from={} names={}", from, byName.keySet());
        return new SinkPlugins(byName, from);
    }

    private static URL[] jars(Path dir) {
        try (Stream<Path> files = Files.list(dir)) {
            List<URL> urls = new ArrayList<>();
            for (Path f : files.filter(f -> f.getFileName().toString().endsWith(".jar")).sorted().toList()) {
                urls.add(f.toUri().toURL());
            }
            return urls.toArray(URL[]::new);
        } catch (MalformedURLException e) {
            throw new IllegalStateException(e);
        } catch (IOException e) {
            throw new ShapeshiftException(ErrorCode.CONFIG_INVALID, "cannot list plugins directory " + dir + ": " + e.getMessage(), e);
        }
    }

    public Optional<SinkProvider> find(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    /** The provider, or {@link ErrorCode#SPEC_INVALID} naming the plugins found. */
    public SinkProvider require(String name) {
        return find(name).orElseThrow(() -> new ShapeshiftException(ErrorCode.SPEC_INVALID,
                "no sink plugin named '" + name + "' in " + from + " (found: " + names() + ")"));
    }

    /** The names found, sorted, or "none". */
    public String names() {
        return byName.isEmpty() ? "none" : String.join(", ", byName.keySet());
    }

    /** Where plugins were looked for, for messages. */
    public String from() {
        return from;
    }
}
