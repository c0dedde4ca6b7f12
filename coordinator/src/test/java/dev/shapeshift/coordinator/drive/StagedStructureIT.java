package dev.shapeshift.coordinator.drive;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.FindingStore;
import dev.shapeshift.coordinator.GateWiring;
import dev.shapeshift.coordinator.Seed;
import dev.shapeshift.coordinator.gate.GateReport;
import dev.shapeshift.coordinator.stage.Enforcer;
import dev.shapeshift.db.Database;
import dev.shapeshift.db.IndexCompactor;
import dev.shapeshift.db.LockSafeDdl;
import dev.shapeshift.catalog.Knob;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.embedded.UsersSpec;
import dev.shapeshift.phase.Phase;
import dev.shapeshift.spec.MigrationSpec;
import dev.shapeshift.spec.ResolvedSpec;
import dev.shapeshift.spec.SpecJson;
import dev.shapeshift.spec.SpecReader;
import dev.shapeshift.spec.SpecValidator;
import dev.shapeshift.spec.Structure;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The staged structure of an in-place migration — a unique column, a NOT NULL column with a
 * default, a foreign key and a check — expanded by the driver's {@link Expander} and enforced by
 * the driver's {@link Enforcer} while an application keeps inserting and updating rows. Checked
 * independently in {@code pg_index}, {@code pg_constraint} and {@code pg_attribute}, and on the
 * data. Violation case: duplicate slugs seeded → findings with exactly the duplicate keys, the
 * verified gate's structure check closed naming them, no index; a unique build that failed on them
 * left an INVALID index that is not taken for done; the data fixed → the INVALID index is dropped
 * and rebuilt, everything is enforced and the check opens.
 */
@ExtendWith(PostgresExtension.class)
class StagedStructureIT {
    private static final String SPEC = UsersSpec.withColumns("staged", UsersSpec.STAGED_COLUMNS, """
              checks:
                - expression: slug <> ''
            """);
    /** What the workers' refresh writes in place, for every row (a WHERE may follow). */
    private static final String BACKFILL = "UPDATE public.users SET email_verified = legacy_verified_at IS NOT NULL, "
            + "slug = lower(email), org_ref = org_id";
    /** 3000 users, none verified, in 20 orgs: the rows of {@link #orgsAndUsers}. */
    private static final String UNVERIFIED_USERS = "g, 'User' || g || '@example.com', NULL, 1 + g % 20 "
            + "FROM generate_series(1, 3000) g";

