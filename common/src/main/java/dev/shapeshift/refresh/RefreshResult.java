package dev.shapeshift.refresh;

/**
 * What one refresh statement did.
 *
 * @param read    source rows read (and, in table mode, locked)
 * @param written target rows inserted or changed; rows already equal are not written
 * @param deleted target rows removed because their source row is gone
 * @param lastKey the highest key read, or null when none was (a range batch is then past its end)
 */
public record RefreshResult(long read, long written, long deleted, Key lastKey) {
    public static final RefreshResult NONE = new RefreshResult(0, 0, 0, null);

    public RefreshResult plus(RefreshResult other) {
        return new RefreshResult(read + other.read, written + other.written, deleted + other.deleted,
                other.lastKey != null ? other.lastKey : lastKey);
    }
}
