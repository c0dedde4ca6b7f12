package dev.shapeshift.sink;

/** A failed sink call: either {@link RetryableSinkException} or {@link PermanentSinkException}. */
public abstract sealed class SinkException extends Exception
        permits RetryableSinkException, PermanentSinkException {

    protected SinkException(String message, Throwable cause) {
        super(message, cause);
    }
}
