package dev.shapeshift.worker;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.MigrationRecord;
import dev.shapeshift.db.Database;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.spec.MigrationSpec;
import dev.shapeshift.spec.ResolvedSpec;
import dev.shapeshift.spec.SpecJson;
import dev.shapeshift.spec.SpecValidator;
import java.sql.Connection;
import java.sql.SQLException;

/** A registered migration's spec, as the catalog stores it, resolved against the live database. */
public final class CatalogSpec {
    private CatalogSpec() {
    }

    /** The migration's stored spec, resolved against the live database (its expand has run). */
    public static ResolvedSpec resolve(Database db, String migration) {
        MigrationRecord record = new Catalog(db, "worker").get(migration);
        MigrationSpec spec = SpecJson.read(record.specJson());
        try (Connection c = db.connect("worker")) {
            return SpecValidator.resolveExpanded("migration " + migration + " (catalog)", spec, c);
        } catch (SQLException e) {
            throw new ShapeshiftException(ErrorCode.UNREACHABLE, "closing connection failed: " + e.getMessage(), e);
        }
    }
}
