package dev.shapeshift.coordinator.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.coordinator.Seed;
import dev.shapeshift.coordinator.gate.GateClosedException;
import dev.shapeshift.coordinator.gate.Gates;
import dev.shapeshift.coordinator.gate.Transitions;
import dev.shapeshift.db.Database;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.phase.Phase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The contract on evidence from the database: an application session (its own role,
 * application_name 'app') reading the old column keeps the gate closed and is named in it, while
 * Shapeshift's own statements on the same column do not count; once the reader stops, the gate
 * opens after the quiet period (3s here). Then the soft contract, drop-archive before retention
 * refused, restore, and a forced drop.
 */
@ExtendWith(PostgresExtension.class)
class ContractGateIT {
    static final String M = "users-ev";

    @Test
    void readerKeepsGateClosedUntilQuietThenContractAndRestore(PostgresServer pg) throws Exception {
        String appRole = "app_" + Long.toHexString(System.nanoTime());
        Database db = database(pg, "contract",
                "CREATE TABLE users (id bigint PRIMARY KEY, email text, legacy_verified_at timestamptz, email_verified boolean)",
                "INSERT INTO users SELECT i, 'u' || i || '@x', CASE WHEN i % 3 = 0 THEN timestamptz '2024-01-01' + i * interval '1 hour' END, "
                        + "i % 3 = 0 FROM generate_series(1, 300) i",
                "CREATE ROLE " + appRole + " LOGIN PASSWORD 'app'",
                "GRANT SELECT, UPDATE ON users TO " + appRole);
        Contracting ready = contracting(db, M, spec("3s", "1h"), "reads-switched");
        Catalog catalog = ready.catalog();
        AccessWatch watch = ready.watch();
        Transitions transitions = ready.transitions();
        Map<Long, String> before = oldColumn(db);

        watch.baseline(M);
        AtomicBoolean reading = new AtomicBoolean(true);
        Thread app = new Thread(() -> appReader(db, appRole, reading), "app-reader");
        app.start();
        try {
            Thread.sleep(700);
            shapeshiftTouchesOldColumn(db);
            GateClosedException closed = (GateClosedException) org.assertj.core.api.Assertions.catchThrowable(() ->
                    transitions.advance(M, Phase.CONTRACT_READY, "test", "try"));
            assertThat(closed.code()).isEqualTo(ErrorCode.GATE_CLOSED);
            assertThat(closed.getMessage()).contains("old-shape-quiet")
                    .contains("SELECT legacy_verified_at FROM users WHERE id = $1").contains(appRole);
            AccessReport r = watch.evaluate(M);
            assertThat(r.offenders()).singleElement().satisfies(s -> {
                assertThat(s.role()).isEqualTo(appRole);
                assertThat(s.callsSinceBaseline()).isPositive();
                assertThat(s.lastSeen()).isNotNull();
            });
            assertThat(r.excluded()).anySatisfy(s -> assertThat(s.query()).contains("UPDATE users SET email_verified"));
        } finally {
            reading.set(false);
            app.join();
        }
        long stopped = System.nanoTime();
        Phase phase = Phase.READS_SWITCHED;
        while (phase != Phase.CONTRACT_READY) {
            assertThat(Duration.ofNanos(System.nanoTime() - stopped)).isLessThan(Duration.ofSeconds(20));
            shapeshiftTouchesOldColumn(db);
            try {
                phase = transitions.advance(M, Phase.CONTRACT_READY, "test", "quiet").phase();
            } catch (GateClosedException e) {
                Thread.sleep(400);
            }
        }
        assertThat(Duration.ofNanos(System.nanoTime() - stopped)).isGreaterThan(Duration.ofMillis(2500));

        Contractor contractor = new Contractor(db, transitions);
        Archive a = contractor.contract(M, "test", "quiet for 3s, nobody reads legacy_verified_at").orElseThrow();
        assertThat(catalog.get(M).phase()).isEqualTo(Phase.CONTRACTED);
        assertThat(columns(db)).doesNotContain("legacy_verified_at").contains("email_verified");
        assertThat(a.columns()).singleElement().satisfies(c -> assertThat(c.type()).isEqualTo("timestamp with time zone"));
        assertThat(archived(db)).isEqualTo(before);
        assertThat(contractor.contract(M, "test", "again")).contains(a);

        assertThatThrownBy(() -> contractor.dropArchive(M, false, "test", null))
                .isInstanceOf(ShapeshiftException.class).hasMessageContaining("retained until");
        contractor.restore(M, "test", "a report still reads it");
        assertThat(oldColumn(db)).isEqualTo(before);
        assertThatThrownBy(() -> contractor.restore(M, "test", "twice")).hasMessageContaining("already restored");
        assertThat(contractor.dropArchive(M, true, "test", "restored and checked").droppedAt()).isNotNull();
        assertThat(catalog.auditLog(M, 0, 100)).extracting(e -> e.action())
                .contains("transition", "restore: old shape put back from \"shapeshift_archive\".\"users-ev\"",
                        "drop-archive (forced before retention)")
                .anyMatch(s -> s.startsWith("contract: archived"));
    }

