package dev.shapeshift.launcher;

import dev.shapeshift.bridge.BridgeConfig;
import dev.shapeshift.bridge.BridgeProcess;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code shapeshift cdc-bridge}: one per source database is active (PostgreSQL advisory lock);
 * start two or more and the others wait as standbys and take over within seconds.
 */
@Command(name = "cdc-bridge", mixinStandardHelpOptions = true,
        description = "Run the CDC bridge: Debezium (pgoutput) to the migrations' change topics in Kafka.")
public final class BridgeCommand extends RoleCommand.OnKafka {
    @Option(names = "--slot", paramLabel = "NAME", description = "Replication slot (default shapeshift_<database>).")
    String slot;

    @Option(names = "--publication", paramLabel = "NAME", description = "Publication the bridge manages (default shapeshift_pub).")
    String publication;

    @Option(names = "--heartbeat-ms", paramLabel = "MS", description = "Heartbeat interval (default 10000).")
    Long heartbeatMs;

    @Option(names = "--replication", paramLabel = "N", description = "Replication factor of the topics it creates (default 3).")
    Short replication;

    @Option(names = "--partitions", paramLabel = "N", description = "Partitions of the change topics it creates (default 12).")
    Integer partitions;

    @Option(names = "--kafka-timeout-ms", paramLabel = "MS", description = "Report Kafka unreachable (status, audit, "
            + "gauge) when a batch of change events waits longer than this for its acknowledgement (default 30000).")
    Long kafkaTimeoutMs;

    @Option(names = "--retained-wal-alarm-bytes", paramLabel = "BYTES", description = "Slot alarm when the slot holds "
            + "more WAL than this on the server, with or without max_slot_wal_keep_size (default 4294967296; 0 = off).")
    Long retainedWalAlarmBytes;

    @Option(names = "--origin-filter", paramLabel = "auto|off", description = "auto (default): stream with pgoutput's "
            + "origin = 'none' when that loses nothing (PostgreSQL 16+, no other replication origin, one migration per "
            + "captured table), so the backfill's own rows are never decoded; off: decode every change and drop the "
            + "workers' echoes by their mark.")
    OriginFilterMode originFilter = OriginFilterMode.auto;

    /** {@code --origin-filter} values (picocli refuses others, naming these). */
    enum OriginFilterMode { auto, off }

    @Mixin
    MetricsOptions metrics = new MetricsOptions();

    @Override
    public Integer call() throws InterruptedException {
        applyKafkaSettings();
        BridgeConfig config = BridgeConfig.of(db.database(), bootstrap);
        if (slot != null) {
            config = config.withSlot(slot);
        }
        if (publication != null) {
            config = config.withPublication(publication);
        }
        if (heartbeatMs != null) {
            config = config.withHeartbeat(Duration.ofMillis(heartbeatMs));
        }
        if (replication != null || partitions != null) {
            config = config.withReplication(replication != null ? replication : 3)
                    .withChangesPartitions(partitions != null ? partitions : 12);
        }
        if (kafkaTimeoutMs != null) {
            config = config.withKafkaTimeout(Duration.ofMillis(kafkaTimeoutMs));
        }
        if (retainedWalAlarmBytes != null) {
            config = config.withRetainedWalAlarmBytes(retainedWalAlarmBytes);
        }
        if (originFilter == OriginFilterMode.off) {
            config = config.withOriginFilter(false);
        }
        PrometheusMeterRegistry registry = RoleMeters.registry("cdc-bridge");
        try (MetricsEndpoint endpoint = metrics.start(registry)) {
            return BridgeProcess.run(config, registry);
        }
    }
}
