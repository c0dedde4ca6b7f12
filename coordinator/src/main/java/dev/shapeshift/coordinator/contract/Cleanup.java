package dev.shapeshift.coordinator.contract;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.MigrationRecord;
import dev.shapeshift.db.Database;
import dev.shapeshift.db.Sql;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.kafka.KafkaClientSettings;
import dev.shapeshift.kafka.Topics;
import dev.shapeshift.phase.Phase;
import dev.shapeshift.sql.Ident;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import org.apache.kafka.common.errors.GroupNotEmptyException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Removes what a finished migration ({@code contracted} or {@code rolled-back}) left behind in the
 * capture path: its source table in the bridge's publication, the replication slot when no other
 * active migration streams through it, and its Kafka topics. Each action is audited; a step that
 * must wait says why. Refuses while the migration is active.
 *
 * <p>Several migrations share one bridge per source database: one slot and one publication that
 * lists every captured table (docs/operations.md). So the table leaves the publication only when
 * no other active migration captures it, and the publication and the slot go only when no active
 * migration is left and no bridge holds the slot open (a streaming bridge is stopped first).
 */
public record Cleanup(Database db, Catalog catalog, String bootstrapServers, String publication, SlotDropper slots) {
    private static final Logger log = LoggerFactory.getLogger(Cleanup.class);
    public static final String DEFAULT_PUBLICATION = "shapeshift_pub";

    /** Drops a replication slot; the launcher passes {@code CdcBridge::dropSlot}, the only sanctioned way. */
    @FunctionalInterface
    public interface SlotDropper {
        boolean drop(Database db, String slot);
    }

    /** What was removed and what was left, and why, one line each. */
    public record Result(String migration, List<String> done, List<String> left) {
    }

    /** @param publication the bridge's publication; null: {@link #DEFAULT_PUBLICATION} */
    public Cleanup {
        publication = publication == null ? DEFAULT_PUBLICATION : publication;
    }

    /** @param bootstrapServers Kafka, or null to leave the topics (reported as left) */
    public Cleanup(Database db, String bootstrapServers, String publication, SlotDropper slots) {
        this(db, new Catalog(db, Contractor.ROLE), bootstrapServers, publication, slots);
    }

    public Result run(String migration, String actor, String reason) {
        Contractor.requireReason(reason);
        MigrationRecord m = catalog.get(migration);
        if (m.phase() != Phase.CONTRACTED && m.phase() != Phase.ROLLED_BACK) {
            throw new ShapeshiftException(ErrorCode.CONFLICT, "migration " + migration + " is active (phase " + m.phase()
                    + "); clean-up runs after contracted or rolled-back");
        }
        OldShape shape = OldShape.of(m);
        List<MigrationRecord> active = catalog.list().stream()
                .filter(o -> !o.name().equals(migration) && !o.phase().terminal()).toList();
        List<String> done = new ArrayList<>();
        List<String> left = new ArrayList<>();
        String slotHolder = slotHolder(m.slotName());
        publication(shape, active, slotHolder, done, left);
        slot(m, active, slotHolder, done, left);
        if (topics(migration, done, left) && groups(migration, done, left)) {
            catalog.markCleanedUp(migration);
            done.add("Kafka topics and consumer groups of " + migration + " are gone: the name may be registered again");
        }
        for (String d : done) {
            catalog.audit(migration, actor, "cleanup: " + d, reason);
        }
        log.info("cleanup migration={} done={} left={}", migration, done, left);
        return new Result(migration, done, left);
    }

    private void publication(OldShape shape, List<MigrationRecord> active, String slotHolder, List<String> done,
                             List<String> left) {
        Set<String> otherSources = new LinkedHashSet<>();
        for (MigrationRecord o : active) {
            OldShape os = OldShape.of(o);
            otherSources.add(os.schema() + "." + os.table());
        }
        Tx.ddl(db, Contractor.ROLE, "cleaning publication " + publication, c -> {
            List<String[]> tables = publishedTables(c);
            if (tables == null) {
                left.add("publication " + publication + " does not exist");
                return null;
            }
            List<String[]> mine = new ArrayList<>();
            for (String[] t : tables) {
                boolean isSource = t[0].equals(shape.schema()) && t[1].equals(shape.table());
                boolean isArchived = t[0].equals(Archive.SCHEMA) && t[1].equals(shape.migration());
                // table mode with a write switch: the bridge captured the target table too
                boolean isTarget = !shape.inPlace() && t[0].equals(shape.targetSchema()) && t[1].equals(shape.targetTable());
                if (isSource || isArchived || isTarget) {
                    mine.add(t);
                }
            }

            try (Statement s = c.createStatement()) {
                if (active.isEmpty() && slotHolder == null) {
                    s.execute("DROP PUBLICATION " + Ident.quote(publication));
                    done.add("dropped publication " + publication + " (no active migration left)");
                    return null;
                }
                for (String[] t : mine) {
                    if (otherSources.contains(t[0] + "." + t[1]) && !t[0].equals(Archive.SCHEMA)) {
                        left.add("table " + t[0] + "." + t[1] + " stays in publication " + publication
                                + ": another active migration captures it");
                        continue;
                    }
                    s.execute("ALTER PUBLICATION " + Ident.quote(publication) + " DROP TABLE " + Ident.qualified(t[0], t[1]));
                    done.add("removed " + t[0] + "." + t[1] + " from publication " + publication);
                }
                if (active.isEmpty()) {
                    left.add("publication " + publication + " kept: the slot is held by a running cdc-bridge (pid "
                            + slotHolder + "); stop the bridge and run cleanup again");
                }
            }
            return null;
        });
    }

