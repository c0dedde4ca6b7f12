package dev.shapeshift.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.MetadataVersion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real single-node Kafka (KRaft, combined broker + controller, node id 1) running inside this JVM
 * on two free ports on 127.0.0.1. Internal topics have replication factor 1, topic auto-creation is
 * off (create topics explicitly), consumer group rebalances start without delay.
 *
 * <p>Why one class of ~400 lines: one broker's whole life (configuration, formatting the KRaft log,
 * start, stop) in one place, so a test's reader sees how the broker it gets is set up.
 */
public final class EmbeddedKafka implements KafkaBroker, AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(EmbeddedKafka.class);
  private static final String HOST = "127.0.0.1";
  private static final Duration READY_TIMEOUT = Duration.ofSeconds(60);
  private static final int START_ATTEMPTS = 3;

  private enum State { RUNNING, STOPPED, CLOSED }

  private final Path logDir;
  private final int brokerPort;
  private final int securedPort;
  private int proxiedPort;
  private final boolean durable;
  private final KafkaConfig config;
  /** The secured listener's one user, created as a SCRAM credential when the log dir is formatted. */
  private final SaslTls secured;
  private final Thread shutdownHook;
  private KafkaRaftServer server;
  private State state = State.STOPPED;

  private EmbeddedKafka(Path logDir, int brokerPort, int controllerPort, boolean durable) {
    this(logDir, brokerPort, controllerPort, durable, null, 0);
  }

  private EmbeddedKafka(Path logDir, int brokerPort, int controllerPort, boolean durable, SaslTls secured,
      int securedPort) {
    this(logDir, brokerPort, controllerPort, durable, secured, securedPort, p -> { });
  }

  private EmbeddedKafka(Path logDir, int brokerPort, int controllerPort, boolean durable, SaslTls secured,
      int securedPort, java.util.function.Consumer<Map<String, Object>> moreListeners) {
    this.logDir = logDir;
    this.brokerPort = brokerPort;
    this.durable = durable;
    this.securedPort = securedPort;
    this.secured = secured;
    Map<String, Object> props = properties(logDir, brokerPort, controllerPort);
    if (secured != null) {
      secure(props, secured, securedPort);
    }
    moreListeners.accept(props);
    this.config = new KafkaConfig(props, false);
    this.shutdownHook = new Thread(this::close, "shapeshift-embedded-kafka-shutdown");
  }

  /** The file in a durable log dir that keeps the broker's ports across restarts of the process. */
  private static final String PORTS_FILE = "shapeshift-ports.properties";

  /**
   * Starts a broker whose data lives in {@code dataDir} and survives the process: formatted on
   * first use, reused (topics, committed offsets) on every later start, including after a kill
   * -9. The ports chosen the first time are kept in the directory and reused, so a restarted
   * process finds its broker where it was. {@link #close} stops it and keeps the data.
   *
   * @throws EmbeddedServerException when the directory cannot be used or the broker does not start
   *     (e.g. another process runs a broker on it)
   */
  public static EmbeddedKafka startDurable(Path dataDir) {
    java.util.Properties ports = new java.util.Properties();
    Path portsFile = dataDir.resolve(PORTS_FILE);
    try {
      Files.createDirectories(dataDir);
      boolean formatted = Files.exists(dataDir.resolve("meta.properties"));
      if (formatted && Files.exists(portsFile)) {
        try (var in = Files.newBufferedReader(portsFile)) {
          ports.load(in);
        }
      } else {
        ports.setProperty("broker", Integer.toString(FreePorts.pick()));
        ports.setProperty("controller", Integer.toString(FreePorts.pick()));
      }
      EmbeddedKafka kafka = new EmbeddedKafka(dataDir, Integer.parseInt(ports.getProperty("broker")),
          Integer.parseInt(ports.getProperty("controller")), true);
      if (!formatted) {
        kafka.format();
        try (var out = Files.newBufferedWriter(portsFile)) {
          ports.store(out, "shapeshift embedded kafka ports");
        }
      }
      kafka.startServer();
      Runtime.getRuntime().addShutdownHook(kafka.shutdownHook);
      return kafka;
    } catch (IOException | NumberFormatException e) {
      throw new EmbeddedServerException("cannot use " + dataDir + " as the Kafka data directory: " + e.getMessage()
          + " (delete it to start with an empty broker, losing its topics and offsets)", e);
    }
  }

  /** Formats a fresh temp log dir and starts; retries with new ports if a free port was lost to a race. */
  public static EmbeddedKafka start() {
    for (int attempt = 1; ; attempt++) {
      try {
        return startOnce(logDir -> new EmbeddedKafka(logDir, FreePorts.pick(), FreePorts.pick(), false));
      } catch (RuntimeException e) {
        if (attempt >= START_ATTEMPTS) {
          throw e;
        }
        log.warn("kafka start failed, retrying with new ports attempt={} error={}", attempt, e.toString());
      }
    }
  }

  @Override
  public String bootstrapServers() {
    return HOST + ":" + brokerPort;
  }

  /**
   * A listener that takes only SASL over TLS, for tests of secured clients: its certificate and key
   * (PEM, the key unencrypted PKCS#8) and the one user it knows, with the same password for both
   * mechanisms it offers: {@code PLAIN} (checked against the listener's JAAS entry) and
   * {@code SCRAM-SHA-512} (a salted credential written into the cluster metadata when the log dir
   * is formatted, as {@code kafka-storage format --add-scram} does; the user and password must not
   * contain {@code ,}, {@code ]} or {@code "}).
   */
  public record SaslTls(Path certificate, Path key, String user, String password) {
    public SaslTls {
      for (String v : List.of(user, password)) {
        if (v.isEmpty() || v.matches(".*[,\\]\"=\\s].*")) {
          throw new IllegalArgumentException("SaslTls: the user and password must be non-empty without ',', ']', '\"', "
              + "'=' or spaces (they go into the SCRAM argument of the storage format)");
        }
      }
    }
  }

  /** The SASL mechanism that {@link SaslTls} users authenticate with against a salted credential. */
  public static final String SCRAM_MECHANISM = "SCRAM-SHA-512";

  /**
   * Like {@link #start()}, plus a {@code SASL_SSL} listener ({@link #securedBootstrapServers()});
   * the plain listener stays for the broker itself (inter-broker traffic, readiness).
   */
  public static EmbeddedKafka startSecured(SaslTls secured) {
    return startOnce(logDir -> new EmbeddedKafka(logDir, FreePorts.pick(), FreePorts.pick(), false, secured,
        FreePorts.pick()));
  }

  /** Formats a fresh temp log dir for the broker {@code create} makes on it and starts it (no retry). */
  private static EmbeddedKafka startOnce(java.util.function.Function<Path, EmbeddedKafka> create) {
    Path logDir;
    try {
      logDir = Files.createTempDirectory("shapeshift-kafka-");
    } catch (IOException e) {
      throw new UncheckedIOException("creating kafka log dir", e);
    }
    EmbeddedKafka kafka = create.apply(logDir);
    try {
      kafka.format();
      kafka.startServer();
      Runtime.getRuntime().addShutdownHook(kafka.shutdownHook);
      return kafka;
    } catch (RuntimeException e) {
      kafka.close();
      throw e;
    }
  }

  /**
   * Like {@link #start()}, plus a plain listener ({@link #proxiedListenerPort()}) that tells its
   * clients to come back at {@code advertisedHostPort}: a {@code FaultProxy} there (pointed at this
   * listener with {@code FaultProxy#retarget} (module test-support)) stands between those clients and the broker, while
   * clients of {@link #bootstrapServers()} and the broker itself keep their direct link. One role's
   * partition from Kafka, for network-fault tests.
   */
  public static EmbeddedKafka startWithProxiedListener(String advertisedHostPort) {
    int listenerPort = FreePorts.pick();
    EmbeddedKafka kafka = startOnce(logDir -> new EmbeddedKafka(logDir, FreePorts.pick(), FreePorts.pick(), false,
        null, 0, p -> {
          p.put("listeners", p.get("listeners") + ",PROXIED://" + HOST + ":" + listenerPort);
          p.put("advertised.listeners", p.get("advertised.listeners") + ",PROXIED://" + advertisedHostPort);
          p.put("listener.security.protocol.map", p.get("listener.security.protocol.map") + ",PROXIED:PLAINTEXT");
        }));
    kafka.proxiedPort = listenerPort;
    return kafka;
  }

  /** The port of the listener of {@link #startWithProxiedListener} (the proxy's upstream). */
  public int proxiedListenerPort() {
    if (proxiedPort == 0) {
      throw new IllegalStateException("this broker has no proxied listener: start it with startWithProxiedListener");
    }
    return proxiedPort;
  }

  /** The {@code SASL_SSL} listener of {@link #startSecured}. */
  public String securedBootstrapServers() {
    if (securedPort == 0) {
      throw new IllegalStateException("this broker has no secured listener: start it with startSecured");
    }
    return HOST + ":" + securedPort;
  }

  private static void secure(Map<String, Object> p, SaslTls s, int port) {
    String listeners = (String) p.get("listeners");
    p.put("listeners", listeners + ",SASL_SSL://" + HOST + ":" + port);
    p.put("advertised.listeners", p.get("advertised.listeners") + ",SASL_SSL://" + HOST + ":" + port);
    p.put("listener.security.protocol.map", p.get("listener.security.protocol.map") + ",SASL_SSL:SASL_SSL");
    p.put("sasl.enabled.mechanisms", "PLAIN," + SCRAM_MECHANISM);
    p.put("listener.name.sasl_ssl.plain.sasl.jaas.config",
        "org.apache.kafka.common.security.plain.PlainLoginModule required user_" + s.user() + "=\""
            + s.password() + "\";");
    // SCRAM's credentials live in the cluster metadata (written at format time), not in JAAS.
    p.put("listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config",
        "org.apache.kafka.common.security.scram.ScramLoginModule required;");
    try {
      p.put("listener.name.sasl_ssl.ssl.keystore.type", "PEM");
      p.put("listener.name.sasl_ssl.ssl.keystore.certificate.chain", Files.readString(s.certificate()));
      p.put("listener.name.sasl_ssl.ssl.keystore.key", Files.readString(s.key()));
    } catch (IOException e) {
      throw new UncheckedIOException("reading the secured listener's certificate and key", e);
    }
  }

  public Path logDir() {
    return logDir;
  }

  /** Shuts the broker down cleanly; the log dir (topics, offsets) is kept. */
  public synchronized void stop() {
    if (state != State.RUNNING) {
      return;
    }
    long t0 = System.nanoTime();
    server.shutdown();
    server.awaitShutdown();
    server = null;
    state = State.STOPPED;
    log.info("kafka stopped bootstrap={} ms={}", bootstrapServers(), (System.nanoTime() - t0) / 1_000_000);
  }

  /** Starts again on the same log dir and ports. */
  public synchronized void restart() {
    if (state == State.CLOSED) {
      throw new IllegalStateException("closed");
    }
    stop();
    startServer();
  }

  /** Stops and deletes the log dir (a durable broker keeps it). Idempotent. */
  @Override
  public synchronized void close() {
    if (state == State.CLOSED) {
      return;
    }
    try {
      stop();
    } finally {
      state = State.CLOSED;
      if (!durable) {
        FileTree.deleteQuietly(logDir);
      }
      if (Thread.currentThread() != shutdownHook) {
        try {
          Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException | IllegalArgumentException ignored) {
          // JVM already shutting down, or the hook was never registered
        }
      }
    }
  }

  @Override
  public String toString() {
    return "EmbeddedKafka[" + bootstrapServers() + " logDir=" + logDir + "]";
  }

  private void format() {
    Formatter formatter = new Formatter()
        .setClusterId(Uuid.randomUuid().toString())
        .setNodeId(config.nodeId())
        .setDirectories(List.of(logDir.toString()))
        .setMetadataLogDirectory(config.metadataLogDir())
        .setControllerListenerName("CONTROLLER")
        .setReleaseVersion(MetadataVersion.latestProduction())
        .setScramArguments(secured == null ? List.of()
            : List.of(SCRAM_MECHANISM + "=[name=" + secured.user() + ",password=" + secured.password() + "]"))
        .setPrintStream(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()));
    try {
      formatter.run();
    } catch (Exception e) {
      throw new EmbeddedServerException("formatting kafka log dir " + logDir + " failed", e);
    }
  }

  private void startServer() {
    long t0 = System.nanoTime();
    server = new KafkaRaftServer(config, Time.SYSTEM);
    try {
      server.startup();
      awaitReady();
    } catch (RuntimeException e) {
      KafkaRaftServer failed = server;
      server = null;
      try {
        failed.shutdown();
      } catch (RuntimeException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw new EmbeddedServerException("kafka failed to start on " + bootstrapServers(), e);
    }
    state = State.RUNNING;
    log.info("kafka started bootstrap={} log_dir={} ms={}",
        bootstrapServers(), logDir, (System.nanoTime() - t0) / 1_000_000);
  }

  private void awaitReady() {
    Map<String, Object> props = Map.of(
        AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers(),
        AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000,
        AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 10_000);
    long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
    try (Admin admin = Admin.create(props)) {
      while (true) {
        try {
          if (!admin.describeCluster().nodes().get(10, TimeUnit.SECONDS).isEmpty()) {
            return;
          }
        } catch (ExecutionException | TimeoutException e) {
          if (System.nanoTime() > deadline) {
            throw new EmbeddedServerException("kafka not ready after " + READY_TIMEOUT, e);
          }
        }
        Thread.sleep(100);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new EmbeddedServerException("interrupted waiting for kafka", e);
    }
  }

  private static Map<String, Object> properties(Path logDir, int brokerPort, int controllerPort) {
    Map<String, Object> p = new HashMap<>();
    p.put("process.roles", "broker,controller");
    p.put("node.id", "1");
    p.put("controller.quorum.voters", "1@" + HOST + ":" + controllerPort);
    p.put("listeners", "PLAINTEXT://" + HOST + ":" + brokerPort + ",CONTROLLER://" + HOST + ":" + controllerPort);
    p.put("advertised.listeners", "PLAINTEXT://" + HOST + ":" + brokerPort);
    p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
    p.put("controller.listener.names", "CONTROLLER");
    p.put("inter.broker.listener.name", "PLAINTEXT");
    p.put("log.dirs", logDir.toString());
    p.put("auto.create.topics.enable", "false");
    p.put("num.partitions", "1");
    p.put("default.replication.factor", "1");
    p.put("offsets.topic.replication.factor", "1");
    p.put("offsets.topic.num.partitions", "5");
    p.put("transaction.state.log.replication.factor", "1");
    p.put("transaction.state.log.min.isr", "1");
    p.put("transaction.state.log.num.partitions", "5");
    p.put("share.coordinator.state.topic.replication.factor", "1");
    p.put("share.coordinator.state.topic.min.isr", "1");
    p.put("group.initial.rebalance.delay.ms", "0");
    p.put("log.cleaner.dedupe.buffer.size", Integer.toString(2 * 1024 * 1024));
    return p;
  }
}
