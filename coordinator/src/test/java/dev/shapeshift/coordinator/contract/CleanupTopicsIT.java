package dev.shapeshift.coordinator.contract;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.coordinator.gate.Transitions;
import dev.shapeshift.db.Database;
import dev.shapeshift.embedded.KafkaBroker;
import dev.shapeshift.embedded.KafkaExtension;
import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import dev.shapeshift.kafka.Topics;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Clean-up at the end deletes the migration's Kafka topics (and only its own), audited in its result. */
@ExtendWith({PostgresExtension.class, KafkaExtension.class})
class CleanupTopicsIT {
    @Test
    void cleanupDeletesTheMigrationsTopicsAndKeepsOthers(PostgresServer pg, KafkaBroker kafka) throws Exception {
        String m = "users-ct";
        Database db = RollbackDrillIT.expandedOnUsers(pg, kafka, "cleanup_topics", "ss_ct_", m);
        Transitions transitions = new Transitions(new Catalog(db, "test"));
        String other = Topics.changes("someone-else");
        Topics.ensure(kafka.bootstrapServers(), Map.of(Topics.changes(m), 2, Topics.chunks(m), 2, other, 1), (short) 1);

        Cleanup cleanup = new Cleanup(db, kafka.bootstrapServers(), Cleanup.DEFAULT_PUBLICATION, RollbackDrillIT::dropSlot);
        Rollback.Result r = new Rollback(db, transitions, cleanup).rollback(m, "test", "cleanup drill", false);

        assertThat(r.done()).contains("deleted topic " + Topics.changes(m), "deleted topic " + Topics.chunks(m));
        try (Admin admin = Admin.create(Map.<String, Object>of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()))) {
            Set<String> topics = admin.listTopics().names().get();
            assertThat(topics).doesNotContain(Topics.changes(m), Topics.chunks(m)).contains(other);
        }
    }
}
