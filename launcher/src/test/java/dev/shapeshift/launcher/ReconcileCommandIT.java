package dev.shapeshift.launcher;

import static dev.shapeshift.launcher.CliDb.conn;
import static dev.shapeshift.launcher.CliDb.line;
import static dev.shapeshift.launcher.CliDb.sql;
import static org.assertj.core.api.Assertions.assertThat;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.catalog.CatalogSchema;
import dev.shapeshift.db.Database;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.spec.MigrationSpec;
import dev.shapeshift.spec.Reconcile;
import dev.shapeshift.spec.SpecJson;
import dev.shapeshift.spec.SpecReader;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** reconcile run / status and drift list against a real catalog (the example in-place migration). */
@ExtendWith(PostgresExtension.class)
class ReconcileCommandIT {

    @Test
    void runListRepairAndStatus(PostgresServer pg, @TempDir Path dir) throws Exception {
        String name = pg.createDatabase("reconcile_cli");
        Database db = new Database(pg.jdbcUrl(name), pg.user(), pg.password());
        sql(pg, name, "CREATE TABLE users (id bigint PRIMARY KEY, email text, legacy_verified_at timestamptz)",
                "INSERT INTO users SELECT g, 'u' || g, CASE WHEN g % 2 = 0 THEN now() END FROM generate_series(1, 2000) g",
                "ALTER TABLE users ADD COLUMN email_verified boolean",
                "UPDATE users SET email_verified = legacy_verified_at IS NOT NULL",
                "UPDATE users SET email_verified = NOT email_verified WHERE id IN (10, 500, 1999)");
        MigrationSpec read = new SpecReader().read(Path.of("..", "examples", "users-email-verified.yaml"));
        MigrationSpec spec = new MigrationSpec(read.name(), read.source(), read.mode(), read.target(), read.expand(),
                read.backfill(), new Reconcile(500, null, null, Duration.ofMillis(200)), read.readSwitch(), read.contract());
        CatalogSchema.migrate(db);
        new Catalog(db, "test").create(spec.name(), SpecJson.write(spec), "users-email-verified.yaml", "test");
        String[] conn = conn(pg, name, dir);

        Result run = run(new ReconcileCommand(), conn, "run", spec.name(), "--output", "json");
        assertThat(run.exit).as(run.err).isZero();
        assertThat(run.out).contains("\"driftFound\" : 3").contains("\"different\" : 3").contains("\"status\" : \"done\"");

        Result page1 = run(new ReconcileCommand.DriftCommand(), conn, "list", spec.name(), "--limit", "2");
        assertThat(page1.exit).as(page1.err).isZero();
        assertThat(page1.out).contains("[\"10\"]  different").contains("[\"1999\"]  different")
                .contains("more: --after '[\"1999\"]'");
        Result page2 = run(new ReconcileCommand.DriftCommand(), conn, "list", spec.name(), "--after", "[\"1999\"]");
        assertThat(page2.out).contains("[\"500\"]  different").contains("(end)");

        Result repair = run(new ReconcileCommand(), conn, "run", spec.name(), "--repair", "--reason", "cli test");
        assertThat(repair.exit).as(repair.err).isZero();
        assertThat(repair.out).contains("repair: refreshed 3 keys, wrote 3, resolved 3, still different 0");

        Result status = run(new ReconcileCommand(), conn, "status", spec.name());
        assertThat(status.out).contains(" done: ").contains("open drift: missing=0 extra=0 different=0");

        Result unknown = run(new ReconcileCommand(), conn, "status", "nope");
        assertThat(unknown.exit).isEqualTo(7);
    }

    private record Result(int exit, String out, String err) {
    }

    private static Result run(Object command, String[] conn, String... args) {
        CommandLine cmd = new CommandLine(command);
        cmd.setCaseInsensitiveEnumValuesAllowed(true);
        cmd.setExecutionExceptionHandler(Main.commandLine().getExecutionExceptionHandler());
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cmd.setOut(new PrintWriter(out, true));
        cmd.setErr(new PrintWriter(err, true));
        return new Result(cmd.execute(line(conn, args)), out.toString(), err.toString());
    }
}
