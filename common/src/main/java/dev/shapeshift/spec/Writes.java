package dev.shapeshift.spec;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The write switch (docs/phases.md, "The write switch"): the application writes both shapes, then
 * only the new one, while a reverse sync keeps the old shape equal to {@code reverse(new, old)} for
 * old readers and for rollback.
 *
 * @param switchWrites      whether the migration walks dual-writes and writes-switched (default false: the
 *                          application keeps writing the old shape until the contract)
 * @param order             dual writes before the read switch (default) or after it
 * @param flag              the write flag's name (default {@code <migration name>.write-new})
 * @param reverse           per old column, one SQL expression over the new columns and the current old
 *                          columns of the row; none: writes can still switch, but rollback after the
 *                          write switch is impossible and the old shape goes stale
 * @param cleanFor          how long dual writes must run with zero mismatches before writes may move on (default 5m)
 * @param roundTripSample   check the round trip on this many rows (in key order) instead of all of them
 * @param flagPropagation   how long applications may take to see a flag change (FlagClient's refresh plus
 *                          margin; default 5s): after the write flag goes off, the reverse sync runs this
 *                          long and until it has caught up before the forward sync takes over
 * @param statementEvidence whether leaving dual-writes needs pg_stat_statements evidence that the
 *                          application's INSERT/UPDATE statements write the new shape (default true)
 */
public record Writes(@JsonProperty("switch") Boolean switchWrites, WriteOrder order, String flag,
                     Map<String, String> reverse, Duration cleanFor, Integer roundTripSample,
                     Duration flagPropagation, Boolean statementEvidence) {
    @JsonCreator
    public Writes {
        switchWrites = Objects.requireNonNullElse(switchWrites, false);
        order = Objects.requireNonNullElse(order, WriteOrder.DUAL_WRITES_FIRST);
        reverse = reverse == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(reverse));
        cleanFor = Objects.requireNonNullElse(cleanFor, Duration.ofMinutes(5));
        flagPropagation = Objects.requireNonNullElse(flagPropagation, Duration.ofSeconds(5));
        statementEvidence = Objects.requireNonNullElse(statementEvidence, true);
    }

    /** No write switch: the defaults. */
    public static Writes none() {
        return new Writes(null, null, null, null, null, null, null, null);
    }

    /** Whether a rollback after the write switch can rebuild the old shape (every reverse given). */
    public boolean reversible() {
        return !reverse.isEmpty();
    }
}
