package dev.shapeshift.launcher;

import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * What every command that runs a role ({@code coordinator}, {@code cdc-bridge}, {@code worker},
 * {@code run}) declares: the source database ({@link DbOptions}), the Kafka client settings
 * ({@link KafkaOptions}) and its own picocli spec (for its output and its usage errors). picocli
 * finds these annotated fields in the superclass as in the command itself.
 */
abstract class RoleCommand implements Callable<Integer> {
    @Mixin
    DbOptions db = new DbOptions();

    @Mixin
    KafkaOptions kafkaSettings = new KafkaOptions();

    @Spec
    CommandSpec command;

    /**
     * A role that cannot start without Kafka ({@code cdc-bridge}, {@code worker}): {@code --bootstrap}
     * is required, and the client settings are checked against that cluster before the role starts.
     */
    abstract static class OnKafka extends RoleCommand {
        @Option(names = "--bootstrap", required = true, paramLabel = "HOST:PORT", description = "Kafka bootstrap servers.")
        String bootstrap;

        /** {@link KafkaOptions#applyAndCheck} against {@code --bootstrap}. */
        void applyKafkaSettings() {
            kafkaSettings.applyAndCheck(bootstrap);
        }
    }
}
