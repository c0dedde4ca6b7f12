package dev.shapeshift.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class EmbeddedPostgresIT {

  private static EmbeddedPostgres pg;

  @BeforeAll
  static void start() {
    pg = EmbeddedPostgres.start(EmbeddedPostgres.Options.forTests());
  }

  @AfterAll
  static void close() {
    Path work = pg.logFile().getParent();
    pg.close();
    assertThat(work).doesNotExist();
  }

  @Test
  void runsWithLogicalWalOnLoopback() throws SQLException {
    assertThat(pg.host()).isEqualTo("127.0.0.1");
    assertThat(pg.port()).isPositive();
    assertThat(query("postgres", "SHOW wal_level")).isEqualTo("logical");
    assertThat(query("postgres", "SHOW max_replication_slots")).isEqualTo("20");
    assertThat(query("postgres", "SHOW max_connections")).isEqualTo("200");
    assertThat(query("postgres", "SHOW fsync")).isEqualTo("off");
    assertThat(query("postgres", "SHOW server_encoding")).isEqualTo("UTF8");
    assertThat(query("postgres", "SELECT current_user")).isEqualTo(pg.user());
    assertThat(pg.binDir().resolve("pg_ctl")).isExecutable();
    assertThat(pg.dataDir().resolve("PG_VERSION")).exists();
  }

  @Test
  void wrongPasswordIsRejected() {
    assertThatThrownBy(() -> new ExternalPostgres(pg.host(), pg.port(), pg.user(), "wrong").connect("postgres"))
        .isInstanceOf(SQLException.class)
        .hasMessageContaining("password authentication failed");
  }

  @Test
  void logicalSlotWithPgoutputCanBeCreatedAndDropped() throws SQLException {
    String db = pg.createDatabase("slot");
    try (Connection c = pg.connect(db); Statement s = c.createStatement()) {
      s.execute("CREATE TABLE t (id int PRIMARY KEY, v text)");
      s.execute("CREATE PUBLICATION p FOR TABLE t");
      s.execute("SELECT pg_create_logical_replication_slot('it_slot', 'pgoutput')");
      s.execute("INSERT INTO t VALUES (1, 'a')");
      try (ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_logical_slot_peek_binary_changes("
          + "'it_slot', NULL, NULL, 'proto_version', '1', 'publication_names', 'p')")) {
        rs.next();
        assertThat(rs.getLong(1)).isPositive();
      }
      s.execute("SELECT pg_drop_replication_slot('it_slot')");
      try (ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_replication_slots")) {
        rs.next();
        assertThat(rs.getLong(1)).isZero();
      }
    }
  }

  @Test
  void createDatabaseGivesIsolatedDatabases() throws SQLException {
    String a = pg.createDatabase("Iso-Test");
    String b = pg.createDatabase("Iso-Test");
    assertThat(a).isNotEqualTo(b).startsWith("iso_test_");
    exec(a, "CREATE TABLE only_in_a (id int)");
    assertThat(query(a, "SELECT to_regclass('only_in_a')::text")).isEqualTo("only_in_a");
    assertThat(query(b, "SELECT to_regclass('only_in_a')::text")).isNull();
  }

  @Test
  void pgStatStatementsIsAvailableWhenBundled() throws SQLException {
    assertThat(pg.hasPgStatStatements()).as("zonky 17.x bundles pg_stat_statements").isTrue();
    String db = pg.createDatabase("pss");
    exec(db, "CREATE EXTENSION pg_stat_statements");
    assertThat(query(db, "SELECT count(*) > 0 FROM pg_stat_statements")).isEqualTo("t");
  }

  @Test
  void restartFastAndImmediateKeepData() throws SQLException {
    String db = pg.createDatabase("restart");
    int port = pg.port();
    exec(db, "CREATE TABLE kept (id int)");
    exec(db, "INSERT INTO kept VALUES (1)");
    pg.restart(false);
    assertThat(pg.port()).isEqualTo(port);
    exec(db, "INSERT INTO kept VALUES (2)");
    pg.restart(true);
    assertThat(pg.port()).isEqualTo(port);
    assertThat(query(db, "SELECT string_agg(id::text, ',' ORDER BY id) FROM kept")).isEqualTo("1,2");
  }

  @Test
  void stoppedServerRefusesConnectionsAndRestartsOnSameDataDir() throws Exception {
    Path dir = Files.createTempDirectory("shapeshift-pg-it-");
    Path data = dir.resolve("data");
    try {
      try (EmbeddedPostgres own = EmbeddedPostgres.start(EmbeddedPostgres.Options.forTests().withDataDir(data))) {
        try (Connection c = own.connect("postgres"); Statement s = c.createStatement()) {
          s.execute("CREATE TABLE survives_close (id int)");
        }
        own.stop(false);
        assertThatThrownBy(() -> own.connect("postgres")).isInstanceOf(SQLException.class);
      }
      assertThat(data.resolve("PG_VERSION")).exists();
      try (EmbeddedPostgres again = EmbeddedPostgres.start(EmbeddedPostgres.Options.forTests().withDataDir(data));
          Connection c = again.connect("postgres");
          Statement s = c.createStatement();
          ResultSet rs = s.executeQuery("SELECT to_regclass('survives_close')::text")) {
        rs.next();
        assertThat(rs.getString(1)).isEqualTo("survives_close");
      }
    } finally {
      FileTree.delete(dir);
    }
  }

  private static void exec(String db, String sql) throws SQLException {
    try (Connection c = pg.connect(db); Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  private static String query(String db, String sql) throws SQLException {
    try (Connection c = pg.connect(db); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    }
  }
}
