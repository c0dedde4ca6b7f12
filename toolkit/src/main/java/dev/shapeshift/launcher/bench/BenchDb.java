package dev.shapeshift.launcher.bench;

import dev.shapeshift.catalog.CatalogSchema;
import dev.shapeshift.db.Database;
import dev.shapeshift.embedded.EmbeddedPostgres;

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
}
