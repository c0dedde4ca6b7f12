package dev.shapeshift.bridge;

import io.soabase.recordbuilder.core.RecordBuilder;
import dev.shapeshift.db.Database;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import java.time.Duration;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Everything a {@link CdcBridge} needs, validated and frozen at construction (fail fast: a bad
 * value is refused with the field and the fix, never clamped). Defaults are in {@link #of}; the
 * generated {@code withX} methods (record-builder) return changed copies ({@code of(db, kafka)
 * .withSlot("s")}), through the constructor, so validated alike. Documented knob by knob in
 * {@code docs/cdc-bridge.md}.
 *
 * @param database            the source database (the catalog lives in it too)
 * @param bootstrapServers    Kafka bootstrap servers
 * @param slot                logical replication slot; default {@code shapeshift_<dbname>}
 * @param publication         publication the bridge manages; default {@code shapeshift_pub}
 * @param heartbeat           Debezium heartbeat interval (also writes {@code shapeshift.heartbeat}); default 10 s
 * @param pollInterval        Debezium {@code poll.interval.ms}; default 50 ms
 * @param offsetFlushInterval how often acknowledged offsets are stored; default 1 s
 * @param offsetsTopic        Kafka topic of the stored offsets; default {@code shapeshift.bridge.offsets}
 * @param replication         replication factor of topics the bridge creates; default 3
 * @param changesPartitions   partitions of a changes topic the bridge has to create; default 12
 * @param watchInterval       how often catalog, leadership, schema and slot are checked; default 5 s
 * @param leaderRetry         how often a standby retries the leader lock; default 1 s
 * @param safeWalAlarmBytes   alarm when the slot's {@code safe_wal_size} falls below this; default 1 GiB
 * @param retainedWalAlarmBytes alarm when the WAL the slot holds on the server ({@code pg_current_wal_lsn() -
 *                            restart_lsn}) exceeds this, limit or not; default 4 GiB, 0 = off
 * @param kafkaTimeout        a batch of change events Kafka has not acknowledged for this long is reported
 *                            (status message, audit, metric); default 30 s
 * @param originFilter        stream with pgoutput's {@code origin = 'none'} when it is safe, so the backfill's
 *                            own rows are never decoded ({@link dev.shapeshift.bridge.capture.OriginFilter});
 *                            default true (auto); false: always decode everything, echoes dropped by their mark
 */
@RecordBuilder
public record BridgeConfig(Database database, String bootstrapServers, String slot, String publication,
                           Duration heartbeat, Duration pollInterval, Duration offsetFlushInterval,
                           String offsetsTopic, short replication, int changesPartitions,
                           Duration watchInterval, Duration leaderRetry, long safeWalAlarmBytes,
                           long retainedWalAlarmBytes, Duration kafkaTimeout,
                           boolean originFilter) implements BridgeConfigBuilder.With {

    private static final Pattern SLOT_NAME = Pattern.compile("[a-z0-9_]{1,63}");
    private static final Pattern IDENT = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,62}");

    public BridgeConfig {
        require(database != null, "database", "pass the source database (--jdbc-url)");
        require(bootstrapServers != null && !bootstrapServers.isBlank(), "bootstrapServers",
                "pass Kafka's bootstrap servers (--bootstrap host:port)");
        require(slot != null && SLOT_NAME.matcher(slot).matches(), "slot",
                "use 1-63 characters of a-z, 0-9 and _ (PostgreSQL's rule for slot names), got '" + slot + "'");
        require(publication != null && IDENT.matcher(publication).matches(), "publication",
                "use a plain identifier ([A-Za-z_][A-Za-z0-9_]*), got '" + publication + "'");
        positive(heartbeat, "heartbeat");
        positive(pollInterval, "pollInterval");
        positive(offsetFlushInterval, "offsetFlushInterval");
        positive(watchInterval, "watchInterval");
        positive(leaderRetry, "leaderRetry");
        require(offsetsTopic != null && !offsetsTopic.isBlank(), "offsetsTopic", "name a Kafka topic");
        require(replication >= 1, "replication", "use at least 1");
        require(changesPartitions >= 1, "changesPartitions", "use at least 1");
        require(safeWalAlarmBytes >= 0, "safeWalAlarmBytes", "use 0 (off) or a positive byte count");
        require(retainedWalAlarmBytes >= 0, "retainedWalAlarmBytes", "use 0 (off) or a positive byte count");
        positive(kafkaTimeout, "kafkaTimeout");
    }

    /** The defaults for a source database and a Kafka cluster. */
    public static BridgeConfig of(Database database, String bootstrapServers) {
        return new BridgeConfig(database, bootstrapServers, defaultSlot(database), "shapeshift_pub",
                Duration.ofSeconds(10), Duration.ofMillis(50), Duration.ofSeconds(1), "shapeshift.bridge.offsets",
                (short) 3, 12, Duration.ofSeconds(5), Duration.ofSeconds(1), 1L << 30, 4L << 30,
                Duration.ofSeconds(30), true);
    }

    /** The database name of the JDBC URL, as written there (the {@code database} label of the bridge's meters). */
    static String databaseName(Database database) {
        String path = database.jdbcUrl().substring("jdbc:postgresql:".length());
        int q = path.indexOf('?');
        if (q >= 0) {
            path = path.substring(0, q);
        }
        return path.substring(path.lastIndexOf('/') + 1);
    }

    /** {@code shapeshift_<database name>}, reduced to the characters a slot name may have. */
    static String defaultSlot(Database database) {
        String db = databaseName(database).toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_]", "_");
        String slot = "shapeshift_" + (db.isEmpty() ? "postgres" : db);
        return slot.length() > 63 ? slot.substring(0, 63) : slot;
    }

    private static void positive(Duration d, String field) {
        require(d != null && !d.isNegative() && !d.isZero(), field, "use a positive duration");
    }

    private static void require(boolean ok, String field, String fix) {
        if (!ok) {
            throw new ShapeshiftException(ErrorCode.CONFIG_INVALID, "bridge configuration: " + field + " is invalid: " + fix);
        }
    }
}
