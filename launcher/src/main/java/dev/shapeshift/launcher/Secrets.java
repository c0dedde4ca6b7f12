package dev.shapeshift.launcher;

import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * Where every role and command reads a secret (the database password, the API tokens): from a file
 * named by an option ({@code --password-file}, {@code --admin-token-file}, {@code --read-token-file},
 * a mounted Kubernetes or compose secret), else from an environment variable. Never from the command
 * line, which other users of the machine can see. A file's content is stripped of surrounding white
 * space (the newline {@code echo} or an editor leaves); a variable's value is taken as it is. The value
 * is never logged or printed, and an unreadable file stops the start with {@link ErrorCode#CONFIG_INVALID}
 * naming the file (docs/security.md). Kafka's credentials are not single values: they live in the
 * client settings file of {@code --kafka-config} ({@link KafkaOptions}).
 */
public final class Secrets {
    private Secrets() {
    }

    /** The secret in {@code file}, stripped. */
    public static String read(Path file) {
        try {
            return Files.readString(file).strip();
        } catch (IOException e) {
            throw new ShapeshiftException(ErrorCode.CONFIG_INVALID, "cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * The secret in {@code file} when one is given (it wins over the environment), else the value of
     * {@code variable} in {@code env}; empty when neither is set.
     */
    public static Optional<String> fileOrEnv(Path file, Map<String, String> env, String variable) {
        return file != null ? Optional.of(read(file)) : Optional.ofNullable(env.get(variable));
    }
}
