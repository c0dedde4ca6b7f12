package dev.shapeshift.spec;

import com.fasterxml.jackson.annotation.JsonCreator;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * The last, irreversible step.
 *
 * @param dropColumns in-place mode: the old columns to remove
 * @param dropTable   table mode: whether the old table goes (default false)
 * @param quietPeriod how long nothing but Shapeshift may have touched the old shape (default 24h)
 * @param retention   how long the archived old shape is kept restorable (default 7d)
 * @param approval    who contracts: an operator ({@code manual}, default) or the driver once the gate is open
 * @param codeSearch  source trees the contract evidence scans for the old shape's identifiers (default none)
 * @param deadline    how long after the read switch the contract should be done; past it {@code shapeshift check}
 *                    fails (default none: no deadline)
 * @param brownout    how long the application roles lose access to the old shape before the drop, as a last test
 *                    (default none: no brownout)
 * @param brownoutAbortAfter the brownout is undone early at this many failed statements of others seen in the
 *                    server log (default 1: at the first)
 * @param readCounter table mode with a write switch: whether the write switch installs the old table's read
 *                    counter (row-level security policies that count every statement of others on it; default true)
 */
public record Contract(List<String> dropColumns, Boolean dropTable, Duration quietPeriod, Duration retention,
                       Approval approval, List<String> codeSearch, Duration deadline, Duration brownout,
                       Integer brownoutAbortAfter, Boolean readCounter) {
    @JsonCreator
    public Contract {
        readCounter = Objects.requireNonNullElse(readCounter, true);
        dropColumns = dropColumns == null ? List.of() : List.copyOf(dropColumns);
        dropTable = Objects.requireNonNullElse(dropTable, false);
        quietPeriod = Objects.requireNonNullElse(quietPeriod, Duration.ofHours(24));
        retention = Objects.requireNonNullElse(retention, Duration.ofDays(7));
        approval = Objects.requireNonNullElse(approval, Approval.MANUAL);
        codeSearch = codeSearch == null ? List.of() : codeSearch.stream().map(d -> d == null ? "" : d).toList();
        brownoutAbortAfter = Objects.requireNonNullElse(brownoutAbortAfter, 1);
    }

    /** The contract with the default read counter. */
    public Contract(List<String> dropColumns, Boolean dropTable, Duration quietPeriod, Duration retention,
                    Approval approval, List<String> codeSearch, Duration deadline, Duration brownout,
                    Integer brownoutAbortAfter) {
        this(dropColumns, dropTable, quietPeriod, retention, approval, codeSearch, deadline, brownout, brownoutAbortAfter,
                null);
    }

    /** The contract without a brownout. */
    public Contract(List<String> dropColumns, Boolean dropTable, Duration quietPeriod, Duration retention,
                    Approval approval, List<String> codeSearch, Duration deadline) {
        this(dropColumns, dropTable, quietPeriod, retention, approval, codeSearch, deadline, null, null, null);
    }

    /** The contract without code search or deadline. */
    public Contract(List<String> dropColumns, Boolean dropTable, Duration quietPeriod, Duration retention,
                    Approval approval) {
        this(dropColumns, dropTable, quietPeriod, retention, approval, null, null, null, null, null);
    }

    /** The contract with manual approval (the default). */
    public Contract(List<String> dropColumns, Boolean dropTable, Duration quietPeriod, Duration retention) {
        this(dropColumns, dropTable, quietPeriod, retention, null, null, null, null, null, null);
    }
}