    @Test
    void violatorsAreFoundFirstThenEveryItemIsEnforcedOnlineUnderWrites(PostgresServer pg) throws Exception {
        Database db = orgsAndUsers(pg, "staged", "g, 'User' || g || '@example.com', CASE WHEN g % 3 = 0 THEN now() END, "
                        + "1 + g % 20 FROM generate_series(1, 3000) g",
                // Three pairs of emails that differ only in case: their slugs collide.
                "UPDATE public.users SET email = 'USER' || (id - 1000) || '@example.com' WHERE id IN (1010, 1020, 1030)");
        Catalog catalog = new Catalog(db, "test");
        MigrationSpec spec = register(catalog, SPEC);

        LockSafeDdl ddl = ddl(db);
        List<String> applied = new Expander(db, ddl).expand(spec);
        assertThat(applied).anyMatch(s -> s.contains("SET DEFAULT false")).noneMatch(s -> s.contains("CONSTRAINT"));
        assertThat(constraints(db)).as("checks and foreign keys wait for the enforcement").isEmpty();

        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong writes = new AtomicLong();
        Thread app = new Thread(() -> load(db, stop, writes), "app-load");
        app.start();
        try {
            // The backfill, in batches: what the workers' refresh writes in place.
            for (int lo = 0; lo < 3000; lo += 500) {
                Seed.sql(db, BACKFILL + " WHERE id > " + lo + " AND id <= " + (lo + 500));
            }
            Seed.sql(db, "UPDATE shapeshift.migration SET phase = 'backfilled' WHERE name = 'staged'");
            ResolvedSpec resolved;
            try (Connection c = db.connect("test")) {
                resolved = SpecValidator.resolveExpanded(spec.name(), spec, c);
            }
            Enforcer enforcer = new Enforcer(db, ddl);

            // A unique build tried before anyone looked fails on the duplicates and leaves an INVALID index.
            try (Connection c = db.connect("test"); Statement s = c.createStatement()) {
                s.execute("CREATE UNIQUE INDEX CONCURRENTLY users_slug_key ON public.users (slug)");
            } catch (SQLException expected) {
                assertThat(expected.getSQLState()).isEqualTo("23505");
            }
            assertThat(indexValid(db, "users_slug_key")).as("left INVALID").isEqualTo("false");

            Enforcer.Result first = enforcer.run(spec.name(), resolved);
            assertThat(first.done()).isFalse();
            Set<String> duplicateIds = Seed.query(db, "SELECT id::text FROM public.users WHERE lower(email) IN (SELECT "
                    + "lower(email) FROM public.users GROUP BY 1 HAVING count(*) > 1)");
            assertThat(duplicateIds).hasSize(6);
            assertThat(Seed.query(db, "SELECT jsonb_array_elements(key)->>0 FROM shapeshift.finding WHERE migration = 'staged' "
                    + "AND item = 'unique index users_slug_key'")).as("findings are exactly the duplicate keys")
                    .isEqualTo(duplicateIds);
            assertThat(new FindingStore(catalog).list("staged")).allMatch(f -> f.kind().equals("duplicate") && f.total() == 3);
            assertThat(indexValid(db, "users_slug_key")).as("not built over the duplicates").isEqualTo("false");
            try (Connection c = db.connect("test")) {
                assertThat(Structure.pending(c, spec)).contains("unique index users_slug_key");
            }
            GateReport closed = GateWiring.transitions(db, "test").check("staged", Phase.VERIFIED);
            assertThat(structureCheck(closed)).startsWith("3 finding(s)").contains("unique index users_slug_key");
            assertThat(closed.open()).isFalse();

            // Fix the data (a suffix, as an operator would), look again: it proceeds.
            Seed.sql(db, "UPDATE public.users SET email = 'user' || id || '-2@example.com', slug = 'user' || id "
                    + "|| '-2@example.com' WHERE id IN (1010, 1020, 1030)");
            Enforcer.Result second = enforcer.run(spec.name(), resolved);
            assertThat(second.done()).isTrue();
            assertThat(second.enforced()).containsExactly("unique index users_slug_key", "check users_check1",
                    "foreign key users_org_ref_fkey", "not null email_verified");
            assertThat(new FindingStore(catalog).list("staged")).isEmpty();
            assertThat(structureCheck(GateWiring.transitions(db, "test").check("staged", Phase.VERIFIED)))
                    .startsWith("staged structure enforced");
        } finally {
            stop.set(true);
            app.join();
        }
        assertThat(writes.get()).as("the application wrote throughout").isGreaterThan(0);

        // Independent look at the schema.
        assertThat(indexValid(db, "users_slug_key")).isEqualTo("true");
        assertThat(Seed.query(db, "SELECT indisunique::text FROM pg_index WHERE indexrelid = 'public.users_slug_key'::regclass"))
                .containsExactly("true");
        assertThat(convalidated(db, "users_org_ref_fkey")).isTrue();
        assertThat(convalidated(db, "users_check1")).isTrue();
        assertThat(Seed.query(db, "SELECT attnotnull::text FROM pg_attribute WHERE attrelid = 'public.users'::regclass "
                + "AND attname = 'email_verified'")).containsExactly("true");
        assertThat(Seed.query(db, "SELECT conname FROM pg_constraint WHERE conname = 'users_email_verified_not_null'"))
                .as("the helper check is dropped").isEmpty();
        // ... and at the data.
        assertThat(Seed.query(db, "SELECT count(*)::text FROM public.users WHERE email_verified IS NULL OR slug IS NULL "
                + "OR org_ref IS NULL OR slug = ''")).containsExactly("0");
        assertThat(Seed.query(db, "SELECT count(*)::text FROM (SELECT slug FROM public.users GROUP BY 1 HAVING count(*) > 1) d"))
                .containsExactly("0");
        assertThat(Seed.query(db, "SELECT count(*)::text FROM public.users u WHERE NOT EXISTS (SELECT 1 FROM public.orgs o "
                + "WHERE o.id = u.org_ref)")).containsExactly("0");
    }

