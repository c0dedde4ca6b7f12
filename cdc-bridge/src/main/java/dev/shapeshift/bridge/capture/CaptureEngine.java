package dev.shapeshift.bridge.capture;

import dev.shapeshift.bridge.BridgeConfig;
import dev.shapeshift.db.Database;
import dev.shapeshift.kafka.KafkaClientSettings;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.RecordChangeEvent;
import io.debezium.engine.format.ChangeEventFormat;
import io.debezium.embedded.Connect;
import java.io.IOException;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.kafka.connect.source.SourceRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One run of Debezium's embedded PostgreSQL connector for a fixed set of tables. The set changes
 * by closing this one and starting another; offsets carry over through the offsets topic.
 */
public final class CaptureEngine implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(CaptureEngine.class);
    /** How long a close waits for an engine whose task never started before interrupting its start. */
    static final long STARTING_STOP_WAIT_SECONDS = 3;
    /** Debezium's wait between two starts refused because the slot is active. */
    static final java.time.Duration SLOT_RETRY_DELAY = java.time.Duration.ofSeconds(2);
    /** How many refused starts Debezium tries again before the engine fails (and the bridge's watch restarts it). */
    static final int SLOT_MAX_RETRIES = 30;

    private final DebeziumEngine<RecordChangeEvent<SourceRecord>> engine;
    private final ExecutorService runner;
    private final CompletableFuture<Void> done = new CompletableFuture<>();
    private final String slot;
    /** Set once the connector's task runs: from then on records may be in flight and offsets to commit. */
    private volatile boolean taskStarted;
    /** Opens when the task runs or the engine has ended, whichever comes first. */
    private final java.util.concurrent.CountDownLatch startedOrDone = new java.util.concurrent.CountDownLatch(1);

    public CaptureEngine(BridgeConfig config, Collection<TableId> tables,
                         DebeziumEngine.ChangeConsumer<RecordChangeEvent<SourceRecord>> consumer) {
        this(config, tables, false, consumer);
    }

    /** @param originNone stream with pgoutput's {@code origin = 'none'} ({@link OriginFilter}) */
    public CaptureEngine(BridgeConfig config, Collection<TableId> tables, boolean originNone,
                         DebeziumEngine.ChangeConsumer<RecordChangeEvent<SourceRecord>> consumer) {
        this.slot = config.slot();
        this.engine = DebeziumEngine.create(ChangeEventFormat.of(Connect.class))
                .using(properties(config, tables, originNone))
                .notifying(consumer)
                .using(new DebeziumEngine.ConnectorCallback() {
                    @Override
                    public void taskStarted() {
                        taskStarted = true;
                        startedOrDone.countDown();
                    }
                })
                .using((success, message, error) -> {
                    startedOrDone.countDown();
                    if (success) {
                        done.complete(null);
                    } else {
                        done.completeExceptionally(error != null ? error : new IllegalStateException(message));
                    }
                })
                .build();
        this.runner = Executors.newSingleThreadExecutor(r -> new Thread(r, "shapeshift-capture-" + slot));
    }

    public void start() {
        runner.execute(engine);
        log.info("capture engine started slot={}", slot);
    }

    /** Completes when the engine stops; exceptionally when it failed. */
    public CompletableFuture<Void> done() {
        return done;
    }

    @Override
    public void close() {
        try {
            // Debezium fails an engine closed while it creates its task, and logs that as an ERROR
            // ("Cannot change engine state to 'CREATING_TASKS' …", seen at the demo's end when the
            // stack stopped right after a restart): let a start that is under way finish first.
            if (!startedOrDone.await(STARTING_STOP_WAIT_SECONDS, TimeUnit.SECONDS)) {
                log.warn("closing a capture engine that has not started its task after {} s slot={}",
                        STARTING_STOP_WAIT_SECONDS, slot);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            engine.close();
        } catch (IOException | IllegalStateException e) {
            // IllegalStateException: the engine already shuts down after a failure of its own
            log.warn("closing the capture engine failed slot={} error={}", slot, e.toString());
        }
        runner.shutdown();
        try {
            // A running task finishes its batch and commits its offsets: up to 30 s. An engine closed
            // before its task started has delivered nothing; its start (the offsets topic lookup) does
            // not notice the close and used to hold the stop for the whole 30 s: interrupt it sooner.
            long waitSeconds = taskStarted ? 30 : STARTING_STOP_WAIT_SECONDS;
            if (!runner.awaitTermination(waitSeconds, TimeUnit.SECONDS)) {
                runner.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            runner.shutdownNow();
        }
        log.info("capture engine stopped slot={}", slot);
    }

    static Properties properties(BridgeConfig config, Collection<TableId> tables) {
        return properties(config, tables, false);
    }

    static Properties properties(BridgeConfig config, Collection<TableId> tables, boolean originNone) {
        URI uri = jdbcUri(config.database().jdbcUrl());
        Properties p = new Properties();
        p.setProperty("name", config.slot());
        p.setProperty("connector.class", "io.debezium.connector.postgresql.PostgresConnector");
        p.setProperty("offset.storage", "org.apache.kafka.connect.storage.KafkaOffsetBackingStore");
        p.setProperty("offset.storage.topic", config.offsetsTopic());
        p.setProperty("offset.storage.partitions", "1");
        p.setProperty("offset.storage.replication.factor", Short.toString(config.replication()));
        p.setProperty("offset.flush.interval.ms", Long.toString(config.offsetFlushInterval().toMillis()));
        p.setProperty("offset.flush.timeout.ms", "30000");
        // The offset store's Kafka clients take the engine's top-level settings: a secured cluster's too.
        KafkaClientSettings.load().forEach(p::setProperty);
        p.setProperty("bootstrap.servers", config.bootstrapServers());
        p.setProperty("database.hostname", uri.getHost());
        p.setProperty("database.port", Integer.toString(uri.getPort() < 0 ? 5432 : uri.getPort()));
        p.setProperty("database.dbname", uri.getPath().substring(1));
        if (config.database().user() != null) {
            p.setProperty("database.user", config.database().user());
        }
        if (config.database().password() != null) {
            p.setProperty("database.password", config.database().password());
        }
        tlsOf(config.database().jdbcUrl()).forEach((k, v) -> p.setProperty("database." + k, v));
        p.setProperty("database.applicationName", "shapeshift-cdc-bridge");
        // Debezium's own sessions too: their names in the start-up packet (Database.ASSUME_MIN_SERVER_VERSION).
        p.setProperty("driver.assumeMinServerVersion", Database.ASSUME_MIN_SERVER_VERSION);
        p.setProperty("topic.prefix", config.slot());
        p.setProperty("plugin.name", "pgoutput");
        p.setProperty("slot.name", config.slot());
        p.setProperty("publication.name", config.publication());
        p.setProperty("publication.autocreate.mode", "disabled");
        p.setProperty("table.include.list", Stream.concat(Stream.of(Publication.HEARTBEAT), tables.stream())
                .map(TableId::includePattern).collect(Collectors.joining(",")));
        p.setProperty("snapshot.mode", "no_data");
        p.setProperty("heartbeat.interval.ms", Long.toString(config.heartbeat().toMillis()));
        p.setProperty("heartbeat.action.query", Publication.heartbeatQuery(config.slot()));
        p.setProperty("message.prefix.include.list", "shapeshift\\.echo");
        if (originNone) {
            // Debezium passes slot.stream.params to START_REPLICATION as plugin options (any plugin),
            // beside its own proto_version, publication_names and messages: pgoutput then skips every
            // change written under a replication origin before decoding it (PostgreSQL 16+).
            p.setProperty("slot.stream.params", "origin=none");
        }
        p.setProperty("poll.interval.ms", Long.toString(config.pollInterval().toMillis()));
        p.setProperty("decimal.handling.mode", "string");
        p.setProperty("tombstones.on.delete", "false");
        p.setProperty("slot.drop.on.stop", "false");
        // No retries inside Debezium: a restarted task creates a missing slot at the current position
        // (after a failover of the primary: a silent gap). A failed engine returns to the bridge, whose
        // watch restarts it only after the slot check (LeaderTerm.capture).
        p.setProperty("errors.max.retries", "0");
        // A start refused because the slot is still active (an old walsender not gone yet, e.g. the
        // previous leader's after a takeover) is asked again every 2 s rather than Debezium's 10 s:
        // the same minute in all (30 tries), a shorter gap once the slot is free.
        p.setProperty("slot.retry.delay.ms", Long.toString(SLOT_RETRY_DELAY.toMillis()));
        p.setProperty("slot.max.retries", Integer.toString(SLOT_MAX_RETRIES));
        p.setProperty("include.schema.changes", "false");
        return p;
    }

    /** The JDBC URL parameters that Debezium's own connections take as {@code database.<name>}. */
    static final List<String> TLS_PARAMETERS = List.of("sslmode", "sslrootcert", "sslcert", "sslkey", "sslpassword",
            "sslfactory");

    /**
     * The TLS settings of the JDBC URL ({@code ?sslmode=verify-full&sslrootcert=…}) for Debezium,
     * whose replication and metadata connections are configured by host and port, not by the URL:
     * without them it would connect with its default ({@code prefer}: encrypted if the server
     * offers it, the server's certificate unchecked, no client certificate) whatever the URL says.
     * pgjdbc's {@code ssl=true} without a mode means {@code verify-full}, and is passed as that.
     */
    static Map<String, String> tlsOf(String jdbcUrl) {
        Map<String, String> params = new LinkedHashMap<>();
        int q = jdbcUrl.indexOf('?');
        if (q >= 0) {
            for (String pair : jdbcUrl.substring(q + 1).split("&")) {
                int eq = pair.indexOf('=');
                String key = eq < 0 ? pair : pair.substring(0, eq);
                String value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
                params.put(key.toLowerCase(Locale.ROOT), value);
            }
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (String name : TLS_PARAMETERS) {
            String v = params.get(name);
            if (v != null && !v.isEmpty()) {
                out.put(name, v);
            }
        }
        if (!out.containsKey("sslmode") && "true".equalsIgnoreCase(params.get("ssl"))) {
            out.put("sslmode", "verify-full");
        }
        return out;
    }

    static URI jdbcUri(String jdbcUrl) {
        String rest = jdbcUrl.substring("jdbc:".length());
        int q = rest.indexOf('?');
        URI uri = URI.create(q < 0 ? rest : rest.substring(0, q));
        if (uri.getHost() == null || uri.getPath() == null || uri.getPath().length() < 2 || uri.getHost().contains(",")) {
            throw new ShapeshiftException(ErrorCode.CONFIG_INVALID, "the bridge needs a single-host JDBC URL "
                    + "jdbc:postgresql://host[:port]/database, got " + jdbcUrl.replaceAll("\\?.*", "?..."));
        }
        return uri;
    }
}
