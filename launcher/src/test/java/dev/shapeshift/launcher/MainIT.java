package dev.shapeshift.launcher;

import static dev.shapeshift.launcher.CliDb.conn;
import static dev.shapeshift.launcher.CliDb.line;
import static dev.shapeshift.launcher.CliDb.sql;
import static org.assertj.core.api.Assertions.assertThat;

import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** validate and plan against a real database. */
@ExtendWith(PostgresExtension.class)
class MainIT {
    @Test
    void validateAndPlanAgainstTheSource(PostgresServer pg, @TempDir Path dir) throws Exception {
        String db = pg.createDatabase("cli");
        sql(pg, db, "CREATE TABLE users (id bigint PRIMARY KEY, email text, legacy_verified_at timestamptz)",
                "INSERT INTO users SELECT g, 'u' || g, CASE WHEN g % 2 = 0 THEN now() END FROM generate_series(1, 25000) g");
        String[] conn = conn(pg, db, dir);

        MainTest.Run v = MainTest.run(line(conn, "validate", MainTest.EXAMPLE));
        assertThat(v.exit()).as(v.err()).isZero();
        assertThat(v.out()).contains("valid — static and live checks");

        MainTest.Run p = MainTest.run(line(conn, "plan", MainTest.EXAMPLE));
        assertThat(p.exit()).as(p.err()).isZero();
        assertThat(p.out()).contains("~25000 rows (count(*) (table never analyzed)) / 10000 rows per chunk ≈ 3 chunks");

        // --chunks runs the coordinator's planner on the live table, stores nothing, and counts every chunk.
        MainTest.Run ch = MainTest.run(line(conn, "plan", MainTest.EXAMPLE, "--chunks"));
        assertThat(ch.exit()).as(ch.err()).isZero();
        assertThat(ch.out()).containsPattern("Chunks planned now \\(method \\w+, [0-9.]+ s; not stored[^)]*\\): 3 chunks, "
                + "rows per chunk min / median / max [0-9,]+ / [0-9,]+ / [0-9,]+ \\(target 10,000\\), 0 outside");
        MainTest.Run chJson = MainTest.run(line(conn, "plan", MainTest.EXAMPLE, "--chunks", "--output", "json"));
        assertThat(chJson.exit()).as(chJson.err()).isZero();
        var planned = new com.fasterxml.jackson.databind.ObjectMapper().readTree(chJson.out()).path("backfill").path("planned");
        long total = 0;
        for (var n : planned.path("rowsPerChunk")) {
            total += n.asLong();
        }
        assertThat(total).as(chJson.out()).isEqualTo(25_000);
        MainTest.Run noDb = MainTest.run("plan", MainTest.EXAMPLE, "--chunks");
        assertThat(noDb.exit()).isEqualTo(2);
        assertThat(noDb.err()).contains("--chunks plans against the database");

        Path bad = dir.resolve("bad.yaml");
        Files.writeString(bad, Files.readString(Path.of(MainTest.EXAMPLE)).replace("legacy_verified_at IS", "legacy_verifed_at IS"));
        MainTest.Run b = MainTest.run(line(conn, "validate", bad.toString()));
        assertThat(b.exit()).isEqualTo(10);
        assertThat(b.out()).contains("bad.yaml: target.columns[0].transform: column \"legacy_verifed_at\" does not exist in"
                + " public.users (did you mean legacy_verified_at?)");
    }
}
