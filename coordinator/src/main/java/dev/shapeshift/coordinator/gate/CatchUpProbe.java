package dev.shapeshift.coordinator.gate;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.SyncStream;
import dev.shapeshift.catalog.SyncStreamStore;
import dev.shapeshift.db.Sql;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * Sync lag from the workers' side: "caught up" means every sync stream of the migration (every
 * partition of its changes topic, {@code shapeshift.sync_stream}) has applied past the source's WAL
 * position at the time of the check.
 *
 * <p>To make an idle database prove it, the probe notes {@code pg_current_wal_lsn()} and then writes
 * a probe row into {@code shapeshift.heartbeat} (slot name {@code <slot>.probe}): that table is in
 * the bridge's publication, so the write reaches every partition of every captured migration as a
 * heartbeat event behind all changes committed before it, and a worker applying it records its LSN.
 * The time until every stream shows an applied LSN at or past the noted position is an upper bound
 * on the end-to-end lag (source commit → applied in the target → recorded), including the up to one
 * second the workers take to record progress. With {@code wait} zero (status pages) nothing is
 * written and the lag shown is the age of the newest source commit the slowest stream applied,
 * which on an idle table includes up to one bridge heartbeat interval.
 */
public final class CatchUpProbe {
    private static final Duration POLL = Duration.ofMillis(100);

    private CatchUpProbe() {
    }

    public static SyncLag probe(Connection c, String migration, String slot, Duration wait) throws SQLException {
        if (slot == null) {
            return SyncLag.unknown("no replication slot recorded for this migration: the cdc-bridge has not "
                    + "started streaming it");
        }
        Duration heartbeat = heartbeatAge(c, slot);
        Long bytes = slotBytes(c, slot);
        if (wait.isZero()) {
            return passive(c, migration, bytes, heartbeat);
        }
        long start = System.nanoTime();
        String target = currentLsn(c);
        Catalog.inTransaction(c, "writing a lag probe heartbeat", cc -> {
            Sql.update(cc, "INSERT INTO shapeshift.heartbeat (slot_name, beat_at) "
                    + "VALUES (?, now()) ON CONFLICT (slot_name) DO UPDATE SET beat_at = now()", slot + ".probe");
            return null;
        });
        long wanted = position(target);
        long deadline = start + wait.toNanos();
        List<SyncStream> streams = SyncStreamStore.list(c, migration);
        while (true) {
            List<String> behind = behind(streams, wanted);
            boolean hopeless = streams.isEmpty() || streams.stream().anyMatch(s -> s.state().stopped());
            if (behind.isEmpty()) {
                Duration took = Duration.ofNanos(System.nanoTime() - start);
                return new SyncLag(bytes, took, heartbeat, "all " + streams.size() + " sync streams applied past WAL "
                        + "position " + target + " within " + Gates.format(took));
            }
            if (hopeless || System.nanoTime() >= deadline) {
                return new SyncLag(bytes, null, heartbeat, "sync streams did not apply past WAL position " + target
                        + (hopeless ? "" : " within " + Gates.format(wait)) + ": " + String.join("; ", behind));
            }
            try {
                Thread.sleep(POLL.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return new SyncLag(bytes, null, heartbeat, "interrupted while waiting for the sync streams");
            }
            streams = SyncStreamStore.list(c, migration);
        }
    }

    /** What keeps the streams from counting as caught up past {@code wanted}; empty when they are. */
    static List<String> behind(List<SyncStream> streams, long wanted) {
        List<String> out = new ArrayList<>();
        if (streams.isEmpty()) {
            out.add("no sync stream recorded: no worker has consumed the migration's changes yet");
            return out;
        }
        out.addAll(missing(streams));
        for (SyncStream s : streams) {
            if (s.state().stopped()) {
                out.add("partition " + s.partition() + " is " + s.state());
            } else if (s.appliedLsn() == null || position(s.appliedLsn()) < wanted) {
                out.add("partition " + s.partition() + " (worker " + s.owner() + ", " + s.state() + ") applied up to "
                        + (s.appliedLsn() == null ? "nothing yet" : s.appliedLsn()));
            }
        }
        return out;
    }

    /** Partitions of the changes topic with no stream row: nobody has consumed them. */
    static List<String> missing(List<SyncStream> streams) {
        int partitions = streams.stream().mapToInt(SyncStream::partitions).max().orElse(0);
        TreeSet<Integer> absent = new TreeSet<>();
        for (int p = 0; p < partitions; p++) {
            absent.add(p);
        }
        streams.forEach(s -> absent.remove(s.partition()));
        return absent.isEmpty() ? List.of() : List.of("partitions " + absent + " of " + partitions
                + " have no sync stream: no worker has consumed them");
    }

    private static SyncLag passive(Connection c, String migration, Long bytes, Duration heartbeat) throws SQLException {
        List<SyncStream> streams = SyncStreamStore.list(c, migration);
        List<String> problems = new ArrayList<>(missing(streams));
        Instant oldest = null;
        for (SyncStream s : streams) {
            if (s.state().stopped()) {
                problems.add("partition " + s.partition() + " is " + s.state());
            } else if (s.appliedCommitAt() == null) {
                problems.add("partition " + s.partition() + " has applied nothing yet");
            } else if (oldest == null || s.appliedCommitAt().isBefore(oldest)) {
                oldest = s.appliedCommitAt();
            }
        }
        if (streams.isEmpty()) {
            problems.add("no sync stream recorded: no worker has consumed the migration's changes yet");
        }
        if (!problems.isEmpty() || oldest == null) {
            return new SyncLag(bytes, null, heartbeat, String.join("; ", problems));
        }
        Duration age = Duration.between(oldest, now(c));
        return new SyncLag(bytes, age.isNegative() ? Duration.ZERO : age, heartbeat, "the slowest of "
                + streams.size() + " sync streams applied a source commit " + Gates.format(age) + " old (on idle "
                + "tables up to one bridge heartbeat interval; a transition probes the exact catch-up)");
    }

    /** Parses {@code X/Y} (two hex halves) into one comparable number. */
    static long position(String lsn) {
        int slash = lsn.indexOf('/');
        return (Long.parseLong(lsn.substring(0, slash), 16) << 32) | Long.parseLong(lsn.substring(slash + 1), 16);
    }

    private static String currentLsn(Connection c) throws SQLException {
        return Sql.one(c, "SELECT pg_current_wal_lsn()::text", rs -> rs.getString(1));
    }

    private static Instant now(Connection c) throws SQLException {
        return Sql.one(c, "SELECT clock_timestamp()", rs -> rs.getTimestamp(1).toInstant());
    }

    /** WAL bytes the slot has not confirmed (for people; a different concern from lag: retention). */
    private static Long slotBytes(Connection c, String slot) throws SQLException {
        if (slot == null) {
            return null;
        }
        return Sql.one(c, "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), "
                + "confirmed_flush_lsn)::bigint FROM pg_replication_slots WHERE slot_name = ?", rs -> rs.getLong(1),
                slot);
    }

    /** Age of the bridge's last heartbeat for the slot; null if there is none. */
    private static Duration heartbeatAge(Connection c, String slot) throws SQLException {
        if (slot == null) {
            return null;
        }
        return Sql.one(c, "SELECT (extract(epoch from clock_timestamp() - beat_at) * 1000)"
                + "::bigint FROM shapeshift.heartbeat WHERE slot_name = ?",
                rs -> Duration.ofMillis(Math.max(0, rs.getLong(1))), slot);
    }
}
