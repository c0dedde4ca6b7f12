package dev.shapeshift.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith({PostgresExtension.class, KafkaExtension.class})
class ExtensionsIT {

  private static PostgresServer first;

  @BeforeAll
  static void remember(PostgresServer server) {
    first = server;
  }

  @Test
  void injectsOneSharedPostgres(PostgresServer server, EmbeddedPostgres embedded) throws Exception {
    assertThat(server).isSameAs(first).isSameAs(embedded);
    String db = server.createDatabase("ext");
    try (Connection c = server.connect(db); Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SHOW fsync")) {
      rs.next();
      assertThat(rs.getString(1)).isEqualTo("off");
    }
  }

  @Test
  void injectsKafka(KafkaBroker kafka) throws Exception {
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()))) {
      admin.createTopics(List.of(new NewTopic("ext.topic", 1, (short) 1))).all().get();
      assertThat(admin.listTopics().names().get()).contains("ext.topic");
    }
  }
}
