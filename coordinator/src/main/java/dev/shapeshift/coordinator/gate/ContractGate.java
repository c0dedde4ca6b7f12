package dev.shapeshift.coordinator.gate;

import dev.shapeshift.spec.DurationText;
import java.util.List;

/**
 * The pluggable part of the last two gates: evidence that nothing reads the old shape any more.
 * The default asks only that reads stayed switched for the spec's {@code contract.quietPeriod},
 * and refuses {@code contracted} outright until a real collector (statement statistics, the
 * quiet-period watch) is installed.
 */
public interface ContractGate {
    List<Check> contractReady(Evidence e);

    List<Check> contract(Evidence e);

    ContractGate DEFAULT = new ContractGate() {
        @Override
        public List<Check> contractReady(Evidence e) {
            boolean quiet = e.inPhase().compareTo(e.quietPeriod()) >= 0;
            return List.of(Check.of("quiet-period", quiet, "reads switched for " + Gates.format(e.inPhase()) + " of "
                    + DurationText.format(e.quietPeriod()) + " quiet period"));
        }

        @Override
        public List<Check> contract(Evidence e) {
            return List.of(Check.fail("contract-evidence", "no contract evidence collector is installed; "
                    + "the irreversible step stays closed"));
        }
    };
}
