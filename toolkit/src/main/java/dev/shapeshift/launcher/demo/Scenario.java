package dev.shapeshift.launcher.demo;

import java.util.List;
import java.util.Random;

/**
 * The seed scenarios of the demo: the schema and data an application already has, the migration
 * spec, the application's writes, and an independent check of the result written by hand here
 * (not derived from the code under test).
 *
 * <p>Why ~340 lines: each scenario's schema, spec, writes and independent check stand together, so
 * a reader can check one against the other; demo code, not in the runtime jar.
 */
enum Scenario {
    /** In place: users.legacy_verified_at → users.email_verified, drop the old column last. */
    USERS("users", "users-email-verified", List.of("legacy_verified_at")),
    /** Table mode: users → users_v2 (id, email_lower, email_verified). */
    TABLE("users", "users-v2", List.of()),
    /** In place: menu_items.label → translate_key, drop label last. */
    MENU("menu_items", "menu-translate-key", List.of("label"));

    final String table;
    final String migration;
    final List<String> oldColumns;

    Scenario(String table, String migration, List<String> oldColumns) {
        this.table = table;
        this.migration = migration;
        this.oldColumns = oldColumns;
    }

    String createSql() {
        return switch (this) {
            case USERS, TABLE -> "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, "
                    + "legacy_verified_at timestamptz, created_at timestamptz NOT NULL DEFAULT now())";
            case MENU -> "CREATE TABLE menu_items (id bigint PRIMARY KEY, label text NOT NULL, price numeric(8,2) NOT NULL)";
        };
    }

    /** Loads {@code rows} rows in one statement; keys are sparse (every third id). */
    String seedSql(long rows) {
        return switch (this) {
            case USERS, TABLE -> "INSERT INTO users (id, email, legacy_verified_at) SELECT g * 3, 'user' || g || '@Example.com', "
                    + "CASE WHEN g % 3 = 0 THEN now() - (g % 1000) * interval '1 hour' END FROM generate_series(1, " + rows + ") g";
            // One row in a thousand is written by hand as 'Dish no N - Sour!': it slugifies to the same key as row
            // g - 4 ('Dish no. N (Sour)'), so the unique index on translate_key has duplicates to find.
            case MENU -> "INSERT INTO menu_items (id, label, price) SELECT g * 3, CASE WHEN g % 1000 = 500 THEN "
                    + "'Dish no ' || (g - 4) || ' - ' || (ARRAY['Spicy','Sweet','Sour','Vegan'])[1 + g % 4] || '!' "
                    + "ELSE 'Dish no. ' || g || ' (' || (ARRAY['Spicy','Sweet','Sour','Vegan'])[1 + g % 4] || ')' END, "
                    + "(g % 5000) / 100.0 FROM generate_series(1, " + rows + ") g";
        };
    }

    /** The migration spec, short periods so the demo finishes in minutes (real specs: docs/spec.md). */
    String specYaml() {
        String common = """
                backfill:
                  chunkRows: 20000
                  targetTransaction: 300ms
                reconcile:
                  rangeRows: 20000
                  interval: 3s
                  recheckAfter: 2s
                switch:
                  cleanFor: 5s
                  maxLag: 5s
                """;
        return switch (this) {
            case USERS -> """
                    name: users-email-verified
                    source:
                      table: users
                    mode: in-place
                    target:
                      columns:
                        - name: email_verified
                          type: boolean
                          transform: legacy_verified_at IS NOT NULL
                          notNull: true
                          default: "false"
                    contract:
                      dropColumns: [legacy_verified_at]
                      quietPeriod: 5s
                      retention: 7d
                    writes:
                      switch: true
                      reverse:
                        legacy_verified_at: CASE WHEN email_verified THEN coalesce(legacy_verified_at, now()) END
                      cleanFor: 5s
                    """ + common;
            case TABLE -> """
                    name: users-v2
                    source:
                      table: users
                    mode: table
                    target:
                      table: users_v2
                      columns:
                        - name: email_lower
                          type: text
                          transform: lower(email)
                        - name: email_verified
                          type: boolean
                          transform: legacy_verified_at IS NOT NULL
                    contract:
                      dropTable: true
                      quietPeriod: 5s
                      retention: 7d
                    """ + common;
            case MENU -> """
                    name: menu-translate-key
                    source:
                      table: menu_items
                    mode: in-place
                    target:
                      columns:
                        - name: translate_key
                          type: text
                          transform: lower(regexp_replace(label, '[^a-zA-Z0-9]+', '_', 'g'))
                          unique: true
                    contract:
                      dropColumns: [label]
                      quietPeriod: 5s
                      retention: 7d
                    writes:
                      switch: true
                      reverse:
                        label: "CASE WHEN lower(regexp_replace(label, '[^a-zA-Z0-9]+', '_', 'g')) = translate_key THEN label ELSE translate_key END"
                      cleanFor: 5s
                    """ + common;
        };
    }

