package dev.shapeshift.sink;

import java.util.List;

/**
 * These rows can never be applied, however often they are retried (the system rejects their
 * content). They are handled as poison records: the source key is recorded and the stream stops
 * at it, as for a row PostgreSQL refuses (docs/sync.md, "Poison records"). The message is shown
 * to operators: say why, never include row contents or secrets.
 */
public final class PermanentSinkException extends SinkException {
    private final List<SinkKey> keys;

    /** The whole call failed permanently. */
    public PermanentSinkException(String message) {
        this(message, List.of(), null);
    }

    /**
     * @param keys the keys whose rows were refused (the others of the call may have been applied);
     *        empty when the sink cannot tell
     */
    public PermanentSinkException(String message, List<SinkKey> keys, Throwable cause) {
        super(message, cause);
        this.keys = List.copyOf(keys);
    }

    /** The refused keys, or empty when the sink cannot tell which. */
    public List<SinkKey> keys() {
        return keys;
    }
}
