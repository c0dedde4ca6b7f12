package dev.shapeshift.refresh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.shapeshift.spec.Column;
import dev.shapeshift.spec.MigrationSpec;
import dev.shapeshift.spec.Mode;
import dev.shapeshift.spec.ResolvedSpec;
import dev.shapeshift.spec.SpecBuilder;
import dev.shapeshift.spec.TargetColumn;
import dev.shapeshift.spec.Writes;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Golden files of the rendered statements: a change to them is a change to the primitive and must be deliberate. */
class RefreshSqlTest {

    private static ResolvedSpec spec(Mode mode, List<Column> key) {
        List<TargetColumn> columns = List.of(new TargetColumn("email_verified", "boolean", "legacy_verified_at IS NOT NULL"));
        MigrationSpec spec = SpecBuilder.spec("users").source("app", "users", key.stream().map(Column::name).toList())
                .mode(mode).target("app", mode == Mode.TABLE ? "users_v2" : null, columns).build();
        return new ResolvedSpec(spec, key, key);
    }

    private static final List<Column> COMPOSITE = List.of(new Column("tenant", "text"), new Column("id", "bigint"));

    @Test
    void tableModeSyncByKeysLocksForShareUpsertsIfDistinctAndDeletesOrphans() throws IOException {
        String sql = new RefreshSql(spec(Mode.TABLE, COMPOSITE), Guards.SYNC).forKeys();
        assertThat(sql).isEqualTo(golden("table-sync-keys.sql"));
        assertThat(sql).contains("FOR SHARE OF \"users\"", "IS DISTINCT FROM", "NOT EXISTS");
    }

    @Test
    void tableModeBackfillInsertsOnlyMissingKeysWithoutRowLocksOrOnConflict() throws IOException {
        String sql = new RefreshSql(spec(Mode.TABLE, COMPOSITE), Guards.BACKFILL).forRange(true, true);
        assertThat(sql).isEqualTo(golden("table-backfill-range.sql"));
        assertThat(sql).contains("WHERE NOT EXISTS (SELECT 1 FROM \"app\".\"users_v2\" __t")
                .as("the anti-join reads the target's index range of the batch, never the whole target")
                .contains("AND (__t.\"tenant\", __t.\"id\") >= (SELECT __k0, __k1 FROM __src ORDER BY __k0, __k1 LIMIT 1)")
                .doesNotContain("FOR KEY SHARE").doesNotContain("ON CONFLICT").doesNotContain("DELETE");
    }

    @Test
    void tableModeBackfillOfAnEmptyRangeIsOnePlainInsertInKeyOrder() {
        String sql = new RefreshSql(spec(Mode.TABLE, COMPOSITE), Guards.BACKFILL).forEmptyRange(true, false);
        assertThat(sql).startsWith("WITH __w AS (INSERT INTO \"app\".\"users_v2\" (\"tenant\", \"id\", \"email_verified\") "
                        + "SELECT \"app\".\"users\".\"tenant\", \"app\".\"users\".\"id\", ((legacy_verified_at IS NOT NULL))::boolean "
                        + "FROM \"app\".\"users\" WHERE (\"app\".\"users\".\"tenant\", \"app\".\"users\".\"id\") > (?::text, ?::bigint) "
                        + "ORDER BY \"app\".\"users\".\"tenant\", \"app\".\"users\".\"id\" LIMIT ? RETURNING \"tenant\" AS __k0, \"id\" AS __k1)")
                .doesNotContain("NOT EXISTS").doesNotContain("ON CONFLICT").doesNotContain("FOR ");
        assertThatThrownBy(() -> new RefreshSql(spec(Mode.IN_PLACE, COMPOSITE), Guards.BACKFILL).forEmptyRange(false, false))
                .isInstanceOf(IllegalStateException.class);
    }

    @Test
    void inPlaceUpdatesWithTheTransformOfTheRowItLocks() throws IOException {
        String sql = new RefreshSql(spec(Mode.IN_PLACE, List.of(new Column("id", "bigint"))), Guards.SYNC).forKeys();
        assertThat(sql).isEqualTo(golden("in-place-sync-keys.sql"));
        assertThat(sql).doesNotContain("FOR SHARE").doesNotContain("__v0");
    }

