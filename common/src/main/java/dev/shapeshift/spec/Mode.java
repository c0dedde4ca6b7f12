package dev.shapeshift.spec;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Arrays;
import java.util.stream.Collectors;

/** Where the new shape lives. */
public enum Mode {
    /** New columns in the source table itself. */
    IN_PLACE("in-place"),
    /** A new table keyed by the source key. */
    TABLE("table"),
    /** Another system, through a sink plugin ({@code target.sink}, docs/sinks.md); nothing is added to the database. */
    SINK("sink");

    private final String yaml;

    Mode(String yaml) {
        this.yaml = yaml;
    }

    @JsonValue
    public String yaml() {
        return yaml;
    }

    @JsonCreator
    public static Mode fromYaml(String value) {
        for (Mode m : values()) {
            if (m.yaml.equals(value)) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown mode '" + value + "'; expected one of "
                + Arrays.stream(values()).map(Mode::yaml).collect(Collectors.joining(", ")));
    }
}
