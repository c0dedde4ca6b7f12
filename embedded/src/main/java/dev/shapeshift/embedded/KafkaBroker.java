package dev.shapeshift.embedded;

/** A Kafka cluster tests can use: the {@link EmbeddedKafka} or an external one ({@link ExternalKafka}). */
public interface KafkaBroker {

  /** {@code host:port[,host:port...]} for {@code bootstrap.servers}. */
  String bootstrapServers();
}