    /**
     * Rows where the new shape differs from the transform of the old one, computed by a query
     * written here by hand: 0 means target = transform(source).
     */
    String mismatchSql() {
        return switch (this) {
            case USERS -> "SELECT count(*) FROM users WHERE email_verified IS DISTINCT FROM (legacy_verified_at IS NOT NULL)";
            case TABLE -> "SELECT count(*) FROM ((SELECT id, lower(email), legacy_verified_at IS NOT NULL FROM users "
                    + "EXCEPT SELECT id, email_lower, email_verified FROM users_v2) UNION ALL "
                    + "(SELECT id, email_lower, email_verified FROM users_v2 EXCEPT "
                    + "SELECT id, lower(email), legacy_verified_at IS NOT NULL FROM users)) d";
            case MENU -> "SELECT count(*) FROM menu_items WHERE translate_key IS DISTINCT FROM "
                    + "lower(regexp_replace(label, '[^a-zA-Z0-9]+', '_', 'g'))";
        };
    }

    /** The application's bulk-copy equivalent of the backfill, the baseline the backfill is measured against. */
    String bulkBaselineSql() {
        return switch (this) {
            case USERS -> "UPDATE demo_baseline SET email_verified = legacy_verified_at IS NOT NULL";
            case TABLE -> "INSERT INTO demo_baseline_target SELECT id, lower(email), legacy_verified_at IS NOT NULL FROM demo_baseline";
            case MENU -> "UPDATE demo_baseline SET translate_key = lower(regexp_replace(label, '[^a-zA-Z0-9]+', '_', 'g'))";
        };
    }

    List<String> bulkBaselineSetup() {
        return switch (this) {
            case USERS -> List.of("CREATE TABLE demo_baseline AS SELECT * FROM users",
                    "ALTER TABLE demo_baseline ADD PRIMARY KEY (id)", "ALTER TABLE demo_baseline ADD COLUMN email_verified boolean");
            case TABLE -> List.of("CREATE TABLE demo_baseline AS SELECT * FROM users", "ALTER TABLE demo_baseline ADD PRIMARY KEY (id)",
                    "CREATE TABLE demo_baseline_target (id bigint PRIMARY KEY, email_lower text, email_verified boolean)");
            case MENU -> List.of("CREATE TABLE demo_baseline AS SELECT * FROM menu_items",
                    "ALTER TABLE demo_baseline ADD PRIMARY KEY (id)", "ALTER TABLE demo_baseline ADD COLUMN translate_key text");
        };
    }

    List<String> bulkBaselineTeardown() {
        return List.of("DROP TABLE IF EXISTS demo_baseline", "DROP TABLE IF EXISTS demo_baseline_target");
    }

    /** Which shapes one application write writes (docs/flags.md): the version of the code and the write flag decide. */
    enum Shapes { OLD, BOTH, NEW }

    /** Whether the demo walks the write switch (writes.switch: in place only). */
    boolean switchesWrites() {
        return this != TABLE;
    }

