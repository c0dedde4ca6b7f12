package dev.shapeshift.embedded;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The seeded application of the integration tests: one thread, one connection of its own (the
 * application's role and session, not Shapeshift's), writing until {@link #close()}. What each write
 * does is the test's ({@link Write}: the statement and the rows its model follows); the loop, the
 * seed, the pace, the counters and what a failure does are here, so every test's load is made and
 * stopped the same way and its seed makes the same writes on every run.
 *
 * <pre>
 * try (SeededWrites app = SeededWrites.of("driver-it-app", 7, () -> DriverManager.getConnection(url, user, pw),
 *         (random, c) -> ...).pause(Duration.ofMillis(10)).start()) { ... app.writes() ... }
 * </pre>
 */
public final class SeededWrites implements AutoCloseable {

  /** One write; it draws from {@code random} only (the seed decides the sequence). */
  @FunctionalInterface
  public interface Write {
    void write(Random random, Connection c) throws SQLException, InterruptedException;
  }

  /** Opens the application's connection. */
  @FunctionalInterface
  public interface Connector {
    Connection open() throws SQLException;
  }

  /** What a failed write does to the load. */
  public enum OnFailure {
    /** The load ends; the error is kept ({@link #failure()}) and thrown in the writer thread. */
    STOP,
    /** Counted ({@link #failures()}) and printed; the load goes on with a new connection. */
    RECONNECT
  }

  private final String name;
  private String label;
  private final long seed;
  private final Connector connector;
  private final Write write;
  private final AtomicLong writes = new AtomicLong();
  private final AtomicLong failures = new AtomicLong();
  private Duration pause = Duration.ZERO;
  private OnFailure onFailure = OnFailure.STOP;
  private boolean daemon = true;
  private volatile boolean stop;
  private volatile Throwable failure;
  private Thread thread;

  private SeededWrites(String name, long seed, Connector connector, Write write) {
    this.name = name;
    this.label = name;
    this.seed = seed;
    this.connector = connector;
    this.write = write;
  }

  /** A load named {@code name} (its thread's name) drawing from {@code new Random(seed)}. */
  public static SeededWrites of(String name, long seed, Connector connector, Write write) {
    return new SeededWrites(name, seed, connector, write);
  }

  /** A sleep after every write (none by default). */
  public SeededWrites pause(Duration pause) {
    this.pause = pause;
    return this;
  }

  public SeededWrites onFailure(OnFailure onFailure) {
    this.onFailure = onFailure;
    return this;
  }

  /** What the load's lines in the test output start with (its thread name by default). */
  public SeededWrites label(String label) {
    this.label = label;
    return this;
  }

  /** A non-daemon writer thread (the default is a daemon: a test that forgets to close it still ends). */
  public SeededWrites userThread() {
    this.daemon = false;
    return this;
  }

  public SeededWrites start() {
    thread = new Thread(this::run, name);
    thread.setDaemon(daemon);
    thread.start();
    return this;
  }

  private void run() {
    Random random = new Random(seed);
    while (!stop) {
      try (Connection c = connector.open()) {
        while (!stop) {
          write.write(random, c);
          writes.incrementAndGet();
          if (!pause.isZero()) {
            Thread.sleep(pause.toMillis());
          }
        }
      } catch (SQLException e) {
        if (stop) {
          return;
        }
        if (onFailure == OnFailure.STOP) {
          failure = e;
          throw new IllegalStateException("application writes failed", e);
        }
        failures.incrementAndGet();
        System.out.println(label + " application statement failed: " + e.getMessage());
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  /** Writes that committed (each {@link Write} that returned). */
  public long writes() {
    return writes.get();
  }

  /** Failed writes the load went on after ({@link OnFailure#RECONNECT}). */
  public long failures() {
    return failures.get();
  }

  /** The error that ended the load ({@link OnFailure#STOP}), or null. */
  public Throwable failure() {
    return failure;
  }

  /** Stops writing and waits up to 10 s for the writer. */
  @Override
  public void close() throws InterruptedException {
    stop = true;
    if (thread != null) {
      thread.join(10_000);
    }
  }
}
