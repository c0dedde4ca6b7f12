package dev.shapeshift.examples.translation;

/** The one failure type of the service: a code that fixes the HTTP status, and a message naming the fix. */
public final class ServiceError extends RuntimeException {

    /** Every error the API answers with; {@link #retryable} tells a client whether trying again can help. */
    public enum Code {
        BAD_JSON(400, false),
        BAD_REQUEST(400, false),
        UNKNOWN_LOCALE(400, false),
        NOT_FOUND(404, false),
        STALE_VERSION(409, false),
        TEXT_REJECTED(422, false),
        STORE_UNAVAILABLE(503, true),
        INTERNAL(500, false);

        public final int status;
        public final boolean retryable;

        Code(int status, boolean retryable) {
            this.status = status;
            this.retryable = retryable;
        }
    }

    private final Code code;
    private final Long heldVersion;

    public ServiceError(Code code, String message) {
        this(code, message, null, null);
    }

    public ServiceError(Code code, String message, Long heldVersion, Throwable cause) {
        super(message, cause);
        this.code = code;
        this.heldVersion = heldVersion;
    }

    public Code code() {
        return code;
    }

    /** For {@link Code#STALE_VERSION}: the version the service holds for that key and locale. */
    public Long heldVersion() {
        return heldVersion;
    }
}
