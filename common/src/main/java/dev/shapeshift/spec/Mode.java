package dev.shapeshift.spec;

import com.fasterxml.jackson.annotation.JsonCreator;

/** Where the new shape lives. */
public enum Mode implements Labelled {
    /** New columns in the source table itself. */
    IN_PLACE,
    /** A new table keyed by the source key. */
    TABLE,
    /** Another system, through a sink plugin ({@code target.sink}, docs/sinks.md); nothing is added to the database. */
    SINK;

    @JsonCreator
    public static Mode fromYaml(String value) {
        return Labelled.parseListing(Mode.class, "mode", value);
    }
}
