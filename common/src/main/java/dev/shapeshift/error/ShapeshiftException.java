package dev.shapeshift.error;

/** The one exception type of Shapeshift; {@link #code()} says what kind of failure it is. */
public class ShapeshiftException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final ErrorCode code;

    public ShapeshiftException(ErrorCode code, String message) {
        super(message);
        this.code = code;
    }

    public ShapeshiftException(ErrorCode code, String message, Throwable cause) {
        super(message, cause);
        this.code = code;
    }

    public ErrorCode code() {
        return code;
    }

    public boolean retryable() {
        return code.retryable();
    }
}