    @Test
    void theDriverEnforcesInBackfilledWaitsOnFindingsAndProceedsOnceTheDataIsFixed(PostgresServer pg) throws Exception {
        Database db = orgsAndUsers(pg, "staged_driver", UNVERIFIED_USERS,
                "UPDATE public.users SET email = 'USER' || (id - 1000) || '@example.com' WHERE id = 1010");
        Catalog catalog = new Catalog(db, "test");
        MigrationSpec spec = register(catalog, SPEC.replace("name: staged", "name: staged-driver").replace("  checks:\n",
                "  indexes:\n    - name: users_email_idx\n      columns: [email]\n  checks:\n") + "reconcile:\n  interval: 10m\n");
        new Expander(db).expand(spec);
        Seed.sql(db, BACKFILL, "UPDATE shapeshift.migration SET phase = 'backfilled' WHERE name = 'staged-driver'");

        MigrationDriver driver = new MigrationDriver(spec.name(), db, GateWiring.transitions(db, "coordinator"),
                DriveConfig.on("127.0.0.1:9", 1), new io.micrometer.core.instrument.simple.SimpleMeterRegistry(),
                () -> false, HaltPoint.NONE);
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong writes = new AtomicLong();
        Thread app = new Thread(() -> load(db, stop, writes), "app-load");
        app.start();
        try {
            assertThat(driver.tick().kind()).isEqualTo(Step.Kind.ENFORCE);
            String message = catalog.get(spec.name()).message();
            assertThat(message).contains("rows violate the staged structure").contains("unique index users_slug_key")
                    .contains("[[\"10\"], [\"1010\"]]").contains("shapeshift status staged-driver");
            assertThat(new dev.shapeshift.coordinator.status.StatusReader(catalog, GateWiring.gates(db))
                    .read(spec.name()).findings()).as("the status lists the findings")
                    .extracting(FindingStore.Finding::key).containsExactly("[[\"10\"], [\"1010\"]]");
            Step waiting = driver.tick();
            assertThat(waiting.kind()).as("findings are fresh: no new scan yet").isEqualTo(Step.Kind.WAIT);
            assertThat(waiting.reason()).contains("1 finding(s)");
            assertThat(indexValid(db, "users_slug_key")).isEqualTo("missing");
            try (Connection c = db.connect("test")) {
                assertThat(Structure.pending(c, spec)).as("the other items were enforced meanwhile")
                        .containsExactly("unique index users_slug_key");
            }

            Seed.sql(db, "UPDATE public.users SET email = 'user1010-2@example.com', slug = 'user1010-2@example.com' "
                    + "WHERE id = 1010");
            assertThat(driver.tick().kind()).as("fixed, but the next look is due only after reconcile.interval")
                    .isEqualTo(Step.Kind.WAIT);
            // reconcile.interval passes (the findings are made older rather than the test waiting 10 minutes).
            Seed.sql(db, "UPDATE shapeshift.finding SET found_at = found_at - interval '11 minutes'");
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(300))
                    .until(() -> {
                        driver.tick();
                        try (Connection c = db.connect("test")) {
                            return Structure.pending(c, spec).isEmpty();
                        }
                    });
        } finally {
            stop.set(true);
            app.join();
        }
        assertThat(catalog.get(spec.name()).phase()).isEqualTo(Phase.BACKFILLED);
        assertThat(new FindingStore(catalog).list(spec.name())).isEmpty();
        assertThat(indexValid(db, "users_slug_key")).isEqualTo("true");
        assertThat(Seed.query(db, "SELECT attnotnull::text FROM pg_attribute WHERE attrelid = 'public.users'::regclass "
                + "AND attname = 'email_verified'")).containsExactly("true");
        assertThat(Seed.query(db, "SELECT count(*)::text FROM (SELECT slug FROM public.users GROUP BY 1 HAVING count(*) > 1) d"))
                .containsExactly("0");
        assertThat(indexValid(db, "users_email_idx")).as("an index on an old column").isEqualTo("true");

