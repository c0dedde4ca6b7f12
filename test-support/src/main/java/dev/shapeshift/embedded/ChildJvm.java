package dev.shapeshift.embedded;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A {@code main} class started as a JVM of its own from this JVM's class path, for the tests that
 * kill (SIGKILL), freeze (SIGSTOP) and wake (SIGCONT) a role the way a pod dies: {@code java
 * <options> -cp <this class path> <main> <arguments>}. The options are the caller's (each fault test
 * picks its heap and JIT settings); where the output goes is the caller's choice too.
 *
 * <pre>
 * Process p = ChildJvm.main(BridgeChild.class).options("-Xmx256m").args(url, user).startLoggingTo(log);
 * ChildJvm.signal(p, "STOP");
 * </pre>
 */
public final class ChildJvm {
  private final String mainClass;
  private final List<String> options = new ArrayList<>();
  private final List<String> args = new ArrayList<>();

  private ChildJvm(String mainClass) {
    this.mainClass = mainClass;
  }

  public static ChildJvm main(Class<?> mainClass) {
    return main(mainClass.getName());
  }

  public static ChildJvm main(String mainClass) {
    return new ChildJvm(mainClass);
  }

  /** JVM options, before {@code -cp}. */
  public ChildJvm options(String... options) {
    return options(List.of(options));
  }

  public ChildJvm options(Collection<String> options) {
    this.options.addAll(options);
    return this;
  }

  /** Arguments of the main class. */
  public ChildJvm args(String... args) {
    return args(List.of(args));
  }

  public ChildJvm args(Collection<String> args) {
    this.args.addAll(args);
    return this;
  }

  /** {@code <java.home>/bin/java <options> -cp <java.class.path> <main> <args>}. */
  public List<String> command() {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(options);
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), mainClass));
    cmd.addAll(args);
    return cmd;
  }

  /** Output and errors into {@code log}, replacing what it held. */
  public Process startLoggingTo(Path log) throws IOException {
    return builder().redirectOutput(log.toFile()).start();
  }

  /** Output and errors appended to {@code log} (a name started again keeps its earlier output). */
  public Process startAppendingTo(Path log) throws IOException {
    return builder().redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
  }

  /** Output and errors on this JVM's own (they land in the test report). */
  public Process startInheritingIo() throws IOException {
    return new ProcessBuilder(command()).inheritIO().start();
  }

  /** Output and errors merged, read through {@link Process#getInputStream()}. */
  public Process startPiped() throws IOException {
    return builder().start();
  }

  private ProcessBuilder builder() {
    return new ProcessBuilder(command()).redirectErrorStream(true);
  }

  /** {@code kill -SIGNAL pid} (e.g. {@code STOP}, {@code CONT}); fails when kill does. */
  public static void signal(Process p, String signal) throws IOException, InterruptedException {
    Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(p.pid())).inheritIO().start();
    if (kill.waitFor() != 0) {
      throw new IllegalStateException("kill -" + signal + " " + p.pid() + " failed");
    }
  }

  /**
   * Wakes (SIGCONT: a frozen JVM cannot die) and kills every child still alive, then waits up to
   * 20 s for each: what a fixture's close does, so no child outlives its test.
   */
  public static void killAll(Collection<Process> children) {
    for (Process p : children) {
      if (p.isAlive()) {
        try {
          new ProcessBuilder("kill", "-CONT", Long.toString(p.pid())).start().waitFor();
        } catch (IOException | InterruptedException e) {
          // gone already
        }
        p.destroyForcibly();
      }
    }
    for (Process p : children) {
      try {
        p.waitFor(20, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
