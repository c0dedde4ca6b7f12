package dev.shapeshift.coordinator.gate;

import dev.shapeshift.phase.Phase;
import java.util.List;
import java.util.stream.Collectors;

/** A gate's verdict on one transition: every check with its evidence. Open when every check passed. */
public record GateReport(String migration, Phase from, Phase to, List<Check> checks) {
    public GateReport {
        checks = List.copyOf(checks);
    }

    public boolean open() {
        return checks.stream().allMatch(Check::passed);
    }

    public List<Check> failed() {
        return checks.stream().filter(c -> !c.passed()).toList();
    }

    /** {@code "gate verified closed: sync-lag (no slot recorded); drift-open (3 open drift rows)"}. */
    public String summary() {
        if (open()) {
            return "gate " + to + " open for " + migration + ": " + checks.stream().map(Check::evidence)
                    .collect(Collectors.joining("; "));
        }
        return "gate " + to + " closed for " + migration + " (" + from + " -> " + to + "): " + failed().stream()
                .map(c -> c.name() + " (" + c.evidence() + ")").collect(Collectors.joining("; "));
    }
}