        // Rollback undoes the structure too: the index on the old column would outlive the new columns otherwise.
        new dev.shapeshift.coordinator.contract.Rollback(db, GateWiring.transitions(db, "test"), null)
                .rollback(spec.name(), "test", "drill", false);
        assertThat(indexValid(db, "users_email_idx")).isEqualTo("missing");
        assertThat(Seed.query(db, "SELECT conname FROM pg_constraint WHERE conrelid = 'public.users'::regclass AND contype <> 'p'"))
                .isEmpty();
        assertThat(Seed.query(db, "SELECT attname FROM pg_attribute WHERE attrelid = 'public.users'::regclass AND attnum > 0 "
                + "AND NOT attisdropped")).containsExactlyInAnyOrder("id", "email", "legacy_verified_at", "org_id");
    }

    /**
     * Rows that violate the check ({@code slug <> ''}) and the foreign key (orgs that do not exist)
     * are backfilled like any other row and become findings with their keys; nothing is enforced
     * over them; once the data is fixed both constraints are added and validated. Negative control:
     * with the foreign key added {@code NOT VALID} before the backfill (what the expand did), the
     * same backfill batch fails on the first orphan.
     */
    @Test
    void checkAndForeignKeyViolatorsBecomeFindingsInsteadOfFailingTheBackfill(PostgresServer pg) throws Exception {
        Database db = orgsAndUsers(pg, "staged_violators", UNVERIFIED_USERS,
                // Orphans: orgs 21 and 22 do not exist. A check violator: an empty email makes an empty slug.
                "UPDATE public.users SET org_id = 21 WHERE id IN (100, 2100)",
                "UPDATE public.users SET org_id = 22 WHERE id = 2900",
                "UPDATE public.users SET email = '' WHERE id = 1500");
        Catalog catalog = new Catalog(db, "test");
        MigrationSpec spec = register(catalog, SPEC.replace("name: staged", "name: staged-violators"));
        LockSafeDdl ddl = ddl(db);
        new Expander(db, ddl).expand(spec);
        assertThat(constraints(db)).isEmpty();
        String backfill = BACKFILL + " WHERE id > %d AND id <= %d";

        // Negative control: the foreign key NOT VALID before the backfill checks the backfill's writes.
        try (Connection c = db.connect("test"); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            s.execute(Structure.addNotValid(spec, item(spec, "users_org_ref_fkey")));
            SQLException failed = org.junit.jupiter.api.Assertions.assertThrows(SQLException.class,
                    () -> s.execute(backfill.formatted(0, 500)));
            assertThat(failed.getSQLState()).as("foreign_key_violation").isEqualTo("23503");
            c.rollback();
        }
        assertThat(constraints(db)).isEmpty();

        for (int lo = 0; lo < 3000; lo += 500) {
            Seed.sql(db, backfill.formatted(lo, lo + 500));
        }
        Seed.sql(db, "UPDATE shapeshift.migration SET phase = 'backfilled' WHERE name = 'staged-violators'");
        ResolvedSpec resolved;
        try (Connection c = db.connect("test")) {
            resolved = SpecValidator.resolveExpanded(spec.name(), spec, c);
        }
        Enforcer enforcer = new Enforcer(db, ddl);
        Enforcer.Result first = enforcer.run(spec.name(), resolved);
        assertThat(first.done()).isFalse();
        assertThat(Seed.query(db, "SELECT jsonb_array_elements_text(key) FROM shapeshift.finding WHERE migration = "
                + "'staged-violators' AND kind = 'orphan'")).as("the orphans' keys")
                .isEqualTo(Seed.query(db, "SELECT id::text FROM public.users u WHERE NOT EXISTS (SELECT 1 FROM public.orgs o "
                        + "WHERE o.id = u.org_id)")).containsExactlyInAnyOrder("100", "2100", "2900");
        assertThat(Seed.query(db, "SELECT jsonb_array_elements_text(key) FROM shapeshift.finding WHERE migration = "
                + "'staged-violators' AND kind = 'check'")).as("the check violator's key").containsExactly("1500");
        assertThat(constraints(db)).as("nothing enforced over violating rows").doesNotContain("users_check1",
                "users_org_ref_fkey");
        GateReport closed = GateWiring.transitions(db, "test").check("staged-violators", Phase.VERIFIED);
        assertThat(structureCheck(closed)).contains("check users_check1").contains("foreign key users_org_ref_fkey");
        assertThat(closed.open()).isFalse();

        // The data fixed (an operator's choice: an existing org, a non-empty slug): both are enforced.
        Seed.sql(db, "INSERT INTO public.orgs VALUES (21), (22)",
                "UPDATE public.users SET email = 'user1500@example.com', slug = 'user1500@example.com' WHERE id = 1500");
        Enforcer.Result second = enforcer.run(spec.name(), resolved);
        assertThat(second.done()).isTrue();
        assertThat(new FindingStore(catalog).list("staged-violators")).isEmpty();
        assertThat(convalidated(db, "users_check1")).isTrue();
        assertThat(convalidated(db, "users_org_ref_fkey")).isTrue();
        assertThat(Seed.query(db, "SELECT count(*)::text FROM public.users u WHERE slug = '' OR NOT EXISTS (SELECT 1 FROM "
                + "public.orgs o WHERE o.id = u.org_ref)")).containsExactly("0");
    }

    /**
     * The driver's index step, first in backfilled: a backfill in place (updates on full pages, not HOT)
     * leaves the primary key about twice its one-pass size; with {@code reindex-above-pct} 0 the step
     * only measures (the negative control: same file, same size), with the default it rebuilds the key
     * concurrently under writes, drops the INVALID {@code _ccnew} a failed rebuild left, and the key
     * ends within 1.2× of a one-pass build measured independently on a copy of the same keys.
     */
    @Test
    void theDriverRebuildsTheIndexesTheBackfillBloatedConcurrently(PostgresServer pg) throws Exception {
        Database db = orgsAndUsers(pg, "staged_index", "1000000 + g, 'User' || g || '@example.com', NULL, 1 + g % 20 "
                        + "FROM generate_series(1, 200000) g");
        Catalog catalog = new Catalog(db, "test");
        MigrationSpec spec = register(catalog, SPEC.replace("name: staged", "name: staged-index"));
        new Expander(db).expand(spec);
        for (long lo = 1_000_000; lo < 1_200_000; lo += 20_000) {
            Seed.sql(db, BACKFILL + " WHERE id > " + lo + " AND id <= " + (lo + 20_000), "VACUUM public.users");
        }
        Seed.sql(db, "UPDATE shapeshift.migration SET phase = 'backfilled' WHERE name = 'staged-index'",
                "INSERT INTO shapeshift.chunk (migration, chunk_no, status, finished_at) VALUES ('staged-index', 0, "
                        + "'done', clock_timestamp())",
                "CREATE TABLE public.one_pass AS SELECT id FROM public.users", "ALTER TABLE public.one_pass ADD PRIMARY KEY (id)",
                "ANALYZE public.users");
        long onePass = Long.parseLong(Seed.query(db, "SELECT pg_relation_size('public.one_pass_pkey')").iterator().next());
        String fileBefore = relfilenode(db);
        assertThat(pkeyBytes(db)).as("the backfill bloated the key").isGreaterThan(onePass * 3 / 2);
        try (Connection c = db.connect("test")) {
            IndexCompactor.Index pkey = IndexCompactor.measure(c, "public", "users").get(0);
            assertThat(pkey.how()).isEqualTo("estimate");
            assertThat((double) pkey.estimateBytes() / onePass).as("the estimate against the real one-pass build")
                    .isBetween(0.9, 1.1);
        }

        MigrationDriver driver = new MigrationDriver(spec.name(), db, GateWiring.transitions(db, "coordinator"),
                DriveConfig.on("127.0.0.1:9", 1), new io.micrometer.core.instrument.simple.SimpleMeterRegistry(),
                () -> false, HaltPoint.NONE);
        // Negative control: rebuilding off, the step measures and leaves the key as it is.
        catalog.putSetting(spec.name(), Knob.REINDEX_ABOVE_PCT.key(), "0", "test", "measure only");
        assertThat(driver.tick().kind()).isEqualTo(Step.Kind.COMPACT_INDEXES);
        assertThat(relfilenode(db)).isEqualTo(fileBefore);
        assertThat(pkeyBytes(db)).isGreaterThan(onePass * 3 / 2);
        assertThat(catalog.get(spec.name()).message()).contains("rebuild off").contains("users_pkey");
        assertThat(driver.tick().kind()).as("the audit entry marks the step done").isEqualTo(Step.Kind.ENFORCE);

        // A later end of the backfill, the default threshold, and the INVALID copy a failed rebuild leaves.
        catalog.putSetting(spec.name(), Knob.REINDEX_ABOVE_PCT.key(), "115", "test", "default");
        Seed.sql(db, "UPDATE shapeshift.chunk SET finished_at = clock_timestamp() WHERE migration = 'staged-index'");
        try (Connection c = db.connect("test"); Statement st = c.createStatement()) {
            st.execute("CREATE UNIQUE INDEX CONCURRENTLY users_pkey_ccnew ON public.users (org_id)");
        } catch (SQLException expected) {
            assertThat(expected.getSQLState()).isEqualTo("23505");
        }
        assertThat(indexValid(db, "users_pkey_ccnew")).isEqualTo("false");
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong writes = new AtomicLong();
        Thread app = new Thread(() -> load(db, stop, writes), "app-load");
        app.start();
        long during;
        try {
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> writes.get() > 0);
            long w0 = writes.get();
            assertThat(driver.tick().kind()).isEqualTo(Step.Kind.COMPACT_INDEXES);
            during = writes.get() - w0;
        } finally {
            stop.set(true);
            app.join();
        }
        assertThat(during).as("the application wrote while the key was rebuilt").isGreaterThan(0);
        assertThat(relfilenode(db)).as("rebuilt").isNotEqualTo(fileBefore);
        assertThat(indexValid(db, "users_pkey")).isEqualTo("true");
        assertThat(indexValid(db, "users_pkey_ccnew")).as("the leftover is dropped").isEqualTo("missing");
        assertThat(Seed.query(db, "SELECT count(*)::text FROM pg_index WHERE indrelid = 'public.users'::regclass "
                + "AND NOT indisvalid")).containsExactly("0");
        assertThat((double) pkeyBytes(db) / onePass).as("within 1.2x of a one-pass build").isLessThanOrEqualTo(1.2);
        assertThat(catalog.get(spec.name()).message()).contains("users_pkey").contains("rebuilt concurrently");
        assertThat(Seed.query(db, "SELECT count(*)::text FROM shapeshift.audit WHERE migration = 'staged-index' AND action = '"
                + Step.INDEX_ACTION + "'")).containsExactly("2");
        assertThat(Seed.query(db, "SELECT count(*)::text FROM public.users")).as("no row lost")
                .containsExactly(String.valueOf(200_000 + writes.get() / 2));
    }

    /**
     * A catalog database with 20 orgs and a {@code users} table (id, email, legacy_verified_at,
     * org_id) filled by {@code rows} (what its INSERT selects, with the FROM), then {@code more}.
     */
    private static Database orgsAndUsers(PostgresServer pg, String database, String rows, String... more)
            throws SQLException {
        Database db = Seed.database(pg, database);
        Seed.sql(db, "CREATE TABLE public.orgs (id bigint PRIMARY KEY)",
                "INSERT INTO public.orgs SELECT g FROM generate_series(1, 20) g",
                "CREATE TABLE public.users (id bigint PRIMARY KEY, email text NOT NULL, legacy_verified_at timestamptz, "
                        + "org_id bigint NOT NULL)",
                "INSERT INTO public.users SELECT " + rows);
        Seed.sql(db, more);
        return db;
    }

    /** {@code yaml} read as a spec file and registered (planned). */
    private static MigrationSpec register(Catalog catalog, String yaml) {
        MigrationSpec spec = new SpecReader().read("staged.yaml", yaml);
        catalog.create(spec.name(), SpecJson.write(spec), yaml, "test");
        return spec;
    }

    /** The expand's and the enforcer's DDL: short lock timeouts, many quick retries. */
    private static LockSafeDdl ddl(Database db) {
        return new LockSafeDdl(db, "coordinator", new LockSafeDdl.Policy(Duration.ofMillis(500), 50,
                Duration.ofMillis(50), Duration.ofMillis(500)));
    }

    private static long pkeyBytes(Database db) throws SQLException {
        return Long.parseLong(Seed.query(db, "SELECT pg_relation_size('public.users_pkey')").iterator().next());
    }

    private static String relfilenode(Database db) throws SQLException {
        return Seed.query(db, "SELECT relfilenode::text FROM pg_class WHERE oid = 'public.users_pkey'::regclass").iterator().next();
    }

    private static Structure.Item item(MigrationSpec spec, String name) {
        return Structure.items(spec).stream().filter(i -> name.equals(i.name())).findFirst().orElseThrow();
    }

    /** Names of the CHECK and FOREIGN KEY constraints on public.users. */
    private static Set<String> constraints(Database db) throws SQLException {
        return Seed.query(db, "SELECT conname FROM pg_constraint WHERE conrelid = 'public.users'::regclass AND contype IN ('c', 'f')");
    }

    /** Inserts and updates that write both shapes consistently, as the sync keeps them. */
    private static void load(Database db, AtomicBoolean stop, AtomicLong writes) {
        long next = 100_000;
        try (Connection c = db.connect("app")) {
            PreparedStatement insert = c.prepareStatement("INSERT INTO public.users (id, email, legacy_verified_at, "
                    + "org_id, email_verified, slug, org_ref) VALUES (?, ?, now(), ?, true, ?, ?)");
            PreparedStatement update = c.prepareStatement("UPDATE public.users SET legacy_verified_at = now(), "
                    + "email_verified = true WHERE id = ?");
            while (!stop.get() && writes.get() < 100_000) {
                long id = next++;
                long org = 1 + id % 20;
                insert.setLong(1, id);
                insert.setString(2, "app" + id + "@example.com");
                insert.setLong(3, org);
                insert.setString(4, "app" + id + "@example.com");
                insert.setLong(5, org);
                insert.executeUpdate();
                update.setLong(1, 1 + ThreadLocalRandom.current().nextLong(2999));
                update.executeUpdate();
                writes.addAndGet(2);
                Thread.sleep(5);
            }
        } catch (SQLException | InterruptedException e) {
            throw new IllegalStateException("application load failed", e);
        }
    }

    private static String structureCheck(GateReport r) {
        return r.checks().stream().filter(c -> c.name().equals("structure")).findFirst().orElseThrow().evidence();
    }

    private static boolean convalidated(Database db, String name) throws SQLException {
        return Seed.query(db, "SELECT convalidated::text FROM pg_constraint WHERE conname = '" + name + "'").contains("true");
    }

    private static String indexValid(Database db, String name) throws SQLException {
        Set<String> v = Seed.query(db, "SELECT (indisvalid AND indisready)::text FROM pg_index i JOIN pg_class x ON "
                + "x.oid = i.indexrelid WHERE x.relname = '" + name + "'");
        return v.isEmpty() ? "missing" : v.iterator().next();
    }
}
