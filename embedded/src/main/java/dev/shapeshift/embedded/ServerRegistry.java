package dev.shapeshift.embedded;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Records every PostgreSQL server this JVM starts under
 * {@code <java.io.tmpdir>/shapeshift-pg-registry-<user>/<jvm-pid>-<n>} so that a later JVM can stop
 * the servers of a JVM that died without running its shutdown hook (kill -9, OOM killer) and
 * delete their temporary directories.
 */
final class ServerRegistry {

  private static final Logger log = LoggerFactory.getLogger(ServerRegistry.class);
  private static final AtomicInteger SEQ = new AtomicInteger();
  private static final long PID = ProcessHandle.current().pid();

  /** One registered server; {@link #remove()} once it is stopped and cleaned up. */
  record Entry(Path file) {
    void remove() {
      try {
        Files.deleteIfExists(file);
      } catch (IOException e) {
        log.warn("could not remove registry entry file={} error={}", file, e.toString());
      }
    }
  }

  private ServerRegistry() {}

  static Entry register(Path binDir, Path dataDir, Path workDir, boolean deleteWorkDir) {
    Properties p = new Properties();
    p.setProperty("binDir", binDir.toString());
    p.setProperty("dataDir", dataDir.toString());
    p.setProperty("workDir", workDir.toString());
    p.setProperty("deleteWorkDir", Boolean.toString(deleteWorkDir));
    try {
      Path dir = Files.createDirectories(dir());
      Path file = dir.resolve(PID + "-" + SEQ.incrementAndGet());
      Path tmp = dir.resolve(file.getFileName() + ".tmp");
      try (Writer w = Files.newBufferedWriter(tmp)) {
        p.store(w, "shapeshift embedded postgres");
      }
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
      return new Entry(file);
    } catch (IOException e) {
      throw new UncheckedIOException("writing server registry entry", e);
    }
  }

  /** Stops (immediate) and cleans up servers whose owning JVM is gone. */
  static void sweepStale(Unprivileged runAs) {
    Path dir = dir();
    if (!Files.isDirectory(dir)) {
      return;
    }
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, "[0-9]*-[0-9]*")) {
      for (Path entry : entries) {
        String name = entry.getFileName().toString();
        if (!name.matches("\\d+-\\d+")) {
          continue;
        }
        long owner = Long.parseLong(name.substring(0, name.indexOf('-')));
        if (owner == PID || ProcessHandle.of(owner).map(ProcessHandle::isAlive).orElse(false)) {
          continue;
        }
        sweep(entry, owner, runAs);
      }
    } catch (IOException e) {
      log.warn("could not sweep server registry dir={} error={}", dir, e.toString());
    }
  }

  private static void sweep(Path entry, long owner, Unprivileged runAs) throws IOException {
    // Claim the entry first so two JVMs sweeping at once do not both act on it.
    Path claimed = entry.resolveSibling(entry.getFileName() + ".sweeping-" + PID);
    try {
      Files.move(entry, claimed, StandardCopyOption.ATOMIC_MOVE);
    } catch (NoSuchFileException lost) {
      return;
    }
    Properties p = new Properties();
    try (Reader r = Files.newBufferedReader(claimed)) {
      p.load(r);
    }
    Path dataDir = Path.of(p.getProperty("dataDir"));
    Path workDir = Path.of(p.getProperty("workDir"));
    Path binDir = Path.of(p.getProperty("binDir"));
    if (Files.exists(dataDir.resolve("postmaster.pid")) && Files.isExecutable(binDir.resolve("pg_ctl"))
        && Files.isDirectory(workDir)) {
      PgCtl.Result r = new PgCtl(binDir, runAs, dataDir, workDir).stop(true);
      log.info("stale postgres stopped owner_pid={} data_dir={} exit={}", owner, dataDir, r.exitCode());
    }
    if (Boolean.parseBoolean(p.getProperty("deleteWorkDir"))) {
      FileTree.deleteQuietly(workDir);
    }
    Files.deleteIfExists(claimed);
  }

  private static Path dir() {
    String user = System.getProperty("user.name", "unknown").replaceAll("[^A-Za-z0-9_.-]", "_");
    return Path.of(System.getProperty("java.io.tmpdir"), "shapeshift-pg-registry-" + user);
  }
}
