package dev.shapeshift.spec;

import com.fasterxml.jackson.annotation.JsonCreator;

/**
 * Which comes first after {@code verified} when writes switch too: the application's dual writes
 * (the seed's order, so a user reads their own writes) or the read switch (no deploy needed to read
 * the new shape, at the price of reads that lag the application's own writes by the sync lag).
 */
public enum WriteOrder implements Labelled {
    /** verified → dual-writes → reads-switched → writes-switched (default). */
    DUAL_WRITES_FIRST,
    /** verified → reads-switched → dual-writes → writes-switched. */
    READS_FIRST;

    @JsonCreator
    public static WriteOrder fromYaml(String value) {
        return Labelled.parseListing(WriteOrder.class, "order", value);
    }
}
