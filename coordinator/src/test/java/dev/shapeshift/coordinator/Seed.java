package dev.shapeshift.coordinator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.CatalogSchema;
import dev.shapeshift.db.Database;
import dev.shapeshift.embedded.PostgresServer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;

/** Test helpers: a fresh catalog database seeded by SQL, read back by SQL, and a tiny HTTP client. */
public final class Seed {
    public static final String ADMIN = "admin-token-0123456789";
    public static final String READ = "read-token-0123456789";
    public static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private Seed() {
    }

    public static Database database(PostgresServer pg, String prefix) {
        Database db = new Database(pg.jdbcUrl(pg.createDatabase(prefix)), pg.user(), pg.password());
        CatalogSchema.migrate(db);
        return db;
    }

    /**
     * A migration in {@code phase} with 4 chunks (3 done, 1 running, 3000 of ~4000 rows), one
     * finished reconcile run (ids from 7 in seeding order) and three open drift rows (2 missing, 1 different) plus one resolved.
     */
    public static void migration(Database db, String name, String phase, String cleanFor) throws SQLException {
        new Catalog(db, "test").create(name, "{\"name\":\"" + name + "\",\"switch\":{\"cleanFor\":\"" + cleanFor
                + "\",\"maxLag\":\"5s\"},\"contract\":{\"quietPeriod\":\"1h\"}}", "test", "test");
        sql(db, "UPDATE shapeshift.migration SET phase = '" + phase + "' WHERE name = '" + name + "'",
                "INSERT INTO shapeshift.backfill_plan (migration, method, estimated_rows, chunk_rows, table_bytes, index_bytes) "
                        + "VALUES ('" + name + "', 'histogram', 4000, 1000, 1, 1)",
                "INSERT INTO shapeshift.chunk (migration, chunk_no, status, rows_copied, started_at, finished_at) "
                        + "SELECT '" + name + "', i, CASE WHEN i < 3 THEN 'done' ELSE 'running' END, "
                        + "CASE WHEN i < 3 THEN 1000 ELSE 0 END, now() - interval '1 minute', "
                        + "CASE WHEN i < 3 THEN now() - interval '30 seconds' END FROM generate_series(0, 3) i",
                "INSERT INTO shapeshift.reconcile_run (id, migration, status, started_at, finished_at, ranges_done, "
                        + "rows_checked, drift_found) VALUES ((SELECT coalesce(max(id), 6) + 1 FROM shapeshift.reconcile_run), '"
                        + name + "', 'done', now() - interval '20 seconds', "
                        + "now() - interval '10 seconds', 4, 4000, 3)",
                "INSERT INTO shapeshift.drift (migration, key, kind, run_id, resolved_at) SELECT '" + name + "', k::jsonb, "
                        + "kind, (SELECT max(id) FROM shapeshift.reconcile_run), r FROM (VALUES ('[\"11\"]', 'missing', NULL), "
                        + "('[\"12\"]', 'missing', NULL), ('[\"13\"]', 'different', NULL), ('[\"14\"]', 'extra', now())) "
                        + "AS d (k, kind, r)");
    }

    public static void sql(Database db, String... statements) throws SQLException {
        try (Connection c = db.connect("test"); Statement s = c.createStatement()) {
            for (String q : statements) {
                s.execute(q);
            }
        }
    }

    /** The first column of every row {@code sql} returns, as text, sorted (duplicates once). */
    public static Set<String> query(Database db, String sql) throws SQLException {
        return new TreeSet<>(column(db, sql));
    }

    /** The first column of every row {@code sql} returns, as text, in the order returned. */
    public static List<String> column(Database db, String sql) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Connection c = db.connect("test"); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    /** The one number {@code sql} returns (a {@code count(*)}). */
    public static long count(Database db, String sql) throws SQLException {
        try (Connection c = db.connect("test"); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** A connection as an application's role (not Shapeshift's), under its own application name. */
    public static Connection connectAs(Database db, String role, String password, String applicationName)
            throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", role);
        p.setProperty("password", password);
        p.setProperty("ApplicationName", applicationName);
        return DriverManager.getConnection(db.jdbcUrl(), p);
    }

    public record Response(int status, String body) {
        public JsonNode json() {
            try {
                return JSON.readTree(body);
            } catch (IOException e) {
                throw new AssertionError("not JSON: " + body, e);
            }
        }
    }

    public static Response call(int port, String method, String path, String token, String body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        try {
            HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
            return new Response(r.statusCode(), r.body());
        } catch (IOException e) {
            throw new AssertionError(method + " " + path + " failed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
