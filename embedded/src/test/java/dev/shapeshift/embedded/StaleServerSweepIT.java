package dev.shapeshift.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** A JVM killed with SIGKILL leaves its server running; the next start in any JVM stops it. */
class StaleServerSweepIT {

  /** Child JVM: start a server, print where it lives, wait to be killed. */
  public static void main(String[] args) throws Exception {
    EmbeddedPostgres pg = EmbeddedPostgres.start(EmbeddedPostgres.Options.forTests());
    System.out.println("DATA_DIR=" + pg.dataDir());
    System.out.flush();
    Thread.sleep(Duration.ofMinutes(5).toMillis());
  }

  /** Gone, or a zombie waiting for init to reap it (the postmaster's parent is init, not us). */
  private static boolean exited(long pid) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
    Path stat = Path.of("/proc", Long.toString(pid), "stat");
    while (System.nanoTime() < deadline) {
      try {
        String s = Files.readString(stat);
        if (s.substring(s.lastIndexOf(')') + 2).startsWith("Z")) {
          return true;
        }
      } catch (java.io.IOException noSuchProcess) {
        return true;
      }
      Thread.sleep(100);
    }
    return false;
  }

  @Test
  void nextStartStopsServersOfADeadJvm() throws Exception {
    Process child = new ProcessBuilder(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), StaleServerSweepIT.class.getName())
        .redirectErrorStream(true).start();
    Path dataDir = null;
    try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line; (line = out.readLine()) != null; ) {
        if (line.startsWith("DATA_DIR=")) {
          dataDir = Path.of(line.substring("DATA_DIR=".length()));
          break;
        }
      }
      assertThat(dataDir).as("child JVM started a server").isNotNull();
      Path pidFile = dataDir.resolve("postmaster.pid");
      long postmaster = Long.parseLong(Files.readAllLines(pidFile).get(0).strip());
      assertThat(ProcessHandle.of(postmaster)).isPresent();

      child.destroyForcibly();
      assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(ProcessHandle.of(postmaster).map(ProcessHandle::isAlive)).as("orphan still runs").contains(true);

      try (EmbeddedPostgres next = EmbeddedPostgres.start(EmbeddedPostgres.Options.forTests())) {
        assertThat(exited(postmaster)).as("orphan postmaster stopped").isTrue();
        assertThat(dataDir.getParent()).doesNotExist();
      }
    } finally {
      child.destroyForcibly();
    }
  }
}
