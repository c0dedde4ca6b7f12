package dev.shapeshift.spec;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * Which comes first after {@code verified} when writes switch too: the application's dual writes
 * (the seed's order, so a user reads their own writes) or the read switch (no deploy needed to read
 * the new shape, at the price of reads that lag the application's own writes by the sync lag).
 */
public enum WriteOrder {
    /** verified → dual-writes → reads-switched → writes-switched (default). */
    DUAL_WRITES_FIRST("dual-writes-first"),
    /** verified → reads-switched → dual-writes → writes-switched. */
    READS_FIRST("reads-first");

    private final String yaml;

    WriteOrder(String yaml) {
        this.yaml = yaml;
    }

    @JsonValue
    public String yaml() {
        return yaml;
    }

    @JsonCreator
    public static WriteOrder fromYaml(String value) {
        for (WriteOrder o : values()) {
            if (o.yaml.equals(value)) {
                return o;
            }
        }
        throw new IllegalArgumentException("unknown order '" + value + "'; expected one of "
                + Arrays.stream(values()).map(WriteOrder::yaml).collect(Collectors.joining(", ")));
    }
}
