package dev.shapeshift.embedded;

/** A Kafka cluster someone else runs. Tests create their own topics; auto-creation may be on or off. */
public record ExternalKafka(String bootstrapServers) implements KafkaBroker {

  public ExternalKafka {
    if (bootstrapServers == null || bootstrapServers.isBlank()) {
      throw new IllegalArgumentException("external kafka needs bootstrap servers (host:port[,...])");
    }
  }
}