    @Test
    void inPlaceRangeUpdateIsBoundedByTheBatchKeysSoItReadsAnIndexRange() {
        String sql = new RefreshSql(spec(Mode.IN_PLACE, COMPOSITE), Guards.BACKFILL).forRange(true, false);
        assertThat(sql).contains("AND (\"app\".\"users\".\"tenant\", \"app\".\"users\".\"id\") >= "
                + "(SELECT __k0, __k1 FROM __src ORDER BY __k0, __k1 LIMIT 1)")
                .contains("<= (SELECT __k0, __k1 FROM __src ORDER BY __k0 DESC, __k1 DESC LIMIT 1)");
        assertThat(new RefreshSql(spec(Mode.IN_PLACE, COMPOSITE), Guards.SYNC).forKeys())
                .as("by keys the join with the few keys is selective already").doesNotContain(">= (SELECT");
    }

    @Test
    void theNegativeControlReadsWithoutLockAndOverwritesBlindly() {
        String sql = new RefreshSql(spec(Mode.TABLE, COMPOSITE), Guards.UNGUARDED.withPause(java.time.Duration.ofMillis(5)))
                .forRange(false, false);
        assertThat(sql).doesNotContain("FOR SHARE").doesNotContain("FOR KEY SHARE").doesNotContain("IS DISTINCT FROM")
                .contains("pg_sleep(?)", "DO UPDATE SET");
    }

    @Test
    void jsonColumnsCompareAsJsonbBecauseJsonHasNoEquality() {
        List<TargetColumn> columns = List.of(new TargetColumn("doc", "json", "json_build_object('a', a)"));
        MigrationSpec spec = SpecBuilder.spec("docs").source("app", "t", "id").mode(Mode.TABLE)
                .target("app", "t2", columns).build();
        List<Column> key = List.of(new Column("id", "bigint"));
        String upsert = new RefreshSql(new ResolvedSpec(spec, key, key), Guards.SYNC).forKeys();
        assertThat(upsert).contains("((\"app\".\"t2\".\"doc\")::jsonb, NULL) IS DISTINCT FROM ((EXCLUDED.\"doc\")::jsonb, NULL)");
        MigrationSpec inPlace = SpecBuilder.spec("docs").source("app", "t", "id").mode(Mode.IN_PLACE)
                .target("app", null, columns).build();
        String update = new RefreshSql(new ResolvedSpec(inPlace, key, key), Guards.SYNC).forKeys();
        assertThat(update).contains("(\"app\".\"t\".\"doc\")::jsonb, NULL) IS DISTINCT FROM");
    }

    @Test
    void hostileIdentifiersAreQuoted() {
        List<Column> key = List.of(new Column("id\"; DROP TABLE users; --", "bigint"));
        String sql = new RefreshSql(spec(Mode.TABLE, key), Guards.SYNC).forKeys();
        assertThat(sql).contains("\"id\"\"; DROP TABLE users; --\"");
    }

    @Test
    void tableModeReverseReadsTheNewRowsForShareAndUpsertsOrDeletesTheOldRows() throws IOException {
        List<TargetColumn> columns = List.of(new TargetColumn("email_verified", "boolean", "legacy_verified_at IS NOT NULL"));
        Writes writes = new Writes(true, null, null, java.util.Map.of("legacy_verified_at",
                "CASE WHEN email_verified THEN coalesce(legacy_verified_at, now()) END"), null, null, null, null);
        MigrationSpec spec = SpecBuilder.spec("users").source("app", "users", COMPOSITE.stream().map(Column::name).toList())
                .mode(Mode.TABLE).target("app", "users_v2", columns).writes(writes).build();
        List<Column> old = List.of(COMPOSITE.get(0), COMPOSITE.get(1), new Column("legacy_verified_at", "timestamp with time zone"));
        String sql = new RefreshSql(new ResolvedSpec(spec, COMPOSITE, old), Guards.SYNC).reverseForKeys();
        assertThat(sql).isEqualTo(golden("table-reverse-keys.sql"));
        assertThat(sql).contains("FOR SHARE OF __n", "LEFT JOIN \"app\".\"users\" AS __o", "ON CONFLICT (\"tenant\", \"id\") DO UPDATE",
                "DELETE FROM \"app\".\"users\"");
    }

    private static String golden(String name) throws IOException {
        try (InputStream in = RefreshSqlTest.class.getResourceAsStream("/golden/" + name)) {
            assertThat(in).as("golden file %s", name).isNotNull();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).strip();
        }
    }
}
