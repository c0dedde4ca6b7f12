package dev.shapeshift.sink;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * What the new shape holds for one key at one moment: either the row's column values, or a
 * tombstone saying the key has no row (its source row was deleted, or never existed).
 *
 * <p>{@code version} orders the rows of one key: the row the sync sends after a key's last write
 * has a greater version than every row read from an older state of that key (docs/refresh.md,
 * "Sinks"), so it wins whatever order the rows arrive in. A sink applies a row only when its version is
 * greater than the version it holds for the key, and keeps tombstones' versions, or a late,
 * older row would bring a deleted key back.
 *
 * @param key the source key
 * @param version the per-key monotonic version; non-negative
 * @param values column name → PostgreSQL's text form of the value (a null value is SQL NULL), in
 *        the order of {@link SinkContext#columns()}; null for a tombstone
 */
public record SinkRow(SinkKey key, long version, Map<String, String> values) {
    public SinkRow {
        Objects.requireNonNull(key, "key");
        if (version < 0) {
            throw new IllegalArgumentException("version must not be negative: " + version);
        }
        if (values != null) {
            values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
        }
    }

    /** A live row. */
    public static SinkRow upsert(SinkKey key, long version, Map<String, String> values) {
        return new SinkRow(key, version, Objects.requireNonNull(values, "values"));
    }

    /** The key's absence. */
    public static SinkRow tombstone(SinkKey key, long version) {
        return new SinkRow(key, version, null);
    }

    public boolean isTombstone() {
        return values == null;
    }

    /** The version rule: whether this row replaces one held at {@code heldVersion}. */
    public boolean supersedes(long heldVersion) {
        return version > heldVersion;
    }

    /** Whether this row replaces {@code held} (null: the sink holds nothing for the key). */
    public boolean supersedes(SinkRow held) {
        return held == null || supersedes(held.version);
    }

    /** Same key, same presence, same values (versions ignored): what reconcile compares. */
    public boolean sameContent(SinkRow other) {
        return other != null && key.equals(other.key) && Objects.equals(values, other.values);
    }
}