    private void slot(MigrationRecord m, List<MigrationRecord> active, String slotHolder, List<String> done,
                      List<String> left) {
        String slot = m.slotName();
        if (slot == null) {
            left.add("no replication slot recorded for " + m.name());
            return;
        }
        List<String> users = active.stream().filter(o -> slot.equals(o.slotName()) || o.slotName() == null)
                .map(MigrationRecord::name).toList();
        if (!users.isEmpty()) {
            left.add("slot " + slot + " kept: active migration(s) " + users + " stream through it (one slot per "
                    + "source database)");
            return;
        }
        if (slotHolder != null) {
            left.add("slot " + slot + " kept: a running cdc-bridge holds it (pid " + slotHolder + "); stop the bridge "
                    + "and run cleanup again");
            return;
        }
        boolean existed = slots.drop(db, slot);
        (existed ? done : left).add(existed ? "dropped replication slot " + slot : "slot " + slot + " did not exist");
    }

    /** Deletes the migration's topics; true when none is left. */
    private boolean topics(String migration, List<String> done, List<String> left) {
        List<String> names = List.of(Topics.changes(migration), Topics.chunks(migration));
        if (bootstrapServers == null) {
            left.add("topics " + names + " kept: no Kafka given (--bootstrap)");
            return false;
        }
        delete("topic", admin -> admin.deleteTopics(names).topicNameValues(), done, (topic, cause) -> {
            if (cause instanceof UnknownTopicOrPartitionException) {
                left.add("topic " + topic + " did not exist");
                return true;
            }
            return false;
        });
        return true;
    }

    /**
     * Deletes the migration's consumer groups (their committed offsets), so a new run under the same
     * name starts from its topics' beginning; true when none is left. A group with live members (a
     * worker still runs the migration) is kept and named.
     */
    private boolean groups(String migration, List<String> done, List<String> left) {
        List<String> groups = List.of(Topics.group(migration, "sync"), Topics.group(migration, "backfill"));
        int keptBefore = left.size();
        delete("consumer group", admin -> admin.deleteConsumerGroups(groups).deletedGroups(), done, (group, cause) -> {
            if (cause instanceof GroupNotEmptyException) {
                left.add("consumer group " + group + " kept: workers still consume it; stop them (or drop "
                        + migration + " from their --migration list) and run cleanup again");
            }
            return cause instanceof GroupIdNotFoundException || cause instanceof GroupNotEmptyException;
        });
        return left.size() == keptBefore;
    }

    /** What to do when deleting one named thing failed: true when it is noted (left or ignored), false to fail. */
    private interface Refusal {
        boolean noted(String name, Throwable cause);
    }

    /**
     * Deletes what {@code request} names, waiting up to 30 s for each; a deletion that failed is
     * offered to {@code refusal} and fails the clean-up (UNREACHABLE) unless it noted it.
     */
    private void delete(String what, Function<Admin, Map<String, KafkaFuture<Void>>> request, List<String> done,
                        Refusal refusal) {
        try (Admin admin = admin()) {
            for (var e : request.apply(admin).entrySet()) {
                try {
                    e.getValue().get(30, TimeUnit.SECONDS);
                    done.add("deleted " + what + " " + e.getKey());
                } catch (ExecutionException ex) {
                    if (!refusal.noted(e.getKey(), ex.getCause())) {
                        throw new ShapeshiftException(ErrorCode.UNREACHABLE, "deleting " + what + " " + e.getKey()
                                + " failed: " + ex.getCause().getMessage(), ex.getCause());
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ShapeshiftException(ErrorCode.INTERNAL, "interrupted while deleting " + what + "s", e);
        } catch (TimeoutException e) {
            throw new ShapeshiftException(ErrorCode.UNREACHABLE, "Kafka at " + bootstrapServers
                    + " did not answer within 30s while deleting " + what + "s", e);
        }
    }

    private Admin admin() {
        Properties props = KafkaClientSettings.apply(new Properties());
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 30_000);
        return Admin.create(props);
    }

    /** The pid of the walsender holding the slot open, or null. */
    private String slotHolder(String slot) {
        if (slot == null) {
            return null;
        }
        return Tx.run(db, Contractor.ROLE, "reading slot " + slot, c -> {
            return Sql.one(c,
                    "SELECT active_pid FROM pg_replication_slots WHERE slot_name = ? AND active", rs -> rs.getString(1),
                    slot);
        });
    }

    private List<String[]> publishedTables(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM pg_publication WHERE pubname = ?")) {
            ps.setString(1, publication);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
            }
        }
        List<String[]> out = new ArrayList<>();
        out.addAll(Sql.list(c,
                "SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = ?",
                rs -> new String[] {rs.getString(1), rs.getString(2)}, publication));
        return out;
    }
}