    @Test
    void tableModeContractMovesTheOldTableToTheArchiveAndRestoreBringsItBack(PostgresServer pg) throws Exception {
        String m = "users-v2";
        Database db = database(pg, "contract_table",
                "CREATE TABLE users (id bigint PRIMARY KEY, email text, legacy_verified_at timestamptz)",
                "INSERT INTO users SELECT i, 'u' || i || '@x', CASE WHEN i % 3 = 0 THEN timestamptz '2024-01-01' END "
                        + "FROM generate_series(1, 200) i",
                "CREATE TABLE users_v2 (id bigint PRIMARY KEY, email_verified boolean)",
                "INSERT INTO users_v2 SELECT id, legacy_verified_at IS NOT NULL FROM users");
        Contracting ready = contracting(db, m, "{\"name\":\"" + m + "\",\"source\":{\"table\":\"users\"},\"mode\":\"table\",\"target\":"
                + "{\"table\":\"users_v2\",\"columns\":[{\"name\":\"email_verified\",\"type\":\"boolean\","
                + "\"transform\":\"legacy_verified_at IS NOT NULL\"}]},\"contract\":{\"dropTable\":true,"
                + "\"quietPeriod\":\"1s\",\"retention\":\"1h\"}}", "contract-ready");
        Map<Long, String> before = map(db, "SELECT id, email || '|' || coalesce(legacy_verified_at::text, '-') FROM users");
        ready.watch().baseline(m);

        Contractor contractor = new Contractor(db, ready.transitions());
        long start = System.nanoTime();
        java.util.Optional<Archive> archive = java.util.Optional.empty();
        while (archive.isEmpty()) {
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(20));
            try {
                archive = contractor.contract(m, "test", "old table quiet for 1s");
            } catch (GateClosedException e) {
                Thread.sleep(300);
            }
        }
        assertThat(ready.catalog().get(m).phase()).isEqualTo(Phase.CONTRACTED);
        assertThat(map(db, "SELECT count(*), count(*)::text FROM pg_tables WHERE schemaname = 'public' AND tablename = 'users'"))
                .as("the old table left the live schema").containsEntry(0L, "0");
        assertThat(map(db, "SELECT id, email || '|' || coalesce(legacy_verified_at::text, '-') FROM shapeshift_archive.\"" + m + "\""))
                .as("archived whole").isEqualTo(before);

