package dev.shapeshift.catalog;

import dev.shapeshift.db.Database;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.api.output.MigrateResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates and upgrades the catalog schema ({@code shapeshift}) in the source database with
 * Flyway; the versioned scripts live in {@code db/shapeshift}. Safe to run from every role at
 * start: Flyway serialises concurrent runs with a lock and skips applied versions.
 */
public final class CatalogSchema {
    public static final String SCHEMA = "shapeshift";
    private static final Logger log = LoggerFactory.getLogger(CatalogSchema.class);

    private CatalogSchema() {
    }

    public static int migrate(Database db) {
        try {
            MigrateResult result = Flyway.configure()
                    .dataSource(db.jdbcUrl(), db.user(), db.password())
                    .schemas(SCHEMA)
                    .defaultSchema(SCHEMA)
                    .createSchemas(true)
                    .locations("classpath:db/shapeshift")
                    .table("schema_history")
                    .load()
                    .migrate();
            log.info("catalog schema ready schema={} applied={} version={}", SCHEMA,
                    result.migrationsExecuted, result.targetSchemaVersion);
            return result.migrationsExecuted;
        } catch (FlywayException e) {
            throw new ShapeshiftException(ErrorCode.UNREACHABLE,
                    "could not create or upgrade the catalog schema in " + db.safeUrl() + ": " + e.getMessage(), e);
        }
    }
}
