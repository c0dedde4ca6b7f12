package dev.shapeshift.coordinator.contract;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The CSV log reader: whole records only, quoted fields with newlines and doubled quotes. */
class ServerLogTest {
    private static final String DENIED = "2026-12-06 03:20:01.123 UTC,\"export_1\",\"shop\",4242,\"127.0.0.1:51234\","
            + "6752b1a1.1092,3,\"SELECT\",2026-12-06 03:20:00 UTC,3/12,0,ERROR,42501,\"permission denied for table users\","
            + ",,,,,\"SELECT id,\n       legacy_email FROM users WHERE note = \"\"a,b\"\"\",,,\"nightly-export\",client backend,,0\n";

    @Test
    void readsWholeRecordsWithQuotedNewlinesAndLeavesAPartialOneForLater() {
        String partial = "2026-12-06 03:20:02.000 UTC,\"app\",\"shop\",1,\"[local]\",x,1,\"SELECT\",t,3/1,0,ERROR,42501,\"perm";
        byte[] bytes = (DENIED + partial).getBytes(StandardCharsets.UTF_8);
        List<ServerLog.Entry> out = new ArrayList<>();
        int used = ServerLog.parse(bytes, out);
        assertThat(used).isEqualTo(DENIED.getBytes(StandardCharsets.UTF_8).length);
        assertThat(out).singleElement().satisfies(e -> {
            assertThat(e.user()).isEqualTo("export_1");
            assertThat(e.database()).isEqualTo("shop");
            assertThat(e.client()).isEqualTo("127.0.0.1:51234");
            assertThat(e.severity()).isEqualTo("ERROR");
            assertThat(e.sqlState()).isEqualTo("42501");
            assertThat(e.message()).isEqualTo("permission denied for table users");
            assertThat(e.statement()).isEqualTo("SELECT id,\n       legacy_email FROM users WHERE note = \"a,b\"");
            assertThat(e.applicationName()).isEqualTo("nightly-export");
        });
    }

    @Test
    void onlyPermissionErrorsOnTheOldShapeOfThisDatabaseCount() {
        List<ServerLog.Entry> out = new ArrayList<>();
        ServerLog.parse(DENIED.getBytes(StandardCharsets.UTF_8), out);
        ServerLog.Entry e = out.get(0);
        OldShape shape = new OldShape("m", dev.shapeshift.spec.Mode.IN_PLACE, "public", "users", List.of(), List.of("legacy_email"),
                false, "public", "users", List.of("email2"), java.time.Duration.ofHours(1), java.time.Duration.ofDays(1),
                List.of(), java.time.Duration.ofMinutes(15), 1);
        ShapeMatcher matcher = ShapeMatcher.of(shape);
        assertThat(Brownout.failedOnLockout(e, "shop", shape, matcher)).isTrue();
        assertThat(Brownout.failedOnLockout(e, "other_db", shape, matcher)).isFalse();
        ServerLog.Entry elsewhere = new ServerLog.Entry(e.logTime(), e.user(), e.database(), e.client(), "ERROR", "42501",
                "permission denied for table orders", "SELECT total FROM orders", e.applicationName());
        assertThat(Brownout.failedOnLockout(elsewhere, "shop", shape, matcher)).isFalse();
        ServerLog.Entry other = new ServerLog.Entry(e.logTime(), e.user(), e.database(), e.client(), "ERROR", "23505",
                "duplicate key value violates unique constraint", e.statement(), e.applicationName());
        assertThat(Brownout.failedOnLockout(other, "shop", shape, matcher)).isFalse();
    }
}