    /**
     * One application write: an insert, an update of the data the migration moves, or a delete,
     * in the shapes the application's code writes. The same random draws for every shape, so the
     * workload does not change with the code version.
     */
    Write randomWrite(Random r, long maxId, Shapes shapes) {
        long id = 3 * (1 + (long) (r.nextDouble() * maxId));
        int op = r.nextInt(100);
        return switch (this) {
            case USERS, TABLE -> op < 60 ? switch (shapes) {
                case OLD -> new Write("UPDATE users SET legacy_verified_at = CASE WHEN legacy_verified_at IS NULL THEN now() END WHERE id = ?", id);
                // Every SET expression reads the row as it was: email_verified becomes the new legacy_verified_at IS NOT NULL.
                case BOTH -> new Write("UPDATE users SET legacy_verified_at = CASE WHEN legacy_verified_at IS NULL THEN now() END, "
                        + "email_verified = legacy_verified_at IS NULL WHERE id = ?", id);
                case NEW -> new Write("UPDATE users SET email_verified = NOT email_verified WHERE id = ?", id);
            }
                    : op < 80 ? new Write("UPDATE users SET email = 'changed' || ? || '@Example.com' WHERE id = ?", id, id)
                    : op < 92 ? switch (shapes) {
                case OLD -> new Write("INSERT INTO users (id, email, legacy_verified_at) VALUES (?, 'new' || ? || '@Example.com', "
                        + "now()) ON CONFLICT (id) DO NOTHING", id + 1, id + 1);
                case BOTH -> new Write("INSERT INTO users (id, email, legacy_verified_at, email_verified) VALUES (?, 'new' || ? "
                        + "|| '@Example.com', now(), true) ON CONFLICT (id) DO NOTHING", id + 1, id + 1);
                case NEW -> new Write("INSERT INTO users (id, email, email_verified) VALUES (?, 'new' || ? || '@Example.com', "
                        + "true) ON CONFLICT (id) DO NOTHING", id + 1, id + 1);
            }
                    : new Write("DELETE FROM users WHERE id = ?", id);
            case MENU -> {
                // The row's id in the new label: translate_key is unique, two rows renamed alike would collide.
                String renamed = "Renamed dish " + id + "-" + r.nextInt(1000);
                String added = "New dish " + (id + 1);
                yield op < 70 ? switch (shapes) {
                    case OLD -> new Write("UPDATE menu_items SET label = ? WHERE id = ?", renamed, id);
                    case BOTH -> new Write("UPDATE menu_items SET label = ?, translate_key = ? WHERE id = ?", renamed,
                            translateKey(renamed), id);
                    case NEW -> new Write("UPDATE menu_items SET translate_key = ? WHERE id = ?", translateKey(renamed), id);
                }
                        : op < 90 ? switch (shapes) {
                    case OLD -> new Write("INSERT INTO menu_items (id, label, price) VALUES (?, ?, 9.5) "
                            + "ON CONFLICT (id) DO NOTHING", id + 1, added);
                    case BOTH -> new Write("INSERT INTO menu_items (id, label, translate_key, price) VALUES (?, ?, ?, 9.5) "
                            + "ON CONFLICT (id) DO NOTHING", id + 1, added, translateKey(added));
                    // No label: the write switch relaxed its NOT NULL; the reverse sync fills it.
                    case NEW -> new Write("INSERT INTO menu_items (id, translate_key, price) VALUES (?, ?, 9.5) "
                            + "ON CONFLICT (id) DO NOTHING", id + 1, translateKey(added));
                }
                        : new Write("DELETE FROM menu_items WHERE id = ?", id);
            }
        };
    }

    /** Whether a write changes the data the migration moves (so, before the switch, the old shape): not the email change, not a delete. */
    static boolean movesData(Write w) {
        return !w.sql().startsWith("DELETE") && !w.sql().contains("SET email =");
    }

    /** The application's own computation of the new shape (menu), as its new code does it: the transform, in Java. */
    static String translateKey(String label) {
        return label.replaceAll("[^a-zA-Z0-9]+", "_").toLowerCase(java.util.Locale.ROOT);
    }

    /**
     * The nightly export's read of the old column, with the new shape of the same rows in the
     * same statement so each value read can be checked against it ({@link #exportCorrect}).
     * Parameters: the last id exported, the batch size.
     */
    String exportSql() {
        return switch (this) {
            case USERS, TABLE -> "SELECT id, legacy_verified_at, email_verified FROM users WHERE id > ? ORDER BY id LIMIT ?";
            case MENU -> "SELECT id, label, translate_key FROM menu_items WHERE id > ? ORDER BY id LIMIT ?";
        };
    }

    /** The same read for given ids (a re-check of values that lagged). */
    String exportRecheckSql() {
        return switch (this) {
            case USERS, TABLE -> "SELECT id, legacy_verified_at, email_verified FROM users WHERE id = ANY (?)";
            case MENU -> "SELECT id, label, translate_key FROM menu_items WHERE id = ANY (?)";
        };
    }

