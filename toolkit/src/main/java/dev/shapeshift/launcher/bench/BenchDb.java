package dev.shapeshift.launcher.bench;

import dev.shapeshift.catalog.CatalogSchema;
import dev.shapeshift.db.Database;
import dev.shapeshift.embedded.EmbeddedPostgres;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;

/** The database a benchmark works in: a new one on its embedded server, with Shapeshift's catalog. */
final class BenchDb {
    private BenchDb() {
    }

    /** Creates database {@code name} on {@code pg} and migrates the catalog schema into it. */
    static Database withCatalog(EmbeddedPostgres pg, String name) {
        Database db = new Database(pg.jdbcUrl(pg.createDatabase(name)), pg.user(), pg.password());
        CatalogSchema.migrate(db);
        return db;
    }

    /**
     * A benchmark's set-up on one connection of {@code db}: describes the machine for its report
     * ({@link Machine#describe}), then runs {@code statements} in order. Returns the description.
     */
    static Map<String, String> describeAndRun(Database db, String... statements) throws SQLException {
        try (Connection c = db.connect("bench"); Statement s = c.createStatement()) {
            Map<String, String> machine = Machine.describe(c);
            for (String sql : statements) {
                s.execute(sql);
            }
            return machine;
        }
    }
}
