package dev.shapeshift.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import org.junit.jupiter.api.Test;

class ServerVersionTest {

    @Test
    void fourteenAndNewerAreSupported() {
        for (int v : new int[] {140000, 140025, 150020, 160016, 170011, 180007}) {
            assertThat(new ServerVersion(v).requireSupported("db").number()).isEqualTo(v);
        }
        assertThat(new ServerVersion(170011).major()).isEqualTo(17);
    }

    @Test
    void olderServersAreRefusedWithTheVersionAndTheFix() {
        assertThatThrownBy(() -> new ServerVersion(130016).requireSupported("jdbc:postgresql://db/app"))
                .isInstanceOf(ShapeshiftException.class)
                .satisfies(e -> assertThat(((ShapeshiftException) e).code()).isEqualTo(ErrorCode.UNSUPPORTED_SERVER))
                .hasMessageContaining("jdbc:postgresql://db/app is version 13 (server_version_num 130016)")
                .hasMessageContaining("needs PostgreSQL 14 or newer");
        assertThat(ErrorCode.UNSUPPORTED_SERVER.exitCode()).isEqualTo(16);
    }
}
