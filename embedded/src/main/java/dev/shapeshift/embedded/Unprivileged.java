package dev.shapeshift.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * PostgreSQL refuses to run as root. When this JVM is root, every PostgreSQL program runs through
 * {@code setpriv --reuid --regid --clear-groups} as an unprivileged account ({@code nobody} unless
 * the system property {@code shapeshift.pg.runAs} names another), and the directories it writes
 * are handed over to that account. For a normal user this is a no-op.
 */
record Unprivileged(String name, int uid, int gid) {

  private static final Logger log = LoggerFactory.getLogger(Unprivileged.class);
  static final String RUN_AS_PROPERTY = "shapeshift.pg.runAs";

  /** Inactive unless this process runs as root. */
  static Unprivileged detect() {
    if (!isRoot()) {
      return new Unprivileged(System.getProperty("user.name"), -1, -1);
    }
    String account = System.getProperty(RUN_AS_PROPERTY, "nobody");
    String entry = getent(account);
    String[] f = entry.split(":");
    if (f.length < 4) {
      throw new EmbeddedServerException("unexpected passwd entry for " + account + ": " + entry);
    }
    int uid = Integer.parseInt(f[2]);
    if (uid == 0) {
      throw new EmbeddedServerException(
          RUN_AS_PROPERTY + "=" + account + " is root; name an unprivileged account");
    }
    return new Unprivileged(account, uid, Integer.parseInt(f[3]));
  }

  boolean active() {
    return uid > 0;
  }

  String account() {
    return name;
  }

  /** The command, prefixed with setpriv when active. */
  List<String> wrap(List<String> command) {
    if (!active()) {
      return command;
    }
    List<String> wrapped = new ArrayList<>(List.of(
        "setpriv", "--reuid=" + uid, "--regid=" + gid, "--clear-groups", "--"));
    wrapped.addAll(command);
    return wrapped;
  }

  /** Makes the account own {@code dir} and everything below it. */
  void handOver(Path dir) {
    if (!active()) {
      return;
    }
    try (Stream<Path> tree = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) tree::iterator) {
        Files.setAttribute(p, "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(p, "unix:gid", gid, LinkOption.NOFOLLOW_LINKS);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("chown -R " + name + " " + dir, e);
    }
  }

  /**
   * Makes sure the account can reach {@code path}. A parent below {@code java.io.tmpdir} (such as a
   * JUnit {@code @TempDir}, created 0700) gets the search bit for others (x, not r); any other
   * parent without it fails fast, naming the directory and the fix.
   */
  void requireTraversable(Path path) {
    if (!active()) {
      return;
    }
    Path tmp = Path.of(System.getProperty("java.io.tmpdir")).toAbsolutePath().normalize();
    for (Path p = path.toAbsolutePath().normalize().getParent(); p != null; p = p.getParent()) {
      try {
        Set<PosixFilePermission> perms = Files.getPosixFilePermissions(p);
        if (perms.contains(PosixFilePermission.OTHERS_EXECUTE)) {
          continue;
        }
        if (p.startsWith(tmp) && !p.equals(tmp)) {
          perms.add(PosixFilePermission.OTHERS_EXECUTE);
          Files.setPosixFilePermissions(p, perms);
          log.info("made temp dir traversable for postgres dir={} run_as={}", p, name);
          continue;
        }
        throw new EmbeddedServerException("PostgreSQL runs as " + name + " (this JVM is root) but "
            + p + " is not traversable by others: chmod o+x " + p
            + ", or place the data directory under " + tmp);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  private static boolean isRoot() {
    try {
      return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
    } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
      return "root".equals(System.getProperty("user.name"));
    }
  }

  private static String getent(String account) {
    try {
      Process p = new ProcessBuilder("getent", "passwd", account).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      if (p.waitFor() != 0 || out.isEmpty()) {
        throw new EmbeddedServerException("this JVM runs as root and PostgreSQL needs an unprivileged "
            + "account, but '" + account + "' does not exist: create it or set -D" + RUN_AS_PROPERTY);
      }
      return out.lines().findFirst().orElseThrow();
    } catch (IOException e) {
      throw new UncheckedIOException("getent passwd " + account, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new EmbeddedServerException("interrupted", e);
    }
  }
}