    /**
     * Whether the old value the export read equals reverse(new, old) of the spec's writes.reverse,
     * written here by hand: users, legacy_verified_at is set exactly when email_verified is true;
     * menu, the label is kept when it still maps to translate_key, else it is translate_key.
     */
    boolean exportCorrect(Object oldValue, Object newValue) {
        return switch (this) {
            case USERS, TABLE -> newValue instanceof Boolean verified && verified == (oldValue != null);
            case MENU -> oldValue instanceof String label && newValue instanceof String key
                    && (translateKey(label).equals(key) ? label : key).equals(label);
        };
    }

    /**
     * After the contract: rows where the new shape differs from the transform of the ARCHIVED old
     * shape (or exists on one side only), by a hand-written query; 0 means nothing was lost.
     */
    String mismatchAfterContractSql() {
        String archive = "shapeshift_archive.\"" + migration + "\"";
        return switch (this) {
            case USERS -> "SELECT count(*) FROM users u FULL JOIN " + archive + " a USING (id) WHERE u.id IS NULL "
                    + "OR a.id IS NULL OR u.email_verified IS DISTINCT FROM (a.legacy_verified_at IS NOT NULL)";
            case TABLE -> "SELECT count(*) FROM users_v2 v FULL JOIN " + archive + " a USING (id) WHERE v.id IS NULL "
                    + "OR a.id IS NULL OR v.email_lower IS DISTINCT FROM lower(a.email) "
                    + "OR v.email_verified IS DISTINCT FROM (a.legacy_verified_at IS NOT NULL)";
            case MENU -> "SELECT count(*) FROM menu_items m FULL JOIN " + archive + " a USING (id) WHERE m.id IS NULL "
                    + "OR a.id IS NULL OR m.translate_key IS DISTINCT FROM lower(regexp_replace(a.label, '[^a-zA-Z0-9]+', '_', 'g'))";
        };
    }

    /** The application's own database role: its statements are told from Shapeshift's by identity. */
    static final List<String> APP_ROLE_SQL = List.of(
            "CREATE ROLE demo_app LOGIN PASSWORD 'demo_app'",
            "GRANT USAGE ON SCHEMA public TO demo_app",
            "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO demo_app",
            "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO demo_app",
            // The nightly export job: a reader of the old column with an identity of its own.
            "CREATE ROLE demo_export LOGIN PASSWORD 'demo_export'",
            "GRANT USAGE ON SCHEMA public TO demo_export",
            "GRANT SELECT ON ALL TABLES IN SCHEMA public TO demo_export");

    /** A read of the old shape, as the application does before the read switch. */
    String oldShapeRead() {
        return switch (this) {
            case USERS, TABLE -> "SELECT legacy_verified_at FROM users WHERE id = ?";
            case MENU -> "SELECT label FROM menu_items WHERE id = ?";
        };
    }

    /**
     * Makes {@code n} rows of the new shape wrong behind the sync's back: in table mode by writing
     * the new table directly (not captured), in place inside a transaction marked as a worker's
     * (its changes are dropped from the change stream as echoes), so only reconciliation can see it.
     */
    List<String> injectDriftSql(int n) {
        return switch (this) {
            case USERS -> List.of("SELECT pg_logical_emit_message(true, 'shapeshift.echo', '" + migration + "')",
                    "UPDATE users SET email_verified = NOT email_verified WHERE id IN (SELECT id FROM users ORDER BY id LIMIT " + n + ")");
            case TABLE -> List.of("UPDATE users_v2 SET email_verified = NOT email_verified WHERE id IN "
                    + "(SELECT id FROM users_v2 ORDER BY id LIMIT " + n + ")");
            case MENU -> List.of("SELECT pg_logical_emit_message(true, 'shapeshift.echo', '" + migration + "')",
                    "UPDATE menu_items SET translate_key = 'drift_' || id WHERE id IN (SELECT id FROM menu_items ORDER BY id LIMIT " + n + ")");
        };
    }

    /** Whether the application falls back to the old shape when the new one has no value (menu: label for a missing key). */
    boolean fallsBackToOldShape() {
        return this == MENU;
    }

    /** A read of the new shape, as the application does after the read switch. */
    String newShapeRead() {
        return switch (this) {
            case USERS -> "SELECT email_verified FROM users WHERE id = ?";
            case TABLE -> "SELECT email_verified FROM users_v2 WHERE id = ?";
            case MENU -> "SELECT translate_key FROM menu_items WHERE id = ?";
        };
    }

    record Write(String sql, Object... params) {
    }
}
