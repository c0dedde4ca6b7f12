package dev.shapeshift.spec;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Arrays;
import java.util.stream.Collectors;

/** Who makes a move that changes what applications see: an operator, or the coordinator's driver once the gate is open. */
public enum Approval {
    /** The driver waits; an operator makes the move (CLI or API). */
    MANUAL("manual"),
    /** The driver makes the move itself as soon as the gate is open. */
    AUTO("auto");

    private final String yaml;

    Approval(String yaml) {
        this.yaml = yaml;
    }

    @JsonValue
    public String yaml() {
        return yaml;
    }

    @JsonCreator
    public static Approval fromYaml(String value) {
        for (Approval a : values()) {
            if (a.yaml.equals(value)) {
                return a;
            }
        }
        throw new IllegalArgumentException("unknown approval '" + value + "'; expected one of "
                + Arrays.stream(values()).map(Approval::yaml).collect(Collectors.joining(", ")));
    }
}
