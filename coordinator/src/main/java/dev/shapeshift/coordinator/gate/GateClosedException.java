package dev.shapeshift.coordinator.gate;

import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;

/** A transition refused by its gate ({@link ErrorCode#GATE_CLOSED}); carries the whole report. */
public final class GateClosedException extends ShapeshiftException {
    private static final long serialVersionUID = 1L;
    private final transient GateReport report;

    public GateClosedException(GateReport report) {
        super(ErrorCode.GATE_CLOSED, report.summary());
        this.report = report;
    }

    public GateReport report() {
        return report;
    }
}
