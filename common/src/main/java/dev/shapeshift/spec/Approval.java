package dev.shapeshift.spec;

import com.fasterxml.jackson.annotation.JsonCreator;

/** Who makes a move that changes what applications see: an operator, or the coordinator's driver once the gate is open. */
public enum Approval implements Labelled {
    /** The driver waits; an operator makes the move (CLI or API). */
    MANUAL,
    /** The driver makes the move itself as soon as the gate is open. */
    AUTO;

    @JsonCreator
    public static Approval fromYaml(String value) {
        return Labelled.parseListing(Approval.class, "approval", value);
    }
}
