package dev.shapeshift.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.shapeshift.error.ShapeshiftException;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LockSafeDdlTest {

    @Test
    void thePolicyDefaultsToTwoSecondsAndTenAttemptsAndTakesTheEnvironment() {
        LockSafeDdl.Policy d = LockSafeDdl.Policy.from(Map.of());
        assertThat(d.lockTimeout()).isEqualTo(Duration.ofSeconds(2));
        assertThat(d.attempts()).isEqualTo(10);
        LockSafeDdl.Policy p = LockSafeDdl.Policy.from(Map.of("SHAPESHIFT_DDL_LOCK_TIMEOUT", "500ms",
                "SHAPESHIFT_DDL_ATTEMPTS", "3"));
        assertThat(p.lockTimeout()).isEqualTo(Duration.ofMillis(500));
        assertThat(p.attempts()).isEqualTo(3);
    }

    @Test
    void aBadPolicyValueFailsNamingTheVariable() {
        assertThat(assertThrows(ShapeshiftException.class, () -> LockSafeDdl.Policy.from(
                Map.of("SHAPESHIFT_DDL_LOCK_TIMEOUT", "soon"))).getMessage()).contains("SHAPESHIFT_DDL_LOCK_TIMEOUT=soon");
        assertThat(assertThrows(ShapeshiftException.class, () -> LockSafeDdl.Policy.from(
                Map.of("SHAPESHIFT_DDL_ATTEMPTS", "0"))).getMessage()).contains("at least 1");
    }

    @Test
    void pausesGrowWithJitterAndStayUnderTheCap() {
        LockSafeDdl.Policy p = new LockSafeDdl.Policy(Duration.ofSeconds(2), 10, Duration.ofMillis(200),
                Duration.ofSeconds(5));
        for (int i = 0; i < 200; i++) {
            assertThat(p.pauseAfter(1).toMillis()).isBetween(100L, 200L);
            assertThat(p.pauseAfter(3).toMillis()).isBetween(400L, 800L);
            assertThat(p.pauseAfter(30).toMillis()).isBetween(2500L, 5000L);
        }
    }

    @Test
    void statementsThatCannotRunInATransactionAreRecognised() {
        assertThat(LockSafeDdl.cannotRunInTransaction("CREATE INDEX CONCURRENTLY i ON t (a)")).isTrue();
        assertThat(LockSafeDdl.cannotRunInTransaction("-- why\n create unique index concurrently if not exists i on t (a)")).isTrue();
        assertThat(LockSafeDdl.cannotRunInTransaction("DROP INDEX CONCURRENTLY i")).isTrue();
        assertThat(LockSafeDdl.cannotRunInTransaction("REINDEX INDEX CONCURRENTLY i")).isTrue();
        assertThat(LockSafeDdl.cannotRunInTransaction("VACUUM t")).isTrue();
        assertThat(LockSafeDdl.cannotRunInTransaction("CREATE INDEX i ON t (a)")).isFalse();
        assertThat(LockSafeDdl.cannotRunInTransaction("ALTER TABLE t ADD COLUMN concurrently int")).isFalse();
    }

    @Test
    void aConcurrentIndexBuildIsParsedForItsNameAndTable() {
        assertThat(ConcurrentIndex.parse("CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS Users_Slug ON public.users (slug)"))
                .contains(new ConcurrentIndex.Target("users_slug", "public.users"));
        assertThat(ConcurrentIndex.parse("create index concurrently \"My Idx\" on only \"S\".\"T\" (a)"))
                .contains(new ConcurrentIndex.Target("My Idx", "\"S\".\"T\""));
        assertThat(ConcurrentIndex.parse("CREATE INDEX CONCURRENTLY ON users (a)")).isEmpty();
        assertThat(ConcurrentIndex.parse("CREATE INDEX i ON users (a)")).isEmpty();
    }
}
