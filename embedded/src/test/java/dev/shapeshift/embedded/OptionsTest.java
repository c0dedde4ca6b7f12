package dev.shapeshift.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OptionsTest {

  @Test
  void defaultsAreDurableAndTestsTradeFsync() {
    assertThat(EmbeddedPostgres.Options.defaults().serverSettings()).isEmpty();
    assertThat(EmbeddedPostgres.Options.forTests().serverSettings()).containsEntry("fsync", "off");
  }

  @Test
  void withersCopy() {
    EmbeddedPostgres.Options o = EmbeddedPostgres.Options.defaults()
        .withDataDir(Path.of("/tmp/x")).withPort(5599).withSetting("work_mem", "64MB");
    assertThat(o.dataDir()).isEqualTo(Path.of("/tmp/x"));
    assertThat(o.port()).isEqualTo(5599);
    assertThat(o.serverSettings()).containsExactly(Map.entry("work_mem", "64MB"));
  }

  @Test
  void rejectsBadPortAndReservedOrMalformedSettings() {
    assertThatThrownBy(() -> new EmbeddedPostgres.Options(null, 70000, null))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("70000");
    assertThatThrownBy(() -> EmbeddedPostgres.Options.defaults().withSetting("port", "1"))
        .hasMessageContaining("Options.port");
    assertThatThrownBy(() -> EmbeddedPostgres.Options.defaults().withSetting("a = 1\nb", "x"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void databaseNamesAreSafeAndUnique() {
    String a = PostgresServer.DatabaseNames.unique("My-Test DB");
    String b = PostgresServer.DatabaseNames.unique("My-Test DB");
    assertThat(a).matches("my_test_db_[a-z0-9]+").isNotEqualTo(b);
    assertThat(PostgresServer.DatabaseNames.unique("1x")).startsWith("db_1x_");
    assertThat(PostgresServer.DatabaseNames.unique("x".repeat(100))).hasSizeLessThan(64);
  }

  @Test
  void externalPostgresFromJdbcUrl() {
    ExternalPostgres p = ExternalPostgres.fromJdbcUrl("jdbc:postgresql://db.example:6543/app", "u", null);
    assertThat(p.host()).isEqualTo("db.example");
    assertThat(p.port()).isEqualTo(6543);
    assertThat(p.password()).isEmpty();
    assertThat(p.jdbcUrl("other")).isEqualTo("jdbc:postgresql://db.example:6543/other");
    assertThat(ExternalPostgres.fromJdbcUrl("jdbc:postgresql://h/app", "u", "p").port()).isEqualTo(5432);
    assertThat(p.toString()).doesNotContain("password");
  }
}
