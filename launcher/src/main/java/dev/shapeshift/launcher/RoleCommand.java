package dev.shapeshift.launcher;

import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;

/**
 * What every command that runs a role ({@code coordinator}, {@code cdc-bridge}, {@code worker},
 * {@code run}) declares: the source database ({@link DbOptions}) and the Kafka client settings
 * ({@link KafkaOptions}). picocli finds these annotated fields in the superclass as in the command itself.
 */
abstract class RoleCommand implements Callable<Integer> {
    @Mixin
    DbOptions db = new DbOptions();

    @Mixin
    KafkaOptions kafkaSettings = new KafkaOptions();
}
