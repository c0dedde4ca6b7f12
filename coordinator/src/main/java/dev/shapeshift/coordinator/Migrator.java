package dev.shapeshift.coordinator;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.ChunkStore;
import dev.shapeshift.catalog.ChunkStore.Chunk;
import dev.shapeshift.catalog.ChunkStore.Totals;
import dev.shapeshift.catalog.MigrationRecord;
import dev.shapeshift.coordinator.plan.ChunkPlanner;
import dev.shapeshift.coordinator.plan.ChunkPublisher;
import dev.shapeshift.db.Database;
import dev.shapeshift.db.LockSafeDdl;
import dev.shapeshift.db.SqlStates;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.kafka.Topics;
import dev.shapeshift.phase.Phase;
import dev.shapeshift.spec.ExpandPlan;
import dev.shapeshift.spec.MigrationSpec;
import dev.shapeshift.spec.ResolvedSpec;
import dev.shapeshift.spec.SpecJson;
import dev.shapeshift.spec.SpecValidator;
import dev.shapeshift.spec.Validation;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drives one migration through its phases, one step per method, in the order that makes it safe
 * (DESIGN.md): the slot (and so the sync) covers the table before the first chunk reads. Each step
 * reads the phase from the catalog, does its work, and moves the phase with an audited
 * compare-and-set through {@link PhaseMover}, which checks the step's gate. A crashed coordinator
 * resumes by calling the step for the phase it finds.
 */
public final class Migrator {
    private static final Logger log = LoggerFactory.getLogger(Migrator.class);

    /** Moves a migration to a phase after checking the gate; the coordinator's gates plug in here. */
    @FunctionalInterface
    public interface PhaseMover {
        MigrationRecord advance(String migration, Phase from, Phase to, String actor, String reason);
    }

    private final Database db;
    private final String bootstrapServers;
    private final Catalog catalog;
    private final ChunkStore chunks;
    private final PhaseMover mover;
    private final String actor;
    private final int partitions;

    /**
     * @param partitions partitions of the migration's topics, fixed for its life: the most workers
     *                   that can share its sync and its backfill
     */
    public Migrator(Database db, String bootstrapServers, PhaseMover mover, String actor, int partitions) {
        this.db = db;
        this.bootstrapServers = bootstrapServers;
        this.catalog = new Catalog(db, "coordinator");
        this.chunks = new ChunkStore(catalog);
        this.mover = mover;
        this.actor = actor;
        this.partitions = partitions;
    }

    /** Validates the spec against the live database and registers it in phase {@code planned}. */
    public Validation register(MigrationSpec spec, String origin, String specSource) {
        Validation v;
        try (Connection c = db.connect("coordinator")) {
            v = SpecValidator.check(spec, c);
        } catch (SQLException e) {
            throw SqlStates.translate("validating " + origin, e);
        }
        if (!v.valid()) {
            throw SpecValidator.invalid(origin, v.problems());
        }
        catalog.create(spec.name(), SpecJson.write(spec), specSource, actor);
        Topics.ensure(bootstrapServers, Map.of(Topics.changes(spec.name()), partitions,
                Topics.chunks(spec.name()), partitions), (short) 1);
        log.info("migration registered migration={} mode={} partitions={}", spec.name(), spec.mode().yaml(), partitions);
        return v;
    }

    /** planned → expanded: applies the additive DDL in one lock-safe transaction (PostgreSQL DDL is transactional). */
    public void expand(String migration, ExpandPlan plan) {
        requirePhase(migration, Phase.PLANNED);
        LockSafeDdl.of(db, "coordinator").inTransaction("expanding " + migration, c -> {
            try (Statement s = c.createStatement()) {
                for (String ddl : plan.statements()) {
                    s.execute(ddl);
                }
            }
            return null;
        });
        mover.advance(migration, Phase.PLANNED, Phase.EXPANDED, actor, plan.statements().size() + " DDL statement(s) applied");
    }

    /** expanded → syncing, once the bridge streams the source table and recorded its start LSN. */
    public void awaitSyncing(String migration, Duration timeout) {
        requirePhase(migration, Phase.EXPANDED);
        Instant deadline = Instant.now().plus(timeout);
        MigrationRecord m = catalog.get(migration);
        while (m.startLsn() == null) {
            if (Instant.now().isAfter(deadline)) {
                throw new ShapeshiftException(ErrorCode.UNREACHABLE, "migration " + migration + ": no cdc-bridge started "
                        + "capturing its source table within " + timeout.toSeconds() + "s; is a bridge running for this database?");
            }
            sleep(Duration.ofMillis(200));
            m = catalog.get(migration);
        }
        mover.advance(migration, Phase.EXPANDED, Phase.SYNCING, actor,
                "sync covers every write from LSN " + m.startLsn() + " (slot " + m.slotName() + ")");
    }

    /** syncing → backfilling: plans the chunks (idempotent) and publishes them to the workers. */
    public List<Chunk> startBackfill(ResolvedSpec resolved) {
        String migration = resolved.spec().name();
        requirePhase(migration, Phase.SYNCING);
        List<Chunk> plan = new ChunkPlanner(chunks).plan(resolved);
        new ChunkPublisher(bootstrapServers, partitions).publish(migration, plan);
        mover.advance(migration, Phase.SYNCING, Phase.BACKFILLING, actor, plan.size() + " chunks planned and published");
        return plan;
    }

    /** backfilling → backfilled, once every chunk is done; reports progress while it waits. */
    public Totals awaitBackfilled(String migration, Duration poll, Consumer<Totals> progress) {
        requirePhase(migration, Phase.BACKFILLING);
        Totals t = chunks.totals(migration);
        while (t.done() < t.chunks()) {
            progress.accept(t);
            sleep(poll);
            t = chunks.totals(migration);
        }
        progress.accept(t);
        mover.advance(migration, Phase.BACKFILLING, Phase.BACKFILLED, actor,
                t.done() + "/" + t.chunks() + " chunks done, " + t.rowsCopied() + " rows copied");
        return t;
    }

    public MigrationRecord advance(String migration, Phase to, String reason) {
        MigrationRecord m = catalog.get(migration);
        return mover.advance(migration, m.phase(), to, actor, reason);
    }

    public Catalog catalog() {
        return catalog;
    }

    public ChunkStore chunks() {
        return chunks;
    }

    private void requirePhase(String migration, Phase expected) {
        Phase now = catalog.get(migration).phase();
        if (now != expected) {
            throw new ShapeshiftException(ErrorCode.CONFLICT, "migration " + migration + " is in phase " + now
                    + ", this step needs " + expected);
        }
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ShapeshiftException(ErrorCode.INTERNAL, "interrupted", e);
        }
    }
}
