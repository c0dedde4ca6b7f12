package dev.shapeshift.sink;

/**
 * The system is slow, down, overloaded or refused the call for a reason that passes (timeouts,
 * connection refused, HTTP 429/503). The call is retried with back-off ({@link RetryPolicy});
 * nothing is lost while it fails. The message is shown as the reason of the degraded state: make
 * it say what failed, never include row contents or secrets.
 */
public final class RetryableSinkException extends SinkException {
    public RetryableSinkException(String message) {
        super(message, null);
    }

    public RetryableSinkException(String message, Throwable cause) {
        super(message, cause);
    }
}
