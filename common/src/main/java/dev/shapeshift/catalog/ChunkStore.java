package dev.shapeshift.catalog;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shapeshift.db.Sql;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.refresh.Key;
import dev.shapeshift.refresh.KeyRange;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The backfill's chunks ({@code shapeshift.chunk}): their leases, checkpoints, failures and totals.
 * The plan that creates them is {@link PlanStore}, the in-place VACUUM log {@link VacuumLog}, the
 * live settings {@link Catalog#settings}. Keys are stored as JSON arrays of the key columns' text
 * forms.
 *
 * <p>Leases: taking a chunk bumps its {@code epoch}; every later write of the owner is guarded by
 * {@code WHERE epoch = <its epoch>}, so an owner that lost the chunk (crashed, paused, partition
 * reassigned) can never move the checkpoint again. {@link #checkpoint} takes a connection so the
 * checkpoint commits in the same transaction as the rows it describes.
 *
 * <p>Why one class of ~450 lines: every statement here is on one table and under one rule (a chunk's
 * writes are guarded by the epoch of the lease that took it); the lease, its heartbeat, throttle
 * mark, checkpoint, release, failure and an operator's retry are read best side by side.
 */
public final class ChunkStore {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CHUNK_COLUMNS = "migration, chunk_no, lower_key::text, upper_key::text, status, "
            + "last_key::text, rows_copied, rows_written, attempts, owner, epoch, heartbeat_at, resumed_from::text, error";

    /** One row of {@code shapeshift.chunk}. Bounds: lower exclusive, upper inclusive, null = open. */
    public record Chunk(String migration, int number, Key lower, Key upper, String status, Key lastKey,
                        long rowsCopied, long rowsWritten, int attempts, String owner, long epoch,
                        Instant heartbeatAt, Key resumedFrom, String error) {
        public KeyRange range() {
            return new KeyRange(lower, upper);
        }

        public boolean done() {
            return "done".equals(status);
        }
    }

    /** How a plan was made; one row of {@code shapeshift.backfill_plan}. */
    public record PlanInfo(String method, long estimatedRows, int chunkRows, long tableBytes, long indexBytes) {
    }

    /**
     * A chunk held by one owner at one epoch. {@code resumeFrom} is the stored checkpoint the lease
     * starts after (null: from the chunk's lower bound).
     */
    public record Lease(String migration, int chunk, String owner, long epoch, KeyRange range, Key resumeFrom,
                        long rowsCopied, int attempts) {
        /** The keys still to copy. */
        public KeyRange remaining() {
            return resumeFrom == null ? range : range.resumeAfter(resumeFrom);
        }
    }

    /** What {@link #acquire} found. */
    public sealed interface Acquired {
        record Taken(Lease lease) implements Acquired {
        }

        record AlreadyDone() implements Acquired {
        }

        /** Someone else holds a live lease; retry after it expires or is released. */
        record Held(String owner, Duration heartbeatAge) implements Acquired {
        }
    }

    /** Sums over a migration's chunks. {@code estimatedRows} comes from the plan (0 if unplanned). */
    public record Totals(int chunks, int done, int running, int failed, long rowsCopied, long rowsWritten,
                         long estimatedRows, Instant firstStart) {
    }

    private final Catalog catalog;

    public ChunkStore(Catalog catalog) {
        this.catalog = catalog;
    }

    public Connection connect() {
        return catalog.connect();
    }

    /** The catalog these chunks are kept in (settings, audit). */
    public Catalog catalog() {
        return catalog;
    }

    /** The stored plan in chunk order; empty if the migration has none. */
    public List<Chunk> chunks(String migration) {
        return catalog.inTransaction("reading chunks of " + migration, c -> chunks(c, migration));
    }

    public Optional<Chunk> chunk(String migration, int number) {
        return chunks(migration).stream().filter(ch -> ch.number() == number).findFirst();
    }


    /** The audit action of a chunk taken over from a worker whose lease ran out. */
    public static final String RELEASE_ACTION = "chunk re-leased";

    /** A running chunk's lease as it was before {@link #acquire}: owner, checkpoint, heartbeat age in s. */
    private record Holder(String owner, String checkpoint, double heartbeatAge) {
    }

    /**
     * Takes a chunk for {@code owner} if it is not done and nobody else holds a live lease on it
     * (pending, failed, released, held by this owner, or heartbeat older than {@code leaseTimeout}).
     * Bumps the epoch and the attempts and records the checkpoint it resumes from.
     */
    public Acquired acquire(String migration, int chunk, String owner, Duration leaseTimeout) {
        return catalog.inTransaction("taking chunk " + chunk + " of " + migration, c -> {
            Holder previous = Sql.one(c, "SELECT owner, last_key::text, coalesce(extract(epoch FROM "
                    + "now() - heartbeat_at), 0) FROM shapeshift.chunk WHERE migration = ? AND chunk_no = ? "
                    + "AND status = 'running' FOR UPDATE",
                    rs -> new Holder(rs.getString(1), rs.getString(2), rs.getDouble(3)), migration, chunk);
            Lease lease = Sql.one(c, "UPDATE shapeshift.chunk SET owner = ?, epoch = epoch + 1, "
                    + "heartbeat_at = now(), status = 'running', attempts = attempts + 1, "
                    + "started_at = coalesce(started_at, now()), error = NULL, resumed_from = last_key "
                    + "WHERE migration = ? AND chunk_no = ? AND status <> 'done' AND (owner IS NULL OR owner = ? "
                    + "OR status IN ('pending', 'failed') OR heartbeat_at IS NULL "
                    + "OR heartbeat_at < now() - make_interval(secs => ?)) "
                    + "RETURNING epoch, lower_key::text, upper_key::text, last_key::text, rows_copied, attempts",
                    rs -> new Lease(migration, chunk, owner, rs.getLong(1),
                            new KeyRange(key(rs.getString(2)), key(rs.getString(3))), key(rs.getString(4)),
                            rs.getLong(5), rs.getInt(6)),
                    owner, migration, chunk, owner, leaseTimeout.toMillis() / 1000.0);
            if (lease != null) {
                if (previous != null && previous.owner() != null && !previous.owner().equals(owner)) {
                    // Another worker's lease ran out (it died, froze or lost its database): say who
                    // takes over and from which checkpoint, in the audit log as in the chunk row.
                    Catalog.audit(c, migration, "worker " + owner, RELEASE_ACTION, null, null, "chunk " + chunk
                            + " taken over from " + previous.owner() + " (heartbeat "
                            + Math.round(previous.heartbeatAge()) + " s old); resumes "
                            + (previous.checkpoint() == null ? "from the chunk's start"
                            : "after checkpoint key " + previous.checkpoint()));
                }
                return new Acquired.Taken(lease);
            }
            Acquired other = Sql.one(c, "SELECT status, owner, "
                    + "extract(epoch from now() - heartbeat_at) FROM shapeshift.chunk WHERE migration = ? AND chunk_no = ?",
                    rs -> "done".equals(rs.getString(1)) ? new Acquired.AlreadyDone()
                            : new Acquired.Held(rs.getString(2), Duration.ofMillis((long) (rs.getDouble(3) * 1000))),
                    migration, chunk);
            if (other == null) {
                throw new ShapeshiftException(ErrorCode.NOT_FOUND, "migration " + migration + " has no chunk " + chunk);
            }
            return other;
        });
    }

    /**
     * Moves the checkpoint of a held chunk, in the caller's transaction (the one that copied the
     * rows), and marks it done when {@code done}. False if the lease is lost: the caller must roll
     * back.
     */
    public boolean checkpoint(Connection c, Lease lease, Key lastKey, long read, long written, boolean done)
            throws SQLException {
        return Sql.update(c, "UPDATE shapeshift.chunk SET "
                + "last_key = coalesce(?::jsonb, last_key), rows_copied = rows_copied + ?, "
                + "rows_written = rows_written + ?, heartbeat_at = now(), throttle_reason = NULL, throttled_since = NULL, "
                + "status = CASE WHEN ? THEN 'done' ELSE status END, "
                + "finished_at = CASE WHEN ? THEN now() ELSE finished_at END "
                + "WHERE migration = ? AND chunk_no = ? AND epoch = ? AND status = 'running'",
                lastKey == null ? null : json(lastKey), read, written, done, done, lease.migration(), lease.chunk(),
                lease.epoch()) == 1;
    }

    /**
     * Locks the chunk's row for this sub-batch transaction if the lease still holds; false if it
     * was lost. Taken before the sub-batch writes anything, so a worker that lost its chunk (a
     * paused "zombie") waits for the new owner's running sub-batch and then stops, instead of
     * racing it for the same target rows.
     */
    public boolean claim(Connection c, Lease lease) throws SQLException {
        return Sql.exists(c, "SELECT 1 FROM shapeshift.chunk "
                + "WHERE migration = ? AND chunk_no = ? AND epoch = ? AND status = 'running' FOR NO KEY UPDATE",
                lease.migration(), lease.chunk(), lease.epoch());
    }

    /** Keeps a lease alive while the owner waits (throttled, paused). False if it is lost. */
    public boolean heartbeat(Lease lease) {
        return guarded(lease, "heartbeat_at = now()", null);
    }

    /**
     * Records why the owner of a held chunk waits (its throttle decision), keeping the time it
     * started when the reason is of the same kind (the same words; its figures, e.g. the slot lag,
     * may change); the next checkpoint clears it. Also a heartbeat. False if
     * the lease is lost.
     */
    public boolean throttled(Lease lease, String reason) {
        return catalog.inTransaction("recording the throttle of chunk " + lease.chunk(), c -> {
            return Sql.update(c, "UPDATE shapeshift.chunk SET "
                    + "throttled_since = CASE WHEN regexp_replace(throttle_reason, '[0-9.]+', '#', 'g') "
                    + "IS NOT DISTINCT FROM regexp_replace(?, '[0-9.]+', '#', 'g') "
                    + "THEN coalesce(throttled_since, now()) ELSE now() END, throttle_reason = ?, heartbeat_at = now() "
                    + "WHERE migration = ? AND chunk_no = ? AND epoch = ? AND status = 'running'",
                    reason, reason, lease.migration(), lease.chunk(), lease.epoch()) == 1;
        });
    }

    /** A running chunk whose owner waits on its throttle: which worker, why, since when. */
    public record Throttled(int chunk, String owner, String reason, Instant since) {
    }

    /** The running chunks of a migration whose owners are waiting on their throttle, longest first. */
    public List<Throttled> throttled(String migration) {
        return catalog.inTransaction("reading the throttle of " + migration, c -> {
            List<Throttled> out = new ArrayList<>();
            out.addAll(Sql.list(c, "SELECT chunk_no, owner, throttle_reason, throttled_since "
                    + "FROM shapeshift.chunk WHERE migration = ? AND status = 'running' AND throttle_reason IS NOT NULL "
                    + "ORDER BY throttled_since, chunk_no",
                    rs -> new Throttled(rs.getInt(1), rs.getString(2), rs.getString(3), instant(rs.getTimestamp(4))),
                    migration));
            return out;
        });
    }

    /** Gives a chunk back (shutdown, partition revoked) so the next owner need not wait for the lease to expire. */
    public boolean release(Lease lease) {
        return guarded(lease, "owner = NULL, status = 'pending'", null);
    }

    /** Records a failure that retrying cannot fix; the chunk is retried when its task is published again. */
    public boolean fail(Lease lease, String error) {
        return guarded(lease, "status = 'failed', owner = NULL, error = ?", error);
    }

    /** The audit action of an operator's retry of failed chunks; the driver republishes their tasks at its next tick. */
    public static final String RETRY_ACTION = "failed chunks retried";

    /**
     * Puts failed chunks back to {@code pending} (error and owner cleared, checkpoint and counters kept, so
     * the next worker resumes after the last checkpoint) and audits it with the errors they had. The driver
     * publishes their tasks again at its next tick (docs/backfill.md).
     *
     * @param only the chunk numbers to retry; empty = every failed chunk of the migration
     * @return the chunks put back, with the error each had
     * @throws ShapeshiftException USAGE when a chunk named in {@code only} does not exist or has not failed
     */
    public Map<Integer, String> retryFailed(String migration, List<Integer> only, String actor, String reason) {
        return catalog.inTransaction("retrying failed chunks of " + migration, c -> {
            Map<Integer, String> status = new java.util.TreeMap<>();
            Map<Integer, String> errors = new HashMap<>();
            Sql.each(c, "SELECT chunk_no, status, error FROM shapeshift.chunk "
                    + "WHERE migration = ? ORDER BY chunk_no FOR UPDATE", rs -> {
                    status.put(rs.getInt(1), rs.getString(2));
                    errors.put(rs.getInt(1), rs.getString(3));
                }, migration);
            List<String> wrong = new ArrayList<>();
            for (int n : only) {
                String st = status.get(n);
                if (!"failed".equals(st)) {
                    wrong.add("chunk " + n + (st == null ? " does not exist" : " is " + st));
                }
            }
            if (!wrong.isEmpty()) {
                List<Integer> failed = status.entrySet().stream().filter(e -> "failed".equals(e.getValue()))
                        .map(Map.Entry::getKey).toList();
                throw new ShapeshiftException(ErrorCode.USAGE, "only failed chunks can be retried: "
                        + String.join(", ", wrong) + " (failed chunks of " + migration + ": "
                        + (failed.isEmpty() ? "none" : failed) + ")");
            }
            // The rows are locked above: the errors read there are the ones being cleared.
            Map<Integer, String> retried = new java.util.TreeMap<>();
            status.forEach((n, st) -> {
                if ("failed".equals(st) && (only.isEmpty() || only.contains(n))) {
                    retried.put(n, errors.get(n));
                }
            });
            if (!retried.isEmpty()) {
                Sql.update(c, "UPDATE shapeshift.chunk SET status = 'pending', "
                        + "owner = NULL, error = NULL WHERE migration = ? AND chunk_no = ANY (?::int[])",
                        migration, c.createArrayOf("integer", retried.keySet().toArray()));
                StringBuilder what = new StringBuilder();
                retried.forEach((n, e) -> what.append(what.length() == 0 ? "" : "; ").append("chunk ").append(n)
                        .append(" (was: ").append(e == null ? "no error recorded" : e).append(')'));
                Catalog.audit(c, migration, actor, RETRY_ACTION, null, null,
                        (reason == null || reason.isBlank() ? "" : reason + " — ") + what);
            }
            return retried;
        });
    }

    public Totals totals(String migration) {
        return catalog.inTransaction("reading backfill totals of " + migration, c -> {
            return Sql.one(c, "SELECT count(*), count(*) FILTER (WHERE status = 'done'), "
                    + "count(*) FILTER (WHERE status = 'running'), count(*) FILTER (WHERE status = 'failed'), "
                    + "coalesce(sum(rows_copied), 0), coalesce(sum(rows_written), 0), "
                    + "(SELECT estimated_rows FROM shapeshift.backfill_plan WHERE migration = ?), min(started_at) "
                    + "FROM shapeshift.chunk WHERE migration = ?",
                    rs -> new Totals(rs.getInt(1), rs.getInt(2), rs.getInt(3), rs.getInt(4), rs.getLong(5),
                            rs.getLong(6), rs.getLong(7), instant(rs.getTimestamp(8))), migration, migration);
        });
    }

    /** Rows copied by all chunks of a migration, as seen by the caller's transaction. */
    public long rowsCopied(Connection c, String migration) throws SQLException {
        return Sql.one(c,
                "SELECT coalesce(sum(rows_copied), 0) FROM shapeshift.chunk WHERE migration = ?", rs -> rs.getLong(1),
                migration);
    }

    /** Owners holding a live lease: the workers sharing the migration's rate cap. */
    public int liveOwners(Connection c, String migration, Duration leaseTimeout) throws SQLException {
        // Owners active within the lease timeout, whether they hold a chunk right now or are between
        // two: counting only current holders made the per-worker share of the rate cap jump up each
        // time a worker finished a chunk, and the migration's rate overshoot the cap.
        return Sql.one(c, "SELECT count(DISTINCT owner) FROM shapeshift.chunk "
                + "WHERE migration = ? AND owner IS NOT NULL AND heartbeat_at > now() - make_interval(secs => ?)",
                rs -> rs.getInt(1), migration, leaseTimeout.toMillis() / 1000.0);
    }

    private boolean guarded(Lease lease, String set, String param) {
        return catalog.inTransaction("updating lease of chunk " + lease.chunk(), c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE shapeshift.chunk SET " + set
                    + " WHERE migration = ? AND chunk_no = ? AND epoch = ? AND status = 'running'")) {
                int p = 1;
                if (param != null) {
                    ps.setString(p++, param);
                }
                ps.setString(p++, lease.migration());
                ps.setInt(p++, lease.chunk());
                ps.setLong(p, lease.epoch());
                return ps.executeUpdate() == 1;
            }
        });
    }

    static List<Chunk> chunks(Connection c, String migration) throws SQLException {
        List<Chunk> out = new ArrayList<>();
        Sql.each(c, "SELECT " + CHUNK_COLUMNS
                + " FROM shapeshift.chunk WHERE migration = ? ORDER BY chunk_no", rs -> {
                out.add(new Chunk(rs.getString(1), rs.getInt(2), key(rs.getString(3)), key(rs.getString(4)),
                        rs.getString(5), key(rs.getString(6)), rs.getLong(7), rs.getLong(8), rs.getInt(9),
                        rs.getString(10), rs.getLong(11), instant(rs.getTimestamp(12)), key(rs.getString(13)),
                        rs.getString(14)));
            }, migration);
        return out;
    }

    /** A key as stored: a JSON array of its columns' text forms. */
    public static String json(Key key) {
        try {
            return JSON.writeValueAsString(key.values());
        } catch (JsonProcessingException e) {
            throw new ShapeshiftException(ErrorCode.INTERNAL, "cannot write key as JSON", e);
        }
    }

    /** Reads a stored key; null stays null. */
    public static Key key(String json) {
        if (json == null) {
            return null;
        }
        try {
            return new Key(List.of(JSON.readValue(json, String[].class)));
        } catch (JsonProcessingException e) {
            throw new ShapeshiftException(ErrorCode.INTERNAL, "stored key is not a JSON array of text: " + json, e);
        }
    }

    private static Instant instant(Timestamp ts) {
        return ts == null ? null : ts.toInstant();
    }
}
