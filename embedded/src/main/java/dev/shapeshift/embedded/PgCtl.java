package dev.shapeshift.embedded;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the distribution's {@code initdb} and {@code pg_ctl} against one data directory, as the
 * unprivileged account when this JVM is root. Output of each command is captured to a file in the
 * instance's work directory and returned.
 */
record PgCtl(Path binDir, Unprivileged runAs, Path dataDir, Path workDir) {

  private static final Logger log = LoggerFactory.getLogger(PgCtl.class);
  private static final long TIMEOUT_SECONDS = 120;

  /** The outcome of one command. */
  record Result(int exitCode, String output) {
    boolean ok() {
      return exitCode == 0;
    }
  }

  Result initdb(String superuser, Path passwordFile) {
    return run(List.of(exe("initdb"), "-D", dataDir.toString(), "-U", superuser,
        "--pwfile=" + passwordFile, "--auth-host=scram-sha-256", "--auth-local=trust",
        "--encoding=UTF8", "--locale=C", "--no-instructions"));
  }

  /** Starts the server and waits until it accepts connections; settings come from the conf file. */
  Result start(Path logFile) {
    return run(List.of(exe("pg_ctl"), "start", "-D", dataDir.toString(), "-l", logFile.toString(),
        "-w", "-t", "60", "-s"));
  }

  /** Stops the server: {@code fast} (clean) or {@code immediate} (crash-like, recovery on start). */
  Result stop(boolean immediate) {
    return run(List.of(exe("pg_ctl"), "stop", "-D", dataDir.toString(),
        "-m", immediate ? "immediate" : "fast", "-w", "-t", "60", "-s"));
  }

  boolean running() {
    return run(List.of(exe("pg_ctl"), "status", "-D", dataDir.toString())).exitCode() == 0;
  }

  private String exe(String program) {
    return binDir.resolve(program).toString();
  }

  private Result run(List<String> command) {
    List<String> full = runAs.wrap(command);
    try {
      File out = Files.createTempFile(workDir, "cmd-", ".out").toFile();
      try {
        ProcessBuilder pb = new ProcessBuilder(full)
            .directory(workDir.toFile())
            .redirectErrorStream(true)
            .redirectOutput(out)
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        cleanEnvironment(pb.environment());
        Process p = pb.start();
        if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
          p.destroyForcibly();
          throw new EmbeddedServerException("timed out after " + TIMEOUT_SECONDS + "s: " + command);
        }
        String output = Files.readString(out.toPath(), StandardCharsets.UTF_8);
        log.debug("pg command={} exit={} output={}", command.get(0), p.exitValue(), output.strip());
        return new Result(p.exitValue(), output);
      } finally {
        Files.deleteIfExists(out.toPath());
      }
    } catch (IOException e) {
      throw new UncheckedIOException("running " + full, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new EmbeddedServerException("interrupted running " + command, e);
    }
  }

  /** No inherited PG* variables or locale surprises; the conf file and flags say everything. */
  private static void cleanEnvironment(Map<String, String> env) {
    for (String key : new ArrayList<>(env.keySet())) {
      if (key.startsWith("PG") || key.startsWith("LC_") || key.equals("LANG")) {
        env.remove(key);
      }
    }
    env.put("LC_ALL", "C");
  }
}
