package dev.shapeshift.coordinator.contract;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.stream.Collectors;

/**
 * One brownout as stored ({@code shapeshift.brownout}), with the failures collected so far.
 *
 * @param lockedOut the grantees whose access to the old shape was revoked
 * @param untouched login roles the lockout cannot reach (owner, superusers, their members), for people; null when none
 * @param undo      the statements that restore the access
 * @param undoMs    how long the undo transaction took; null while running
 * @param logFile   the CSV log file being read; null when it cannot be ({@code logProblem} says why)
 * @param now       the database clock when this was read
 */
public record BrownoutReport(long id, Brownout.Status status, Instant startedAt, Instant endsAt, Instant endedAt,
                             String endReason, List<String> lockedOut, String untouched, List<String> undo, Double undoMs,
                             String logFile, Long logOffset, String logProblem, Instant now, List<Failure> failures) {

    public BrownoutReport {
        lockedOut = List.copyOf(lockedOut);
        undo = List.copyOf(undo);
        failures = List.copyOf(failures);
    }

    /**
     * Statements of one identity that failed on the lockout.
     *
     * @param applicationName null when the log had none
     * @param client          the client host ({@code local} for a Unix socket); null when unknown
     */
    public record Failure(String role, String applicationName, String client, String sqlState, String message,
                          String statement, int failures, Instant firstAt, Instant lastAt) {
        public String describe() {
            return "role " + role + (applicationName == null ? "" : ", application " + applicationName)
                    + (client == null ? "" : ", from " + client) + ": " + failures + " failed statement(s) ["
                    + statement + "] (" + sqlState + " " + message + "), last at " + lastAt;
        }
    }

    BrownoutReport withFailures(List<Failure> f) {
        return new BrownoutReport(id, status, startedAt, endsAt, endedAt, endReason, lockedOut, untouched, undo, undoMs,
                logFile, logOffset, logProblem, now, f);
    }

    /** Failed statements in all. */
    public int failureCount() {
        return failures.stream().mapToInt(Failure::failures).sum();
    }

    /** How long access was taken away (so far, while running). */
    public Duration lasted() {
        return Duration.between(startedAt, endedAt == null ? now : endedAt);
    }

    static String describe(List<Failure> failures, int shown) {
        return failures.stream().limit(shown).map(Failure::describe).collect(Collectors.joining("; "))
                + (failures.size() > shown ? "; …" : "");
    }

    /** One line for people: what ran, how it ended, who failed. */
    public String summary() {
        String failed = failures.isEmpty() ? "no statement of others failed"
                + (logProblem == null ? "" : " as far as the database can show (" + logProblem + ")")
                : describe(failures, 5);
        String who = "access of " + lockedOut + " revoked" + (untouched == null ? "" : "; not locked out: " + untouched);
        return switch (status) {
            case RUNNING -> "brownout #" + id + " running since " + startedAt + " until " + endsAt + " (" + who + "): " + failed;
            default -> "brownout #" + id + " " + status.name().toLowerCase(java.util.Locale.ROOT) + " after "
                    + dev.shapeshift.coordinator.gate.Gates.format(lasted()) + " (" + endReason + "; " + who
                    + "; access restored, undo took " + String.format(java.util.Locale.ROOT, "%.1f ms", undoMs) + "): " + failed;
        };
    }
}
