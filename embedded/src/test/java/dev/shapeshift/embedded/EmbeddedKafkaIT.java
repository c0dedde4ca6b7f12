package dev.shapeshift.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class EmbeddedKafkaIT {

  private static EmbeddedKafka kafka;

  @BeforeAll
  static void start() {
    kafka = EmbeddedKafka.start();
  }

  @AfterAll
  static void close() {
    kafka.close();
    assertThat(kafka.logDir()).doesNotExist();
  }

  @Test
  void producesAndConsumesAndKeepsDataAcrossRestart() throws Exception {
    assertThat(kafka.bootstrapServers()).startsWith("127.0.0.1:");
    String topic = "it.changes";
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()))) {
      admin.createTopics(List.of(new NewTopic(topic, 3, (short) 1))).all().get();
      assertThat(admin.listTopics().names().get()).contains(topic);
    }
    produce(topic, 0, 10);
    assertThat(consume(topic, "g1", 10)).hasSize(10).first().isEqualTo("k0=v0");

    kafka.restart();
    produce(topic, 10, 5);
    assertThat(consume(topic, "g2", 15)).hasSize(15).contains("k0=v0", "k14=v14");
  }

  /** `shapeshift run` keeps its broker in a directory: a new process finds its topics and committed offsets there. */
  @Test
  void aDurableBrokerKeepsTopicsAndCommittedOffsetsAcrossProcessStarts(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
      throws Exception {
    java.nio.file.Path data = dir.resolve("kafka");
    String bootstrap;
    try (EmbeddedKafka first = EmbeddedKafka.startDurable(data)) {
      bootstrap = first.bootstrapServers();
      try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
        admin.createTopics(List.of(new NewTopic("durable.changes", 2, (short) 1))).all().get();
      }
      produce(bootstrap, "durable.changes", 0, 10);
      assertThat(consume(bootstrap, "durable.changes", "g", 10)).hasSize(10);
    }
    assertThat(data).isDirectory();
    try (EmbeddedKafka second = EmbeddedKafka.startDurable(data)) {
      assertThat(second.bootstrapServers()).as("same ports as before").isEqualTo(bootstrap);
      produce(bootstrap, "durable.changes", 10, 3);
      // the group's committed offset survived: it reads only the 3 new records
      assertThat(consume(bootstrap, "durable.changes", "g", 3)).containsExactly("k10=v10", "k11=v11", "k12=v12");
    }
  }

  private static void produce(String topic, int from, int count) throws Exception {
    produce(kafka.bootstrapServers(), topic, from, count);
  }

  private static void produce(String bootstrap, String topic, int from, int count) throws Exception {
    Map<String, Object> props = Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
        ProducerConfig.ACKS_CONFIG, "all",
        ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
        ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class,
        ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
    try (KafkaProducer<String, String> p = new KafkaProducer<>(props)) {
      for (int i = from; i < from + count; i++) {
        p.send(new ProducerRecord<>(topic, 0, "k" + i, "v" + i)).get();
      }
    }
  }

  private static List<String> consume(String topic, String group, int expected) {
    return consume(kafka.bootstrapServers(), topic, group, expected);
  }

  private static List<String> consume(String bootstrap, String topic, String group, int expected) {
    Map<String, Object> props = Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
        ConsumerConfig.GROUP_ID_CONFIG, group,
        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
        ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class,
        ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
    List<String> seen = new ArrayList<>();
    try (KafkaConsumer<String, String> c = new KafkaConsumer<>(props)) {
      c.subscribe(Set.of(topic));
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (seen.size() < expected && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) {
          seen.add(r.key() + "=" + r.value());
        }
      }
    }
    return seen;
  }
}
