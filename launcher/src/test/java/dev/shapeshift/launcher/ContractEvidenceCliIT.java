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
import dev.shapeshift.phase.Phase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The contract's CLI: {@code list --awaiting-contract}, {@code check} (exit 13 past a deadline, 0
 * otherwise), {@code evidence --code} and {@code evidence ack}.
 */
@ExtendWith(PostgresExtension.class)
class ContractEvidenceCliIT {
    @Test
    void overdueContractsFailCheckAndCodeHitsNeedAnAcknowledgement(PostgresServer pg, @TempDir Path dir) throws Exception {
        String name = pg.createDatabase("cli_contract");
        Database db = new Database(pg.jdbcUrl(name), pg.user(), pg.password());
        CatalogSchema.migrate(db);
        sql(pg, name, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements",
                "CREATE TABLE users (id bigint PRIMARY KEY, legacy_email text, legacy_email_sent boolean)");
        Catalog catalog = new Catalog(db, "test");
        catalog.create("users-email", "{\"name\":\"users-email\",\"source\":{\"table\":\"users\"},\"mode\":\"in-place\","
                + "\"target\":{\"columns\":[{\"name\":\"email\",\"type\":\"text\",\"transform\":\"legacy_email\"}]},"
                + "\"contract\":{\"dropColumns\":[\"legacy_email\"],\"deadline\":\"1d\"}}", "test", "test");
        Phase p = Phase.PLANNED;
        for (Phase next : List.of(Phase.EXPANDED, Phase.SYNCING, Phase.BACKFILLING, Phase.BACKFILLED, Phase.VERIFIED,
                Phase.READS_SWITCHED)) {
            catalog.transition("users-email", p, next, "test", "seeding");
            p = next;
        }
        String[] conn = conn(pg, name, dir);

        MainTest.Run fine = MainTest.run(line(conn, "check"));
        assertThat(fine.exit()).as(fine.err()).isZero();
        assertThat(fine.out()).contains("1 migration(s) awaiting their contract, 0 past the deadline");

        sql(pg, name, "UPDATE shapeshift.audit SET at = now() - interval '3 days' WHERE to_phase = 'reads-switched'");
        MainTest.Run late = MainTest.run(line(conn, "check"));
        assertThat(late.exit()).isEqualTo(14);
        assertThat(late.out()).contains("PAST DEADLINE users-email: reads switched 3d 0h ago").contains("contract.deadline 1d");
        MainTest.Run list = MainTest.run(line(conn, "list", "--awaiting-contract"));
        assertThat(list.exit()).isZero();
        assertThat(list.out()).contains("users-email").contains("reads-switched").contains("PAST DEADLINE");

        Path code = dir.resolve("app");
        Files.createDirectories(code.resolve("sql"));
        Files.writeString(code.resolve("sql/export.sql"), "-- nightly\nSELECT id, legacy_email FROM users;\nSELECT legacy_email_sent FROM users;\n");
        MainTest.Run ev = MainTest.run(line(conn, "evidence", "users-email", "--code", code.toString()));
        assertThat(ev.exit()).isEqualTo(5);
        assertThat(ev.out()).contains("FAIL old-shape-code").contains(code + "/sql/export.sql:2: SELECT id, legacy_email FROM users;")
                .doesNotContain("export.sql:3");
        MainTest.Run ack = MainTest.run(line(conn, "evidence", "ack", "users-email", "--file", "sql/export.sql:2",
                "--reason", "the export was retired", "--actor", "carol"));
        assertThat(ack.exit()).as(ack.err()).isZero();
        MainTest.Run after = MainTest.run(line(conn, "evidence", "users-email", "--code", code.toString()));
        assertThat(after.out()).contains("PASS old-shape-code").contains("acknowledged " + code + "/sql/export.sql:2")
                .contains("the export was retired (carol)");
    }
}
