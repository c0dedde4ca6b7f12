package dev.shapeshift.embedded;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLConnection;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fetches the zonky binaries jar of a platform that is not on the classpath (a laptop running the
 * launcher built with the Linux x86_64 jar) from a Maven repository into a cache directory, once.
 *
 * <p>The jar is accepted only if its SHA-1 equals the repository's {@code .sha1} file; it is
 * written to a scratch file and renamed into place, so concurrent JVMs and interrupted downloads
 * never leave a partial jar under the final name. A cached jar is checked again against the
 * {@code .sha1} kept next to it, without the network.
 *
 * <p>Knobs (system properties): {@code shapeshift.pg.binariesRepository} (default Maven Central,
 * {@value #CENTRAL}; a mirror in the Maven layout) and {@code shapeshift.pg.binariesCache}
 * (default {@code ~/.cache/shapeshift/postgres}).
 */
final class BinariesFetcher {

  static final String CENTRAL = "https://repo.maven.apache.org/maven2/";
  private static final Logger log = LoggerFactory.getLogger(BinariesFetcher.class);
  private static final int CONNECT_TIMEOUT_MS = 10_000;
  private static final int READ_TIMEOUT_MS = 60_000;

  private final URI repository;
  private final Path cache;

  BinariesFetcher(URI repository, Path cache) {
    String r = repository.toString();
    this.repository = r.endsWith("/") ? repository : URI.create(r + "/");
    this.cache = cache;
  }

  static BinariesFetcher fromSystemProperties() {
    String repo = System.getProperty("shapeshift.pg.binariesRepository", CENTRAL);
    String dir = System.getProperty("shapeshift.pg.binariesCache");
    Path cache = dir != null ? Path.of(dir)
        : Path.of(System.getProperty("user.home"), ".cache", "shapeshift", "postgres");
    return new BinariesFetcher(URI.create(repo), cache);
  }

  /** The platform's jar of {@code version}, from the cache or downloaded and verified. */
  Path fetch(PostgresPlatform platform, String version) {
    Path jar = cache.resolve(platform.jarName(version));
    Path sha1File = cache.resolve(platform.jarName(version) + ".sha1");
    try {
      if (Files.isRegularFile(jar) && Files.isRegularFile(sha1File)) {
        String expected = expectedSha1(Files.readString(sha1File), sha1File.toString());
        if (expected.equals(sha1(jar))) {
          return jar;
        }
        log.warn("cached postgres binaries jar does not match its sha1, fetching again jar={}", jar);
      }
      URI jarUri = repository.resolve(platform.jarPath(version));
      URI sha1Uri = repository.resolve(platform.jarPath(version) + ".sha1");
      String expected = expectedSha1(new String(read(sha1Uri, platform, version), StandardCharsets.US_ASCII),
          sha1Uri.toString());
      Files.createDirectories(cache);
      Path scratch = Files.createTempFile(cache, platform.jarName(version) + ".", ".part");
      try {
        long t0 = System.nanoTime();
        log.info("fetching postgres binaries (not on the classpath) artifact={} from={}",
            platform.coordinates(version), jarUri);
        try (InputStream in = open(jarUri, platform, version); OutputStream out = Files.newOutputStream(scratch)) {
          in.transferTo(out);
        }
        String actual = sha1(scratch);
        if (!actual.equals(expected)) {
          throw new EmbeddedServerException("refusing " + jarUri + ": its SHA-1 is " + actual
              + " but " + sha1Uri + " says " + expected + " (a corrupt download or a broken mirror)");
        }
        Files.writeString(sha1File, expected);
        moveIntoPlace(scratch, jar);
        log.info("postgres binaries fetched artifact={} jar={} ms={}",
            platform.coordinates(version), jar, (System.nanoTime() - t0) / 1_000_000);
        return jar;
      } finally {
        Files.deleteIfExists(scratch);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("fetching " + platform.coordinates(version) + " into " + cache, e);
    }
  }

  private byte[] read(URI uri, PostgresPlatform platform, String version) {
    try (InputStream in = open(uri, platform, version)) {
      return in.readAllBytes();
    } catch (IOException e) {
      throw unreachable(uri, platform, version, e);
    }
  }

  private InputStream open(URI uri, PostgresPlatform platform, String version) {
    try {
      URLConnection c = uri.toURL().openConnection();
      c.setConnectTimeout(CONNECT_TIMEOUT_MS);
      c.setReadTimeout(READ_TIMEOUT_MS);
      return c.getInputStream();
    } catch (IOException e) {
      throw unreachable(uri, platform, version, e);
    }
  }

  private EmbeddedServerException unreachable(URI uri, PostgresPlatform platform, String version, IOException e) {
    String what = e instanceof FileNotFoundException ? "not found: " + uri : "cannot download " + uri + " (" + e + ")";
    return new EmbeddedServerException("PostgreSQL binaries for this platform are not on the classpath and "
        + what + ". Offline: put " + platform.jarName(version) + " and its .sha1 (from Maven Central) into "
        + cache + ", or add " + platform.coordinates(version) + " to the classpath;"
        + " a mirror: -Dshapeshift.pg.binariesRepository=<url>", e);
  }

  private static void moveIntoPlace(Path scratch, Path jar) throws IOException {
    try {
      Files.move(scratch, jar, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(scratch, jar, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  /** The first token of a {@code .sha1} file (some carry the file name after the hash). */
  private static String expectedSha1(String content, String origin) {
    String token = content.strip().split("\\s+", 2)[0].toLowerCase(Locale.ROOT);
    if (!token.matches("[0-9a-f]{40}")) {
      throw new EmbeddedServerException("not a SHA-1 in " + origin + ": " + content.strip());
    }
    return token;
  }

  static String sha1(Path file) throws IOException {
    MessageDigest digest;
    try {
      digest = MessageDigest.getInstance("SHA-1");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-1", e);
    }
    try (InputStream in = Files.newInputStream(file)) {
      byte[] buf = new byte[64 * 1024];
      int n;
      while ((n = in.read(buf)) > 0) {
        digest.update(buf, 0, n);
      }
    }
    return HexFormat.of().formatHex(digest.digest());
  }
}