        contractor.restore(m, "test", "table-mode restore drill");
        assertThat(map(db, "SELECT id, email || '|' || coalesce(legacy_verified_at::text, '-') FROM public.users"))
                .as("restored as it was").isEqualTo(before);
    }

    /**
     * The in-place restore in checkpointed chunks: the old columns carried NOT NULL, a unique
     * constraint, a partial index, a check and a foreign key; the restore is interrupted after its
     * second chunk (the progress callback throws, as a crash after a commit would leave it), a row
     * inserted after the contract without a value stops the NOT NULL step with its key, and each run
     * again continues from where the last stopped. Checked by independent queries: the columns equal
     * what they held before the contract, and pg_attribute / pg_constraint / pg_index show the
     * structure back and valid.
     */
    @Test
    void inPlaceRestoreRefillsInCheckpointedChunksResumesAndRecreatesTheOldStructure(PostgresServer pg) throws Exception {
        String m = "orders-code";
        Database db = database(pg, "contract_restore",
                "CREATE TABLE regions (code text PRIMARY KEY)",
                "INSERT INTO regions VALUES ('eu'), ('us')",
                "CREATE TABLE orders (id bigint PRIMARY KEY, amount int NOT NULL, legacy_code text NOT NULL, "
                        + "legacy_region text, new_code text, "
                        + "CONSTRAINT orders_legacy_code_key UNIQUE (legacy_code), "
                        + "CONSTRAINT orders_code_shape CHECK (legacy_code LIKE 'C-%'), "
                        + "CONSTRAINT orders_region_fk FOREIGN KEY (legacy_region) REFERENCES regions (code))",
                "CREATE INDEX orders_region_amount ON orders (legacy_region, amount) WHERE amount > 10",
                "INSERT INTO orders SELECT i, i % 50, 'C-' || i, CASE WHEN i % 4 = 0 THEN NULL WHEN i % 2 = 0 THEN 'eu' "
                        + "ELSE 'us' END, lower('C-' || i) FROM generate_series(1, 500) i");
        Contracting ready = contracting(db, m, "{\"name\":\"" + m + "\",\"source\":{\"table\":\"orders\"},\"mode\":\"in-place\","
                + "\"target\":{\"columns\":[{\"name\":\"new_code\",\"type\":\"text\",\"transform\":\"lower(legacy_code)\"}]},"
                + "\"contract\":{\"dropColumns\":[\"legacy_code\",\"legacy_region\"],\"quietPeriod\":\"1s\","
                + "\"retention\":\"1h\"}}", "contract-ready");
        String oldColumns = "SELECT id, legacy_code || '|' || coalesce(legacy_region, '-') FROM orders";
        Map<Long, String> before = map(db, oldColumns);
        String structure = "SELECT count(*), string_agg(conname || ':' || contype::text || ':' || convalidated, ',' ORDER BY conname) "
                + "FROM pg_constraint WHERE conrelid = 'orders'::regclass AND conname <> 'orders_pkey'";
        Map<Long, String> constraintsBefore = map(db, structure);
        ready.watch().baseline(m);
        Contractor contractor = new Contractor(db, ready.transitions());
        long start = System.nanoTime();
        java.util.Optional<Archive> archive = java.util.Optional.empty();
        String closed = null;
        while (archive.isEmpty()) {
            assertThat(Duration.ofNanos(System.nanoTime() - start)).as(closed).isLessThan(Duration.ofSeconds(60));
            try {
                archive = contractor.contract(m, "test", "old columns quiet for 1s");
            } catch (GateClosedException e) {
                closed = e.getMessage();
                Thread.sleep(300);
            }
        }
        assertThat(archive.get().structure()).extracting(Archive.ArchivedStructure::name).containsExactlyInAnyOrder(
                "orders_region_amount", "orders_code_shape", "orders_region_fk", "orders_legacy_code_key");
        assertThat(archive.get().columns()).filteredOn(Archive.ArchivedColumn::notNull).extracting(Archive.ArchivedColumn::name)
                .containsExactly("legacy_code");
        // a row inserted after the contract: the restored NOT NULL column has no default for it
        Seed.sql(db, "INSERT INTO orders (id, amount, new_code) VALUES (501, 7, 'c-501')");

        java.util.List<Restore.Progress> seen = new java.util.ArrayList<>();
        assertThatThrownBy(() -> contractor.restore(m, "test", "a report still reads them", 70, p -> {
            seen.add(p);
            if (p.chunk() == 2) {
                throw new IllegalStateException("crash after chunk 2");
            }
        })).hasMessageContaining("crash after chunk 2");
        assertThat(map(db, "SELECT restore_rows, restore_after::text FROM shapeshift.contract_archive WHERE migration = '"
                + m + "'")).as("the checkpoint after two chunks of 70").containsExactly(Map.entry(140L, "[\"140\"]"));
        assertThat(map(db, "SELECT count(*), count(*)::text FROM orders WHERE legacy_code IS NOT NULL"))
                .as("refilled so far").containsKey(140L);

        seen.clear();
        assertThatThrownBy(() -> contractor.restore(m, "test", "again", 70, seen::add))
                .isInstanceOf(ShapeshiftException.class).hasMessageContaining("legacy_code was NOT NULL")
                .hasMessageContaining("[\"501\"]");
        assertThat(seen).as("continued after the checkpoint, not from the start").first()
                .satisfies(p -> assertThat(p.checkpoint() + " " + p.rows()).isEqualTo("[\"210\"] 210"));
        assertThat(seen).last().satisfies(p -> assertThat(p.rows()).isEqualTo(500));
        assertThat(contractor.archive(m).orElseThrow().restoredAt()).as("not restored while NOT NULL is missing").isNull();

        Seed.sql(db, "UPDATE orders SET legacy_code = 'C-501' WHERE id = 501");
        seen.clear();
        Archive restored = contractor.restore(m, "test", "fixed the new row", 70, seen::add);
        assertThat(seen).as("nothing left to refill").isEmpty();
        assertThat(restored.restoredAt()).isNotNull();
        assertThat(restored.restoredRows()).isEqualTo(500);

        Map<Long, String> expected = new TreeMap<>(before);
        expected.put(501L, "C-501|-");
        assertThat(map(db, oldColumns)).as("the old columns hold what they held before the contract").isEqualTo(expected);
        assertThat(map(db, structure)).as("constraints back, validated").isEqualTo(constraintsBefore);
        assertThat(map(db, "SELECT count(*), string_agg(c.relname || ':' || i.indisvalid || ':' || i.indisunique, ',' "
                + "ORDER BY c.relname) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = "
                + "'orders'::regclass AND c.relname <> 'orders_pkey'")).containsExactly(
                Map.entry(2L, "orders_legacy_code_key:true:true,orders_region_amount:true:false"));
        assertThat(map(db, "SELECT 1::bigint, pg_get_indexdef('orders_region_amount'::regclass)")).containsValue(
                "CREATE INDEX orders_region_amount ON public.orders USING btree (legacy_region, amount) WHERE (amount > 10)");
        assertThat(map(db, "SELECT count(*), string_agg(attname, ',') FROM pg_attribute WHERE attrelid = 'orders'::regclass "
                + "AND attname IN ('legacy_code', 'legacy_region') AND attnotnull")).containsExactly(Map.entry(1L, "legacy_code"));
        assertThatThrownBy(() -> Seed.sql(db, "INSERT INTO orders (id, amount, legacy_code) VALUES (600, 1, 'C-1')"))
                .as("the unique constraint enforces again").hasMessageContaining("orders_legacy_code_key");
        assertThatThrownBy(() -> Seed.sql(db, "INSERT INTO orders (id, amount, legacy_code, legacy_region) VALUES "
                + "(601, 1, 'C-601', 'xx')")).as("the foreign key enforces again").hasMessageContaining("orders_region_fk");
    }

    /**
     * Debezium names every connection of the bridge's engine itself ("Debezium Validate Connection"
     * at each engine start, "Debezium Slot Info", …). Sampled, such a session must not make
     * Shapeshift's role look shared with an application — found on Debian PostgreSQL 15, where one
     * sampled validation connection kept the contract gate closed for good. Negative control: a
     * session of another role with the JDBC driver's default name is not Shapeshift's.
     */
    @Test
    void debeziumNamedSessionsDoNotMakeShapeshiftsRoleShared(PostgresServer pg) throws Exception {
        String bridgeRole = "bridge_" + Long.toHexString(System.nanoTime());
        String otherRole = "other_" + Long.toHexString(System.nanoTime());
        Database db = database(pg, "contract_dbz",
                "CREATE TABLE users (id bigint PRIMARY KEY, email text, legacy_verified_at timestamptz, email_verified boolean)",
                "CREATE ROLE " + bridgeRole + " LOGIN PASSWORD 'b'", "CREATE ROLE " + otherRole + " LOGIN PASSWORD 'o'");
        new Catalog(db, "test").create(M, spec("3s", "1h"), "test", "test");
        // What makes a role one of Shapeshift's (docs/contract.md, role first): it may write the catalog.
        Seed.sql(db, "GRANT USAGE ON SCHEMA shapeshift TO " + bridgeRole, "GRANT INSERT ON shapeshift.heartbeat TO " + bridgeRole);
        try (java.sql.Connection validate = Seed.connectAs(db, bridgeRole, "b", "Debezium Validate Connection");
             java.sql.Connection slotInfo = Seed.connectAs(db, bridgeRole, "b", "Debezium Slot Info");
             java.sql.Connection other = Seed.connectAs(db, otherRole, "o", "PostgreSQL JDBC Driver")) {
            new AccessWatch(db).evaluate(M);
        }
        assertThat(map(db, "SELECT s.id, s.by_shapeshift || '/' || s.by_other FROM shapeshift.contract_sighting s "
                + "JOIN pg_roles r ON r.oid::bigint = s.id WHERE s.kind = 'role' AND r.rolname = '" + bridgeRole + "'"))
                .as("the bridge's role, seen only in Debezium's own sessions").containsValue("true/false").hasSize(1);
        assertThat(map(db, "SELECT s.id, s.by_shapeshift || '/' || s.by_other FROM shapeshift.contract_sighting s "
                + "JOIN pg_roles r ON r.oid::bigint = s.id WHERE s.kind = 'role' AND r.rolname = '" + otherRole + "'"))
                .as("another role's session").containsValue("false/true").hasSize(1);
    }

    /** A catalog, an access watch on it and the transitions gated on that watch. */
    record Contracting(Catalog catalog, AccessWatch watch, Transitions transitions) {
    }

    /** {@code m} registered from {@code specJson} and moved to {@code phase} just now, as the driver leaves it. */
    static Contracting contracting(Database db, String m, String specJson, String phase) throws SQLException {
        Catalog catalog = new Catalog(db, "test");
        catalog.create(m, specJson, "test", "test");
        Seed.sql(db, "UPDATE shapeshift.migration SET phase = '" + phase + "', phase_changed_at = now() WHERE name = '"
                + m + "'");
        AccessWatch watch = new AccessWatch(db);
        return new Contracting(catalog, watch, new Transitions(catalog, new Gates(new AccessGate(watch))));
    }

    static String spec(String quiet, String retention) {
        return "{\"name\":\"" + M + "\",\"source\":{\"table\":\"users\"},\"mode\":\"in-place\",\"target\":{\"columns\":"
                + "[{\"name\":\"email_verified\",\"type\":\"boolean\",\"transform\":\"legacy_verified_at IS NOT NULL\"}]},"
                + "\"contract\":{\"dropColumns\":[\"legacy_verified_at\"],\"quietPeriod\":\"" + quiet
                + "\",\"retention\":\"" + retention + "\"}}";
    }

    /** The application: its own role and application_name, reading the old column. */
    /** A new database with the catalog and pg_stat_statements (the contract gate reads it), set up by {@code statements}. */
    private static Database database(PostgresServer pg, String prefix, String... statements) throws SQLException {
        Database db = Seed.database(pg, prefix);
        Seed.sql(db, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
        Seed.sql(db, statements);
        return db;
    }

    private void appReader(Database db, String role, AtomicBoolean reading) {
        try (Connection c = Seed.connectAs(db, role, "app", "app");
             PreparedStatement ps = c.prepareStatement("SELECT legacy_verified_at FROM users WHERE id = ?")) {
            long i = 0;
            while (reading.get()) {
                ps.setLong(1, 1 + (i++ % 300));
                ps.executeQuery().close();
                Thread.sleep(50);
            }
        } catch (SQLException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Shapeshift's own statement on the old column (a sync refresh), from a shapeshift-* session. */
    private static void shapeshiftTouchesOldColumn(Database db) throws SQLException {
        try (Connection c = db.connect("worker"); PreparedStatement ps = c.prepareStatement("UPDATE users SET email_verified "
                + "= (legacy_verified_at IS NOT NULL) WHERE id = ? AND email_verified IS DISTINCT FROM (legacy_verified_at IS NOT NULL)")) {
            ps.setLong(1, 7);
            ps.executeUpdate();
        }
    }

    private static Map<Long, String> oldColumn(Database db) throws SQLException {
        return map(db, "SELECT id, legacy_verified_at::text FROM users");
    }

    private static Map<Long, String> archived(Database db) throws SQLException {
        return map(db, "SELECT id, legacy_verified_at::text FROM shapeshift_archive.\"users-ev\"");
    }

    static Map<Long, String> map(Database db, String sql) throws SQLException {
        Map<Long, String> out = new TreeMap<>();
        try (Connection c = db.connect("test"); PreparedStatement ps = c.prepareStatement(sql);
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.put(rs.getLong(1), rs.getString(2));
            }
        }
        return out;
    }

    static java.util.List<String> columns(Database db) throws SQLException {
        java.util.List<String> out = new java.util.ArrayList<>();
        try (Connection c = db.connect("test"); PreparedStatement ps = c.prepareStatement("SELECT column_name FROM "
                + "information_schema.columns WHERE table_schema = 'public' AND table_name = 'users' ORDER BY ordinal_position");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }
}
